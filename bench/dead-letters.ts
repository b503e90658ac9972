/**
 * The dead-letter store's operations with many letters, as the daemon runs them (issue 11: a
 * list, lookup or purge must not hold the event loop): `--letters` letter files of 200-byte bodies
 * (one in ten of one key pair, the rest of another; a third to one queue) written straight into a
 * fresh spool directory, then each operation timed, wall clock and the event loop's longest delay
 * meanwhile (a 1 ms timer; a synchronous operation shows as its wall time, the histogram cannot
 * see it). The working tree's build, or `--dist DIR` (another checkout's dist/).
 *
 *   node dist-bench/bench/dead-letters.js [--letters 100000] [--dist DIR]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { option } from './lib/args.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const dist = resolve(option(args, '--dist', join(HERE, '../../dist')));
const n = Number(option(args, '--letters', '100000'));

type Owner = { accessKeyId: string; secretAccessKey: string };
interface Store {
  count(): number;
  list(o?: { queue?: string; limit?: number; offset?: number; owner?: Owner }): Promise<{ total: number; items: Array<{ id: string }> }> | { total: number; items: Array<{ id: string }> };
  get(id: string, owner?: Owner): unknown;
}
const { DeadLetterDir } = (await import(pathToFileURL(join(dist, 'src/spool/dead-letters.js')).href)) as { DeadLetterDir: new (dir: string) => Store };
const { purgeDeadLetters } = (await import(pathToFileURL(join(dist, 'src/spool/purge.js')).href)) as { purgeDeadLetters: (s: Store, ids: string[]) => Promise<Array<{ ok: boolean }>> };

const spool = mkdtempSync(join(tmpdir(), 'sqs-accelerator-dead-letters-'));
const dir = join(spool, 'dead-letters');
mkdirSync(dir, { recursive: true });
const owners: Owner[] = [
  { accessKeyId: 'AKIDBENCHONE', secretAccessKey: 'bench-secret-one' },
  { accessKeyId: 'AKIDBENCHTWO', secretAccessKey: 'bench-secret-two' },
];
const t0 = 1_700_000_000_000;
const ids: string[] = [];
for (let i = 0; i < n; i++) {
  const id = `bench-${i}`;
  ids.push(id);
  const c = owners[i % 10 === 0 ? 0 : 1] as Owner;
  const queueName = i % 3 ? 'orders' : 'mail';
  const letter = { id, queueName, queueUrl: 'http://127.0.0.1:1/000000000000/q', accessKeyId: c.accessKeyId, body: 'x'.repeat(200), code: 'AccessDenied', reason: 'refused', attempts: 1, acceptedAt: t0 + i, deadAt: t0 + i, credentials: c };
  writeFileSync(join(dir, `${String(letter.deadAt).padStart(15, '0')}.${id}.${queueName}.json`), JSON.stringify(letter));
}
const delay = monitorEventLoopDelay({ resolution: 1 });
delay.enable();
const tick = setInterval(() => {}, 1);
const time = async (label: string, f: () => unknown): Promise<void> => {
  await new Promise((r) => setTimeout(r, 20)); // the last operation's delay is not this one's
  delay.reset();
  const start = performance.now();
  const out = await f();
  const wall = performance.now() - start;
  console.log(`${label.padEnd(34)} ${wall.toFixed(1).padStart(9)} ms wall, loop delay max ${(delay.max / 1e6).toFixed(1).padStart(6)} ms  (${String(out)})`);
};
let store: Store | undefined;
await time('open the store, count', () => {
  store = new DeadLetterDir(spool);
  return store.count();
});
const s = store as Store;
await time('list, first page', async () => (await s.list({ limit: 50 })).total);
await time('list, page 1,000', async () => (await s.list({ limit: 50, offset: 50_000 })).items.length);
await time('list, one queue', async () => (await s.list({ limit: 50, queue: 'mail' })).total);
await time("list, a caller's own (first)", async () => (await s.list({ limit: 50, owner: owners[0] })).total);
await time("list, a caller's own (again)", async () => (await s.list({ limit: 50, owner: owners[0] })).total);
await time('get one', async () => ((await s.get(ids[n - 5] as string, owners[1])) ? 'found' : 'none'));
await time('purge 100', async () => (await purgeDeadLetters(s, ids.slice(0, 100))).filter((r) => r.ok).length);
await time('count', () => s.count());
// The walk the gauge's count starts every 5 s (a private method: called here directly, old builds have none).
const relist = (s as unknown as { relist?: () => Promise<void> }).relist?.bind(s);
if (relist) {
  await time('walk, after the purge', async () => (await relist(), s.count()));
  await time('walk, nothing changed since', async () => (await relist(), s.count()));
  rmSync(join(dir, `${String(t0 + 200).padStart(15, '0')}.${ids[200]}.${200 % 3 ? 'orders' : 'mail'}.json`));
  await time('walk, one removed by another process', async () => (await relist(), s.count()));
}
clearInterval(tick);
rmSync(spool, { recursive: true, force: true });
