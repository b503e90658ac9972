/**
 * Purge of dead letters of large messages, against fauxqs's SQS and S3: the object of a message
 * the daemon offloaded goes with its letter (UI/JSON route and the CLI); the object of a pointer
 * an app sent ready-made stays (it is the app's); when S3 cannot delete the object the letter is
 * kept and the answer says why. Dead letters are made by deleting the queue after it was resolved,
 * so SQS refuses the pointer after its payload was uploaded.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { deadLettersCommand } from '../../src/commands/dead-letters.js';
import type { StoredDeadLetter } from '../../src/delivery/store.js';
import { S3Client as DaemonS3 } from '../../src/s3/client.js';
import { purgeDeadLetters } from '../../src/spool/purge.js';
import { AKID, AUTH, post, postJson, SECRET, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { awsClients } from '../support/aws-clients.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';

const BUCKET = 'purge-payloads';
let emulator: Emulator;
let sqs: SQSClient;
let s3: S3Client;
let d: TestDaemon;

beforeAll(async () => {
  emulator = await startEmulator();
  ({ sqs, s3 } = await awsClients(emulator.endpoint, BUCKET));
  d = await startTestDaemon(emulator.endpoint, ['--s3-bucket', BUCKET, '--s3-endpoint', emulator.endpoint], 'error', { spool: true });
}, 30_000);
afterAll(async () => {
  await d?.stop();
  sqs?.destroy();
  s3?.destroy();
  await emulator?.close();
});

async function exists(key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    return true;
  } catch {
    return false;
  }
}

let queues = 0;
/** A queue the daemon has resolved (and remembers) and that is deleted since: the next send to it becomes a dead letter. */
async function goneQueue(): Promise<string> {
  const name = `purge-gone-${++queues}`;
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  expect((await post(d.url, `/queues/${name}?wait=1`, 'resolve me', { contentType: 'text/plain' })).status).toBe(201);
  await sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  return name;
}

async function deadLetter(id: string): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    const r = await request(`${d.url}/dead-letters/${id}`, { headers: { authorization: AUTH, accept: 'application/json' } });
    if (r.statusCode === 200) return (await r.body.json()) as Record<string, unknown>;
    await r.body.dump();
    await new Promise((res) => setTimeout(res, 100));
  }
  throw new Error(`no dead letter ${id}`);
}

/** A large message the daemon offloads, uploaded, then refused by SQS (queue gone): a letter with `offload`. */
async function offloadedLetter(): Promise<{ id: string; key: string }> {
  const r = await post(d.url, `/queues/${await goneQueue()}`, 'P'.repeat(1_100_000), { contentType: 'text/plain' });
  expect(r.status).toBe(202);
  const id = r.json.id as string;
  const letter = await deadLetter(id);
  expect(letter.offload).toEqual({ bucket: BUCKET, key: id, bytes: 1_100_000 });
  expect(await exists(id)).toBe(true);
  return { id, key: id };
}

test('purge of a letter the daemon offloaded deletes its S3 object and payload file; a ready-made pointer\'s object stays', async () => {
  const mine = await offloadedLetter();
  // An app's own Extended Client pointer (it uploaded the object itself): sent as it is, never offloaded again.
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'apps/own', Body: 'the app\'s payload' }));
  const theirs = await postJson(d.url, `/queues/${await goneQueue()}`, { body: JSON.stringify(['software.amazon.payloadoffloading.PayloadS3Pointer', { s3BucketName: BUCKET, s3Key: 'apps/own' }]), attributes: { ExtendedPayloadSize: 17 } });
  expect(theirs.status).toBe(202);
  const theirsLetter = await deadLetter(theirs.json.id as string);
  expect(theirsLetter.offload).toBeUndefined();

  const purged = await postJson(d.url, '/purge-dead-letters', { ids: [mine.id, theirs.json.id] });
  expect(purged.status).toBe(200);
  expect(purged.json).toEqual({ purged: 2, deletedObjects: 1, failed: [] });
  expect(await exists(mine.key)).toBe(false);
  await d.daemon.deps.s3?.policy?.payloads.removed(); // unlinked in libuv's pool
  expect(existsSync(join(d.spoolDir as string, 'spool', 'large', mine.id))).toBe(false);
  expect(await exists('apps/own')).toBe(true);
}, 40_000);

test('the CLI purge deletes the object too; --keep-objects leaves it', async () => {
  const a = await offloadedLetter();
  const b = await offloadedLetter();
  const out: string[] = [];
  const io = { out: (s: string) => out.push(s), err: (s: string) => out.push(s) };
  const spool = join(d.spoolDir as string, 'spool');
  const env = { AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: SECRET };
  expect(await deadLettersCommand(['purge', a.id, '--yes', '--spool-dir', spool, '--s3-endpoint', emulator.endpoint], env, io)).toBe(0);
  expect(out.join('')).toContain(`${a.id}: purged with its payload s3://${BUCKET}/${a.key}`);
  expect(await exists(a.key)).toBe(false);
  expect(await deadLettersCommand(['purge', b.id, '--yes', '--keep-objects', '--spool-dir', spool], env, io)).toBe(0);
  expect(await exists(b.key)).toBe(true);
  // Without a way to reach S3 it refuses rather than leave the object behind unsaid.
  const c = await offloadedLetter();
  expect(await deadLettersCommand(['purge', c.id, '--yes', '--spool-dir', spool], { ...env, AWS_REGION: '' }, io)).toBe(2);
  expect(out.join('')).toContain('purge needs --region (or AWS_REGION) or --s3-endpoint');
}, 60_000);

test('an S3 that cannot delete the object: the letter is kept, and the result says why', async () => {
  const port = await new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const p = (srv.address() as { port: number }).port;
      srv.close(() => resolve(p));
    });
  });
  const letter = { id: 'm-1', queueName: 'q', queueUrl: 'http://x/q', accessKeyId: null, body: '[]', code: 'QueueDoesNotExist', reason: 'gone', attempts: 1, acceptedAt: 1, deadAt: 2, credentials: null, offload: { bucket: BUCKET, key: 'm-1', bytes: 5 } } satisfies StoredDeadLetter;
  const removed: string[] = [];
  const store = { load: async (id: string) => (id === letter.id ? letter : undefined), remove: async (id: string) => (removed.push(id), true) };
  const client = new DaemonS3({ region: 'us-east-1', endpoint: `http://127.0.0.1:${port}` });
  try {
    const results = await purgeDeadLetters(store, ['m-1'], { s3: { client, credentials: () => ({ accessKeyId: AKID, secretAccessKey: SECRET }) } });
    expect(results).toEqual([{ id: 'm-1', ok: false, code: 'NetworkError', message: expect.stringContaining(`kept: its payload s3://${BUCKET}/m-1 could not be deleted`) }]);
    expect(removed).toEqual([]);
  } finally {
    await client.close();
  }
});
