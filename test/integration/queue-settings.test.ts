/**
 * A queue's settings changed under a running daemon (issue 10), against fauxqs: switching
 * ContentBasedDeduplication off after the first send, raising and lowering MaximumMessageSize.
 * Nothing acknowledged is lost or dead-lettered for reasons the sender could not see.
 */
import { createHash } from 'node:crypto';
import { CreateQueueCommand, ReceiveMessageCommand, SetQueueAttributesCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, post, postJson, SECRET, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';

let emulator: Emulator;
let sqs: SQSClient;
/** Re-reads settings only when an error hints they changed (or before a 413): "before the daemon knew". */
let d: TestDaemon;
/** Re-reads the settings of queues in use every 100 ms: "after the daemon knew". */
let fast: TestDaemon;
const urls: Record<string, string> = {};

beforeAll(async () => {
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
  for (const [name, attributes] of [
    ['cbd.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' }],
    ['small', { MaximumMessageSize: '2048' }],
    ['shrinking', {}],
  ] as const) {
    urls[name] = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl as string;
  }
  d = await startTestDaemon(emulator.endpoint, ['--queue-refresh-ms', '0'], 'info', { spool: true });
  fast = await startTestDaemon(emulator.endpoint, ['--queue-refresh-ms', '100'], 'info');
});

afterAll(async () => {
  await d?.stop();
  await fast?.stop();
  sqs?.destroy();
  await emulator?.close();
});

const setAttributes = (queue: string, Attributes: Record<string, string>) => sqs.send(new SetQueueAttributesCommand({ QueueUrl: urls[queue], Attributes }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const changed = (t: TestDaemon, queue: string) => t.logs.find('queue settings changed').some((l) => l.queue === queue);
const letters = () => d.daemon.deps.store.deadLetters!.list();

async function receiveAll(queue: string, count: number): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + 5000;
  while (out.length < count && Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: urls[queue], MaxNumberOfMessages: 10, VisibilityTimeout: 600, MessageSystemAttributeNames: ['All'] }));
    out.push(...(r.Messages ?? []));
  }
  return out;
}

it('ContentBasedDeduplication switched off after the first send: every message delivered, none dead-lettered', async () => {
  const send = (t: TestDaemon, body: string, groupId: string) => postJson(t.url, '/queues/cbd.fifo', { body, groupId });
  const first = await send(d, 'one', 'g1');
  expect(first.status).toBe(202);
  await until(() => d.daemon.deps.pipeline.backlogMessages === 0, 5000, 'the first delivery');
  expect((await send(fast, 'zero', 'g0')).status).toBe(202); // the fast daemon knows the queue too
  await until(() => fast.daemon.deps.pipeline.backlogMessages === 0, 5000, 'the delivery');
  await setAttributes('cbd.fifo', { ContentBasedDeduplication: 'false' });
  // d has not re-read the setting (it sends with SQS's content hash, explicitly); fast has.
  const before = [await send(d, 'two', 'g2'), await send(d, 'three', 'g3')];
  await until(() => changed(fast, 'cbd.fifo'), 5000, 'the periodic re-read');
  const after = await send(fast, 'four', 'g4');
  for (const r of [...before, after]) expect(r.status).toBe(202);
  await d.daemon.deps.pipeline.idle();
  await fast.daemon.deps.pipeline.idle();
  const got = await receiveAll('cbd.fifo', 5);
  const dedup = Object.fromEntries(got.map((m) => [m.Body, m.Attributes?.MessageDeduplicationId]));
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');
  // Sent with an explicit id each time: SQS's own content hash while the queue had it on, the local id after.
  expect(dedup).toEqual({ zero: sha('zero'), one: sha('one'), two: sha('two'), three: sha('three'), four: after.json.id });
  expect((await letters()).items.filter((l) => l.queueName === 'cbd.fifo')).toEqual([]);
  expect(changed(d, 'cbd.fifo')).toBe(false);
});

it('MaximumMessageSize raised: honoured at the next send, not after a restart', async () => {
  const big = 'b'.repeat(4096);
  const refused = await post(d.url, '/queues/small', big, { contentType: 'text/plain' });
  expect([refused.status, refused.json.error.code]).toEqual([413, 'MessageTooLarge']);
  await setAttributes('small', { MaximumMessageSize: '1048576' });
  await sleep(1100); // the on-demand re-read happens at most once a second per queue
  const ok = await post(d.url, '/queues/small', big, { contentType: 'text/plain' });
  expect(ok.status).toBe(202);
  await d.daemon.deps.pipeline.idle();
  expect((await receiveAll('small', 1)).map((m) => m.Body?.length)).toEqual([4096]);
});

it('MaximumMessageSize lowered: new sends over it get 413; one accepted before the daemon knew is a dead letter saying why', async () => {
  const body = 's'.repeat(1500);
  expect((await post(d.url, '/queues/shrinking', body, { contentType: 'text/plain' })).status).toBe(202);
  await d.daemon.deps.pipeline.idle();
  await setAttributes('shrinking', { MaximumMessageSize: '1024' });
  // Accepted before the daemon re-read the setting: SQS refuses it, the daemon re-reads and says why.
  const early = await post(d.url, '/queues/shrinking', body, { contentType: 'text/plain' });
  expect(early.status).toBe(202);
  await until(async () => (await letters()).items.some((l) => l.id === early.json.id), 5000, 'the dead letter');
  const letter = (await letters()).items.find((l) => l.id === early.json.id)!;
  expect(letter.code).toBe('MessageTooLong');
  expect(letter.reason).toContain('at most 1024 bytes');
  expect(letter.reason).toContain('lowered after the message was accepted');
  // From now on the daemon knows: a 413 at once, nothing more dead-lettered.
  const late = await post(d.url, '/queues/shrinking', body, { contentType: 'text/plain' });
  expect([late.status, late.json.error.code]).toEqual([413, 'MessageTooLarge']);
  expect(late.json.error.message).toContain('1024');
  expect((await letters()).items.filter((l) => l.queueName === 'shrinking')).toHaveLength(1);
});
