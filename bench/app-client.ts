/**
 * The worker's POST to the app, client alone: CPU per POST of this process for undici's
 * dispatch (the worker's client before), node:http with a keep-alive Agent, and the worker's own
 * lean client (src/worker/app-client.ts), against the worker bench's app (bench/servers/worker-app.ts,
 * in its own process on the other core). Same headers and a 170-byte body as the worker bench's
 * messages; every answer is checked to be a 200.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/app-client.js [--posts N] [--rounds R]
 *
 * Each round runs every client once (N POSTs, 50 at a time), in a rotated order; the table gives
 * the median µs of CPU per POST of each.
 */
import { Agent, request as httpRequest } from 'node:http';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Dispatcher, Pool } from 'undici';
import { AppPool } from '../src/worker/app-client.js';
import { Child } from './lib/proc.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const POSTS = Number(arg('--posts') ?? 20_000);
const ROUNDS = Number(arg('--rounds') ?? 3);
const CONCURRENCY = 50;
const tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-app-client-bench-'));
const cpus = availableParallelism();

const app = new Child({ name: 'app', args: [join(HERE, 'servers', 'worker-app.js'), '1'], cpu: cpus >= 2 ? 1 : undefined, ipc: true, logFile: join(tmp, 'app.log') });
const url = new URL(String((await app.nextMessage(15_000)).url));
const headers: Record<string, string> = {
  'content-type': 'application/json',
  'user-agent': 'aws-sqsd (sqs-accelerator)',
  'x-aws-sqsd-msgid': '5fea7756-0ea4-451a-a703-a558b933e274',
  'x-aws-sqsd-queue': 'wb-daemon',
  'x-aws-sqsd-first-received-at': new Date().toISOString(),
  'x-aws-sqsd-receive-count': '1',
};
const body = `{"task":1234,"pad":"${'x'.repeat(150)}"}`;

type Post = () => Promise<number>;

function undiciClient(): { post: Post; close: () => Promise<void> } {
  const pool = new Pool(url.origin, { connections: CONCURRENCY, keepAliveTimeout: 30_000, pipelining: 1 });
  const post: Post = () => new Promise((resolve, reject) => {
    let status = 0;
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart: () => undefined,
      onResponseStart: (_c, s) => { status = s; },
      onResponseData: () => undefined,
      onResponseEnd: () => resolve(status),
      onResponseError: (_c, err) => reject(err),
    };
    pool.dispatch({ path: url.pathname, method: 'POST', headers, body, headersTimeout: 30_000, bodyTimeout: 30_000 }, handler);
  });
  return { post, close: () => pool.destroy() };
}

function nodeHttpClient(): { post: Post; close: () => Promise<void> } {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const post: Post = () => new Promise((resolve, reject) => {
    const req = httpRequest({ agent, host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
  return { post, close: async () => agent.destroy() };
}

function leanClient(): { post: Post; close: () => Promise<void> } {
  const pool = new AppPool(url, { connections: CONCURRENCY, timeoutMs: 30_000, maxBodyBytes: 1_048_576, maxDiscardBytes: 65_536 });
  let lines = '';
  for (const k in headers) lines += `${k}: ${headers[k] as string}\r\n`;
  const post: Post = () => new Promise((resolve, reject) => {
    pool.post(lines, body, (f, a) => (f ? reject(new Error(f.code)) : resolve(a?.status ?? 0)));
  });
  return { post, close: () => pool.destroy() };
}

const clients = { undici: undiciClient, 'node:http': nodeHttpClient, lean: leanClient } as const;
type Name = keyof typeof clients;

async function run(name: Name): Promise<number> {
  const c = clients[name]();
  // Warm-up: sockets open, code compiled.
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { for (let i = 0; i < 40; i++) if ((await c.post()) !== 200) throw new Error(`${name}: not 200`); }));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < POSTS) {
      next += 1;
      const s = await c.post();
      if (s !== 200) throw new Error(`${name}: answer ${s}`);
    }
  }));
  const cpu = process.cpuUsage(cpu0);
  const ms = performance.now() - t0;
  await c.close();
  const us = (cpu.user + cpu.system) / POSTS;
  process.stderr.write(`${name}: ${us.toFixed(1)} µs CPU per POST, ${(POSTS / (ms / 1000)).toFixed(0)} POST/s\n`);
  return us;
}

const names = Object.keys(clients) as Name[];
const results: Record<string, number[]> = {};
process.stderr.write(`${POSTS} POSTs per client and round, ${CONCURRENCY} at a time, ${ROUNDS} rounds; load average ${loadavg()[0]?.toFixed(2)}\n`);
try {
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + r) % names.length] as Name;
      (results[name] ??= []).push(await run(name));
    }
  }
} finally {
  await app.stop(5000);
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const lines = ['| client | CPU µs per POST (median) | rounds |', '|---|---|---|'];
for (const n of names) lines.push(`| ${n} | ${median(results[n] as number[]).toFixed(1)} | ${(results[n] as number[]).map((x) => x.toFixed(1)).join(', ')} |`);
process.stdout.write(`${lines.join('\n')}\n`);
