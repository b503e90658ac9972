/**
 * Large messages' S3 traffic in /metrics and /status, against fauxqs's SQS and S3: one message
 * over the queue's limit sent and handled by the same daemon's worker moves the upload, download,
 * downloaded-bytes and delete counters; a missing object is a download failure with S3's code; an
 * S3 that cannot be reached leaves the payload in the upload backlog (/status and the gauges) and
 * counts each failed try. No bucket, key or secret appears in the metrics.
 */
import { createServer } from 'node:net';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { AKID, AUTH, post, SECRET, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

const BUCKET = 'metrics-payloads';
let emulator: Emulator;
let app: TestApp;
const daemons: TestDaemon[] = [];
const credentialProvider = async () => ({ accessKeyId: AKID, secretAccessKey: SECRET });

beforeAll(async () => {
  emulator = await startEmulator();
  const credentials = { accessKeyId: AKID, secretAccessKey: SECRET };
  const s3 = new S3Client({ endpoint: emulator.endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3.destroy();
  const sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials });
  for (const name of ['m-work', 'm-stuck']) await sqs.send(new CreateQueueCommand({ QueueName: name }));
  sqs.destroy();
  app = await startTestApp();
}, 30_000);
afterAll(async () => {
  for (const d of daemons) await d.stop();
  await app?.close();
  await emulator?.close();
});

async function metrics(d: TestDaemon): Promise<string> {
  const r = await request(`${d.url}/metrics`);
  return r.body.text();
}

/** The value of one sample line (`name` or `name{labels}`), or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function status(d: TestDaemon): Promise<{ s3?: Record<string, unknown> }> {
  const r = await request(`${d.url}/status`, { headers: { authorization: AUTH, accept: 'application/json' } });
  return (await r.body.json()) as { s3?: Record<string, unknown> };
}

test('a message through S3 and back: uploads, downloads, bytes and deletes counted; a missing object is a download failure by code', async () => {
  const d = await startTestDaemon(emulator.endpoint, ['--credentials', 'chain', '--s3-bucket', BUCKET, '--s3-endpoint', emulator.endpoint, '--worker', `m-work=${app.url}`, '--worker-wait-time', '1'], 'warn', { credentialProvider });
  daemons.push(d);
  const before = await metrics(d);
  expect(sample(before, 'sqs_accelerator_s3_uploads_total')).toBe(0);
  expect(sample(before, 'sqs_accelerator_s3_uploads_waiting')).toBe(0);
  const payload = 'p'.repeat(1_200_000);
  const sent = await post(d.url, '/queues/m-work?wait=1', payload, { headers: { 'content-type': 'text/plain' } });
  expect(sent.status).toBe(201);
  await until(() => app.requests.some((r) => r.body === payload), 15_000, 'the payload at the app');
  let text = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && sample((text = await metrics(d)), 'sqs_accelerator_s3_deletes_total') !== 1) await new Promise((r) => setTimeout(r, 100));
  expect({
    uploads: sample(text, 'sqs_accelerator_s3_uploads_total'),
    uploadedBytes: sample(text, 'sqs_accelerator_s3_uploaded_bytes_total'),
    downloads: sample(text, 'sqs_accelerator_s3_downloads_total'),
    downloadedBytes: sample(text, 'sqs_accelerator_s3_downloaded_bytes_total'),
    deletes: sample(text, 'sqs_accelerator_s3_deletes_total'),
    waiting: sample(text, 'sqs_accelerator_s3_uploads_waiting'),
    inFlight: sample(text, 'sqs_accelerator_s3_uploads_in_flight'),
    backlogBytes: sample(text, 'sqs_accelerator_s3_upload_backlog_bytes'),
  }).toEqual({ uploads: 1, uploadedBytes: 1_200_000, downloads: 1, downloadedBytes: 1_200_000, deletes: 1, waiting: 0, inFlight: 0, backlogBytes: 0 });

  const missing = await request(`${d.url}/payload?bucket=${BUCKET}&key=no-such-key`, { headers: { authorization: AUTH } });
  expect(missing.statusCode).toBe(404);
  await missing.body.dump();
  text = await metrics(d);
  expect(sample(text, 'sqs_accelerator_s3_failures_total{op="download",code="NoSuchKey"}')).toBe(1);
  expect(text).not.toContain(BUCKET);
  expect(text).not.toContain(SECRET);
  expect((await status(d)).s3).toEqual({ bucket: BUCKET, uploadBacklog: { waiting: 0, uploading: 0, bytes: 0 }, uploaded: 1, uploadedBytes: 1_200_000, downloaded: 1, downloadedBytes: 1_200_000, deleted: 1, failures: 1 });
}, 40_000);

test('an S3 nobody answers: the payload waits in the upload backlog (/status, gauges) and every failed try is counted', async () => {
  // A port with nothing listening: every upload is refused at the connection and retried.
  const port = await new Promise<number>((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
  const d = await startTestDaemon(emulator.endpoint, ['--s3-bucket', BUCKET, '--s3-endpoint', `http://127.0.0.1:${port}`, '--retry-base-ms', '50', '--retry-max-ms', '200']);
  daemons.push(d);
  const sent = await post(d.url, '/queues/m-stuck', 'q'.repeat(1_100_000), { headers: { 'content-type': 'text/plain' } });
  expect(sent.status).toBe(202);
  let text = '';
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (sample((text = await metrics(d)), 'sqs_accelerator_s3_failures_total{op="upload",code="NetworkError"}') ?? 0) < 3) await new Promise((r) => setTimeout(r, 100));
  expect(sample(text, 'sqs_accelerator_s3_failures_total{op="upload",code="NetworkError"}')).toBeGreaterThanOrEqual(3);
  expect((sample(text, 'sqs_accelerator_s3_uploads_waiting') ?? 0) + (sample(text, 'sqs_accelerator_s3_uploads_in_flight') ?? 0)).toBe(1);
  expect(sample(text, 'sqs_accelerator_s3_upload_backlog_bytes')).toBe(1_100_000);
  expect(sample(text, 'sqs_accelerator_s3_uploads_total')).toBe(0);
  const s3 = (await status(d)).s3 as { uploadBacklog: { waiting: number; uploading: number; bytes: number }; uploaded: number };
  expect({ total: s3.uploadBacklog.waiting + s3.uploadBacklog.uploading, bytes: s3.uploadBacklog.bytes, uploaded: s3.uploaded }).toEqual({ total: 1, bytes: 1_100_000, uploaded: 0 });
  const page = await request(`${d.url}/status?refresh=off`, { headers: { authorization: AUTH, accept: 'text/html' } });
  const html = await page.body.text();
  expect(html).toContain('Large messages (S3)');
  expect(html).toMatch(/Uploads waiting<\/div><div class="value">1<\/div>/);
}, 30_000);
