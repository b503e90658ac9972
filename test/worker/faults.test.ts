/**
 * The worker side against the fault-injecting fake SQS, for what fauxqs cannot show: SQS failing
 * (backoff, then recovery), an endpoint without long polling (no busy loop on an empty queue),
 * an overloaded app (429 + Retry-After), a graceful stop that hands unstarted work back, and a
 * stop while a receive's answer is on its way (its messages handed back, not left invisible).
 */
import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { AKID, SECRET, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { ok, startTestApp, type TestApp } from '../support/test-app.js';

let fake: FakeSqs;
let sqs: SQSClient;
const credentialProvider = async () => ({ accessKeyId: AKID, secretAccessKey: SECRET });

beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['f-outage', 'f-empty', 'f-busy', 'f-stop', 'f-receiving', 'f-cut'] });
  sqs = new SQSClient({ endpoint: fake.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
});
afterAll(async () => {
  sqs?.destroy();
  await fake?.close();
});

async function send(queue: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: fake.queueUrl(queue), Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })) }));
  }
}

function worker(queue: string, app: TestApp, flags: string[] = []): Promise<TestDaemon> {
  return startTestDaemon(fake.endpoint, ['--worker', `${queue}=${app.url}`, ...flags], 'warn', { credentialProvider });
}

const receives = () => fake.stats.byAction.ReceiveMessage ?? 0;

it('backs off while ReceiveMessage fails, shows the error, and recovers', async () => {
  const app = await startTestApp(ok);
  await send('f-outage', ['o1', 'o2', 'o3']);
  fake.faults = { serverError: 1, actions: ['ReceiveMessage'] };
  const d = await worker('f-outage', app);
  try {
    const before = receives();
    await new Promise((r) => setTimeout(r, 2500));
    const during = receives() - before;
    // Backoff from 200 ms doubling: a handful of attempts in 2.5 s, not hundreds.
    expect(during).toBeGreaterThan(1);
    expect(during).toBeLessThan(12);
    expect(d.daemon.workers.status()[0]?.lastError?.code).toMatch(/InternalError|ServiceUnavailable/);
    expect(app.requests).toHaveLength(0);
    fake.faults = {};
    await until(() => d.daemon.workers.status()[0]?.delivered === 3, 30_000, 'the three messages delivered after the outage');
  } finally {
    fake.faults = {};
    await d.stop();
    await app.close();
  }
}, 45_000);

it('does not spin on an empty queue when the endpoint answers at once', async () => {
  const app = await startTestApp(ok);
  const d = await worker('f-empty', app);
  try {
    await until(() => d.daemon.workers.status()[0]?.state === 'polling', 5000, 'the worker polling');
    const before = receives();
    await new Promise((r) => setTimeout(r, 3000));
    // The fake has no long polling: each empty answer is followed by a 1 s pause.
    expect(receives() - before).toBeLessThanOrEqual(4);
    await send('f-empty', ['late']);
    await until(() => app.requests.length === 1, 5000, 'a message sent later still arrives');
  } finally {
    await d.stop();
    await app.close();
  }
}, 20_000);

it('answers 429 + Retry-After by pausing and halving its concurrency, without failing the message', async () => {
  let first = true;
  const app = await startTestApp((_req, res) => {
    if (first) {
      first = false;
      res.writeHead(429, { 'retry-after': '1' }).end();
    } else res.writeHead(200).end();
  });
  const d = await worker('f-busy', app, ['--worker-concurrency', '8']);
  try {
    await send('f-busy', ['b1']);
    await until(() => d.daemon.workers.status()[0]?.delivered === 1, 10_000, 'b1 delivered after the pause');
    expect(app.requests).toHaveLength(2);
    const [a, b] = app.requests;
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(900);
    // Kept here, invisible, while the app was busy: SQS never handed it out a second time.
    expect(b?.headers['x-aws-sqsd-receive-count']).toBe('1');
    const s = d.daemon.workers.status()[0];
    expect(s).toMatchObject({ failed: 0, delivered: 1 });
    expect(s?.limit).toBeLessThan(8);
  } finally {
    await d.stop();
    await app.close();
  }
}, 20_000);

it('on stop, lets deliveries in flight finish and hands the rest back at once', async () => {
  const app = await startTestApp((_req, res) => {
    setTimeout(() => res.writeHead(200).end(), 800);
  });
  const d = await worker('f-stop', app, ['--worker-concurrency', '2', '--shutdown-grace-ms', '5000']);
  try {
    await send('f-stop', Array.from({ length: 10 }, (_, i) => `s${i}`));
    await until(() => app.requests.length === 2, 5000, 'two deliveries in flight');
  } finally {
    await d.stop();
    await app.close();
  }
  const s = d.daemon.workers.status()[0];
  expect(s?.delivered).toBe(2);
  expect(s?.state).toBe('stopped');
  // The eight others are visible again now, not after the 300 s visibility timeout.
  const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: fake.queueUrl('f-stop'), MaxNumberOfMessages: 10 }));
  expect((r.Messages ?? []).map((m) => m.Body).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `s${i}`).filter((b) => !app.requests.some((q) => q.body === b)).sort());
  expect(r.Messages).toHaveLength(8);
}, 20_000);

it('on stop, waits for a receive in flight and hands back the messages it brings', async () => {
  const app = await startTestApp(ok);
  await send('f-receiving', ['r1', 'r2', 'r3']);
  // SQS takes the messages for the receive at once; its answer needs 1.5 s to come back.
  fake.faults = { answerDelayMs: 1500, actions: ['ReceiveMessage'] };
  const before = receives();
  // The receive reaches the fake after this instant, so its answer leaves 1,500 ms after it at the
  // earliest. (Timed from when the test saw the receive instead, the margin was what was left of
  // 1,500 ms after the 200 ms pause and however late this loop noticed: ~300 ms on a loaded machine.)
  const beforeReceive = Date.now();
  const d = await worker('f-receiving', app, ['--shutdown-grace-ms', '5000']);
  let stopMs = 0;
  let sinceBeforeReceive = 0;
  try {
    await until(() => receives() > before, 5000, 'the worker\'s first receive');
    await new Promise((r) => setTimeout(r, 200));
    const t0 = Date.now();
    await d.stop();
    stopMs = Date.now() - t0;
    sinceBeforeReceive = Date.now() - beforeReceive;
  } finally {
    fake.faults = {};
    await d.stop();
    await app.close();
  }
  // The stop waited for the answer (not the grace period), and the app got nothing after it began.
  // 1,400: the answer's 1,500 ms less room for the millisecond clocks' rounding; a stop that did
  // not wait ends ~200 ms plus the daemon's start after beforeReceive.
  expect(sinceBeforeReceive).toBeGreaterThanOrEqual(1400);
  expect(stopMs).toBeLessThan(4500);
  expect(app.requests).toHaveLength(0);
  // Visible again now, not after the worker's 300 s visibility timeout.
  const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: fake.queueUrl('f-receiving'), MaxNumberOfMessages: 10 }));
  expect((r.Messages ?? []).map((m) => m.Body).sort()).toEqual(['r1', 'r2', 'r3']);
}, 20_000);

it('on stop, cuts a receive still open at the end of the grace period', async () => {
  const app = await startTestApp(ok);
  await send('f-cut', ['c1']);
  fake.faults = { answerDelayMs: 8000, actions: ['ReceiveMessage'] };
  const before = receives();
  const d = await worker('f-cut', app, ['--shutdown-grace-ms', '1000']);
  let stopMs = 0;
  try {
    await until(() => receives() > before, 5000, 'the worker\'s first receive');
    const t0 = Date.now();
    await d.stop();
    stopMs = Date.now() - t0;
  } finally {
    fake.faults = {};
    await d.stop();
    await app.close();
  }
  // Bounded by the grace period (plus the 2 s the hand-backs may take past it), not by the 8 s answer.
  expect(stopMs).toBeGreaterThanOrEqual(900);
  expect(stopMs).toBeLessThan(4000);
  expect(d.logs.find('receives still open at the end of the grace period were cut')).toHaveLength(1);
}, 20_000);
