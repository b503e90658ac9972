/**
 * Bytes allocated per delivered message by the daemon, by function: V8's sampling heap profiler
 * (CDP `HeapProfiler.startSampling`, objects collected by minor and major GCs included, so it
 * counts garbage, not only what survives) on a daemon under single-message POSTs, after a
 * warm-up (issue 14: GC is much of the ack tail).
 *
 *   node dist-bench/bench/alloc.js [--daemon-dir DIR] [--closed C | --rate R] [--warm N] [--messages N]
 *                                  [--interval BYTES] [--top N] [--out FILE.heapprofile] [--node-args "..."]
 *                                  [--daemon-args "..."] [--gc] [--batches N]
 *
 * Defaults: the working tree's build, closed loop with 64 requests in flight (the bench's
 * sustained scenario), 5,000 warm-up messages, then 20,000 sampled, 4 KiB sampling interval.
 * `--rate R` is an open loop at R msg/s instead. Bodies are the bench's: form-encoded
 * `message_body` of 200 bytes, Basic auth (pass-through), default durability. Prints bytes per
 * message in total, by function (self) and by source file, and checks that SQS got every
 * acknowledged message. `--gc` runs a second, unsampled load of the same size with the daemon
 * under `--trace-gc-nvp` and prints its scavenges: how many, their pauses, and the bytes each
 * copied (survivors) and promoted. `--batches N`: N 10,000-entry NDJSON batches (bench/abuser.ts's,
 * each delivered before the next is posted, after 2 as warm-up) instead of single messages. Sampling is statistical: repeat a run before trusting a ±5 % difference.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSqs } from '../test/support/fake-sqs.js';
import { option } from './lib/args.js';
import { daemonAddresses } from './lib/daemon-child.js';
import { abuseBatchLines, messageBody } from './lib/bodies.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => option(args, name, dflt);
const daemonDir = resolve(opt('--daemon-dir', join(HERE, '../..')));
const rate = Number(opt('--rate', '0'));
const concurrency = Number(opt('--closed', '64'));
const warm = Number(opt('--warm', '5000'));
const messages = Number(opt('--messages', '20000'));
const interval = Number(opt('--interval', '4096'));
const top = Number(opt('--top', '40'));
const out = opt('--out', '');
const gc = args.includes('--gc');
/** --batches N: instead of single messages, N 10,000-entry NDJSON batches (bench/abuser.ts's), each delivered before the next. */
const batches = Number(opt('--batches', '0'));
const BATCH = 10_000;
const batchBody = abuseBatchLines(BATCH).join('\n');
const nodeArgs = [...opt('--node-args', '').split(/\s+/).filter(Boolean), ...(gc ? ['--trace-gc-nvp'] : [])];
const daemonArgs = opt('--daemon-args', '').split(/\s+/).filter(Boolean);
const gcLines: string[] = [];
let gcOn = false;

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface SampleNode {
  callFrame: CallFrame;
  selfSize: number;
  children: SampleNode[];
}

const fake = await startFakeSqs({ latencyMs: 20, seed: 1, queues: ['alloc'] });
const spool = mkdtempSync(join(tmpdir(), 'sqs-accelerator-alloc-'));
const d = spawn(process.execPath, [...nodeArgs, '--inspect=127.0.0.1:0', join(daemonDir, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', fake.endpoint, '--spool-dir', spool, ...daemonArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
// However this script ends (an error, a closed pipe on stdout), the daemon goes with it.
process.on('exit', () => d.kill('SIGTERM'));
const stop = (code: number): never => {
  d.kill('SIGTERM');
  rmSync(spool, { recursive: true, force: true });
  process.exit(code);
};
const timer = setTimeout(() => {
  process.stderr.write('alloc: gave up after 5 minutes\n');
  stop(1);
}, 300_000);
d.stdout.on('data', (c: Buffer) => {
  if (gcOn) for (const l of String(c).split('\n')) if (l.includes('gc=s')) gcLines.push(l);
});
const { url, ws } = await daemonAddresses(d, true);

const agent = new http.Agent({ keepAlive: true, maxSockets: Math.max(concurrency, 64) });
const auth = `Basic ${Buffer.from('AKIDALLOC:allocsecret').toString('base64')}`;
let seq = 0;
let acked = 0;
let bad = 0;
const post = (): Promise<void> =>
  new Promise((done) => {
    const body = `message_body=${messageBody('alloc', seq++, 200)}`;
    const r = http.request(`${url}/queues/alloc`, { method: 'POST', agent, headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: auth, 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 202) acked++;
        else bad++;
        done();
      });
    });
    r.on('error', () => (bad++, done()));
    r.end(body);
  });
const postBatch = (): Promise<void> =>
  new Promise((done) => {
    const r = http.request(`${url}/queues/alloc`, { method: 'POST', agent, headers: { 'content-type': 'application/x-ndjson', authorization: auth, 'content-length': Buffer.byteLength(batchBody) } }, (res) => {
      res.resume();
      res.on('end', () => {
        if (res.statusCode === 202) acked += BATCH;
        else bad += BATCH;
        done();
      });
    });
    r.on('error', () => ((bad += BATCH), done()));
    r.end(batchBody);
  });
async function load(n: number): Promise<void> {
  if (batches > 0) {
    // n / BATCH batches, each delivered (the fake SQS has every acknowledged message) before the next.
    for (let k = 0; k < Math.ceil(n / BATCH); k++) {
      await postBatch();
      const until = Date.now() + 60_000;
      while (fake.messageCount('alloc') < acked && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    }
    return;
  }
  if (rate > 0) {
    const t0 = performance.now();
    const ps: Promise<void>[] = [];
    for (let i = 0; i < n; ) {
      const wait = t0 + (i * 1000) / rate - performance.now();
      if (wait <= 0) ps.push(post()), i++;
      else await new Promise((r) => setTimeout(r, Math.max(0, wait - 1)));
    }
    await Promise.all(ps);
    return;
  }
  let left = n;
  const lane = async (): Promise<void> => {
    while (left-- > 0) await post();
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
}

const sock = new WebSocket(ws);
await new Promise((r) => sock.addEventListener('open', r, { once: true }));
let id = 0;
const pending = new Map<number, (m: { result?: { profile?: { head: SampleNode } } }) => void>();
sock.addEventListener('message', (e) => {
  const m = JSON.parse(String(e.data)) as { id?: number; result?: { profile?: { head: SampleNode } } };
  const p = m.id !== undefined ? pending.get(m.id) : undefined;
  if (p) pending.delete(m.id as number), p(m);
});
const call = (method: string, params: object = {}): Promise<{ result?: { profile?: { head: SampleNode } } }> =>
  new Promise((r) => {
    const i = ++id;
    pending.set(i, r);
    sock.send(JSON.stringify({ id: i, method, params }));
  });

await load(batches > 0 ? 2 * BATCH : warm);
const acked0 = acked;
await call('HeapProfiler.enable');
await call('HeapProfiler.startSampling', { samplingInterval: interval, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
const t0 = performance.now();
await load(batches > 0 ? batches * BATCH : messages);
const ms = performance.now() - t0;
const res = await call('HeapProfiler.stopSampling');
const profile = res.result?.profile;
if (!profile) throw new Error('no profile from HeapProfiler.stopSampling');
if (out) writeFileSync(out, JSON.stringify(profile));
const n = acked - acked0;
let gcReport = '';
if (gc) {
  gcOn = true;
  const g0 = performance.now();
  await load(batches > 0 ? batches * BATCH : messages);
  const gms = performance.now() - g0;
  gcOn = false;
  const num = (l: string, k: string): number => Number(new RegExp(`\\b${k}=([0-9.]+)`).exec(l)?.[1] ?? NaN);
  const pauses = gcLines.map((l) => num(l, 'pause')).sort((a, b) => a - b);
  const sum = (k: string): number => gcLines.reduce((t, l) => t + num(l, k), 0);
  const q = (p: number): number => pauses[Math.min(pauses.length - 1, Math.floor(p * pauses.length))] ?? NaN;
  gcReport = `scavenges in an unsampled load of ${batches > 0 ? batches * BATCH : messages} (${(gms / 1000).toFixed(1)} s): ${pauses.length}, one per ${Math.round((batches > 0 ? batches * BATCH : messages) / Math.max(1, pauses.length))} messages; pause median ${q(0.5).toFixed(2)} ms, p90 ${q(0.9).toFixed(2)}, max ${(pauses[pauses.length - 1] ?? NaN).toFixed(2)}; per scavenge copied ${Math.round(sum('new_space_survived') / pauses.length / 1024)} KiB, promoted ${Math.round(sum('promoted') / pauses.length / 1024)} KiB\n`;
  // The phases that took at least 0.05 ms on average: where a pause goes.
  const phases = new Map<string, number>();
  for (const l of gcLines) for (const m of l.matchAll(/\b((?:scavenge|complete|background|time_to_safepoint|heap)[a-z_.]*)=([0-9.]+)/g)) phases.set(m[1] as string, (phases.get(m[1] as string) ?? 0) + Number(m[2]));
  gcReport += `  mean ms per scavenge: ${[...phases].filter(([, v]) => v / pauses.length >= 0.05).map(([k, v]) => `${k} ${(v / pauses.length).toFixed(2)}`).join(', ')}\n`;
}

// Every acknowledged message must reach the fake SQS (the daemon delivers within seconds).
const deadline = Date.now() + 60_000;
const received = (): number => fake.messageCount('alloc');
while (received() < acked && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));

const byFn = new Map<string, number>();
const byFile = new Map<string, number>();
let total = 0;
const short = (u: string): string => u.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');
const walk = (node: SampleNode): void => {
  const f = node.callFrame;
  const file = f.url === '' ? '(native)' : short(f.url);
  const k = `${f.functionName || '(anonymous)'} ${file}:${f.lineNumber + 1}`;
  byFn.set(k, (byFn.get(k) ?? 0) + node.selfSize);
  byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
  total += node.selfSize;
  for (const c of node.children) walk(c);
};
walk(profile.head);
const line = (v: number, k: string): string => `${String(Math.round(v / n)).padStart(7)} B/msg  ${k}\n`;
const distinct = fake.countByBody('alloc').size;
process.stdout.write(`${batches > 0 ? `${batches} batches of ${BATCH}` : rate > 0 ? `open loop ${rate}/s` : `closed loop c=${concurrency}`}: ${n} messages sampled in ${(ms / 1000).toFixed(1)} s (${Math.round((n * 1000) / ms)}/s), ${bad} refused or failed; SQS stored ${received()} (${distinct} distinct bodies) of ${acked} acknowledged\n`);
process.stdout.write(`allocated ${Math.round(total / n)} B per message (sampling interval ${interval} B)\nby function (self):\n`);
for (const [k, v] of [...byFn].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(line(v, k));
process.stdout.write(gcReport);
process.stdout.write('by file:\n');
for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) process.stdout.write(line(v, k));
clearTimeout(timer);
sock.close();
agent.destroy();
await fake.close();
stop(distinct === acked && bad === 0 ? 0 : 1);
