/**
 * The worker side against fauxqs in-process, with a local test app: messages reach the app with
 * sqsd's headers and are deleted; failures are retried and then left to the redrive policy; a
 * slow app keeps its message; FIFO groups stay in order; replies reach their queue.
 */
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { AKID, AUTH, SECRET, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { ok, startTestApp, type TestApp } from '../support/test-app.js';

let emulator: Emulator;
let sqs: SQSClient;
const credentialProvider = async () => ({ accessKeyId: AKID, secretAccessKey: SECRET });

beforeAll(async () => {
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
});
afterAll(async () => {
  sqs?.destroy();
  await emulator?.close();
});

async function createQueue(name: string, attributes: Record<string, string> = {}): Promise<string> {
  const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  return out.QueueUrl as string;
}

async function sendAll(url: string, entries: Array<{ body: string; group?: string; attributes?: Record<string, string> }>): Promise<void> {
  for (let i = 0; i < entries.length; i += 10) {
    const Entries = entries.slice(i, i + 10).map((e, j) => ({
      Id: String(j),
      MessageBody: e.body,
      ...(e.group ? { MessageGroupId: e.group, MessageDeduplicationId: e.body } : {}),
      ...(e.attributes ? { MessageAttributes: Object.fromEntries(Object.entries(e.attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }])) } : {}),
    }));
    const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
    expect(out.Failed ?? []).toEqual([]);
  }
}

/** Visible + in-flight messages of a queue (0 once everything was deleted). */
async function remaining(url: string): Promise<number> {
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
}

async function receiveAll(url: string, count: number, timeoutMs = 5000): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 600, MessageAttributeNames: ['All'] }));
    out.push(...(r.Messages ?? []));
  }
  return out;
}

async function startWorker(queue: string, app: TestApp, flags: string[] = []): Promise<TestDaemon> {
  return startTestDaemon(emulator.endpoint, ['--worker', `${queue}=${app.url}`, '--worker-wait-time', '1', ...flags], 'warn', { credentialProvider });
}

describe('worker against fauxqs', () => {
  it('delivers every message with sqsd headers and deletes it', async () => {
    const url = await createQueue('w-basic');
    const app = await startTestApp(ok);
    const d = await startWorker('w-basic', app);
    try {
      const bodies = Array.from({ length: 60 }, (_, i) => `task-${i}`);
      await sendAll(url, bodies.map((body, i) => ({ body, attributes: (i === 0 ? { kind: 'first', note: 'line1\nline2' } : { kind: 'plain' }) as Record<string, string> })));
      await until(() => new Set(app.requests.map((r) => r.body)).size === 60, 15_000, 'all 60 messages at the app');
      await until(() => d.daemon.workers.status()[0]?.delivered === 60, 5000, '60 deletes confirmed');
      expect(await remaining(url)).toBe(0);
      expect(new Set(app.requests.map((r) => r.body))).toEqual(new Set(bodies));
      const first = app.requests.find((r) => r.body === 'task-0');
      expect(first?.path).toBe('/work');
      expect(first?.headers['content-type']).toBe('application/json');
      expect(first?.headers['x-aws-sqsd-queue']).toBe('w-basic');
      expect(first?.headers['x-aws-sqsd-msgid']).toMatch(/^[0-9a-f-]{36}$/);
      expect(first?.headers['x-aws-sqsd-receive-count']).toBe('1');
      expect(Date.parse(String(first?.headers['x-aws-sqsd-first-received-at']))).toBeGreaterThan(Date.now() - 60_000);
      expect(first?.headers['x-aws-sqsd-attr-kind']).toBe('first');
      expect(first?.headers['x-aws-sqsd-attr-note']).toBe('line1%0Aline2');
      const s = d.daemon.workers.status()[0];
      expect(s).toMatchObject({ queue: 'w-basic', url: app.url, delivered: 60, failed: 0, inFlight: 0, held: 0 });
      // /status (JSON and the page) and /metrics show the worker.
      const json = await request(`${d.url}/status`, { headers: { authorization: AUTH, accept: 'application/json' } });
      const status = (await json.body.json()) as { workers: Array<Record<string, unknown>> };
      expect(status.workers).toEqual([expect.objectContaining({ queue: 'w-basic', url: app.url, state: 'polling', delivered: 60, failed: 0, retried: 0, inFlight: 0 })]);
      expect(typeof status.workers[0]?.appLatencyMs).toBe('number');
      const page = await (await request(`${d.url}/status`, { headers: { authorization: AUTH, accept: 'text/html' } })).body.text();
      expect(page).toContain('<h2 id="workers">Workers</h2>');
      expect(page).toContain(app.url);
      const metrics = await (await request(`${d.url}/metrics`)).body.text();
      expect(metrics).toContain('sqs_accelerator_worker_delivered_total{queue="w-basic"} 60');
      expect(metrics).toMatch(/sqs_accelerator_worker_app_duration_seconds_count\{queue="w-basic",outcome="ok"\} 60/);
    } finally {
      await d.stop();
      await app.close();
    }
  }, 30_000);

  it('retries failures with the error visibility timeout, then leaves the message to the redrive policy', async () => {
    const dlq = await createQueue('w-fail-dlq');
    const dlqArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))).Attributes?.QueueArn as string;
    const url = await createQueue('w-fail', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) });
    const app = await startTestApp((req, res) => {
      res.writeHead(req.body === 'poison' ? 500 : 200).end();
    });
    const d = await startWorker('w-fail', app, ['--worker-max-retries', '3', '--worker-error-visibility-timeout', '0']);
    try {
      await sendAll(url, [{ body: 'poison' }, { body: 'fine' }]);
      const moved = await receiveAll(dlq, 1, 15_000);
      expect(moved.map((m) => m.Body)).toEqual(['poison']);
      const tries = app.requests.filter((r) => r.body === 'poison');
      expect(tries.map((r) => r.headers['x-aws-sqsd-receive-count'])).toEqual(['1', '2', '3']);
      expect(app.requests.filter((r) => r.body === 'fine')).toHaveLength(1);
      const s = d.daemon.workers.status()[0];
      expect(s).toMatchObject({ delivered: 1, failed: 3, retried: 2, leftToRedrive: 1 });
      expect(s?.lastError?.code).toBe('Http500');
      expect(await remaining(url)).toBe(0);
    } finally {
      await d.stop();
      await app.close();
    }
  }, 30_000);

  it('keeps extending the visibility of a message the app is still working on', async () => {
    const url = await createQueue('w-slow');
    const app = await startTestApp((_req, res) => {
      setTimeout(() => res.writeHead(200).end(), 4500);
    });
    // Visibility 2 s, the app takes 4.5 s: without the heartbeat SQS would hand it out again twice.
    const d = await startWorker('w-slow', app, ['--worker-visibility-timeout', '2', '--worker-concurrency', '5']);
    try {
      await sendAll(url, [{ body: 'slow-task' }]);
      await until(() => d.daemon.workers.status()[0]?.delivered === 1, 15_000, 'the slow task deleted');
      expect(app.requests).toHaveLength(1);
      expect(await remaining(url)).toBe(0);
    } finally {
      await d.stop();
      await app.close();
    }
  }, 30_000);

  it('FIFO: one message per group at a time, in order; groups in parallel', async () => {
    const url = await createQueue('w-order.fifo', { FifoQueue: 'true' });
    const activeGroups = new Map<string, number>();
    let overlapInGroup = false;
    let parallelGroups = 0;
    const app = await startTestApp((req, res) => {
      const g = String(req.body.split(':')[0]);
      activeGroups.set(g, (activeGroups.get(g) ?? 0) + 1);
      if ((activeGroups.get(g) ?? 0) > 1) overlapInGroup = true;
      parallelGroups = Math.max(parallelGroups, [...activeGroups.values()].filter((n) => n > 0).length);
      setTimeout(() => {
        activeGroups.set(g, (activeGroups.get(g) ?? 1) - 1);
        // One failure in group b: order must still hold after its retry.
        res.writeHead(req.body === 'b:3' && req.headers['x-aws-sqsd-receive-count'] === '1' ? 500 : 200).end();
      }, 20);
    });
    const d = await startWorker('w-order.fifo', app, ['--worker-error-visibility-timeout', '0']);
    try {
      const entries = [];
      for (let i = 0; i < 8; i++) for (const g of ['a', 'b', 'c']) entries.push({ body: `${g}:${i}`, group: g });
      await sendAll(url, entries);
      await until(() => d.daemon.workers.status()[0]?.delivered === 24, 20_000, 'all 24 FIFO messages delivered');
      for (const g of ['a', 'b', 'c']) {
        // Successful deliveries of a group, in the order the app answered 200 to them.
        const seen = app.requests.filter((r) => r.body.startsWith(`${g}:`)).map((r) => r.body);
        const firstTimes = seen.filter((b, i) => seen.indexOf(b) === i);
        expect(firstTimes).toEqual(Array.from({ length: 8 }, (_, i) => `${g}:${i}`));
      }
      // b:3 failed once; b:4.. were never delivered before b:3 succeeded.
      const b = app.requests.filter((r) => r.body.startsWith('b:')).map((r) => r.body);
      expect(b.slice(3, 5)).toEqual(['b:3', 'b:3']);
      expect(overlapInGroup).toBe(false);
      expect(parallelGroups).toBeGreaterThan(1);
      expect(await remaining(url)).toBe(0);
    } finally {
      await d.stop();
      await app.close();
    }
  }, 40_000);

  it('sends the app\'s 2xx body to the ReplyTo queue with CorrelationId and X-Reply-Attr-* attributes before deleting the task', async () => {
    const url = await createQueue('w-reply');
    const replies = await createQueue('w-reply-out');
    const app = await startTestApp((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'x-reply-attr-status': 'done' }).end(`result of ${req.body}`);
    });
    const d = await startWorker('w-reply', app);
    try {
      await sendAll(url, [{ body: 'job-1', attributes: { ReplyTo: 'w-reply-out', CorrelationId: 'corr-1' } }, { body: 'job-2' }]);
      const got = await receiveAll(replies, 1, 10_000);
      expect(got.map((m) => m.Body)).toEqual(['result of job-1']);
      expect(got[0]?.MessageAttributes?.CorrelationId?.StringValue).toBe('corr-1');
      expect(got[0]?.MessageAttributes?.status?.StringValue).toBe('done');
      await until(() => d.daemon.workers.status()[0]?.delivered === 2, 5000, 'both tasks deleted');
      expect(d.daemon.workers.status()[0]?.replies).toBe(1);
      expect(await remaining(url)).toBe(0);
    } finally {
      await d.stop();
      await app.close();
    }
  }, 30_000);
});
