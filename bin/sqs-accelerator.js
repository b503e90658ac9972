#!/usr/bin/env node
// Thin entry: the compiled CLI lives in dist/ (built by `npm run build`, run by `npm ci`).
import { main } from '../dist/src/cli.js';

main(process.argv.slice(2), process.env).catch((err) => {
  process.stderr.write(`sqs-accelerator: ${err?.stack ?? err}\n`);
  process.exit(1);
});
