/**
 * 10,000 messages posted concurrently (100 in flight from the client side) all reach fauxqs,
 * exactly once. Counted by receiving everything with a long visibility timeout (nothing comes
 * back twice) and by the queue's own counters.
 */
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Pool } from 'undici';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, post, runBounded, SECRET, startTestDaemon, type TestDaemon } from '../support/daemon.js';

let emulator: Emulator;
let sqs: SQSClient;
let d: TestDaemon;
let pool: Pool;

beforeAll(async () => {
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
  d = await startTestDaemon(emulator.endpoint);
  pool = new Pool(d.url, { connections: 100 });
});

afterAll(async () => {
  await pool?.close();
  await d?.stop();
  sqs?.destroy();
  await emulator?.close();
});

/**
 * Awaits `work`, but fails after `ms` naming the stage and where the daemon stood (a bare jest
 * timeout says neither: one CI run on a loaded machine passed 120 s here, against ~12 s alone).
 */
async function stage<T>(name: string, ms: number, work: Promise<T>, progress: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} not done after ${ms} ms: ${progress()}; pipeline totals ${JSON.stringify(d.daemon.deps.pipeline.totals)}`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

it('10,000 messages posted concurrently all arrive exactly once', async () => {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'load' }));
  const N = 10_000;
  const t0 = performance.now();
  let answered = 0;
  const statuses = await stage(
    'posting',
    60_000,
    runBounded(N, 100, async (i) => {
      const status = (await post(d.url, '/queues/load', `load-${i}`, { contentType: 'text/plain', dispatcher: pool })).status;
      answered += 1;
      return status;
    }),
    () => `${answered} of ${N} posts answered`,
  );
  const acked = performance.now() - t0;
  expect(statuses.filter((s) => s !== 202)).toEqual([]);
  await stage('delivery', 30_000, d.daemon.deps.pipeline.idle(), () => 'pipeline not idle');
  const delivered = performance.now() - t0;

  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  expect(attrs.Attributes?.ApproximateNumberOfMessages).toBe(String(N));

  // Receive everything, 10 at a time, with 8 receivers; a long visibility timeout so nothing comes twice.
  const counts = new Map<string, number>();
  let empty = 0;
  await stage(
    'receiving',
    25_000,
    runBounded(8, 8, async () => {
      for (let guard = 0; guard < 2000 && empty < 16; guard++) {
        const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, VisibilityTimeout: 600 }));
        const msgs = r.Messages ?? [];
        if (msgs.length === 0) empty += 1;
        for (const m of msgs) counts.set(m.Body as string, (counts.get(m.Body as string) ?? 0) + 1);
      }
    }),
    () => `${counts.size} distinct bodies received, ${empty} empty receives`,
  );
  const received = performance.now() - t0;
  // eslint-disable-next-line no-console
  console.log(`fauxqs load: ${N} acked in ${Math.round(acked)} ms, delivered by ${Math.round(delivered)} ms, received by ${Math.round(received)} ms; ${d.daemon.deps.pipeline.totals.requests} SendMessageBatch`);
  expect(counts.size).toBe(N);
  expect([...counts.values()].every((c) => c === 1)).toBe(true);
  for (let i = 0; i < N; i += 997) expect(counts.get(`load-${i}`)).toBe(1);
  const after = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  expect(after.Attributes).toMatchObject({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: String(N) });
  expect(d.daemon.deps.pipeline.totals).toMatchObject({ accepted: N, sent: N, deadLettered: 0 });
}, 120_000);
