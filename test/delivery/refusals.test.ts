/**
 * SQS's refusals read right (issue 10): refused credentials in JSON or XML are a 401 on a first
 * send, dead letters for a pass-through pair later, a credential refresh in chain mode; a
 * refusal of a batch as a whole that names no entry splits the batch instead of dead-lettering it.
 */
import type { CredentialProvider } from '../../src/sqs/credentials.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, postJson, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

describe('refused credentials', () => {
  let fake: FakeSqs;
  let d: TestDaemon;

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['orders'] });
    d = await startTestDaemon(fake.endpoint);
  });
  afterAll(async () => {
    await d?.stop();
    await fake?.close();
  });
  afterEach(() => {
    fake.faults = {};
  });

  it.each([
    ['json', 'InvalidClientTokenId'],
    ['json', 'InvalidSignatureException'],
    ['json', 'UnrecognizedClientException'],
    ['xml', 'SignatureDoesNotMatch'],
    ['xml', 'InvalidClientTokenId'],
    ['xml', 'IncompleteSignature'],
  ] as const)('%s %s on the first send is a 401 with a challenge', async (errorFormat, code) => {
    const key = `AKIDBAD${code.length}${errorFormat}`;
    fake.faults = { errorFormat, refuseKeys: { [key]: code } };
    const r = await post(d.url, '/queues/orders', 'message_body=x', { contentType: 'application/x-www-form-urlencoded', headers: { authorization: basic(key, 'wrong') } });
    expect(r.status).toBe(401);
    expect(r.json.error.code).toBe(code);
    expect(r.headers['www-authenticate']).toMatch(/^Basic /);
    expect(r.text).not.toContain('wrong');
  });

  it('an XML QueueDoesNotExist (legacy code AWS.SimpleQueueService.NonExistentQueue) is a 404', async () => {
    fake.faults = { errorFormat: 'xml' };
    const missing = await post(d.url, '/queues/nope', 'message_body=x', { contentType: 'application/x-www-form-urlencoded' });
    expect([missing.status, missing.json.error.code]).toEqual([404, 'QueueDoesNotExist']);
  });

  it('a pass-through pair refused after its queue was resolved: dead-lettered after one attempt, not retried forever', async () => {
    const key = 'AKIDREVOKED';
    const auth = basic(key, 'revoked-secret');
    const first = await post(d.url, '/queues/orders', 'message_body=before', { contentType: 'application/x-www-form-urlencoded', headers: { authorization: auth } });
    expect(first.status).toBe(202);
    await fake.waitFor(() => fake.bodies('orders').includes('before'), 5000);
    fake.faults = { errorFormat: 'xml', refuseKeys: { [key]: 'SignatureDoesNotMatch' } };
    const second = await post(d.url, '/queues/orders', 'message_body=after', { contentType: 'application/x-www-form-urlencoded', headers: { authorization: auth } });
    expect(second.status).toBe(202); // the queue is cached: the ack does not wait on SQS
    await until(() => d.logs.find('rejected by SQS for good').length > 0, 5000, 'the dead letter');
    const line = d.logs.find('rejected by SQS for good')[0] as Record<string, unknown>;
    expect([line.code, line.attempts, line.msgId]).toEqual(['SignatureDoesNotMatch', 1, second.json.id]);
    expect(JSON.stringify(d.logs.lines)).not.toContain('revoked-secret');
  });
});

describe('refused credentials in chain mode: refreshed, then delivered', () => {
  it('SignatureDoesNotMatch (XML) makes the daemon fetch its credentials again and resend', async () => {
    const fake = await startFakeSqs({ queues: ['jobs'] });
    fake.faults = { errorFormat: 'xml' };
    let calls = 0;
    let key = 'AKIDGOOD';
    const credentialProvider: CredentialProvider = async () => {
      calls += 1;
      return { accessKeyId: key, secretAccessKey: 'daemon-secret' };
    };
    const d = await startTestDaemon(fake.endpoint, ['--credentials', 'chain'], 'warn', { credentialProvider });
    try {
      expect((await post(d.url, '/queues/jobs', 'message_body=one', { contentType: 'application/x-www-form-urlencoded', headers: { authorization: undefined } })).status).toBe(202);
      await fake.waitFor(() => fake.messageCount('jobs') === 1, 5000);
      // The daemon's key is revoked; the chain now gives a new one.
      fake.faults = { errorFormat: 'xml', refuseKeys: { AKIDGOOD: 'SignatureDoesNotMatch' } };
      key = 'AKIDROTATED';
      const before = calls;
      expect((await post(d.url, '/queues/jobs', 'message_body=two', { contentType: 'application/x-www-form-urlencoded', headers: { authorization: undefined } })).status).toBe(202);
      await fake.waitFor(() => fake.messageCount('jobs') === 2, 5000);
      expect(calls).toBeGreaterThan(before);
      expect(fake.messages('jobs').map((m) => [m.body, m.accessKeyId])).toEqual([['one', 'AKIDGOOD'], ['two', 'AKIDROTATED']]);
      expect(d.logs.find('rejected by SQS for good')).toHaveLength(0);
    } finally {
      await d.stop();
      await fake.close();
    }
  });
});

describe('a refusal of the batch as a whole splits it', () => {
  let fake: FakeSqs;
  let d: TestDaemon;

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['big', 'big.fifo'] });
    d = await startTestDaemon(fake.endpoint, [], 'warn', { spool: true });
  });
  afterAll(async () => {
    await d?.stop();
    await fake?.close();
  });

  it('BatchRequestTooLong for messages that fit alone: every one delivered, none dead-lettered', async () => {
    // An SQS-compatible server with a 5000-byte batch limit: ten 2000-byte messages need five requests.
    fake.faults = { maxBatchBytes: 5000 };
    const bodies = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(2000, 'x'));
    const r = await postJson(d.url, '/queues/big', bodies);
    expect([r.status, r.json.accepted]).toEqual([202, 10]);
    await fake.waitFor(() => fake.messageCount('big') === 10, 5000);
    expect(fake.bodies('big').sort()).toEqual([...bodies].sort());
    expect(fake.stats.faultsInjected.maxBatchBytes).toBeGreaterThan(0);
    await d.daemon.deps.pipeline.idle();
    expect(d.daemon.deps.store.info().deadLetters).toBe(0);
  });

  it('FIFO: the parts go one after the other, so a group keeps its order', async () => {
    fake.faults = { maxBatchBytes: 5000 };
    const entries = Array.from({ length: 10 }, (_, i) => ({ body: `${i}`.padEnd(2000, 'f'), groupId: `g${i % 3}` }));
    expect((await postJson(d.url, '/queues/big.fifo', entries)).status).toBe(202);
    await fake.waitFor(() => fake.messageCount('big.fifo') === 10, 5000);
    for (const g of ['g0', 'g1', 'g2']) {
      const got = fake.messages('big.fifo').filter((m) => m.groupId === g).map((m) => m.body);
      expect(got).toEqual(entries.filter((e) => e.groupId === g).map((e) => e.body));
    }
  });

  it('a message refused alone with a batch-level code is a dead letter with that code', async () => {
    fake.faults = { maxBatchBytes: 1500 };
    const r = await post(d.url, '/queues/big', 'y'.repeat(2000), { contentType: 'text/plain' });
    expect(r.status).toBe(202);
    const letters = d.daemon.deps.store.deadLetters!;
    await until(async () => (await letters.list()).total === 1, 5000, 'the dead letter');
    const letter = (await letters.list()).items[0]!;
    expect([letter.id, letter.code, letter.attempts]).toEqual([r.json.id, 'BatchRequestTooLong', 1]);
    expect(letter.reason).toContain('alone');
  });
});
