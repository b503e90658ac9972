/**
 * What one 10,000-entry NDJSON batch (bench/abuse.ts's) costs the daemon's heap, in one process
 * with the daemon and a fake SQS that answers after 10 minutes (nothing is delivered, so only
 * ingest and the backlog it builds are measured):
 *
 * - live heap (after a full GC) at the batch's first and last store append and after its 202,
 *   above the heap before it: what of the batch is alive while it is recorded;
 * - the young and full collections (count, total, longest pause) while `--batches` such batches
 *   are posted one after another.
 *
 *   node --expose-gc dist-bench/bench/batch-live.js [--daemon-rev REV | --daemon-dir DIR] [--batches 5] [--json]
 *
 * `--json`: the batch as a JSON array (issue 14's mid-run batch) instead of NDJSON.
 *
 * Default daemon: this checkout's dist/ (build it first).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startFakeSqs } from '../test/support/fake-sqs.js';
import { abuseBatchLines } from './lib/bodies.js';
import { exportRev } from './lib/rev.js';

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const rev = flag('--daemon-rev');
const root = rev ? exportRev(REPO, rev, (l) => process.stderr.write(`${l}\n`)) : resolve(flag('--daemon-dir') ?? REPO);
const batches = Number(flag('--batches') ?? 5);

const { loadConfig } = await import(join(root, 'dist/src/config.js'));
const { createDaemon } = await import(join(root, 'dist/src/daemon/daemon.js'));
const { createLogger } = await import(join(root, 'dist/src/log.js'));
const fake = await startFakeSqs({ latencyMs: 600_000, queues: ['b'] });
const spool = mkdtempSync(join(tmpdir(), 'batch-live-'));
const config = loadConfig(['--port', '0', '--host', '127.0.0.1', '--spool-dir', join(spool, 's'), '--durability', 'write', '--max-in-memory-messages', '1000000'], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
const daemon = await createDaemon({ config, log: createLogger('error') }).start();
const auth = `Basic ${Buffer.from('AKIAIOSFODNN7EXAMPLE:secret').toString('base64')}`;
const post = async (body: string, type: string): Promise<number> => {
  const r = await fetch(`${daemon.url}/queues/b`, { method: 'POST', headers: { authorization: auth, 'content-type': type }, body });
  await r.text();
  return r.status;
};
await post('warm', 'text/plain');
const json = argv.includes('--json');
const lines = abuseBatchLines();
const body = json ? `[${lines.join(',')}]` : lines.join('\n');
const type = json ? 'application/json' : 'application/x-ndjson';
const heap = (): number => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const mb = (b: number): string => (b / 1e6).toFixed(2);

// 1. Live heap while one batch is recorded.
const pipeline = daemon.deps.pipeline as { accept: (...a: unknown[]) => unknown };
const accept = pipeline.accept.bind(pipeline);
let appends = 0;
const at: number[] = [];
pipeline.accept = (...a: unknown[]) => {
  appends += 1;
  if (appends === 1 || appends === 100) at.push(process.memoryUsage().heapUsed, heap());
  return accept(...a);
};
const h0 = heap();
if ((await post(body, type)) !== 202) throw new Error('the batch was not accepted');
const h1 = heap();
await new Promise((r) => setTimeout(r, 200));
const h2 = heap();
pipeline.accept = accept;
console.log(`live heap above the start: at the first append +${mb((at[1] as number) - h0)} MB, at the 100th +${mb((at[3] as number) - h0)} MB, after the 202 +${mb(h1 - h0)} MB, 200 ms later +${mb(h2 - h0)} MB (${appends} appends)`);

// 2. Collections while `batches` batches are posted one after another.
const pauses: { minor: number[]; major: number[] } = { minor: [], major: [] };
const observer = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) {
    const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind;
    (kind === constants.NODE_PERFORMANCE_GC_MINOR ? pauses.minor : pauses.major).push(e.duration);
  }
});
observer.observe({ entryTypes: ['gc'] });
const t0 = performance.now();
for (let k = 0; k < batches; k++) await post(body, type);
const ms = (performance.now() - t0) / batches;
await new Promise((r) => setTimeout(r, 50));
observer.disconnect();
const sum = (a: number[]): string => `${a.length}, ${a.reduce((x, y) => x + y, 0).toFixed(1)} ms, longest ${Math.max(0, ...a).toFixed(1)} ms`;
console.log(`${batches} batches, ${ms.toFixed(1)} ms each: young collections ${sum(pauses.minor)}; full ${sum(pauses.major)}`);
await daemon.close();
await fake.close();
rmSync(spool, { recursive: true, force: true });
