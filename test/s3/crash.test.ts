/**
 * kill -9 between the upload of a large message's payload and the send of its pointer loses
 * nothing (issue 16): the built CLI runs as a child process against the project's fake SQS (whose
 * latency holds the send back) and fauxqs's S3 in this process. Once the object is in S3 and the
 * pointer not yet in SQS, the daemon is SIGKILLed; restarted on the same spool it uploads the
 * payload again under the same key (the key is the message id) and sends the pointer.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { freshBuild, NODE } from '../ops/build.js';
import { post, until } from '../support/daemon.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { type ChildDaemon, spawnDaemon, tempDir } from '../support/spool-harness.js';

const BUCKET = 'crash-payloads';
let build: string;
let fake: FakeSqs;
let emulator: Emulator;
let s3: S3Client;
const dirs: string[] = [];
const children: ChildDaemon[] = [];

beforeAll(async () => {
  build = freshBuild();
  fake = await startFakeSqs({ queues: ['crash-large'] });
  emulator = await startEmulator();
  s3 = new S3Client({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' }, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
}, 180_000);
afterAll(async () => {
  for (const c of children) await c.kill(); // only the PIDs this file started
  await fake?.close();
  s3?.destroy();
  await emulator?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function objectExists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

test('SIGKILL after the upload and before SQS took the pointer: after a restart the pointer arrives and the object holds the payload', async () => {
  const dir = tempDir('crash-large');
  dirs.push(dir);
  const args = ['--endpoint', fake.endpoint, '--spool-dir', dir, '--s3-bucket', BUCKET, '--s3-endpoint', emulator.endpoint, '--retry-base-ms', '20', '--retry-max-ms', '200', '--request-timeout-ms', '60000', '--log-level', 'info'];
  const start = () => spawnDaemon(NODE, build, args, { HOME: dir }).then((c) => (children.push(c), c));
  let daemon = await start();
  // Resolve the queue first, so only the send waits on the fake.
  expect((await post(daemon.url, '/queues/crash-large', 'warm-up', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.messageCount('crash-large') === 1, 10_000);
  fake.latencyMs = 60_000; // SQS takes its time: the pointer's SendMessageBatch is in flight when the kill lands

  const payload = Buffer.alloc(3 * 1_048_576 + 11, 'p');
  payload.write('the start', 0);
  const r = await post(daemon.url, '/queues/crash-large', payload, { contentType: 'text/plain' });
  expect(r.status).toBe(202);
  const key = r.json.s3.key as string;
  const deadline = Date.now() + 15_000;
  while (!(await objectExists(key))) {
    if (Date.now() > deadline) throw new Error('the payload never reached S3');
    await new Promise((res) => setTimeout(res, 20));
  }
  expect(fake.messageCount('crash-large')).toBe(1); // the pointer is not in SQS yet
  daemon.child.kill('SIGKILL');
  await daemon.exited;
  expect(existsSync(join(dir, 'large', r.json.id))).toBe(true); // the spool kept the payload

  fake.latencyMs = 0;
  daemon = await start();
  await fake.waitFor(() => fake.messageCount('crash-large') >= 2, 20_000);
  const pointers = fake.messages('crash-large').filter((m) => m.body !== 'warm-up');
  expect(pointers.length).toBeGreaterThanOrEqual(1);
  for (const m of pointers) {
    expect(m.body).toBe(`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"${BUCKET}","s3Key":"${key}"}]`);
    expect(m.attributes?.ExtendedPayloadSize).toEqual({ DataType: 'Number', StringValue: String(payload.length) });
  }
  const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  const stored = Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  expect(createHash('sha256').update(stored).digest('hex')).toBe(createHash('sha256').update(payload).digest('hex'));
  await until(() => !existsSync(join(dir, 'large', r.json.id)), 10_000, 'the payload file to go once SQS took the pointer');
  expect(readdirSync(join(dir, 'large'))).toEqual([]);
  await daemon.kill();
}, 120_000);
