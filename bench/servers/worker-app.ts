/**
 * The local app of the worker benchmark (bench/worker.ts): answers every POST with 200 after
 * `delayMs` (default 1), and counts what it got (over IPC: `count`, `reset`).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '../lib/serve.js';

const delayMs = Number(process.argv[2] ?? 1);
let count = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    count += 1;
    setTimeout(() => res.writeHead(200, { 'content-length': '0' }).end(), delayMs);
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
serve({ count: () => count, reset: () => { count = 0; } }, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/work` });
