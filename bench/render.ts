/**
 * Re-renders the markdown of a saved run: `node dist-bench/bench/render.js bench/results/<run>.json`.
 * Prints to stdout.
 */
import { readFileSync } from 'node:fs';
import { renderMarkdown } from './lib/report.js';
import type { BenchReport } from './lib/types.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist-bench/bench/render.js <results.json>\n');
  process.exit(2);
}
process.stdout.write(`${renderMarkdown(JSON.parse(readFileSync(file, 'utf8')) as BenchReport)}\n`);
