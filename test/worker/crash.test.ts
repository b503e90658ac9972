/**
 * kill -9 of the daemon in the middle of worker traffic loses nothing: the built CLI runs as a
 * child process with a worker against fauxqs in this process; it is SIGKILLed while the app is
 * busy with messages, then started again on the same spool. In the end every task was answered
 * 200 by the app at least once, the queue is empty, and every task's reply is in the reply queue
 * (replies are spooled before their task is deleted, so none dies with the process).
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient, DeleteMessageBatchCommand } from '@aws-sdk/client-sqs';
import { freshBuild, NODE } from '../ops/build.js';
import { AKID, SECRET, until } from '../support/daemon.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { type ChildDaemon, removeDir, spawnDaemon, tempDir } from '../support/spool-harness.js';
import { startTestApp, type TestApp } from '../support/test-app.js';

let build: string;
let emulator: Emulator;
let sqs: SQSClient;
let app: TestApp;
const children: ChildDaemon[] = [];
let dir: string;
const answered = new Set<string>();

beforeAll(async () => {
  build = freshBuild();
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
  app = await startTestApp((req, res) => {
    setTimeout(() => {
      answered.add(req.body);
      res.writeHead(200, { 'content-type': 'text/plain' }).end(`reply:${req.body}`);
    }, 100);
  });
  dir = tempDir('worker-crash');
}, 180_000);
afterAll(async () => {
  for (const c of children) await c.kill(); // only the PIDs this file started
  await app?.close();
  sqs?.destroy();
  await emulator?.close();
  removeDir(dir);
});

it('loses no task and no reply when the daemon is killed mid-work', async () => {
  const tasks = (await sqs.send(new CreateQueueCommand({ QueueName: 'crash-tasks' }))).QueueUrl as string;
  const replies = (await sqs.send(new CreateQueueCommand({ QueueName: 'crash-replies' }))).QueueUrl as string;
  const bodies = Array.from({ length: 150 }, (_, i) => `t${i}`);
  for (let i = 0; i < bodies.length; i += 10) {
    await sqs.send(new SendMessageBatchCommand({ QueueUrl: tasks, Entries: bodies.slice(i, i + 10).map((b, j) => ({ Id: String(j), MessageBody: b })) }));
  }
  const args = ['--endpoint', emulator.endpoint, '--spool-dir', dir, '--worker', `crash-tasks=${app.url}`, '--worker-reply-queue', 'crash-replies', '--worker-concurrency', '20', '--worker-visibility-timeout', '2', '--worker-wait-time', '1', '--log-level', 'info'];
  const env = { HOME: dir, AWS_ACCESS_KEY_ID: AKID, AWS_SECRET_ACCESS_KEY: SECRET };
  const first = await spawnDaemon(NODE, build, args, env);
  children.push(first);
  await until(() => app.requests.length >= 40, 20_000, '40 tasks at the app');
  expect(app.active).toBeGreaterThan(0); // the kill lands while the app holds tasks
  first.child.kill('SIGKILL');
  await first.exited;
  const atKill = answered.size;
  expect(atKill).toBeLessThan(bodies.length);

  const second = await spawnDaemon(NODE, build, args, env);
  children.push(second);
  await until(() => bodies.every((b) => answered.has(b)), 60_000, 'every task answered 200 by the app');
  const queueEmpty = async () => {
    const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: tasks, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    return Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible) === 0;
  };
  const deadline = Date.now() + 20_000;
  while (!(await queueEmpty()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  expect(await queueEmpty()).toBe(true);

  // Every task's reply reached the reply queue (duplicates allowed: at least once).
  const got = new Map<string, number>();
  const until2 = Date.now() + 30_000;
  while (bodies.some((b) => !got.has(`reply:${b}`)) && Date.now() < until2) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: replies, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of r.Messages ?? []) got.set(m.Body as string, (got.get(m.Body as string) ?? 0) + 1);
    if (r.Messages?.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: replies, Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })) }));
  }
  const missing = bodies.filter((b) => !got.has(`reply:${b}`));
  expect(missing).toEqual([]);
  const redelivered = app.requests.length - bodies.length;
  console.log(`worker crash: ${atKill} tasks answered before the kill, ${redelivered} deliveries repeated after it, ${[...got.values()].filter((n) => n > 1).length} duplicate replies`);
}, 150_000);
