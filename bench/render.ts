/**
 * Re-renders the markdown of a saved run: `node dist-bench/bench/render.js bench/results/<run>.json [--svg <file>]`.
 * Prints to stdout; with --svg, also writes the latency chart (lib/chart.ts) to that file.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { latencyChart } from './lib/chart.js';
import { renderMarkdown } from './lib/report.js';
import type { BenchReport } from './lib/types.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node dist-bench/bench/render.js <results.json> [--svg <file.svg>]\n');
  process.exit(2);
}
const report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
const i = process.argv.indexOf('--svg');
const svgFile = i > 0 ? process.argv[i + 1] : undefined;
const svg = svgFile ? latencyChart(report) : undefined;
if (svgFile) {
  if (!svg) {
    process.stderr.write(`${file}: no run at 2,000 msg/s to chart\n`);
    process.exit(1);
  }
  writeFileSync(svgFile, svg);
}
process.stdout.write(`${renderMarkdown(report, false)}\n`);
