/**
 * Large messages through S3 (issue 16): a payload S3 refuses for good (no such bucket) makes a
 * dead letter that keeps its payload file; the UI shows where the payload belongs and replay
 * uploads it, then sends the pointer. The message view fetches a payload through the daemon.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { AUTH, post, postJson, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { awsClients } from '../support/aws-clients.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';

const BUCKET = 'created-later';
let emulator: Emulator;
let sqs: SQSClient;
let s3: S3Client;
let d: TestDaemon;
let url: string;

beforeAll(async () => {
  emulator = await startEmulator();
  // The bucket is created later: the first sends find none.
  ({ sqs, s3 } = await awsClients(emulator.endpoint));
  url = (await sqs.send(new CreateQueueCommand({ QueueName: 'dl-large' }))).QueueUrl as string;
  d = await startTestDaemon(emulator.endpoint, ['--s3-bucket', BUCKET, '--s3-endpoint', emulator.endpoint], 'error', { spool: true });
}, 30_000);
afterAll(async () => {
  await d?.stop();
  sqs?.destroy();
  s3?.destroy();
  await emulator?.close();
});

async function get(path: string, accept = 'application/json'): Promise<{ status: number; text: string; type: string }> {
  const res = await request(`${d.url}${path}`, { headers: { authorization: AUTH, accept } });
  return { status: res.statusCode, text: await res.body.text(), type: String(res.headers['content-type']) };
}

test('no such bucket: a dead letter that keeps its payload; shown as "in S3"; replayed once the bucket exists; the payload can be fetched through the daemon', async () => {
  const payload = 'L'.repeat(2 * 1_048_576 + 3);
  const r = await post(d.url, '/queues/dl-large', payload, { contentType: 'text/plain' });
  expect(r.status).toBe(202);
  const id = r.json.id as string;
  const deadline = Date.now() + 10_000;
  let letters: { items: Array<{ id: string; code: string }> } = { items: [] };
  while (Date.now() < deadline && letters.items.length === 0) {
    letters = JSON.parse((await get('/dead-letters')).text);
    await new Promise((res) => setTimeout(res, 50));
  }
  expect(letters.items.map((l) => [l.id, l.code])).toEqual([[id, 'NoSuchBucket']]);
  const file = join(d.spoolDir as string, 'spool', 'large', id);
  expect(existsSync(file)).toBe(true);

  const page = await get(`/dead-letters/${id}`, 'text/html');
  expect(page.status).toBe(200);
  expect(page.text).toContain(`In S3: <span class="mono">${BUCKET}/${id}</span>, ${payload.length.toLocaleString('en-US')} bytes (2.00 MiB)`);
  expect(page.text).toContain(`/payload?bucket=${BUCKET}&amp;key=${id}`);

  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  const replay = await postJson(d.url, '/replay-dead-letters', { ids: [id] });
  expect(replay.status).toBe(200);
  const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 2, MessageAttributeNames: ['All'] }));
  expect(got.Messages?.[0]?.Body).toBe(`["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"${BUCKET}","s3Key":"${id}"}]`);
  await d.daemon.deps.s3?.policy?.payloads.removed(); // unlinked in libuv's pool
  expect(existsSync(file)).toBe(false); // the letter and its payload file went together

  const fetched = await get(`/payload?bucket=${BUCKET}&key=${encodeURIComponent(id)}`);
  expect(fetched.status).toBe(200);
  expect(fetched.type).toBe('text/plain; charset=utf-8');
  expect(fetched.text === payload).toBe(true);
  const missing = await get(`/payload?bucket=${BUCKET}&key=nope`);
  expect(missing.status).toBe(404);
  expect(JSON.parse(missing.text).error.code).toBe('NoSuchPayload');
}, 40_000);
