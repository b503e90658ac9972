/**
 * SQS's ids and trace context (issue 10), against fauxqs: GET /messages/:id tells a recent message's
 * state with SQS's MessageId and SequenceNumber, POST ...?wait=1 answers 201 with them once SQS
 * accepted the batch, and W3C trace headers arrive as message attributes.
 */
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, AUTH, post, postJson, SECRET, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';

let emulator: Emulator;
let sqs: SQSClient;
let d: TestDaemon;
const urls: Record<string, string> = {};

beforeAll(async () => {
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
  for (const [name, attributes] of [['ids', {}], ['ids.fifo', { FifoQueue: 'true' }], ['traced', {}], ['doomed', {}]] as const) {
    urls[name] = (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }))).QueueUrl as string;
  }
  d = await startTestDaemon(emulator.endpoint, ['--wait-timeout-ms', '5000']);
});

afterAll(async () => {
  await d?.stop();
  sqs?.destroy();
  await emulator?.close();
});

async function receive(queue: string, count: number): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + 5000;
  while (out.length < count && Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: urls[queue], MaxNumberOfMessages: 10, VisibilityTimeout: 600, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
    out.push(...(r.Messages ?? []));
  }
  return out;
}

async function getMessage(id: string, authorization = AUTH): Promise<{ status: number; json: any }> {
  const res = await request(`${d.url}/messages/${encodeURIComponent(id)}`, { headers: { authorization, host: 'localhost', accept: 'application/json' } });
  return { status: res.statusCode, json: await res.body.json() };
}

it('POST ?wait=1 answers 201 with the MessageId a consumer then receives', async () => {
  const r = await post(d.url, '/queues/ids?wait=1', 'waited for', { contentType: 'text/plain' });
  expect(r.status).toBe(201);
  expect(r.json).toMatchObject({ id: r.headers['x-message-id'], queue: 'ids', messageId: expect.any(String) });
  expect(r.headers['x-sqs-message-id']).toBe(r.json.messageId);
  const [m] = await receive('ids', 1);
  expect([m?.Body, m?.MessageId]).toEqual(['waited for', r.json.messageId]);
});

it('FIFO ?wait=1 gives SQS\'s SequenceNumber too; a batch waits for every entry', async () => {
  const r = await postJson(d.url, '/queues/ids.fifo?wait=1', [{ body: 'a', groupId: 'g' }, { body: 'b', groupId: 'g' }, { body: '' }]);
  expect(r.status).toBe(201);
  expect(r.json).toMatchObject({ queue: 'ids.fifo', accepted: 2, delivered: 2, rejected: 1 });
  const [a, b, bad] = r.json.results;
  expect(bad.error.code).toBe('EmptyBody');
  const got = await receive('ids.fifo', 1);
  const first = got.find((m) => m.Body === 'a');
  expect(first?.MessageId).toBe(a.messageId);
  expect(first?.Attributes?.SequenceNumber).toBe(a.sequenceNumber);
  expect(BigInt(b.sequenceNumber)).toBeGreaterThan(BigInt(a.sequenceNumber));
});

it('GET /messages/:id: delivered, with SQS\'s MessageId; other credentials see nothing; unknown ids are a 404', async () => {
  const r = await post(d.url, '/queues/ids', 'look me up', { contentType: 'text/plain' });
  expect(r.status).toBe(202);
  await until(() => d.daemon.deps.pipeline.backlogMessages === 0, 5000, 'delivery');
  const s = await getMessage(r.json.id);
  expect(s.status).toBe(200);
  expect(s.json).toMatchObject({ id: r.json.id, queue: 'ids', state: 'delivered', attempts: 1, messageId: expect.any(String) });
  const [m] = (await receive('ids', 1)).filter((x) => x.Body === 'look me up');
  expect(m?.MessageId).toBe(s.json.messageId);
  const other = await getMessage(r.json.id, `Basic ${Buffer.from('AKIDOTHER:other').toString('base64')}`);
  expect([other.status, other.json.error.code]).toEqual([404, 'UnknownMessage']);
  expect((await getMessage('nope-1')).status).toBe(404);
  expect((await getMessage(r.json.id, '')).status).toBe(401);
});

it('?wait=1 to a queue deleted after it was resolved: SQS\'s refusal is the answer, and the message is a dead letter', async () => {
  expect((await post(d.url, '/queues/doomed', 'first', { contentType: 'text/plain' })).status).toBe(202);
  await until(() => d.daemon.deps.pipeline.backlogMessages === 0, 5000, 'delivery');
  await sqs.send(new DeleteQueueCommand({ QueueUrl: urls.doomed }));
  const r = await post(d.url, '/queues/doomed?wait=1', 'too late', { contentType: 'text/plain' });
  expect(r.status).toBe(404);
  expect(r.json).toMatchObject({ id: expect.any(String), state: 'dead-lettered', error: { code: 'QueueDoesNotExist' } });
  expect((await getMessage(r.json.id)).json).toMatchObject({ state: 'dead-lettered', error: { code: 'QueueDoesNotExist' } });
});

it('W3C traceparent and tracestate headers arrive as message attributes', async () => {
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const r = await post(d.url, '/queues/traced?wait=1', 'traced', { contentType: 'text/plain', headers: { traceparent, tracestate: 'rojo=00f067aa0ba902b7' } });
  expect(r.status).toBe(201);
  const [m] = await receive('traced', 1);
  expect(m?.MessageAttributes).toEqual({
    traceparent: { DataType: 'String', StringValue: traceparent },
    tracestate: { DataType: 'String', StringValue: 'rojo=00f067aa0ba902b7' },
  });
});
