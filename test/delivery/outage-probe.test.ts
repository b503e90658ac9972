/**
 * An outage of SQS against the daemon with its spool (issue 14): once every request fails, the
 * daemon stops sending its backlog into the outage and sends one probe at a time (counted at the
 * fake SQS); when SQS is back, everything is delivered, FIFO groups in order; /status and
 * /metrics say which state delivery is in.
 */
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, post, postJson, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';

const STD = 1000;
const FIFO = 60;
/** --retry-max-ms: the probes' longest wait. */
const PROBE_MAX_MS = 400;

async function getText(url: string, headers: Record<string, string> = {}): Promise<string> {
  const res = await request(url, { headers });
  return res.body.text();
}

async function deliveryState(d: TestDaemon): Promise<string> {
  const status = JSON.parse(await getText(`${d.url}/status`, { authorization: AUTH, accept: 'application/json' })) as { delivery: { state: string } };
  return status.delivery.state;
}

const outageGauge = async (d: TestDaemon): Promise<string | undefined> => /^sqs_accelerator_delivery_outage (\d+)$/m.exec(await getText(`${d.url}/metrics`))?.[1];

describe.each([
  ['503 ServiceUnavailable', (fake: FakeSqs, on: boolean) => void (fake.down = on)],
  ['dropped connections', (fake: FakeSqs, on: boolean) => void (fake.faults = on ? { dropConnection: 1 } : {})],
])('SQS fails every request (%s)', (_name, outage) => {
  let fake: FakeSqs;
  let d: TestDaemon;

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['orders', 'orders.fifo'] });
    d = await startTestDaemon(fake.endpoint, ['--retry-base-ms', '20', '--retry-max-ms', String(PROBE_MAX_MS)], 'info', { spool: true });
  });
  afterAll(async () => {
    await d?.stop();
    await fake?.close();
  });

  it('sends only probes, one at a time, while it lasts; then delivers everything, FIFO in order', async () => {
    // Both queues resolved while SQS is up.
    expect((await post(d.url, '/queues/orders', 'first', { contentType: 'text/plain' })).status).toBe(202);
    expect((await postJson(d.url, '/queues/orders.fifo', { body: 'first', groupId: 'g0' })).status).toBe(202);
    await fake.waitFor(() => fake.messageCount('orders') === 1 && fake.messageCount('orders.fifo') === 1, 5000);
    expect(await deliveryState(d)).toBe('delivering');

    outage(fake, true);
    for (let b = 0; b < STD / 100; b++) {
      const lines = Array.from({ length: 100 }, (_, i) => JSON.stringify({ body: `m${b * 100 + i}` })).join('\n');
      expect((await post(d.url, '/queues/orders', lines, { contentType: 'application/x-ndjson' })).status).toBe(202);
    }
    for (let i = 0; i < FIFO; i++) expect((await postJson(d.url, '/queues/orders.fifo', { body: `f${i}`, groupId: `g${i % 3}` })).status).toBe(202);

    const pipeline = d.daemon.deps.pipeline;
    await until(() => pipeline.outage.snapshot().state === 'outage-probe', 10_000, 'the pipeline to hold its batches');
    expect(await deliveryState(d)).toBe('outage-probe');
    expect(await outageGauge(d)).toBe('1');
    const page = await getText(`${d.url}/status`, { authorization: AUTH, accept: 'text/html' });
    expect(page).toContain('SQS fails every request: one probe at a time');
    expect(d.logs.find('one probe at a time').length).toBe(1);

    // Counted at the fake: over 3 s, no more requests than probes (the first ones 20, 40, 80 ... ms
    // apart, then every PROBE_MAX_MS); without the hold the 106 batches in memory would each retry
    // every 200-400 ms (~1,000 requests).
    await new Promise((r) => setTimeout(r, 200));
    const stats0 = { ...fake.stats.byAction };
    const probes0 = pipeline.outage.snapshot().probesTotal;
    await new Promise((r) => setTimeout(r, 3000));
    const sent = (fake.stats.byAction.SendMessageBatch ?? 0) - (stats0.SendMessageBatch ?? 0);
    const probes = pipeline.outage.snapshot().probesTotal - probes0;
    expect(sent).toBeGreaterThanOrEqual(3000 / PROBE_MAX_MS - 2);
    expect(sent).toBeLessThanOrEqual(3000 / (PROBE_MAX_MS / 2) + 2);
    expect(probes).toBeGreaterThanOrEqual(sent - 1);
    expect(probes).toBeLessThanOrEqual(sent + 1);
    expect(fake.messageCount('orders')).toBe(1);

    outage(fake, false);
    await fake.waitFor(() => fake.messageCount('orders') === STD + 1 && fake.messageCount('orders.fifo') === FIFO + 1, 15_000);
    expect(new Set(fake.bodies('orders'))).toEqual(new Set(['first', ...Array.from({ length: STD }, (_, i) => `m${i}`)]));
    for (const g of ['g0', 'g1', 'g2']) {
      const got = fake.messages('orders.fifo').filter((m) => m.groupId === g && m.body !== 'first').map((m) => m.body);
      expect(got).toEqual(Array.from({ length: FIFO }, (_, i) => i).filter((i) => `g${i % 3}` === g).map((i) => `f${i}`));
    }
    await pipeline.idle();
    expect(pipeline.backlogMessages).toBe(0);
    expect(await deliveryState(d)).toBe('delivering');
    expect(await outageGauge(d)).toBe('0');
    expect(d.logs.find('SQS answers again').length).toBe(1);
  });
});
