/**
 * The delivery pipeline end to end: a real daemon (createDaemon, src/daemon/) posting to the
 * fault-injecting fake SQS. What SQS stored is read from the fake's delivery log. The Pipeline
 * alone, with fake timers: pipeline.unit.test.ts and pipeline-retry.unit.test.ts.
 */
import { Pool } from 'undici';
import { SqsClient } from '../../src/sqs/client.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AKID, post, postJson, runBounded, SECRET, startTestDaemon, type TestDaemon } from '../support/daemon.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(fakeOptions: Parameters<typeof startFakeSqs>[0], flags: string[] = [], logLevel: 'warn' | 'debug' = 'warn'): Promise<{ fake: FakeSqs; d: TestDaemon }> {
  const fake = await startFakeSqs(fakeOptions);
  cleanups.push(() => fake.close());
  const d = await startTestDaemon(fake.endpoint, flags, logLevel);
  cleanups.push(() => d.stop());
  return { fake, d };
}

const sendBatches = (fake: FakeSqs) => fake.stats.byAction.SendMessageBatch ?? 0;

describe('adaptive batching', () => {
  it('an idle queue sends a lone message at once, without waiting for the linger', async () => {
    const { fake, d } = await setup({ queues: ['q'] }, ['--linger-ms', '2000']);
    await post(d.url, '/queues/q', 'warm-up', { contentType: 'text/plain' }); // resolves the queue
    await fake.waitFor(() => fake.messageCount('q') === 1, 2000);
    const t0 = performance.now();
    const r = await post(d.url, '/queues/q', 'alone', { contentType: 'text/plain' });
    expect(r.status).toBe(202);
    await fake.waitFor(() => fake.messageCount('q') === 2, 2000);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(500); // far below the 2000 ms linger
    expect(fake.bodies('q')).toEqual(['warm-up', 'alone']);
    expect(sendBatches(fake)).toBe(2);
  });

  it('while a batch is in flight, a partial batch waits up to --linger-ms, then goes without waiting for the first', async () => {
    const { fake, d } = await setup({ queues: ['lin'] }, ['--linger-ms', '60']);
    expect((await post(d.url, '/queues/lin', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    fake.reset();
    fake.latencyMs = 300;
    expect((await post(d.url, '/queues/lin', 'first', { contentType: 'text/plain' })).status).toBe(202);
    for (const b of ['second', 'third']) expect((await post(d.url, '/queues/lin', b, { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    const [first, second, third] = fake.messages('lin');
    expect([first?.body, second?.body, third?.body]).toEqual(['first', 'second', 'third']);
    expect(second?.receivedAt).toBe(third?.receivedAt); // one batch
    expect(fake.stats.byAction.SendMessageBatch).toBe(2);
    expect(fake.stats.maxConcurrent).toBe(2); // the second did not wait for the first to come back
    const gap = (second?.receivedAt ?? 0) - (first?.receivedAt ?? 0);
    expect(gap).toBeGreaterThanOrEqual(40);
    expect(gap).toBeLessThan(250);
  });

  it('after a full batch leaves, what remains lingers afresh instead of going out early with the old timer', async () => {
    // Each send must land before the timer it races (270 ms of room each, for a loop stalled by a
    // collection or a busy machine; 70 ms before), and the last one 60 ms after the old timer
    // would have fired, so that a pipeline keeping the old timer sends the 3 alone.
    const { fake, d } = await setup({ queues: ['fresh'] }, ['--linger-ms', '600']);
    expect((await post(d.url, '/queues/fresh', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    fake.reset();
    fake.latencyMs = 1500; // batches stay in flight for the whole test: the idle rule never applies
    const t0 = performance.now();
    const at = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, t0 + ms - performance.now())));
    const send = async (from: number, count: number) =>
      expect((await postJson(d.url, '/queues/fresh', Array.from({ length: count }, (_, i) => `m${from + i}`))).status).toBe(202);
    await send(0, 1); // idle queue: goes at once
    await at(10);
    await send(1, 3); // lingers (timer due at ~610 ms)
    await at(340);
    await send(4, 10); // 13 waiting: a full batch leaves, 3 remain and linger afresh (due at ~940 ms)
    await at(670);
    await send(14, 7); // the 3 are still waiting (they would have left at ~610 ms): 10 again, full
    await d.daemon.deps.pipeline.idle();
    const sizes = new Map<number, number>();
    for (const m of fake.messages('fresh')) sizes.set(m.receivedAt, (sizes.get(m.receivedAt) ?? 0) + 1);
    expect([...sizes.values()]).toEqual([1, 10, 10]);
  });

  it('batches form only when a send slot is free, so they are full while SQS is slow', async () => {
    const { fake, d } = await setup({ queues: ['slot'] }, ['--max-concurrency', '1', '--linger-ms', '1']);
    expect((await post(d.url, '/queues/slot', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    fake.reset();
    fake.latencyMs = 150;
    expect((await post(d.url, '/queues/slot', 'first', { contentType: 'text/plain' })).status).toBe(202);
    // While it is out (150 ms), more arrive one by one; the 1 ms linger passes, but no slot is free.
    for (let i = 0; i < 4; i++) expect((await post(d.url, '/queues/slot', `m${i}`, { contentType: 'text/plain' })).status).toBe(202);
    expect((await postJson(d.url, '/queues/slot', Array.from({ length: 30 }, (_, i) => `m${i + 4}`))).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    const sizes = new Map<number, number>();
    for (const m of fake.messages('slot')) sizes.set(m.receivedAt, (sizes.get(m.receivedAt) ?? 0) + 1);
    const batches = [...sizes.values()];
    expect(batches.reduce((a, b) => a + b, 0)).toBe(35);
    expect(fake.stats.maxConcurrent).toBe(1);
    // The first goes alone (idle queue); the rest waited for the slot and leave 10 at a time.
    expect(batches).toEqual([1, 10, 10, 10, 4]);
  });

  it('under load, batches are full: >= 9.5 entries per SendMessageBatch for 5,000 single-message posts at 20 ms latency', async () => {
    // "Under load" made independent of this machine's speed: two send slots carry at most
    // 1,000 messages/s at 20 ms, so posts arrive faster than they can leave, as in production
    // at saturation. (Throughput itself is measured by the benchmarks, not here.)
    const { fake, d } = await setup({ queues: ['load'], latencyMs: 20 }, ['--max-concurrency', '2']);
    const pool = new Pool(d.url, { connections: 100 });
    cleanups.push(() => pool.close());
    const N = 5000;
    const started = performance.now();
    const statuses = await runBounded(N, 100, async (i) => (await post(d.url, '/queues/load', `m${i}`, { contentType: 'text/plain', dispatcher: pool })).status);
    expect(statuses.filter((s) => s !== 202)).toEqual([]);
    await fake.waitFor(() => fake.messageCount('load') >= N, 20_000);
    const elapsed = performance.now() - started;
    const batches = sendBatches(fake);
    const mean = fake.stats.entries / batches;
    // eslint-disable-next-line no-console
    console.log(`adaptive batching: ${N} messages in ${batches} batches (mean ${mean.toFixed(2)} entries), ${Math.round((N / elapsed) * 1000)} msg/s`);
    expect(fake.messageCount('load')).toBe(N);
    expect(new Set(fake.bodies('load')).size).toBe(N);
    expect(mean).toBeGreaterThanOrEqual(9.5);
  });
});

/** Posts `messages` as JSON batches of `per` and returns the local ids in order. */
async function postAll(url: string, queue: string, messages: unknown[], per = 50): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < messages.length; i += per) {
    const r = await postJson(url, `/queues/${queue}`, messages.slice(i, i + per));
    expect(r.status).toBe(202);
    expect(r.json.rejected).toBe(0);
    for (const x of r.json.results as Array<{ id: string }>) ids.push(x.id);
  }
  return ids;
}

/** Calls the fake directly (SetQueueAttributes and the like), as a test-side SQS client. */
async function sqsCall(fake: FakeSqs, action: string, params: object): Promise<unknown> {
  const c = new SqsClient({ endpoint: fake.endpoint, region: 'us-east-1' });
  try {
    return await c.call(action, params, { accessKeyId: AKID, secretAccessKey: SECRET });
  } finally {
    await c.close();
  }
}

/** Per group, the bodies' sequence numbers in the order SQS first stored them. */
function orderByGroup(fake: FakeSqs, queue: string): Map<string, number[]> {
  const seen = new Set<string>();
  const out = new Map<string, number[]>();
  for (const m of fake.messages(queue)) {
    if (seen.has(m.body)) continue;
    seen.add(m.body);
    const g = m.groupId ?? '';
    if (!out.has(g)) out.set(g, []);
    out.get(g)?.push(Number(m.body.split(':')[1]));
  }
  return out;
}

const increasing = (xs: number[]) => xs.every((x, i) => i === 0 || (xs[i - 1] as number) < x);

describe('retries keep every field and touch only what failed', () => {
  it('standard queue: only failed entries are resent, with attributes and delay intact', async () => {
    const { fake, d } = await setup({ queues: ['std'], seed: 7 });
    fake.faults = { partialFailure: 0.3, actions: ['SendMessageBatch'] };
    const N = 300;
    const messages = Array.from({ length: N }, (_, i) => ({
      body: `body-${i} ✓`,
      delaySeconds: i % 7,
      attributes: {
        s: { DataType: 'String', StringValue: `s${i}` },
        n: { DataType: 'Number', StringValue: String(i * 1.5) },
        b: { DataType: 'Binary', BinaryValue: Buffer.from([i & 255, 1, 2]).toString('base64') },
        c: { DataType: 'String.custom', StringValue: 'x' },
      },
    }));
    await postAll(d.url, 'std', messages);
    await d.daemon.deps.pipeline.idle();
    const injected = fake.stats.faultsInjected.partialFailure ?? 0;
    expect(injected).toBeGreaterThan(20);
    expect(fake.messageCount('std')).toBe(N);
    // Every entry sent is either a first attempt or a retry of an entry that failed: nothing else was resent.
    expect(fake.stats.entries).toBe(N + injected);
    expect(d.daemon.deps.pipeline.totals).toMatchObject({ accepted: N, sent: N, retried: injected, deadLettered: 0 });
    const byBody = new Map(fake.messages('std').map((m) => [m.body, m]));
    for (const [i, m] of messages.entries()) {
      const stored = byBody.get(m.body);
      expect(stored?.attributes).toEqual(m.attributes);
      expect(stored?.delaySeconds).toBe(i % 7 === 0 ? undefined : i % 7);
    }
  });

  it('FIFO queue: groups and deduplication ids (given or generated) survive retries; generated ids are the message ids', async () => {
    const { fake, d } = await setup({ queues: ['f.fifo'], seed: 11 });
    fake.faults = { partialFailure: 0.3, dropAfterStore: 0.2, actions: ['SendMessageBatch'] };
    const N = 200;
    const messages = Array.from({ length: N }, (_, i) => ({
      body: `fifo-${i}`,
      groupId: `g${i % 5}`,
      ...(i % 2 === 0 ? { deduplicationId: `dedup-${i}` } : {}),
      attributes: { i: i + 1 },
    }));
    const ids = await postAll(d.url, 'f.fifo', messages, 20);
    await d.daemon.deps.pipeline.idle();
    expect(fake.stats.faultsInjected.dropAfterStore ?? 0).toBeGreaterThan(0);
    expect(fake.messageCount('f.fifo')).toBe(N); // no duplicates: the dedup ids were stable
    const byBody = new Map(fake.messages('f.fifo').map((m) => [m.body, m]));
    for (const [i, m] of messages.entries()) {
      const stored = byBody.get(m.body);
      expect(stored?.groupId).toBe(m.groupId);
      expect(stored?.dedupId).toBe(m.deduplicationId ?? ids[i]);
      expect(stored?.attributes).toEqual({ i: { DataType: 'Number', StringValue: String(i + 1) } });
    }
  });

  it('an MD5 mismatch resends only that entry', async () => {
    const { fake, d } = await setup({ queues: ['md5'], seed: 3 });
    fake.faults = { badMd5: 0.2, actions: ['SendMessageBatch'] };
    const N = 200;
    await postAll(d.url, 'md5', Array.from({ length: N }, (_, i) => `m${i}`));
    await d.daemon.deps.pipeline.idle();
    const bad = fake.stats.faultsInjected.badMd5 ?? 0;
    expect(bad).toBeGreaterThan(10);
    expect(fake.stats.entries).toBe(N + bad);
    expect(d.daemon.deps.pipeline.totals.md5Mismatch).toBe(bad);
    // Each mismatch stored one extra copy (SQS did store it; we cannot know what it stored).
    let extra = 0;
    for (const count of fake.countByBody('md5').values()) extra += count - 1;
    expect(fake.countByBody('md5').size).toBe(N);
    expect(extra).toBe(bad);
    expect(d.logs.find('mismatching MD5').length).toBe(bad);
  });
});

describe('permanent failures are counted and logged, never retried forever', () => {
  it('a per-entry rejection (message too large for the queue) is dead-lettered with its id; the rest are delivered', async () => {
    const { fake, d } = await setup({ queues: ['perm'] });
    expect((await post(d.url, '/queues/perm', 'resolve me', { contentType: 'text/plain' })).status).toBe(202);
    // The queue's limit shrinks after the daemon cached it: only SQS can say no now.
    await sqsCall(fake, 'SetQueueAttributes', { QueueUrl: fake.queueUrl('perm'), Attributes: { MaximumMessageSize: '1024' } });
    const big = 'x'.repeat(2000);
    const r = await postJson(d.url, '/queues/perm', ['small-1', big, 'small-2', `${big}!`, 'small-3']);
    expect(r.status).toBe(202);
    const ids = (r.json.results as Array<{ id: string }>).map((x) => x.id);
    await d.daemon.deps.pipeline.idle();
    expect(fake.bodies('perm')).toEqual(['resolve me', 'small-1', 'small-2', 'small-3']);
    // SQS's refusal hints the queue's settings changed: the daemon re-reads them once, and the
    // check before the next send refuses the two for good, saying the limit is now 1024 bytes.
    expect(fake.stats.entries).toBe(6); // the two rejected entries were sent once each, not again
    expect(d.daemon.deps.pipeline.totals).toMatchObject({ deadLettered: 2, sent: 4, retried: 2 });
    expect(d.daemon.deps.pipeline.stats('perm')).toMatchObject({ deadLettered: 2, backlog: 0 });
    const logged = d.logs.find('rejected by SQS for good').filter((l) => l.msgId !== undefined);
    expect(logged.map((l) => l.msgId).sort()).toEqual([ids[1], ids[3]].sort());
    for (const l of logged) expect(l).toMatchObject({ queue: 'perm', code: 'MessageTooLong', level: 'error' });
    expect(String(logged[0]?.reason)).toContain('at most 1024 bytes');
  });

  it('a queue deleted after it was resolved: messages are dead-lettered as QueueDoesNotExist, and the next send gets 404', async () => {
    const { fake, d } = await setup({ queues: ['gone'] });
    expect((await post(d.url, '/queues/gone', 'first', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    fake.deleteQueue('gone');
    const r = await postJson(d.url, '/queues/gone', ['a', 'b', 'c']);
    expect(r.status).toBe(202); // cached: the ack does not wait on SQS
    await d.daemon.deps.pipeline.idle();
    expect(d.daemon.deps.pipeline.totals.deadLettered).toBe(3);
    expect(fake.stats.byAction.SendMessageBatch).toBe(2);
    const logged = d.logs.find('rejected by SQS for good').filter((l) => l.msgId !== undefined);
    expect(logged).toHaveLength(3);
    expect(logged.every((l) => l.code === 'QueueDoesNotExist')).toBe(true);
    const again = await post(d.url, '/queues/gone', 'late', { contentType: 'text/plain' });
    expect(again.status).toBe(404);
    expect(again.json.error.code).toBe('QueueDoesNotExist');
  });

  it('messages older than --max-message-age-ms are dead-lettered as MaxAgeExceeded instead of retried', async () => {
    const { fake, d } = await setup({ queues: ['old'] }, ['--max-message-age-ms', '150']);
    expect((await post(d.url, '/queues/old', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    fake.faults = { serverError: 1, actions: ['SendMessageBatch'] };
    expect((await post(d.url, '/queues/old', 'doomed', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    expect(d.daemon.deps.pipeline.totals.deadLettered).toBe(1);
    const [line] = d.logs.find('rejected by SQS for good').filter((l) => l.msgId !== undefined);
    expect(line).toMatchObject({ code: 'MaxAgeExceeded' });
    expect(String(line?.reason)).toMatch(/undelivered after 150 ms; last error (InternalError|ServiceUnavailable)/);
    expect(d.daemon.deps.pipeline.totals.retried).toBeGreaterThan(1);
  });
});

describe('transient failures are retried', () => {
  it('request-level throttling (403 RequestThrottled, 400 ThrottlingException) is retried until it passes', async () => {
    const { fake, d } = await setup({ queues: ['thr'], seed: 1 }, [], 'debug');
    fake.faults = { throttle: 1, actions: ['SendMessageBatch'] };
    expect((await postJson(d.url, '/queues/thr', Array.from({ length: 30 }, (_, i) => `t${i}`))).status).toBe(202);
    // Keep throttling until SQS has answered both kinds (the fake picks 403 RequestThrottled or 400 ThrottlingException).
    const retriedWith = (code: string) => d.logs.find('retrying failed entries').some((l) => l.code === code);
    await fake.waitFor(() => retriedWith('RequestThrottled') && retriedWith('ThrottlingException'), 10_000);
    fake.faults = {};
    await d.daemon.deps.pipeline.idle();
    expect(fake.messageCount('thr')).toBe(30);
    expect(d.daemon.deps.pipeline.totals.deadLettered).toBe(0);
    expect(d.daemon.deps.pipeline.totals.requestErrors).toBe(fake.stats.faultsInjected.throttle);
  });

  it('dropped connections (before SQS stored anything) are retried without duplicates', async () => {
    const { fake, d } = await setup({ queues: ['drop'] });
    fake.faults = { dropConnection: 1, actions: ['SendMessageBatch'] };
    expect((await postJson(d.url, '/queues/drop', Array.from({ length: 25 }, (_, i) => `d${i}`))).status).toBe(202);
    await fake.waitFor(() => (fake.stats.faultsInjected.dropConnection ?? 0) >= 6, 10_000);
    fake.faults = {};
    await d.daemon.deps.pipeline.idle();
    expect(fake.messageCount('drop')).toBe(25);
    expect(fake.countByBody('drop').size).toBe(25);
  });

  it('KMS throttling of single entries is retried', async () => {
    const { fake, d } = await setup({ queues: ['kms'], seed: 5 });
    fake.faults = { kmsThrottled: 0.5, actions: ['SendMessageBatch'] };
    await postAll(d.url, 'kms', Array.from({ length: 100 }, (_, i) => `k${i}`));
    await d.daemon.deps.pipeline.idle();
    const injected = fake.stats.faultsInjected.kmsThrottled ?? 0;
    expect(injected).toBeGreaterThan(20);
    expect(fake.messageCount('kms')).toBe(100);
    expect(fake.stats.entries).toBe(100 + injected);
  });

  it('a request that times out is retried', async () => {
    // The smallest timeout (1 s; undici checks header timeouts on a coarse ~1 s timer) fires
    // well before the fake answers, after 3 s.
    const { fake, d } = await setup({ queues: ['slow'] }, ['--request-timeout-ms', '1000']);
    expect((await post(d.url, '/queues/slow', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    fake.faults = { extraLatencyMs: 3000, actions: ['SendMessageBatch'] };
    expect((await post(d.url, '/queues/slow', 'late', { contentType: 'text/plain' })).status).toBe(202);
    const pipeline = d.daemon.deps.pipeline;
    const deadline = Date.now() + 5000;
    while (pipeline.totals.requestErrors === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(pipeline.totals.requestErrors).toBeGreaterThanOrEqual(1);
    fake.faults = {};
    await pipeline.idle();
    expect(fake.countByBody('slow').get('late')).toBe(1);
    expect(pipeline.totals).toMatchObject({ sent: 2, deadLettered: 0 });
    // Every timed-out attempt was retried (a retry can still meet the slow fake once).
    expect(pipeline.totals.retried).toBe(pipeline.totals.requestErrors);
  });
});

describe('FIFO order per group', () => {
  it('is kept under throttling, 5xx and dropped connections, with no duplicates', async () => {
    const { fake, d } = await setup({ queues: ['ord.fifo'], seed: 42 });
    fake.faults = { throttle: 0.15, serverError: 0.1, dropConnection: 0.1, dropAfterStore: 0.1, actions: ['SendMessageBatch'] };
    const N = 400;
    const messages = Array.from({ length: N }, (_, i) => ({ body: `m:${i}`, groupId: `g${i % 4}` }));
    await postAll(d.url, 'ord.fifo', messages, 10);
    await d.daemon.deps.pipeline.idle();
    const faults = fake.stats.faultsInjected;
    expect((faults.throttle ?? 0) + (faults.serverError ?? 0) + (faults.dropConnection ?? 0) + (faults.dropAfterStore ?? 0)).toBeGreaterThan(10);
    expect(fake.messageCount('ord.fifo')).toBe(N);
    const order = orderByGroup(fake, 'ord.fifo');
    expect([...order.keys()].sort()).toEqual(['g0', 'g1', 'g2', 'g3']);
    for (const seqs of order.values()) {
      expect(seqs).toHaveLength(N / 4);
      expect(increasing(seqs)).toBe(true);
    }
  });

  it('is kept when single entries of a batch fail (one entry per group per batch, the default)', async () => {
    const { fake, d } = await setup({ queues: ['parts.fifo'], seed: 7 });
    fake.faults = { partialFailure: 0.2, actions: ['SendMessageBatch'] };
    const messages = [];
    for (let i = 0; i < 100; i++) for (const g of ['g0', 'g1', 'g2']) messages.push({ body: `${g}:${i}`, groupId: g });
    await postAll(d.url, 'parts.fifo', messages, 60);
    await d.daemon.deps.pipeline.idle();
    expect(fake.stats.faultsInjected.partialFailure ?? 0).toBeGreaterThan(10);
    const order = orderByGroup(fake, 'parts.fifo');
    for (const g of ['g0', 'g1', 'g2']) {
      expect(order.get(g)).toHaveLength(100);
      expect(increasing(order.get(g) ?? [])).toBe(true);
    }
  });

  it('a group never has two batches in flight (--fifo-max-per-group 10 fills batches from one group)', async () => {
    const { fake, d } = await setup({ queues: ['one.fifo'], latencyMs: 30 }, ['--fifo-max-per-group', '10']);
    await postAll(d.url, 'one.fifo', Array.from({ length: 60 }, (_, i) => ({ body: `m:${i}`, groupId: 'only' })), 60);
    await d.daemon.deps.pipeline.idle();
    expect(fake.stats.maxConcurrent).toBe(1); // GetQueueUrl and GetQueueAttributes came first, one at a time
    expect(fake.stats.byAction.SendMessageBatch).toBe(6);
    expect(increasing(orderByGroup(fake, 'one.fifo').get('only') ?? [])).toBe(true);
  });
});

describe('graceful close', () => {
  it('gives up after the grace period when SQS is down, reports what is left, and sends nothing afterwards', async () => {
    const fake = await startFakeSqs({ queues: ['stuck'] });
    cleanups.push(() => fake.close());
    const d = await startTestDaemon(fake.endpoint, ['--shutdown-grace-ms', '300', '--retry-base-ms', '10', '--retry-max-ms', '10']);
    expect((await post(d.url, '/queues/stuck', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    fake.down = true;
    fake.latencyMs = 25; // some requests are in flight when the grace period ends
    await postAll(d.url, 'stuck', Array.from({ length: 40 }, (_, i) => `s${i}`), 10);
    const t0 = performance.now();
    const { remaining } = await d.stop();
    const took = performance.now() - t0;
    expect(remaining).toBe(40);
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(2000);
    expect(d.logs.find('undelivered messages are lost')).toEqual([expect.objectContaining({ remaining: 40, level: 'warn' })]);
    const requests = fake.stats.requests;
    const totals = { ...d.daemon.deps.pipeline.totals };
    await new Promise((r) => setTimeout(r, 200));
    expect(fake.stats.requests).toBe(requests);
    expect(d.daemon.deps.pipeline.totals).toEqual(totals);
  });


  it('flushes what was accepted, without lingering, then refuses connections', async () => {
    const fake = await startFakeSqs({ queues: ['flush', 'flush.fifo'], latencyMs: 30 });
    cleanups.push(() => fake.close());
    const d = await startTestDaemon(fake.endpoint, ['--linger-ms', '5000']);
    await postAll(d.url, 'flush', Array.from({ length: 333 }, (_, i) => `f${i}`), 111);
    await postAll(d.url, 'flush.fifo', Array.from({ length: 55 }, (_, i) => ({ body: `m:${i}`, groupId: `g${i % 2}` })), 55);
    const t0 = performance.now();
    const { remaining } = await d.stop();
    expect(performance.now() - t0).toBeLessThan(4000);
    expect(remaining).toBe(0);
    expect(fake.messageCount('flush')).toBe(333);
    expect(fake.messageCount('flush.fifo')).toBe(55);
    await expect(post(d.url, '/queues/flush', 'after', { contentType: 'text/plain' })).rejects.toThrow();
    // Idempotent.
    expect(await d.stop()).toEqual({ remaining: 0 });
  });
});
