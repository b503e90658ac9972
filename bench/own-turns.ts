/**
 * The daemon's own longest event-loop turns while it takes large batches (issue 11: no request
 * holds the loop more than a few milliseconds). Starts one daemon (the working tree's build, or
 * --daemon-dir) with the turn probe preloaded (bench/lib/turn-probe.ts) against the fake SQS at
 * 20 ms, posts `--batches` batches of `--entries` messages of `--body-bytes` each, one a second,
 * as a JSON array or NDJSON (`--mime json|ndjson`), waits until every message is delivered, stops
 * the daemon and prints, of the turns longer than 4 ms after the first batch was sent, the longest
 * by their own part: the turn less the time the main thread waited for a core and less GC (the
 * probe's figures; its CPU reading lags by up to a scheduler tick). No load generator beside it,
 * so little of a turn is waiting: what is left is the daemon's.
 *
 *   node dist-bench/bench/own-turns.js [--mime json|ndjson] [--entries 10000] [--body-bytes 3300]
 *     [--batches 3] [--top 8] [--daemon-dir DIR] [--node-args "..."] [--keep DIR]
 *
 * `--node-args "--cpu-prof --cpu-prof-interval 250 --cpu-prof-dir D"` profiles the daemon; the
 * printed turns' `at` is ms after the probe's t0 (`t0Mono`, CLOCK_MONOTONIC µs, the profile's
 * clock), to find what ran in each.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSqs } from '../test/support/fake-sqs.js';
import { option } from './lib/args.js';
import { daemonAddresses, ndjsonPoster } from './lib/daemon-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => option(args, name, dflt);
const daemonDir = resolve(opt('--daemon-dir', join(HERE, '../..')));
const mime = opt('--mime', 'json');
const entries = Number(opt('--entries', '10000'));
const bodyBytes = Number(opt('--body-bytes', '3300'));
const batches = Number(opt('--batches', '3'));
const top = Number(opt('--top', '8'));
const keep = opt('--keep', '');
const nodeArgs = opt('--node-args', '').split(/\s+/).filter(Boolean);
if (mime !== 'json' && mime !== 'ndjson') throw new Error('--mime is json or ndjson');

const lines = Array.from({ length: entries }, (_, i) => JSON.stringify({ body: `own-${i}-${'b'.repeat(bodyBytes)}` }));
const body = mime === 'json' ? `[${lines.join(',')}]` : lines.join('\n');
const fake = await startFakeSqs({ latencyMs: 20, seed: 1, queues: ['own'] });
const dir = keep || mkdtempSync(join(tmpdir(), 'sqs-accelerator-own-turns-'));
const probeFile = join(dir, 'turn-probe.json');
const d = spawn(
  process.execPath,
  [...nodeArgs, '--max-old-space-size=1024', '--import', join(HERE, 'lib/turn-probe.js'), join(daemonDir, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', fake.endpoint, '--spool-dir', join(dir, 'spool')],
  { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TURN_PROBE_OUT: probeFile } },
);
process.on('exit', () => d.kill('SIGKILL'));
const { url } = await daemonAddresses(d, false);
const agent = new http.Agent({ keepAlive: true });
const post = ndjsonPoster(url, 'own', `Basic ${Buffer.from('AKIDOWNTURNS:ownturnssecret').toString('base64')}`, body, agent, mime === 'json' ? 'application/json' : 'application/x-ndjson');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const firstPost = Date.now();
const answers: string[] = [];
for (let k = 0; k < batches; k++) {
  const t = performance.now();
  const status = await post();
  answers.push(`${status} in ${(performance.now() - t).toFixed(0)} ms`);
  if (status !== 202) throw new Error(`batch ${k + 1} answered ${status}`);
  await sleep(1000);
}
for (let i = 0; i < 600 && fake.messageCount('own') < batches * entries; i++) await sleep(100);
const delivered = fake.messageCount('own');
agent.destroy();
const exited = new Promise((r) => d.once('exit', r));
d.kill('SIGTERM');
await exited;
await fake.close();

interface Probe {
  t0Epoch: number;
  t0Mono: number;
  threadCpuMs: Record<string, number>;
  all: Array<[number, number, number, number]>;
}
const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as Probe;
// The shutdown's own turns (closing sockets, the spool) are not a request's: only turns before the daemon was told to stop.
const stopAt = Date.now();
const turns = probe.all
  .map(([at, gapMs, waitMs, gcMs]) => ({ at, gapMs, waitMs, gcMs, ownMs: gapMs - waitMs - gcMs }))
  .filter((g) => probe.t0Epoch + g.at >= firstPost && probe.t0Epoch + g.at < stopAt)
  .sort((a, b) => b.ownMs - a.ownMs);
const r1 = (x: number): number => Math.round(x * 10) / 10;
process.stdout.write(`${batches} ${mime} batches of ${entries} × ${bodyBytes} B (${(Buffer.byteLength(body) / 1e6).toFixed(1)} MB each): ${answers.join(', ')}; ${delivered} of ${batches * entries} delivered\n`);
process.stdout.write(`turns > 4 ms after the first batch: ${turns.length}; longest by their own part (turn − waiting for a core − GC), ms:\n`);
for (const g of turns.slice(0, top)) process.stdout.write(`  own ${r1(g.ownMs).toFixed(1).padStart(5)}  turn ${r1(g.gapMs).toFixed(1).padStart(5)}  waiting ${r1(g.waitMs).toFixed(1).padStart(4)}  gc ${r1(g.gcMs).toFixed(1).padStart(4)}  at ${r1(g.at)} ms\n`);
process.stdout.write(`probe t0Mono ${probe.t0Mono} µs; daemon threads' CPU ms ${JSON.stringify(probe.threadCpuMs)}\n`);
if (!keep) rmSync(dir, { recursive: true, force: true });
if (delivered < batches * entries) process.exitCode = 1;
