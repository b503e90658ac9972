import { SqsClient } from '../../src/sqs/client.js';
import { staticCredentials } from '../../src/sqs/credentials.js';
import { makeDestination, QueueResolver } from '../../src/sqs/resolver.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { sqsError, startStubSqs } from '../support/daemon.js';

const creds = staticCredentials({ accessKeyId: 'AKID', secretAccessKey: 'S' });
const other = staticCredentials({ accessKeyId: 'AKID2', secretAccessKey: 'S' });

let fake: FakeSqs;
let client: SqsClient;
beforeEach(async () => {
  fake = await startFakeSqs({ queues: ['std', 'f.fifo', { name: 'cbd.fifo', attributes: { ContentBasedDeduplication: 'true' } }, { name: 'small', attributes: { MaximumMessageSize: '2048' } }] });
  client = new SqsClient({ endpoint: fake.endpoint, region: 'us-east-1' });
});
afterEach(async () => {
  await client.close();
  await fake.close();
});

describe('QueueResolver', () => {
  it('resolves URL and limits once per (credentials, queue), then answers from cache', async () => {
    const r = new QueueResolver(client, { maxMessageBytes: 1_048_576 });
    expect(r.cached(creds, 'std')).toBeUndefined();
    const d = await r.resolve(creds, 'std');
    expect(d).toMatchObject({ queueName: 'std', queueUrl: fake.queueUrl('std'), limits: { fifo: false, contentBasedDedup: false, maxMessageBytes: 1_048_576 } });
    expect(Object.isFrozen(d.limits)).toBe(true); // replaced as a whole when the queue's settings change, never edited
    expect(await r.resolve(creds, 'std')).toBe(d);
    expect(r.cached(creds, 'std')).toBe(d);
    expect(fake.stats.byAction).toEqual({ GetQueueUrl: 1, GetQueueAttributes: 1 });
    // Other credentials: a separate destination, looked up on their own.
    const d2 = await r.resolve(other, 'std');
    expect(d2).not.toBe(d);
    expect(d2.key).not.toBe(d.key);
    expect(fake.stats.byAction.GetQueueUrl).toBe(2);
  });

  it('shares one lookup between concurrent first sends', async () => {
    fake.latencyMs = 30;
    const r = new QueueResolver(client, { maxMessageBytes: 1_048_576 });
    const all = await Promise.all(Array.from({ length: 20 }, () => r.resolve(creds, 'std')));
    expect(new Set(all).size).toBe(1);
    expect(fake.stats.byAction.GetQueueUrl).toBe(1);
  });

  it('reads FIFO, content-based dedup and a lower MaximumMessageSize; never raises the daemon cap', async () => {
    const r = new QueueResolver(client, { maxMessageBytes: 100_000 });
    expect((await r.resolve(creds, 'f.fifo')).limits).toEqual({ fifo: true, contentBasedDedup: false, maxMessageBytes: 100_000 });
    expect((await r.resolve(creds, 'cbd.fifo')).limits).toEqual({ fifo: true, contentBasedDedup: true, maxMessageBytes: 100_000 });
    expect((await r.resolve(creds, 'small')).limits.maxMessageBytes).toBe(2048);
  });

  it('does not cache failures: a queue created later is found', async () => {
    const r = new QueueResolver(client, { maxMessageBytes: 1_048_576 });
    await expect(r.resolve(creds, 'later')).rejects.toMatchObject({ code: 'QueueDoesNotExist', queueMissing: true });
    fake.createQueue('later');
    expect((await r.resolve(creds, 'later')).queueName).toBe('later');
  });

  it('invalidate() and invalidateQueue() forget destinations', async () => {
    const r = new QueueResolver(client, { maxMessageBytes: 1_048_576 });
    const a = await r.resolve(creds, 'std');
    await r.resolve(other, 'std');
    await r.resolve(creds, 'f.fifo');
    r.invalidate(a);
    expect(r.cached(creds, 'std')).toBeUndefined();
    expect(r.cached(other, 'std')).toBeDefined();
    r.invalidateQueue('std');
    expect(r.cached(other, 'std')).toBeUndefined();
    expect(r.cached(creds, 'f.fifo')).toBeDefined();
    // A stale destination does not evict a newer one.
    const fresh = await r.resolve(creds, 'std');
    r.invalidate(a);
    expect(r.cached(creds, 'std')).toBe(fresh);
  });

  it('keeps at most maxEntries destinations, forgetting the oldest', async () => {
    for (let i = 0; i < 4; i++) fake.createQueue(`q${i}`);
    const r = new QueueResolver(client, { maxMessageBytes: 1_048_576, maxEntries: 3 });
    for (let i = 0; i < 4; i++) await r.resolve(creds, `q${i}`);
    expect(r.cached(creds, 'q0')).toBeUndefined();
    for (let i = 1; i < 4; i++) expect(r.cached(creds, `q${i}`)).toBeDefined();
  });

  it('answers a repeated (credentials, queue) as the cache does, after evictions, sweeps, invalidations and a newer destination', async () => {
    for (let i = 0; i < 3; i++) fake.createQueue(`q${i}`);
    const r = new QueueResolver(client, { maxMessageBytes: 1_048_576, maxEntries: 2 });
    const q0 = await r.resolve(creds, 'q0');
    expect(r.cached(creds, 'q0')).toBe(q0); // the last pair asked
    expect(r.cached(other, 'q0')).toBeUndefined(); // same queue, other credentials
    expect(r.cached(creds, 'q1')).toBeUndefined();
    expect(r.cached(creds, 'q0')).toBe(q0);
    // Evicted (maxEntries 2: q1 and q2 push q0 out) while it is the last one found.
    await r.resolve(creds, 'q1');
    await r.resolve(creds, 'q2');
    expect(r.cached(creds, 'q0')).toBeUndefined();
    // Swept while it is the last one found.
    const q1 = r.cached(creds, 'q1');
    expect(q1).toBeDefined();
    r.sweep(Infinity);
    expect(r.cached(creds, 'q1')).toBeUndefined();
    // Invalidated, by destination and by queue name.
    const a = await r.resolve(creds, 'q1');
    expect(r.cached(creds, 'q1')).toBe(a);
    r.invalidate(a);
    expect(r.cached(creds, 'q1')).toBeUndefined();
    const b = await r.resolve(creds, 'q1');
    expect(r.cached(creds, 'q1')).toBe(b);
    r.invalidateQueue('q1');
    expect(r.cached(creds, 'q1')).toBeUndefined();
    // Another destination under the same key (one rebuilt from the spool, verified by delivery)
    // replaces the cached one: the next call gets it, not the one it found last.
    const c = await r.resolve(creds, 'q1');
    expect(r.cached(creds, 'q1')).toBe(c);
    const rebuilt = makeDestination(c.key, 'q1', '', c.limits, creds);
    await r.verify(rebuilt);
    expect(r.cached(creds, 'q1')).toBe(rebuilt);
  });

  it('keeps a repeated hit most recently used: the memo of the last pair still moves it to the end', async () => {
    for (let i = 0; i < 3; i++) fake.createQueue(`q${i}`);
    const r = new QueueResolver(client, { maxMessageBytes: 1_048_576, maxEntries: 2 });
    const q0 = await r.resolve(creds, 'q0');
    expect(r.cached(creds, 'q0')).toBe(q0); // the last pair found
    await r.resolve(creds, 'q1'); // a miss: the last pair found is still q0; q1 is the most recent
    q0.usedAt = 0; // last touched long ago: the next hit moves it to the end
    expect(r.cached(creds, 'q0')).toBe(q0); // the memo's answer, moved to the end
    await r.resolve(creds, 'q2'); // evicts the least recently used: q1
    expect(r.cached(creds, 'q1')).toBeUndefined();
    expect(r.cached(creds, 'q0')).toBe(q0);
  });
});

describe('QueueResolver when GetQueueAttributes is refused', () => {
  it('falls back on the name when access is denied; other errors fail the lookup', async () => {
    const stub = await startStubSqs(({ action, params, accessKeyId }) => {
      if (action === 'GetQueueUrl') return { body: { QueueUrl: `http://x/000/${params.QueueName}` } };
      return accessKeyId === 'AKID' ? sqsError(403, 'AccessDenied') : sqsError(500, 'InternalError');
    });
    const c = new SqsClient({ endpoint: stub.endpoint, region: 'us-east-1' });
    try {
      const r = new QueueResolver(c, { maxMessageBytes: 1_048_576 });
      expect((await r.resolve(creds, 'x.fifo')).limits).toEqual({ fifo: true, contentBasedDedup: false, maxMessageBytes: 1_048_576 });
      expect((await r.resolve(creds, 'plain')).limits.fifo).toBe(false);
      await expect(r.resolve(other, 'plain')).rejects.toMatchObject({ code: 'InternalError', disposition: 'retry' });
      expect(r.cached(other, 'plain')).toBeUndefined();
    } finally {
      await c.close();
      await stub.close();
    }
  });
});
