/**
 * SQS down before a queue is resolved (issue 10): sends are accepted into the spool, the queue is
 * verified when SQS answers, and everything is delivered; a queue that turns out not to exist makes
 * dead letters saying so. After a restart, queues known from the last run take sends at once.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, postJson, runBounded, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';

describe.each([
  ['503 ServiceUnavailable', (fake: FakeSqs, on: boolean) => void (fake.down = on)],
  ['dropped connections', (fake: FakeSqs, on: boolean) => void (fake.faults = on ? { dropConnection: 1 } : {})],
])('SQS down at start (%s), then up', (_name, outage) => {
  let fake: FakeSqs;
  let d: TestDaemon;

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['orders', 'orders.fifo'] });
    outage(fake, true);
    d = await startTestDaemon(fake.endpoint, [], 'info', { spool: true });
  });
  afterAll(async () => {
    await d?.stop();
    await fake?.close();
  });

  it('no 503: every send accepted as not yet verified, then all delivered, FIFO in order with deduplication ids', async () => {
    const std = await runBounded(100, 10, (i) => post(d.url, '/queues/orders', `message_body=m${i}`, { contentType: 'application/x-www-form-urlencoded' }));
    const fifo = await runBounded(30, 1, (i) => postJson(d.url, '/queues/orders.fifo', { body: `f${i}`, groupId: `g${i % 3}` }));
    for (const r of [...std, ...fifo]) {
      expect(r.status).toBe(202);
      expect(r.headers['x-queue-verified']).toBe('false');
      expect(r.json.queueVerified).toBe(false);
    }
    expect(fake.messageCount('orders')).toBe(0);
    outage(fake, false);
    await fake.waitFor(() => fake.messageCount('orders') === 100 && fake.messageCount('orders.fifo') === 30, 10_000);
    expect(new Set(fake.bodies('orders'))).toEqual(new Set(std.map((_, i) => `m${i}`)));
    for (const g of ['g0', 'g1', 'g2']) {
      const got = fake.messages('orders.fifo').filter((m) => m.groupId === g);
      expect(got.map((m) => m.body)).toEqual(fifo.map((_, i) => `f${i}`).filter((_, i) => `g${i % 3}` === g));
    }
    // The queue has no content-based deduplication: each message went with its local id.
    const ids = new Map(fifo.map((r, i) => [`f${i}`, r.json.id as string]));
    for (const m of fake.messages('orders.fifo')) expect(m.dedupId).toBe(ids.get(m.body));
    expect(d.logs.find('queue verified with SQS').length).toBeGreaterThanOrEqual(2);
    // Now verified: later answers say nothing of it.
    const later = await post(d.url, '/queues/orders', 'message_body=later', { contentType: 'application/x-www-form-urlencoded' });
    expect([later.status, later.headers['x-queue-verified'], later.json.queueVerified]).toEqual([202, undefined, undefined]);
  });

  it('a queue that turns out not to exist: its messages become dead letters with QueueDoesNotExist', async () => {
    outage(fake, true);
    const r = await post(d.url, '/queues/ghost', 'message_body=boo', { contentType: 'application/x-www-form-urlencoded' });
    expect([r.status, r.json.queueVerified]).toEqual([202, false]);
    outage(fake, false);
    const letters = d.daemon.deps.store.deadLetters!;
    await until(async () => (await letters.get(r.json.id)) !== undefined, 10_000, 'the dead letter');
    expect(await letters.get(r.json.id)).toMatchObject({ queueName: 'ghost', code: 'QueueDoesNotExist', body: 'boo' });
    // SQS answers now: the next send to it is a 404 at once.
    expect((await post(d.url, '/queues/ghost', 'message_body=again', { contentType: 'application/x-www-form-urlencoded' })).status).toBe(404);
  });
});

describe('after a restart with SQS down', () => {
  let fake: FakeSqs;
  let dir: string;
  const daemons: TestDaemon[] = [];
  const start = async () => {
    const d = await startTestDaemon(fake.endpoint, ['--spool-dir', dir, '--shutdown-grace-ms', '100'], 'info', { spool: true });
    daemons.push(d);
    return d;
  };

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['known', 'spooled', 'jobs.fifo'] });
    dir = await mkdtemp(join(tmpdir(), 'sqs-accelerator-restart-'));
  });
  afterAll(async () => {
    for (const d of daemons) await d.stop();
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('queues resolved in the last run (delivered or still spooled) take sends at once, verified; all delivered when SQS is back', async () => {
    const a = await start();
    expect((await post(a.url, '/queues/known', 'message_body=k0', { contentType: 'text/plain' })).status).toBe(202);
    expect((await postJson(a.url, '/queues/jobs.fifo', { body: 'j0', groupId: 'g' })).status).toBe(202);
    await fake.waitFor(() => fake.messageCount('known') === 1 && fake.messageCount('jobs.fifo') === 1, 5000);
    // A backlog left in the spool: resolved, then SQS went away.
    expect((await post(a.url, '/queues/spooled', 's0', { contentType: 'text/plain' })).status).toBe(202);
    await fake.waitFor(() => fake.messageCount('spooled') === 1, 5000);
    fake.down = true;
    await runBounded(50, 5, async (i) => expect((await post(a.url, '/queues/spooled', `s${i + 1}`, { contentType: 'text/plain' })).status).toBe(202));
    await a.stop();

    const lookups = fake.stats.byAction.GetQueueUrl;
    const b = await start();
    const replies = [
      await post(b.url, '/queues/known', 'k1', { contentType: 'text/plain' }),
      await post(b.url, '/queues/spooled', 's51', { contentType: 'text/plain' }),
      await postJson(b.url, '/queues/jobs.fifo', { body: 'j1', groupId: 'g' }),
    ];
    for (const r of replies) expect([r.status, r.json.queueVerified, r.headers['x-queue-verified']]).toEqual([202, undefined, undefined]);
    expect(fake.stats.byAction.GetQueueUrl).toBe(lookups); // nothing looked up again: known from the last run
    fake.down = false;
    await fake.waitFor(() => fake.messageCount('known') === 2 && fake.messageCount('spooled') === 52 && fake.messageCount('jobs.fifo') === 2, 10_000);
    expect(new Set(fake.bodies('spooled'))).toEqual(new Set(Array.from({ length: 52 }, (_, i) => `s${i}`)));
    expect(b.daemon.deps.store.info().deadLetters).toBe(0);
  });

  it('a wrong secret for a known queue is still refused by SQS: the known queues are per credentials', async () => {
    const b = daemons.at(-1)!;
    fake.faults = { refuseKeys: { AKIDOTHER: 'InvalidClientTokenId' } };
    const r = await post(b.url, '/queues/known', 'x', { contentType: 'text/plain', headers: { authorization: `Basic ${Buffer.from('AKIDOTHER:nope').toString('base64')}` } });
    expect(r.status).toBe(401);
    fake.faults = {};
  });
});
