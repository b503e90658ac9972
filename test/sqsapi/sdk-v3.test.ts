/**
 * The SQS API door with the JavaScript SDK v3 as an application uses it: a plain `new SQSClient()`
 * whose only configuration is AWS_ENDPOINT_URL_SQS (plus region and keys, as any app has), against
 * the daemon in front of fauxqs. The SDK checks MD5OfMessageBody itself; the test checks the rest.
 */
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { createHash } from 'node:crypto';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { sqsMd5OfAttributes } from '../support/sqs-md5.js';

let emulator: Emulator;
let d: TestDaemon;
let app: SQSClient;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  emulator = await startEmulator();
  d = await startTestDaemon(emulator.endpoint, ['--credentials', 'chain'], 'warn', {
    credentialProvider: async () => ({ accessKeyId: 'DAEMONKEY', secretAccessKey: 'daemon-secret' }),
  });
  for (const k of ['AWS_ENDPOINT_URL_SQS', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY']) saved[k] = process.env[k];
  Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: d.url, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'APPKEY', AWS_SECRET_ACCESS_KEY: 'app-secret' });
  app = new SQSClient({});
});

afterAll(async () => {
  app?.destroy();
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await d?.stop();
  await emulator?.close();
});

async function receiveAll(queueUrl: string, count: number, timeoutMs = 5000): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const r = await app.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageAttributeNames: ['All'], MessageSystemAttributeNames: ['All'] }));
    out.push(...(r.Messages ?? []));
  }
  return out;
}

test('CreateQueue, GetQueueUrl and ListQueues answer queue URLs that point at the daemon', async () => {
  const created = await app.send(new CreateQueueCommand({ QueueName: 'sdk-orders' }));
  expect(created.QueueUrl).toBe(`${d.url}/000000000000/sdk-orders`);
  const got = await app.send(new GetQueueUrlCommand({ QueueName: 'sdk-orders' }));
  expect(got.QueueUrl).toBe(created.QueueUrl);
  const listed = await app.send(new ListQueuesCommand({ QueueNamePrefix: 'sdk-' }));
  expect(listed.QueueUrls).toEqual([created.QueueUrl]);
});

test('SendMessage is acked by the daemon with its id and SQS\'s MD5s, and arrives in the queue', async () => {
  const { QueueUrl } = await app.send(new CreateQueueCommand({ QueueName: 'sdk-send' }));
  const out = await app.send(
    new SendMessageCommand({
      QueueUrl,
      MessageBody: 'hello ✓',
      MessageAttributes: { kind: { DataType: 'String', StringValue: 'created' }, n: { DataType: 'Number', StringValue: '42' } },
      MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' } },
    }),
  );
  expect(out.MessageId).toMatch(/-/);
  expect(out.MD5OfMessageBody).toBe(createHash('md5').update('hello ✓').digest('hex'));
  const [m] = await receiveAll(QueueUrl as string, 1);
  expect(m?.Body).toBe('hello ✓');
  // fauxqs computes the attribute MD5 itself: the daemon's must be the same.
  expect(out.MD5OfMessageAttributes).toBe(m?.MD5OfMessageAttributes);
  expect(out.MD5OfMessageAttributes).toBe(sqsMd5OfAttributes({ kind: { DataType: 'String', StringValue: 'created' }, n: { DataType: 'Number', StringValue: '42' } }));
  expect(out.MD5OfMessageSystemAttributes).toBe(sqsMd5OfAttributes({ AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1' } }));
  await app.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m?.ReceiptHandle }));
  const attrs = await app.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  expect(attrs.Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '0' });
});

test('SendMessageBatch: good entries succeed, a bad one fails on its own with SQS\'s code', async () => {
  const { QueueUrl } = await app.send(new CreateQueueCommand({ QueueName: 'sdk-batch' }));
  const out = await app.send(
    new SendMessageBatchCommand({
      QueueUrl,
      Entries: [
        { Id: 'a', MessageBody: 'one' },
        { Id: 'b', MessageBody: 'bad \u0000 char' },
        { Id: 'c', MessageBody: 'three', DelaySeconds: 0 },
      ],
    }),
  );
  expect(out.Successful?.map((s) => s.Id).sort()).toEqual(['a', 'c']);
  expect(out.Failed).toEqual([expect.objectContaining({ Id: 'b', SenderFault: true, Code: 'InvalidMessageContents' })]);
  const got = await receiveAll(QueueUrl as string, 2);
  expect(got.map((m) => m.Body).sort()).toEqual(['one', 'three']);
});

test('a queue that does not exist raises the SDK\'s typed QueueDoesNotExist, for sends and forwarded calls', async () => {
  const missing = `${d.url}/000000000000/no-such-queue`;
  await expect(app.send(new SendMessageCommand({ QueueUrl: missing, MessageBody: 'x' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
  await expect(app.send(new GetQueueUrlCommand({ QueueName: 'no-such-queue' }))).rejects.toBeInstanceOf(QueueDoesNotExist);
  await expect(app.send(new ReceiveMessageCommand({ QueueUrl: missing }))).rejects.toBeInstanceOf(QueueDoesNotExist);
});

test('FIFO queues: group and deduplication ids kept in order; a missing group id is SQS\'s MissingParameter', async () => {
  const { QueueUrl } = await app.send(new CreateQueueCommand({ QueueName: 'sdk-orders.fifo', Attributes: { FifoQueue: 'true' } }));
  for (const n of [1, 2, 3]) {
    const out = await app.send(new SendMessageCommand({ QueueUrl, MessageBody: `order ${n}`, MessageGroupId: 'customer-7', MessageDeduplicationId: `d${n}` }));
    expect(out.MD5OfMessageBody).toBe(createHash('md5').update(`order ${n}`).digest('hex'));
  }
  const err = await app.send(new SendMessageCommand({ QueueUrl, MessageBody: 'no group' })).then(() => undefined, (e: unknown) => e as { name: string; $metadata: { httpStatusCode: number } });
  expect(err?.name).toBe('MissingParameter');
  expect(err?.$metadata.httpStatusCode).toBe(400);
  const got: Message[] = [];
  const deadline = Date.now() + 5000;
  while (got.length < 3 && Date.now() < deadline) {
    const r = await app.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }));
    for (const m of r.Messages ?? []) {
      got.push(m);
      await app.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
  }
  expect(got.map((m) => m.Body)).toEqual(['order 1', 'order 2', 'order 3']);
  expect(got.map((m) => m.Attributes?.MessageDeduplicationId)).toEqual(['d1', 'd2', 'd3']);
});
