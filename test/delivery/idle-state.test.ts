/**
 * Per-queue and per-key-pair state is released once idle, and bounded while live (issue 11,
 * item 5): 10,000 key pairs and 10,000 queues were all kept, about 1.3-2.6 KB each. The idle
 * time is 10 minutes; the test calls the pipeline's sweep with a time past it rather than
 * waiting.
 */
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, startTestDaemon, type TestDaemon } from '../support/daemon.js';

const QUEUES = Array.from({ length: 40 }, (_, i) => `idle-${i}`);
let fake: FakeSqs;
let d: TestDaemon | undefined;

beforeEach(async () => {
  fake = await startFakeSqs({ latencyMs: 1, queues: QUEUES });
});
afterEach(async () => {
  await d?.stop();
  d = undefined;
  await fake.close();
});

const basic = (akid: string) => `Basic ${Buffer.from(`${akid}:secret-${akid}`).toString('base64')}`;

it('batchers, counters and resolved queues of idle destinations are released; live ones are kept', async () => {
  d = await startTestDaemon(fake.endpoint);
  const { pipeline, resolver } = d.daemon.deps;
  // 40 queues x 5 key pairs = 200 destinations.
  for (const q of QUEUES) {
    for (let k = 0; k < 5; k++) {
      const r = await post(d.url, `/queues/${q}`, `m-${q}-${k}`, { contentType: 'text/plain', headers: { authorization: basic(`AKIDIDLE${k}`) } });
      expect(r.status).toBe(202);
    }
  }
  await pipeline.idle();
  expect(pipeline.liveDestinations).toBe(200);
  expect(resolver.size).toBe(200);
  expect(pipeline.allStats().size).toBe(40);

  // Ten minutes later: nothing was sent since, so all of it goes.
  pipeline.sweep(Date.now() + 1);
  expect(pipeline.liveDestinations).toBe(0);
  expect(resolver.size).toBe(0);
  expect(pipeline.allStats().size).toBe(0);
  expect(pipeline.totals.sent).toBe(200); // totals stay

  // A destination with messages waiting is never released.
  const auth = { authorization: basic('AKIDIDLE0') };
  expect((await post(d.url, '/queues/idle-0', 'resolved again', { contentType: 'text/plain', headers: auth })).status).toBe(202);
  await pipeline.idle();
  fake.down = true;
  expect((await post(d.url, '/queues/idle-0', 'waiting', { contentType: 'text/plain', headers: auth })).status).toBe(202);
  pipeline.sweep(Date.now() + 1);
  expect(pipeline.liveDestinations).toBe(1);
  expect(pipeline.allStats().get('idle-0')?.backlog).toBe(1);
  fake.down = false;
  await fake.waitFor(() => fake.bodies('idle-0').includes('waiting'), 5000);
}, 60_000);

it('past --max-destinations a send to one more queue gets 503 TooManyDestinations; idle ones make room at once', async () => {
  d = await startTestDaemon(fake.endpoint, ['--max-destinations', '3', '--retry-base-ms', '50', '--retry-max-ms', '100']);
  const send = (q: string, body: string) => post(d!.url, `/queues/${q}`, body, { contentType: 'text/plain' });
  for (const q of ['idle-0', 'idle-1', 'idle-2', 'idle-3']) expect((await send(q, `first-${q}`)).status).toBe(202);
  await d.daemon.deps.pipeline.idle();
  // Three destinations with messages waiting (SQS away): a fourth is refused, clearly.
  fake.down = true;
  for (const q of ['idle-0', 'idle-1', 'idle-2']) expect((await send(q, `waiting-${q}`)).status).toBe(202);
  const refused = await send('idle-3', 'one too many');
  expect(refused.status).toBe(503);
  expect(refused.json.error.code).toBe('TooManyDestinations');
  expect(refused.json.error.message).toContain('--max-destinations');
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  // Once those are delivered, the fourth is taken without waiting for the idle time.
  fake.down = false;
  await d.daemon.deps.pipeline.idle();
  expect((await send('idle-3', 'now there is room')).status).toBe(202);
  await fake.waitFor(() => fake.bodies('idle-3').includes('now there is room'), 5000);
  expect(fake.bodies('idle-3')).not.toContain('one too many');
}, 60_000);
