/**
 * Worker stop with an S3 read of a payload in flight: an S3 that never answers the GET (or stops
 * half-way through the object) must not hold the daemon's stop past the grace period (the S3
 * client's own timeout is 30 s), and the message is handed back to SQS at once (visible again),
 * never counted as a failed delivery. SQS is fauxqs; S3 is a stub server that hangs.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AKID, SECRET, startTestDaemon, until } from '../support/daemon.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let emulator: Emulator;
let sqs: SQSClient;
let app: TestApp;
let stub: Server;
let stubUrl = '';
const sockets = new Set<Socket>();
/** GETs the stub received, by key. */
const gets: string[] = [];
let mode: 'hang' | 'half' = 'hang';

beforeAll(async () => {
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
  app = await startTestApp();
  stub = createServer((req: IncomingMessage, res: ServerResponse) => {
    gets.push(req.url ?? '');
    if (mode === 'half') {
      // Headers and the first KiB of a 1 MiB object, then nothing.
      res.writeHead(200, { 'content-length': String(1_048_576), 'content-type': 'text/plain' });
      res.write('h'.repeat(1024));
    }
    // 'hang': never answers.
  });
  stub.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
  stubUrl = `http://127.0.0.1:${(stub.address() as { port: number }).port}`;
}, 30_000);
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => stub.close(() => resolve()));
  await app?.close();
  sqs?.destroy();
  await emulator?.close();
});

async function counts(url: string): Promise<{ visible: number; invisible: number }> {
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return { visible: Number(a.Attributes?.ApproximateNumberOfMessages), invisible: Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible) };
}

test.each([
  ['never answers the GET', 'hang' as const],
  ['stops half-way through the object', 'half' as const],
])('an S3 that %s: stop ends within the grace period and the message is handed back', async (_what, m) => {
  mode = m;
  const name = `stop-${m}`;
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const d = await startTestDaemon(emulator.endpoint, ['--worker', `${name}=${app.url}`, '--worker-wait-time', '1', '--worker-visibility-timeout', '300', '--s3-endpoint', stubUrl, '--shutdown-grace-ms', '1000'], 'warn', {
    credentialProvider: async () => ({ accessKeyId: AKID, secretAccessKey: SECRET }),
  });
  const key = `k/${m}`;
  await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: JSON.stringify(['software.amazon.payloadoffloading.PayloadS3Pointer', { s3BucketName: 'stuck-bucket', s3Key: key }]), MessageAttributes: { ExtendedPayloadSize: { DataType: 'Number', StringValue: '1048576' } } }));
  await until(() => gets.some((g) => g.endsWith(`/stuck-bucket/${key}`)), 10_000, 'the worker\'s GET at the stub S3');
  const before = app.requests.length;
  const started = Date.now();
  await d.stop();
  const took = Date.now() - started;
  // Grace 1 s, then the hand-back; far below the S3 client's 30 s timeout, which bounded it before.
  expect(took).toBeLessThan(6_000);
  expect(app.requests.length).toBe(before); // nothing complete reached the app
  expect(await counts(url)).toEqual({ visible: 1, invisible: 0 }); // handed back, not left invisible for 300 s
}, 40_000);
