/**
 * Request/reply for web apps against fauxqs: POST /queues/:name?reply=<s> sends the task with
 * ReplyTo/CorrelationId, a worker of the same daemon POSTs it to the app, the app's answer goes
 * to the daemon's reply queue, and the waiting request gets it. A request that waits in vain gets
 * 504 ReplyTimeout with the id, and the reply that comes later is readable at GET /replies/:id.
 */
import { GetQueueAttributesCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient, CreateQueueCommand } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { AKID, AUTH, post, postJson, SECRET, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let emulator: Emulator;
let sqs: SQSClient;
let app: TestApp;
let d: TestDaemon;
const credentialProvider = async () => ({ accessKeyId: AKID, secretAccessKey: SECRET });

beforeAll(async () => {
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
  for (const q of ['rr-tasks', 'rr-nobody']) await sqs.send(new CreateQueueCommand({ QueueName: q }));
  app = await startTestApp((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-reply-attr-status': 'done', 'x-reply-attr-content-type': 'application/json' }).end(JSON.stringify({ echo: req.body, receiveCount: req.headers['x-aws-sqsd-receive-count'] }));
  });
  d = await startTestDaemon(emulator.endpoint, ['--worker', `rr-tasks=${app.url}`, '--worker-wait-time', '1', '--reply-queue-name', 'rr-replies', '--reply-keep', '60'], 'warn', { credentialProvider });
});
afterAll(async () => {
  await d?.stop();
  await app?.close();
  sqs?.destroy();
  await emulator?.close();
});

it('holds the request until the worker\'s reply comes, and answers with it', async () => {
  const t0 = Date.now();
  const r = await post(d.url, '/queues/rr-tasks?reply=15', 'ping', { contentType: 'text/plain' });
  expect(r.status).toBe(200);
  expect(r.headers['content-type']).toMatch(/^application\/json/);
  expect(JSON.parse(r.text)).toEqual({ echo: 'ping', receiveCount: '1' });
  expect(r.headers['x-reply-attr-status']).toBe('done');
  expect(String(r.headers['x-message-id'])).toMatch(/^[a-z0-9]+-[a-z0-9]+$/);
  expect(Date.now() - t0).toBeLessThan(15_000);
  // The task carried ReplyTo and CorrelationId = the id the caller got back.
  const task = app.requests.find((q) => q.body === 'ping');
  expect(task?.headers['x-aws-sqsd-attr-replyto']).toBe('rr-replies');
  expect(task?.headers['x-aws-sqsd-attr-correlationid']).toBe(r.headers['x-message-id']);
  // The reply queue was created on first use, with a short retention.
  const url = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'rr-replies' }))).QueueUrl;
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['MessageRetentionPeriod'] }));
  expect(a.Attributes?.MessageRetentionPeriod).toBe('300');
}, 30_000);

it('serves several waiting requests at once, each with its own reply', async () => {
  const results = await Promise.all(Array.from({ length: 12 }, (_, i) => postJson(d.url, '/queues/rr-tasks?reply=20', { body: `job-${i}`, attributes: { n: String(i) } })));
  expect(results.map((r) => r.status)).toEqual(Array(12).fill(200));
  expect(results.map((r) => JSON.parse(r.text).echo)).toEqual(Array.from({ length: 12 }, (_, i) => `job-${i}`));
}, 40_000);

it('answers 504 ReplyTimeout with the id, and keeps a late reply readable at GET /replies/:id', async () => {
  const r = await post(d.url, '/queues/rr-nobody?reply=1', 'anyone?', { contentType: 'text/plain' });
  expect(r.status).toBe(504);
  expect(r.json.error.code).toBe('ReplyTimeout');
  const id = r.json.error.details.id as string;
  expect(r.headers['x-message-id']).toBe(id);
  expect(r.json.error.message).toContain(`/replies/${id}`);
  const before = await request(`${d.url}/replies/${id}`, { headers: { authorization: AUTH } });
  expect(before.statusCode).toBe(404);
  await before.body.dump();
  // A worker somewhere answers late.
  const replyUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: 'rr-replies' }))).QueueUrl;
  await sqs.send(new SendMessageCommand({ QueueUrl: replyUrl, MessageBody: 'late answer', MessageAttributes: { CorrelationId: { DataType: 'String', StringValue: id }, status: { DataType: 'String', StringValue: 'late' } } }));
  let late: { status: number; text: string; headers: Record<string, unknown> } = { status: 0, text: '', headers: {} };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const g = await request(`${d.url}/replies/${id}`, { headers: { authorization: AUTH } });
    late = { status: g.statusCode, text: await g.body.text(), headers: g.headers };
    if (late.status === 200) break;
    await new Promise((res) => setTimeout(res, 100));
  }
  expect(late.status).toBe(200);
  expect(late.text).toBe('late answer');
  expect(late.headers['x-reply-attr-status']).toBe('late');
  // Another caller's credentials do not see it.
  const other = await request(`${d.url}/replies/${id}`, { headers: { authorization: `Basic ${Buffer.from('OTHERKEY:other').toString('base64')}` } });
  expect(other.statusCode).toBe(404);
  await other.body.dump();
}, 30_000);

it('refuses a bad wait or a list at once', async () => {
  for (const q of ['0', 'abc', '61', '1.5']) {
    const r = await post(d.url, `/queues/rr-tasks?reply=${q}`, 'x', { contentType: 'text/plain' });
    expect([r.status, r.json.error.code]).toEqual([400, 'InvalidReplyWait']);
  }
  const list = await postJson(d.url, '/queues/rr-tasks?reply=5', ['a', 'b']);
  expect([list.status, list.json.error.code]).toEqual([400, 'ReplyNeedsOneMessage']);
  const many = await postJson(d.url, '/queues/rr-tasks?reply=5', { body: 'x', attributes: Object.fromEntries(Array.from({ length: 9 }, (_, i) => [`a${i}`, 'v'])) });
  expect(many.status).toBe(400);
  expect(many.json.error.message).toMatch(/11 attributes; SQS allows at most 10/);
});
