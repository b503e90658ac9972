/**
 * Large messages through S3 (issue 16), send side, against fauxqs's SQS and S3 (path-style) in
 * this process: what arrives in SQS is a pointer in exactly the Amazon SQS Extended Client's
 * format, and the object holds the payload byte for byte. Objects and messages are read with the
 * AWS SDKs, independently of the daemon's own S3 client.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SendMessageCommand, SQSClient, type Message } from '@aws-sdk/client-sqs';
import { awsClients } from '../support/aws-clients.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, post, postJson, SECRET, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';

const MiB = 1_048_576;
const BUCKET = 'large-payloads';
let emulator: Emulator;
let sqs: SQSClient;
let s3: S3Client;
let d: TestDaemon;
const urls: Record<string, string> = {};

beforeAll(async () => {
  emulator = await startEmulator();
  ({ sqs, s3 } = await awsClients(emulator.endpoint, BUCKET));
  for (const name of ['big', 'big2', 'small-limit']) {
    const out = await sqs.send(new CreateQueueCommand({ QueueName: name, ...(name === 'small-limit' ? { Attributes: { MaximumMessageSize: '1024' } } : {}) }));
    urls[name] = out.QueueUrl as string;
  }
  d = await startTestDaemon(emulator.endpoint, ['--s3-bucket', BUCKET, '--s3-endpoint', emulator.endpoint, '--s3-prefix', 'msgs/', '--max-large-message-bytes', String(48 * MiB)], 'warn', { spool: true });
}, 30_000);

afterAll(async () => {
  await d?.stop();
  sqs?.destroy();
  s3?.destroy();
  await emulator?.close();
});

async function receiveOne(queue: string, timeoutMs = 10_000): Promise<Message> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: urls[queue], MaxNumberOfMessages: 1, VisibilityTimeout: 600, MessageAttributeNames: ['All'] }));
    const m = r.Messages?.[0];
    if (m) {
      await sqs.send(new DeleteMessageCommand({ QueueUrl: urls[queue], ReceiptHandle: m.ReceiptHandle as string }));
      return m;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing arrived in ${queue} within ${timeoutMs} ms`);
}

async function objectBytes(key: string): Promise<Buffer> {
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** A payload of `bytes` UTF-8 bytes with multi-byte characters, distinct per seed. */
function payload(bytes: number, seed: string): Buffer {
  const unit = Buffer.from(`${seed} grüße – 東京 🚀 `, 'utf8');
  const buf = Buffer.alloc(bytes, 'x');
  for (let off = 0; off + unit.length <= bytes; off += unit.length) unit.copy(buf, off);
  return buf;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function expectPointer(m: Message, key: string, bytes: number): void {
  expect(m.Body).toBe(`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"${BUCKET}","s3Key":"${key}"}]`);
  expect(m.MessageAttributes?.ExtendedPayloadSize).toEqual({ DataType: 'Number', StringValue: String(bytes) });
}

test.each([
  ['3 MiB', 3 * MiB],
  ['40 MiB (multipart upload)', 40 * MiB],
])('a %s raw body is answered 202, uploaded, and arrives as an Extended Client pointer; the object holds the payload', async (_label, size) => {
  const body = payload(size, `raw-${size}`);
  const r = await post(d.url, '/queues/big', body, { contentType: 'text/plain; charset=utf-8' });
  expect(r.status).toBe(202);
  const id = r.json.id as string;
  expect(r.json.s3).toEqual({ bucket: BUCKET, key: `msgs/${id}`, bytes: size });
  const m = await receiveOne('big', 60_000);
  expectPointer(m, `msgs/${id}`, size);
  expect(Object.keys(m.MessageAttributes ?? {})).toEqual(['ExtendedPayloadSize']);
  const stored = await objectBytes(`msgs/${id}`);
  expect(stored.length).toBe(size);
  expect(sha(stored)).toBe(sha(body));
  // The spool's payload file goes once SQS took the pointer.
  await until(() => !existsSync(join(d.spoolDir as string, 'spool', 'large', id)), 5000, 'the payload file to be deleted');
}, 120_000);

test('JSON and form sends over the queue\'s limit go through S3 with their attributes; the pointer keeps one slot for ExtendedPayloadSize', async () => {
  const text = payload(2 * MiB, 'json').toString('utf8');
  const r = await postJson(d.url, '/queues/big2', { body: text, attributes: { kind: 'report', n: 7 } });
  expect(r.status).toBe(202);
  const m = await receiveOne('big2');
  expectPointer(m, `msgs/${r.json.id}`, Buffer.byteLength(text));
  expect(m.MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'report' });
  expect(m.MessageAttributes?.n).toEqual({ DataType: 'Number', StringValue: '7' });
  expect((await objectBytes(`msgs/${r.json.id}`)).toString('utf8')).toBe(text);

  const form = await post(d.url, '/queues/big2', `message_body=${encodeURIComponent(text)}`, { contentType: 'application/x-www-form-urlencoded' });
  expect(form.status).toBe(202);
  const m2 = await receiveOne('big2');
  expectPointer(m2, `msgs/${form.json.id}`, Buffer.byteLength(text));
});

test('a batch mixes inline messages and pointers; a queue\'s lower MaximumMessageSize is the threshold', async () => {
  const big = 'y'.repeat(4000);
  const r = await postJson(d.url, '/queues/small-limit', [{ body: 'tiny' }, { body: big }]);
  expect(r.status).toBe(202);
  expect(r.json.accepted).toBe(2);
  const got = [await receiveOne('small-limit'), await receiveOne('small-limit')];
  const inline = got.find((m) => m.Body === 'tiny');
  const pointer = got.find((m) => m.Body !== 'tiny') as Message;
  expect(inline?.MessageAttributes).toBeUndefined();
  expectPointer(pointer, `msgs/${r.json.results[1].id}`, 4000);
  expect((await objectBytes(`msgs/${r.json.results[1].id}`)).toString()).toBe(big);
});

test('bad large input gets a clear error at once and leaves no payload file', async () => {
  const dir = join(d.spoolDir as string, 'spool', 'large');
  const before = readdirSync(dir).length;
  const tooBig = await post(d.url, '/queues/big', Buffer.alloc(49 * MiB, 'z'), { contentType: 'text/plain' });
  expect(tooBig.status).toBe(413);
  expect(tooBig.json.error.code).toBe('PayloadTooLarge');

  const notUtf8 = Buffer.alloc(2 * MiB, 'a');
  notUtf8[MiB + 17] = 0xff;
  const bad = await post(d.url, '/queues/big', notUtf8, { contentType: 'text/plain' });
  expect(bad.status).toBe(400);
  expect(bad.json.error.code).toBe('InvalidEncoding');

  const nul = Buffer.alloc(2 * MiB, 'a');
  nul[MiB + 3] = 0;
  const badChar = await post(d.url, '/queues/big', nul, { contentType: 'text/plain' });
  expect(badChar.status).toBe(400);
  expect(badChar.json.error.code).toBe('InvalidCharacter');

  const attrs: Record<string, string> = {};
  for (let i = 0; i < 10; i++) attrs[`a${i}`] = 'v';
  const ten = await postJson(d.url, '/queues/big', { body: 'q'.repeat(2 * MiB), attributes: attrs });
  expect(ten.status).toBe(400);
  expect(ten.json.error.code).toBe('TooManyAttributesForS3');

  const reserved = await postJson(d.url, '/queues/big', { body: 'q'.repeat(2 * MiB), attributes: { ExtendedPayloadSize: 5 } });
  expect(reserved.status).toBe(400);
  expect(reserved.json.error.code).toBe('ReservedAttributeName');
  expect(readdirSync(dir).length).toBe(before);
});

test('a message that already is a pointer (an app using an Extended Client library) is sent as it is', async () => {
  const body = `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"elsewhere","s3Key":"k1"}]`;
  const r = await postJson(d.url, '/queues/big', { body, attributes: { SQSLargePayloadSize: { DataType: 'Number', StringValue: '123' } } });
  expect(r.status).toBe(202);
  expect(r.json.s3).toBeUndefined();
  const m = await receiveOne('big');
  expect(m.Body).toBe(body);
  expect(m.MessageAttributes?.SQSLargePayloadSize).toEqual({ DataType: 'Number', StringValue: '123' });
});

test('the SQS API door: an SDK\'s SendMessage and SendMessageBatch past SQS\'s limit are acknowledged with the MD5s of what it sent, and arrive as pointers', async () => {
  const api = await startTestDaemon(emulator.endpoint, ['--credentials', 'chain', '--s3-bucket', BUCKET, '--s3-endpoint', emulator.endpoint], 'warn', { spool: true, credentialProvider: async () => ({ accessKeyId: AKID, secretAccessKey: SECRET }) });
  const app = new SQSClient({ endpoint: api.url, region: 'us-east-1', credentials: { accessKeyId: 'app', secretAccessKey: 'app' } });
  try {
    const queueUrl = `${api.url}/000000000000/big`;
    const text = payload(3 * MiB, 'sdk').toString('utf8');
    // The SDK checks MD5OfMessageBody and MD5OfMessageAttributes against what it sent: it would throw otherwise.
    const one = await app.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: text, MessageAttributes: { kind: { DataType: 'String', StringValue: 'sdk' } } }));
    expect(one.MD5OfMessageBody).toBe(createHash('md5').update(text).digest('hex'));
    const m = await receiveOne('big');
    expectPointer(m, one.MessageId as string, Buffer.byteLength(text));
    expect(m.MessageAttributes?.kind).toEqual({ DataType: 'String', StringValue: 'sdk' });
    expect((await objectBytes(one.MessageId as string)).toString('utf8')).toBe(text);

    const batch = await app.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: 'a', MessageBody: 'inline' }, { Id: 'b', MessageBody: text }] }));
    expect(batch.Failed ?? []).toEqual([]);
    expect(batch.Successful?.length).toBe(2);
    const got = [await receiveOne('big'), await receiveOne('big')];
    expect(got.some((g) => g.Body === 'inline')).toBe(true);
    const id = batch.Successful?.find((s) => s.Id === 'b')?.MessageId as string;
    expectPointer(got.find((g) => g.Body !== 'inline') as Message, id, Buffer.byteLength(text));
  } finally {
    app.destroy();
    await api.stop();
  }
}, 60_000);
