/**
 * The headline promise: with the spool on, kill -9 loses no acknowledged message.
 *
 * The built CLI runs as a child process against the fake SQS in this process (with latency and
 * few send slots, so a backlog of thousands exists when the kill lands). Clients post unique
 * bodies with 64 requests in flight; every body that got a 202 is recorded. The daemon is
 * SIGKILLed at several points of the load and restarted on the same spool directory; in the end
 * every acknowledged body must be at the fake. Duplicates are allowed, counted and printed.
 */
import { rmSync } from 'node:fs';
import { freshBuild, NODE } from '../ops/build.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { type ChildDaemon, postLoad, spawnDaemon, tempDir } from '../support/spool-harness.js';

let build: string;
let fake: FakeSqs;
const dirs: string[] = [];
const children: ChildDaemon[] = [];

beforeAll(async () => {
  build = freshBuild();
  fake = await startFakeSqs({ latencyMs: 15, queues: ['crash-write', 'crash-fsync'] });
}, 180_000);
afterAll(async () => {
  for (const c of children) await c.kill(); // only the PIDs this file started
  await fake?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface KillReport {
  killAtAcks: number;
  backlogAtKill: number;
  duplicates: number;
  restartMs: number;
}

/**
 * Posts bodies `<queue>-0 .. <queue>-(total-1)`, SIGKILLing the daemon once the number of 202s
 * reaches each kill point and restarting it on the same spool. Returns what was acked, and per
 * kill point the backlog it left and the duplicates it caused.
 */
async function crashRun(queue: string, durability: 'write' | 'fsync', total: number, killPoints: number[]) {
  const dir = tempDir(`crash-${durability}`);
  dirs.push(dir);
  const args = ['--endpoint', fake.endpoint, '--spool-dir', dir, '--durability', durability, '--max-concurrency', '6', '--retry-base-ms', '20', '--retry-max-ms', '200', '--log-level', 'info'];
  const env = { HOME: dir };
  const start = () => spawnDaemon(NODE, build, args, env).then((d) => (children.push(d), d));

  const acked: string[] = [];
  const reports: KillReport[] = [];
  const snapshots: Array<Map<string, number>> = [];
  let next = 0;
  let daemon = await start();
  for (const point of [...killPoints, Infinity]) {
    let killed = false;
    const phase = await postLoad(daemon.url, queue, { from: next, to: total, prefix: queue }, {
      concurrency: 64,
      stop: () => killed,
      onAck: (_body, phaseAcks) => {
        // Shortly before the kill, SQS slows down: however fast or loaded this machine is, a
        // backlog of acknowledged but undelivered messages exists when the kill lands.
        if (!killed && acked.length + phaseAcks >= point - 500) fake.latencyMs = 300;
        if (!killed && acked.length + phaseAcks >= point) {
          killed = true;
          daemon.child.kill('SIGKILL');
        }
      },
    });
    next = phase.next; // indices in flight at the kill were used up (acked or not)
    acked.push(...phase.acked);
    if (point === Infinity) break;
    if (!killed) daemon.child.kill('SIGKILL'); // the load ended first: still kill (and the report shows where)
    await daemon.exited;
    await new Promise((r) => setTimeout(r, 100)); // requests the fake was still answering die with the socket
    const snap = fake.countByBody(queue);
    snapshots.push(snap);
    reports.push({ killAtAcks: acked.length, backlogAtKill: acked.filter((b) => !snap.has(b)).length, duplicates: 0, restartMs: 0 });
    fake.latencyMs = 15;
    const t0 = Date.now();
    daemon = await start();
    (reports.at(-1) as KillReport).restartMs = Date.now() - t0;
  }
  // Everything acked arrives.
  const ackedSet = new Set(acked);
  await fake.waitFor(() => {
    if (fake.messageCount(queue) < ackedSet.size) return false;
    const counts = fake.countByBody(queue);
    for (const b of ackedSet) if (!counts.has(b)) return false;
    return true;
  }, 40_000).catch(() => {});
  const final = fake.countByBody(queue);
  // Duplicates caused by kill k: deliveries after restart k of bodies already delivered before kill k.
  snapshots.forEach((snap, k) => {
    const after = snapshots[k + 1] ?? final;
    let dups = 0;
    for (const [body, n] of snap) dups += (after.get(body) ?? 0) - n;
    (reports[k] as KillReport).duplicates = dups;
  });
  const lost = acked.filter((b) => !final.has(b));
  let duplicates = 0;
  for (const n of final.values()) duplicates += n - 1;
  const unackedDelivered = [...final.keys()].filter((b) => !ackedSet.has(b)).length;
  await daemon.kill();
  return { acked: acked.length, lost, duplicates, unackedDelivered, reports, delivered: final.size };
}

it('kill -9 at 2,000, 8,000 and 15,000 acks (--durability write): every acknowledged message arrives', async () => {
  const t0 = Date.now();
  const r = await crashRun('crash-write', 'write', 22_000, [2_000, 8_000, 15_000]);
  const ms = Date.now() - t0;
  console.log(`crash test (write): ${r.acked} acked, ${r.delivered} distinct delivered, lost ${r.lost.length}, duplicates ${r.duplicates}, delivered without a 202 ${r.unackedDelivered}, ${ms} ms\n${r.reports.map((k) => `  kill at ${k.killAtAcks} acks: backlog ${k.backlogAtKill} undelivered, ${k.duplicates} duplicates after restart, restart ${k.restartMs} ms`).join('\n')}`);
  expect({ lost: r.lost.length, sample: r.lost.slice(0, 10) }).toEqual({ lost: 0, sample: [] });
  expect(r.acked).toBeGreaterThanOrEqual(20_000);
  expect(r.reports).toHaveLength(3);
  // The kills really landed mid-load with a backlog (otherwise the test proves little).
  for (const k of r.reports) expect(k.backlogAtKill).toBeGreaterThan(0);
  expect(r.reports.map((k) => k.killAtAcks)).toEqual([expect.any(Number), expect.any(Number), expect.any(Number)]);
}, 90_000);

it('kill -9 with --durability fsync: every acknowledged message arrives', async () => {
  const t0 = Date.now();
  const r = await crashRun('crash-fsync', 'fsync', 8_000, [4_000]);
  const ms = Date.now() - t0;
  console.log(`crash test (fsync): ${r.acked} acked, lost ${r.lost.length}, duplicates ${r.duplicates}, delivered without a 202 ${r.unackedDelivered}, ${ms} ms\n${r.reports.map((k) => `  kill at ${k.killAtAcks} acks: backlog ${k.backlogAtKill} undelivered, ${k.duplicates} duplicates after restart, restart ${k.restartMs} ms`).join('\n')}`);
  expect({ lost: r.lost.length, sample: r.lost.slice(0, 10) }).toEqual({ lost: 0, sample: [] });
  expect(r.acked).toBeGreaterThanOrEqual(7_000);
  expect(r.reports[0]?.backlogAtKill).toBeGreaterThan(0);
}, 60_000);
