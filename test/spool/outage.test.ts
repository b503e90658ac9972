/**
 * SQS goes away during load. Sends keep being acked until the backlog bound (messages, or
 * spool bytes), then get 503 with Retry-After; the backlog waits on disk, not in the heap;
 * when SQS is back every acked message arrives and new messages are not starved.
 */
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, postJson, type TestDaemon } from '../support/daemon.js';
import { postLoad, removeDir, startSpoolDaemon, tempDir } from '../support/spool-harness.js';

let fake: FakeSqs;
let dir: string;
let d: TestDaemon | undefined;

beforeEach(async () => {
  fake = await startFakeSqs({ latencyMs: 5, queues: ['outage', 'fresh', 'big'] });
  dir = tempDir('outage');
});
afterEach(async () => {
  await d?.stop();
  d = undefined;
  await fake.close();
  removeDir(dir);
});

async function readyz(url: string): Promise<{ status: number; checks: Record<string, string> }> {
  const res = await request(`${url}/readyz`, { headers: { accept: 'application/json' } });
  const body = (await res.body.json()) as { checks: Record<string, string> };
  return { status: res.statusCode, checks: body.checks };
}

it('acks until --max-backlog-messages, then 503 + Retry-After; pages to disk; after the outage every acked message arrives and new ones are not starved', async () => {
  const t0 = Date.now();
  d = await startSpoolDaemon(fake.endpoint, dir, ['--max-backlog-messages', '3000', '--max-in-memory-messages', '500', '--retry-base-ms', '20', '--retry-max-ms', '200']);
  const pipeline = d.daemon.deps.pipeline;
  // Resolve both queues while SQS is up (a first send to an unknown queue waits for GetQueueUrl).
  const warm = await postLoad(d.url, 'outage', { from: 0, to: 200, prefix: 'outage' }, { concurrency: 16 });
  expect((await post(d.url, '/queues/fresh', 'warm-up', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.messageCount('outage') === 200 && fake.messageCount('fresh') === 1, 10_000);
  await pipeline.idle();

  fake.down = true;
  let maxInMemory = 0;
  const sample = setInterval(() => (maxInMemory = Math.max(maxInMemory, pipeline.backlogMessages - pipeline.pagedOutMessages)), 5);
  const load = await postLoad(d.url, 'outage', { from: 200, to: 6000, prefix: 'outage' }, { concurrency: 32 });
  clearInterval(sample);
  // Bounded: exactly up to the limit, the rest refused, none failed otherwise.
  expect(load.acked.length).toBe(3000);
  expect(load.refused).toBe(2800);
  expect([...load.statuses]).toEqual([[503, 2800]]);
  const refusal = await post(d.url, '/queues/outage', 'one more', { contentType: 'text/plain' });
  expect(refusal.status).toBe(503);
  expect(refusal.json.error.code).toBe('BacklogFull');
  expect(Number(refusal.headers['retry-after'])).toBeGreaterThan(0);
  expect(await readyz(d.url)).toMatchObject({ status: 503, checks: { backlog: 'full' } });
  // Memory stays bounded: most of the backlog waits on disk.
  expect(pipeline.backlogMessages).toBe(3000);
  expect(pipeline.pagedOutMessages).toBeGreaterThan(2000);
  expect(maxInMemory).toBeLessThanOrEqual(500);
  expect(fake.messageCount('outage')).toBe(200); // nothing got through while down
  const downMs = Date.now() - t0;

  // SQS comes back; a new message to another queue right away.
  const back = Date.now();
  fake.down = false;
  // The backlog is still full at this instant (one bound for all queues): the sender retries
  // as told until there is room.
  let fresh = await post(d.url, '/queues/fresh', 'after-the-outage', { contentType: 'text/plain' });
  let freshTries = 1;
  for (; fresh.status === 503 && freshTries < 500; freshTries++) {
    await new Promise((r) => setTimeout(r, 10));
    fresh = await post(d.url, '/queues/fresh', 'after-the-outage', { contentType: 'text/plain' });
  }
  expect(fresh.status).toBe(202);
  const freshAcceptedAt = Date.now();
  let freshAt = 0;
  let drainedAt = 0;
  const acked = new Set([...warm.acked, ...load.acked]);
  await fake.waitFor(() => {
    if (!freshAt && fake.messageCount('fresh') === 2) freshAt = Date.now();
    if (!drainedAt && fake.messageCount('outage') >= acked.size) drainedAt = Date.now();
    return freshAt > 0 && drainedAt > 0;
  }, 30_000);
  const counts = fake.countByBody('outage');
  const lost = [...acked].filter((b) => !counts.has(b));
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  console.log(
    `outage test (--max-backlog-messages 3000, --max-in-memory-messages 500): acked ${acked.size}, refused 503 ${load.refused}, max in memory ${maxInMemory}, ` +
      `lost ${lost.length}, duplicates ${duplicates}; after recovery: backlog drained in ${drainedAt - back} ms, a new message on another queue was accepted after ${freshAcceptedAt - back} ms (${freshTries} tries) and arrived after ${freshAt - back} ms ` +
      `(${freshAt <= drainedAt ? 'before' : 'after'} the drain finished); load+outage phase ${downMs} ms, total ${Date.now() - t0} ms`,
  );
  expect(lost).toEqual([]);
  expect(fake.bodies('fresh')).toContain('after-the-outage');
  // Accepting again once there is room.
  await d.daemon.deps.pipeline.idle();
  expect((await post(d.url, '/queues/outage', 'after-drain', { contentType: 'text/plain' })).status).toBe(202);
  expect(pipeline.pagedOutMessages).toBe(0);
}, 60_000);

it('with --max-spool-bytes as the bound (below the segment size): 503 SpoolFull, and after the outage the spool frees and accepts again', async () => {
  const t0 = Date.now();
  d = await startSpoolDaemon(fake.endpoint, dir, ['--max-spool-bytes', '1048576', '--max-in-memory-messages', '100', '--retry-base-ms', '20', '--retry-max-ms', '200']);
  expect((await post(d.url, '/queues/big', 'warm-up', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.messageCount('big') === 1, 10_000);
  fake.down = true;
  const pad = 'p'.repeat(2000);
  const acked: string[] = [];
  let full: Awaited<ReturnType<typeof post>> | undefined;
  for (let i = 0; i < 2000 && !full; i++) {
    const r = await post(d.url, '/queues/big', `big-${i}-${pad}`, { contentType: 'text/plain' });
    if (r.status === 202) acked.push(`big-${i}-${pad}`);
    else full = r;
  }
  expect(full?.status).toBe(503);
  expect(full?.json.error.code).toBe('SpoolFull');
  expect(full?.headers['retry-after']).toBeDefined();
  expect(acked.length).toBeGreaterThan(300); // ~1 MiB of 2 KB messages
  expect(d.daemon.deps.store.info().spoolBytes).toBeLessThanOrEqual(1_048_576);
  expect(d.daemon.deps.pipeline.pagedOutMessages).toBeGreaterThan(0);

  fake.down = false;
  await fake.waitFor(() => fake.messageCount('big') >= acked.length + 1, 20_000);
  const counts = fake.countByBody('big');
  expect(acked.filter((b) => !counts.has(b))).toEqual([]);
  await d.daemon.deps.pipeline.idle();
  await new Promise((r) => setTimeout(r, 50)); // the lazy completion mark
  // The spool is usable again (it was stuck full for good before the fix in 627b1cd).
  let status = 0;
  for (let i = 0; i < 20 && status !== 202; i++) {
    status = (await post(d.url, '/queues/big', `after-${i}`, { contentType: 'text/plain' })).status;
  }
  expect(status).toBe(202);
  console.log(`outage test (--max-spool-bytes 1 MiB): acked ${acked.length} before SpoolFull, all delivered after recovery, ${Date.now() - t0} ms`);
}, 60_000);

it('after an outage, a queue with a few new messages is not held back until another queue\'s big paged backlog has drained', async () => {
  const t0 = Date.now();
  fake.latencyMs = 10;
  d = await startSpoolDaemon(fake.endpoint, dir, ['--max-in-memory-messages', '500', '--max-concurrency', '2', '--retry-base-ms', '20', '--retry-max-ms', '100']);
  const pipeline = d.daemon.deps.pipeline;
  expect((await post(d.url, '/queues/outage', 'warm', { contentType: 'text/plain' })).status).toBe(202);
  expect((await post(d.url, '/queues/fresh', 'warm', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.messageCount('outage') === 1 && fake.messageCount('fresh') === 1, 5000);
  fake.down = true;
  const BACKLOG = 6000;
  for (let r = 0; r < BACKLOG / 100; r++) {
    expect((await postJson(d.url, '/queues/outage', Array.from({ length: 100 }, (_, i) => `big-${r}-${i}`))).status).toBe(202);
  }
  expect(pipeline.pagedOutMessages).toBeGreaterThan(BACKLOG - 600);
  const back = Date.now();
  fake.down = false;
  // While the big backlog drains (memory full most of the time, so some of these are paged out
  // too), a trickle to another queue.
  const sentAt = new Map<string, number>();
  for (let i = 0; i < 20; i++) {
    sentAt.set(`trickle-${i}`, Date.now());
    expect((await post(d.url, '/queues/fresh', `trickle-${i}`, { contentType: 'text/plain' })).status).toBe(202);
    await new Promise((r) => setTimeout(r, 50));
  }
  await fake.waitFor(() => fake.messageCount('fresh') === 21 && fake.messageCount('outage') >= BACKLOG + 1, 30_000);
  const bigTimes = fake.messages('outage').map((m) => m.receivedAt);
  const drainedAt = Math.max(...bigTimes);
  const trickle = fake.messages('fresh').filter((m) => sentAt.has(m.body));
  const latencies = trickle.map((m) => m.receivedAt - (sentAt.get(m.body) as number));
  // How much of the big backlog was still undelivered when each trickle message arrived.
  const bigLeft = trickle.map((m) => bigTimes.filter((t) => t > m.receivedAt).length);
  console.log(`no starvation: big backlog of ${BACKLOG} drained in ${drainedAt - back} ms; 20 messages to another queue took ${Math.min(...latencies)}-${Math.max(...latencies)} ms each; big backlog still undelivered when they arrived: ${Math.min(...bigLeft)}-${Math.max(...bigLeft)}; ${Date.now() - t0} ms`);
  expect(trickle).toHaveLength(20);
  // Every one arrived while thousands of the big backlog were still waiting.
  expect(Math.min(...bigLeft)).toBeGreaterThan(1000);
}, 60_000);
