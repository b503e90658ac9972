/**
 * Large messages through S3 (issue 16), receive side, against fauxqs's SQS and S3: messages in
 * the Extended Client format, written here the way the Java library writes them (PutObject, then
 * SendMessage with the pointer body and, by default, the legacy SQSLargePayloadSize attribute;
 * or ExtendedPayloadSize), are resolved by the worker side: the app gets the payload, not the
 * pointer, and the object is deleted after the app's 2xx and the message's delete (kept with
 * --s3-keep-received on). A pointer whose object is gone is a failed delivery, never an empty POST.
 */
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AKID, post, SECRET, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';
import { awsClients } from '../support/aws-clients.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const MiB = 1_048_576;
const BUCKET = 'java-payloads';
let emulator: Emulator;
let sqs: SQSClient;
let s3: S3Client;
const credentialProvider = async () => ({ accessKeyId: AKID, secretAccessKey: SECRET });
const daemons: TestDaemon[] = [];
const apps: TestApp[] = [];

beforeAll(async () => {
  emulator = await startEmulator();
  ({ sqs, s3 } = await awsClients(emulator.endpoint, BUCKET));
});
afterAll(async () => {
  for (const d of daemons) await d.stop();
  for (const a of apps) await a.close();
  sqs?.destroy();
  s3?.destroy();
  await emulator?.close();
});

async function queue(name: string): Promise<string> {
  return (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
}

/** As AmazonSQSExtendedClient.sendMessage does it (2.x defaults: legacy attribute name). */
async function sendLikeJava(url: string, key: string, payload: string, options: { attribute?: string; pointerClass?: string; extra?: Record<string, string> } = {}): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: payload }));
  const attrs: Record<string, { DataType: string; StringValue: string }> = { [options.attribute ?? 'SQSLargePayloadSize']: { DataType: 'Number', StringValue: String(Buffer.byteLength(payload)) } };
  for (const [k, v] of Object.entries(options.extra ?? {})) attrs[k] = { DataType: 'String', StringValue: v };
  await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify([options.pointerClass ?? 'software.amazon.payloadoffloading.PayloadS3Pointer', { s3BucketName: BUCKET, s3Key: key }]), MessageAttributes: attrs }));
}

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

async function remaining(url: string): Promise<number> {
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
}

async function worker(name: string, flags: string[] = []): Promise<{ app: TestApp; url: string }> {
  const url = await queue(name);
  const app = await startTestApp();
  apps.push(app);
  daemons.push(await startTestDaemon(emulator.endpoint, ['--worker', `${name}=${app.url}`, '--worker-wait-time', '1', '--worker-error-visibility-timeout', '0', '--s3-endpoint', emulator.endpoint, ...flags], 'warn', { credentialProvider }));
  return { app, url };
}

test('pointers written as the Java library writes them (legacy attribute, current and 1.x class names) reach the app as their payloads; the objects are deleted after', async () => {
  const { app, url } = await worker('java-written');
  const big = 'ä'.repeat(MiB + 5); // 2 MiB of UTF-8, over SQS's limit
  await sendLikeJava(url, 'k/legacy-attr', big, { extra: { kind: 'report' } });
  await sendLikeJava(url, 'k/current-attr', 'small payload', { attribute: 'ExtendedPayloadSize' });
  await sendLikeJava(url, 'k/v1-class', 'from a 1.x client', { pointerClass: 'com.amazon.sqs.javamessaging.MessageS3Pointer' });
  await until(() => app.requests.length >= 3, 15_000, 'three deliveries');
  const bodies = app.requests.map((r) => r.body).sort();
  expect(bodies).toEqual(['from a 1.x client', 'small payload', big].sort());
  const bigReq = app.requests.find((r) => r.body === big);
  expect(bigReq?.headers['content-length']).toBe(String(Buffer.byteLength(big)));
  expect(bigReq?.headers['x-aws-sqsd-attr-kind']).toBe('report');
  // The size attribute is the pointer's, not the sender's: the app does not see it.
  for (const r of app.requests) {
    expect(r.headers['x-aws-sqsd-attr-sqslargepayloadsize']).toBeUndefined();
    expect(r.headers['x-aws-sqsd-attr-extendedpayloadsize']).toBeUndefined();
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && ((await exists('k/legacy-attr')) || (await exists('k/current-attr')) || (await exists('k/v1-class')))) await new Promise((r) => setTimeout(r, 100));
  expect(await exists('k/legacy-attr')).toBe(false);
  expect(await exists('k/current-attr')).toBe(false);
  expect(await exists('k/v1-class')).toBe(false);
  expect(await remaining(url)).toBe(0);
}, 30_000);

test('--s3-keep-received on leaves the object in S3; a pointer to a missing object is never POSTed and stays in the queue', async () => {
  const { app, url } = await worker('keep-objects', ['--s3-keep-received', 'on', '--worker-max-retries', '2']);
  await sendLikeJava(url, 'k/kept', 'keep me', { attribute: 'ExtendedPayloadSize' });
  await until(() => app.requests.length >= 1, 10_000, 'the delivery');
  expect(app.requests[0]?.body).toBe('keep me');
  await new Promise((r) => setTimeout(r, 500));
  expect(await remaining(url)).toBe(0);
  expect(await exists('k/kept')).toBe(true);

  await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(['software.amazon.payloadoffloading.PayloadS3Pointer', { s3BucketName: BUCKET, s3Key: 'k/never-uploaded' }]), MessageAttributes: { ExtendedPayloadSize: { DataType: 'Number', StringValue: '10' } } }));
  await new Promise((r) => setTimeout(r, 2500));
  expect(app.requests.length).toBe(1); // never POSTed
  expect(await remaining(url)).toBe(1); // left for its redrive policy, not deleted
}, 30_000);

test('end to end: a 5 MiB message sent through the daemon comes back out of its worker side as the payload', async () => {
  const { app } = await worker('round-trip', ['--s3-bucket', BUCKET]);
  const d = daemons.at(-1) as TestDaemon;
  const payload = `${'0123456789abcdef'.repeat(5 * 65_536)}`;
  const r = await post(d.url, '/queues/round-trip', payload, { contentType: 'text/plain' });
  expect(r.status).toBe(202);
  await until(() => app.requests.length >= 1, 20_000, 'the delivery');
  expect(app.requests[0]?.body.length).toBe(payload.length);
  expect(app.requests[0]?.body === payload).toBe(true);
  const key = r.json.s3.key as string;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await exists(key))) await new Promise((res) => setTimeout(res, 100));
  expect(await exists(key)).toBe(false);
}, 40_000);
