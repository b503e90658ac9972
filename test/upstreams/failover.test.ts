/**
 * Failover across independent upstreams (issue 17), with two instances of the fault-injecting fake
 * SQS as two regions: the primary unplugged mid-load (nothing listening), then plugged in again.
 * Every acknowledged message must be in one of the two; queues move to the secondary and back;
 * a FIFO queue and a queue missing in the secondary stay, spooled and visible; throttling never
 * moves a queue; the worker side reads both.
 */
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AKID, AUTH, post, postJson, SECRET, startTestDaemon, until, type TestDaemon } from '../support/daemon.js';
import { startTestApp, type TestApp } from '../support/test-app.js';
import { SqsClient } from '../../src/sqs/client.js';

/** The daemon's own defaults for retries and failover, over the test helper's fast retries. */
const DEFAULTS = ['--retry-base-ms', '100', '--retry-max-ms', '20000'];

async function getJson(url: string, path: string): Promise<any> {
  const res = await request(`${url}${path}`, { headers: { authorization: AUTH, accept: 'application/json' } });
  const text = await res.body.text();
  expect(res.statusCode).toBe(200);
  return JSON.parse(text);
}

async function getText(url: string, path: string, accept = 'text/html'): Promise<string> {
  const res = await request(`${url}${path}`, { headers: { authorization: AUTH, accept } });
  expect(res.statusCode).toBe(200);
  return res.body.text();
}

const queueRow = (status: any, name: string): any => status.queues.find((q: any) => q.name === name);

interface Setup {
  primary: FakeSqs;
  secondary: FakeSqs;
  d: TestDaemon;
}

/** The workers' credentials (the daemon's own chain, given here). */
const credentialProvider = async () => ({ accessKeyId: AKID, secretAccessKey: SECRET });

async function setup(flags: string[], primaryQueues: string[], secondaryQueues: string[], options: { spool?: boolean } = {}): Promise<Setup> {
  const primary = await startFakeSqs({ queues: primaryQueues });
  const secondary = await startFakeSqs({ queues: secondaryQueues });
  const d = await startTestDaemon(primary.endpoint, ['--failover-endpoint', secondary.endpoint, ...flags], 'info', { spool: options.spool ?? true, credentialProvider });
  return { primary, secondary, d };
}

async function teardown(s: Setup | undefined): Promise<void> {
  await s?.d.stop();
  await s?.primary.close();
  await s?.secondary.close();
}

/** Sends one message; returns its body when acknowledged (202). */
async function send(url: string, queue: string, body: string, extra = ''): Promise<string> {
  const r = await post(url, `/queues/${queue}`, `message_body=${encodeURIComponent(body)}${extra}`, { contentType: 'application/x-www-form-urlencoded' });
  expect(r.status).toBe(202);
  return body;
}

describe('failover between two upstreams', () => {
  let s: Setup | undefined;
  afterEach(async () => {
    await teardown(s);
    s = undefined;
  });

  it('primary unplugged mid-load: 0 lost, the rest in the secondary, then traffic returns to the primary', async () => {
    s = await setup(DEFAULTS, ['orders'], ['orders']);
    const { primary, secondary, d } = s;
    const acked = new Set<string>();
    const phases: Array<{ phase: string; from: number; to: number; primaryAt: number; secondaryAt: number }> = [];
    let stop = false;
    let n = 0;
    // A steady load: 8 senders, each one message at a time, bounded in count and time.
    const deadline = Date.now() + 60_000;
    const senders = Array.from({ length: 8 }, async () => {
      while (!stop && n < 20_000 && Date.now() < deadline) {
        const body = `m-${n++}`;
        acked.add(await send(d.url, 'orders', body));
        await new Promise((r) => setTimeout(r, 2));
      }
    });
    const mark = (phase: string) => phases.push({ phase, from: 0, to: Date.now(), primaryAt: primary.messageCount('orders'), secondaryAt: secondary.messageCount('orders') });
    mark('start');
    await primary.waitFor(() => primary.messageCount('orders') >= 300, 20_000);
    mark('before');

    const outageAt = Date.now();
    await primary.unplug();
    await secondary.waitFor(() => secondary.messageCount('orders') > 0, 20_000);
    const firstInSecondary = Date.now() - outageAt;
    // While it is down: /status, the UI and /metrics say so, with the reason.
    const status = await getJson(d.url, '/status');
    expect(status.upstreams.map((u: any) => [u.name, u.state])).toEqual([
      [new URL(primary.endpoint).host, 'down'],
      [new URL(secondary.endpoint).host, 'healthy'],
    ]);
    expect(queueRow(status, 'orders').route).toMatchObject({ upstream: new URL(secondary.endpoint).host, reason: 'failover' });
    const page = await getText(d.url, '/status');
    expect(page).toContain('<h2 id="upstreams">Upstreams</h2>');
    expect(page).toMatch(/<strong>down<\/strong>/);
    const metrics = await getText(d.url, '/metrics', 'text/plain');
    expect(metrics).toContain(`sqs_accelerator_upstream_up{upstream="${new URL(primary.endpoint).host}"} 0`);
    expect(metrics).toContain(`sqs_accelerator_queue_upstream{queue="orders",upstream="${new URL(secondary.endpoint).host}",reason="failover"} 1`);
    await secondary.waitFor(() => secondary.messageCount('orders') >= 300, 20_000);
    mark('during');

    const backAt = Date.now();
    const primaryBefore = primary.messageCount('orders');
    await primary.plugIn();
    // Probed with backoff (1 s, 2 s, 4 s ... by default): the queue returns at its next batch once it answers.
    await primary.waitFor(() => primary.messageCount('orders') > primaryBefore, 40_000);
    const returnedAfter = Date.now() - backAt;
    const secondaryAtReturn = secondary.messageCount('orders');
    await primary.waitFor(() => primary.messageCount('orders') >= primaryBefore + 300, 20_000);
    mark('after');
    stop = true;
    await Promise.all(senders);
    await until(() => (primary.messageCount('orders') + secondary.messageCount('orders')) >= acked.size, 20_000, 'everything delivered');

    // 0 lost: every acknowledged body is in one upstream or the other.
    const inPrimary = primary.countByBody('orders');
    const inSecondary = secondary.countByBody('orders');
    let lost = 0;
    let both = 0;
    for (const b of acked) {
      const c = (inPrimary.get(b) ?? 0) + (inSecondary.get(b) ?? 0);
      if (c === 0) lost += 1;
      if (c > 1) both += c - 1;
    }
    expect(lost).toBe(0);
    // New batches went back to the primary: the secondary took (almost) nothing after the return.
    expect(secondary.messageCount('orders') - secondaryAtReturn).toBeLessThanOrEqual(10);
    // Duplicates only where a request failed where it may have stored the batch, and each is counted.
    const after = await getJson(d.url, '/status');
    expect(both).toBeLessThanOrEqual(after.possibleDuplicates);
    expect(after.upstreams[0].state).toBe('healthy');
    expect(queueRow(after, 'orders').route).toMatchObject({ upstream: new URL(primary.endpoint).host, reason: 'primary' });
    // One log line per switch of the queue, each way; one per upstream state change.
    expect(d.logs.find('queue orders moves from upstream').length).toBe(1);
    expect(d.logs.find('queue orders returns from upstream').length).toBe(1);
    expect(d.logs.find(`upstream ${new URL(primary.endpoint).host} is down`).length).toBe(1);
    expect(d.logs.find(`upstream ${new URL(primary.endpoint).host} answers again`).length).toBe(1);

    const rate = (a: (typeof phases)[number], b: (typeof phases)[number], key: 'primaryAt' | 'secondaryAt') => ((b[key] - a[key]) / ((b.to - a.to) / 1000)).toFixed(0);
    const [p0, p1, p2, p3] = phases as [typeof phases[number], typeof phases[number], typeof phases[number], typeof phases[number]];
    // The report the issue asks for (noisy: a test run, not a bench; bench/failover.ts measures it).
    console.log(
      `failover: ${acked.size} acked, 0 lost, ${both} duplicates (${after.possibleDuplicates} possible, counted); ` +
        `outage -> first delivery in the secondary ${firstInSecondary} ms; primary back -> first delivery there ${returnedAfter} ms; ` +
        `delivery rate msg/s before ${rate(p0, p1, 'primaryAt')} (primary), during ${rate(p1, p2, 'secondaryAt')} (secondary), after ${rate(p2, p3, 'primaryAt')} (primary)`,
    );
    // A correctness bound, not the 2 s goal (bench/failover.ts measures that): it switched, well before any probe cap.
    expect(firstInSecondary).toBeLessThan(10_000);
  }, 120_000);

  it('a FIFO queue stays on its upstream and waits, spooled and visible; delivered in order when it is back', async () => {
    s = await setup(['--failover-probe-ms', '200', '--failover-probe-max-ms', '400'], ['orders', 'orders.fifo'], ['orders', 'orders.fifo']);
    const { primary, secondary, d } = s;
    await send(d.url, 'orders', 'warm-up');
    await primary.waitFor(() => primary.messageCount('orders') === 1, 5000);
    await primary.unplug();
    // A standard queue's batches trip the health check (three failures); the FIFO queue must not follow it.
    await send(d.url, 'orders', 'moves');
    await secondary.waitFor(() => secondary.messageCount('orders') === 1, 10_000);
    for (let i = 0; i < 5; i++) await send(d.url, 'orders.fifo', `f-${i}`, '&group_id=g1');
    await new Promise((r) => setTimeout(r, 500));
    expect(secondary.messageCount('orders.fifo')).toBe(0);
    const status = await getJson(d.url, '/status');
    const fifo = queueRow(status, 'orders.fifo');
    expect(fifo.backlog).toBe(5);
    expect(fifo.route).toMatchObject({ upstream: new URL(primary.endpoint).host, reason: 'fifo-stays' });
    expect(fifo.route.detail).toContain('--failover-fifo off');
    await primary.plugIn();
    await primary.waitFor(() => primary.messageCount('orders.fifo') === 5, 15_000);
    expect(primary.bodies('orders.fifo')).toEqual(['f-0', 'f-1', 'f-2', 'f-3', 'f-4']);
    expect(secondary.messageCount('orders.fifo')).toBe(0);
  }, 60_000);

  it('with --failover-fifo on, a FIFO queue moves too', async () => {
    s = await setup(['--failover-fifo', 'on'], ['orders.fifo'], ['orders.fifo']);
    const { primary, secondary, d } = s;
    await primary.unplug();
    for (let i = 0; i < 3; i++) await send(d.url, 'orders.fifo', `f-${i}`, '&group_id=g1');
    await secondary.waitFor(() => secondary.messageCount('orders.fifo') === 3, 15_000);
    expect(secondary.bodies('orders.fifo')).toEqual(['f-0', 'f-1', 'f-2']);
  }, 30_000);

  it('a queue missing in the secondary stays spooled and visible, and is delivered when the primary returns', async () => {
    s = await setup(['--failover-probe-ms', '200', '--failover-probe-max-ms', '400'], ['orders', 'only-here'], ['orders']);
    const { primary, secondary, d } = s;
    await send(d.url, 'only-here', 'warm-up'); // resolved in the primary first
    await primary.waitFor(() => primary.messageCount('only-here') === 1, 5000);
    await primary.unplug();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await post(d.url, '/queues/only-here', `message_body=w-${i}`, { contentType: 'application/x-www-form-urlencoded' });
      expect(r.status).toBe(202);
      ids.push(r.json.id);
    }
    await until(() => d.logs.find('cannot move to upstream').length > 0, 10_000, 'the secondary asked about the queue');
    const status = await getJson(d.url, '/status');
    const row = queueRow(status, 'only-here');
    expect(row.backlog).toBe(4);
    expect(row.route).toMatchObject({ upstream: new URL(primary.endpoint).host, reason: 'queue-missing' });
    expect(row.route.detail).toContain(`${new URL(secondary.endpoint).host} has no queue only-here`);
    // Each message still says where it is (not dead-lettered).
    const m = await getJson(d.url, `/messages/${ids[0]}`);
    expect(['spooled', 'in-flight']).toContain(m.state);
    expect(d.logs.find('dead-lettered').length).toBe(0);
    await primary.plugIn();
    await primary.waitFor(() => primary.messageCount('only-here') === 5, 15_000);
  }, 60_000);

  it('a batch the primary stored but whose answer was lost, resent to the secondary, is counted as a possible duplicate', async () => {
    s = await setup([], ['orders'], ['orders']);
    const { primary, secondary, d } = s;
    // Every SendMessageBatch is stored by the primary, then its connection dropped before the answer.
    primary.faults = { dropAfterStore: 1, actions: ['SendMessageBatch'] };
    const bodies = ['d-0', 'd-1', 'd-2', 'd-3', 'd-4'];
    // One request, one batch: every entry's first attempt goes to the (then healthy) primary.
    expect((await postJson(d.url, '/queues/orders', bodies)).status).toBe(202);
    await secondary.waitFor(() => secondary.messageCount('orders') === bodies.length, 15_000);
    const inPrimary = primary.countByBody('orders');
    for (const b of bodies) {
      expect(secondary.countByBody('orders').get(b)).toBe(1);
      expect(inPrimary.get(b) ?? 0).toBeGreaterThanOrEqual(1); // stored there too: a real duplicate
    }
    const status = await getJson(d.url, '/status');
    expect(status.possibleDuplicates).toBe(bodies.length);
    expect(await getText(d.url, '/metrics', 'text/plain')).toContain(`sqs_accelerator_failover_possible_duplicates_total ${bodies.length}`);
  }, 30_000);

  it('throttling on the primary never moves a queue', async () => {
    s = await setup(DEFAULTS, ['orders'], ['orders']);
    const { primary, secondary, d } = s;
    primary.faults = { throttle: 1, actions: ['SendMessageBatch'] };
    for (let i = 0; i < 20; i++) await send(d.url, 'orders', `t-${i}`);
    await until(() => (primary.stats.faultsInjected.throttle ?? 0) >= 10, 20_000, 'throttled ten times');
    const status = await getJson(d.url, '/status');
    expect(status.upstreams[0].state).toBe('healthy');
    expect(status.upstreams[0].failuresTotal).toBe(0);
    expect(secondary.stats.byAction.SendMessageBatch ?? 0).toBe(0);
    primary.faults = {};
    await primary.waitFor(() => primary.messageCount('orders') === 20, 30_000);
    expect(secondary.stats.entries).toBe(0);
  }, 60_000);

  it('a 503 outage (every request answered 5xx) moves queues too', async () => {
    s = await setup([], ['orders'], ['orders']);
    const { primary, secondary, d } = s;
    primary.down = true;
    for (let i = 0; i < 10; i++) await send(d.url, 'orders', `s-${i}`);
    await secondary.waitFor(() => secondary.messageCount('orders') === 10, 15_000);
    expect(primary.messageCount('orders')).toBe(0);
    // Ready while any upstream is healthy; not ready, saying why, once every one is down.
    const ready = await request(`${d.url}/readyz`);
    expect(ready.statusCode).toBe(200);
    await ready.body.text();
    secondary.down = true;
    await send(d.url, 'orders', 'waits');
    await until(() => d.logs.find(`upstream ${new URL(secondary.endpoint).host} is down`).length === 1, 15_000, 'the secondary down too');
    const notReady = await request(`${d.url}/readyz`);
    expect(notReady.statusCode).toBe(503);
    expect(((await notReady.body.json()) as { reason: string }).reason).toMatch(/^every upstream is down \(.*ServiceUnavailable/);
    // Chosen again at the queue's next batch (its retry, after a backoff).
    let route: any;
    for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
      route = queueRow(await getJson(d.url, '/status'), 'orders').route;
      if (route.reason === 'no-healthy-upstream') break;
    }
    expect(route).toMatchObject({ upstream: new URL(secondary.endpoint).host, reason: 'no-healthy-upstream' });
  }, 30_000);

  it('every upstream down: the outage hold\'s probe goes as soon as the router finds one healthy again, not at the end of its wait', async () => {
    // The hold's probes wait 1-2 s, then 2-4 s (--retry-base-ms 2000); the router probes a down upstream every 50-100 ms.
    s = await setup(['--retry-base-ms', '2000', '--retry-max-ms', '20000', '--failover-probe-ms', '50', '--failover-probe-max-ms', '100'], ['orders'], ['orders']);
    const { primary, secondary, d } = s;
    await send(d.url, 'orders', 'first'); // resolved in both while they answer
    await primary.waitFor(() => primary.messageCount('orders') === 1, 5000);
    primary.down = true;
    secondary.down = true;
    for (let i = 0; i < 30; i++) await send(d.url, 'orders', `held-${i}`);
    const outage = d.daemon.deps.pipeline.outage;
    await until(() => outage.snapshot().state === 'outage-probe' && outage.snapshot().probesFailed >= 1, 20_000, 'the hold with a failed probe');
    // Just after a probe failed: the hold's next one is 2-4 s away.
    const failed = outage.snapshot().probesFailed;
    await until(() => outage.snapshot().probesFailed > failed, 10_000, 'the next probe to fail');
    const back = Date.now();
    secondary.down = false;
    await secondary.waitFor(() => secondary.messageCount('orders') === 30, 10_000);
    const tookMs = Date.now() - back;
    expect(tookMs).toBeLessThan(1500);
    expect(outage.snapshot().state).toBe('delivering');
    expect(primary.messageCount('orders') + secondary.messageCount('orders')).toBe(31);
  }, 40_000);

  it('chain mode: an upstream with a profile signs with that profile\'s credentials, the primary with the daemon\'s chain', async () => {
    const primary = await startFakeSqs({ queues: ['orders'] });
    const secondary = await startFakeSqs({ queues: ['orders'] });
    const asked: string[] = [];
    const d = await startTestDaemon(primary.endpoint, ['--credentials', 'chain', '--upstreams', JSON.stringify([{ endpoint: secondary.endpoint, profile: 'dr', name: 'dr-region' }])], 'info', {
      credentialProvider,
      profileProvider: async (name) => {
        asked.push(name);
        return async () => ({ accessKeyId: 'AKIDPROFILE', secretAccessKey: 'profile-secret' });
      },
    });
    s = { primary, secondary, d };
    await send(d.url, 'orders', 'one');
    await primary.waitFor(() => primary.messageCount('orders') === 1, 5000);
    await primary.unplug();
    await send(d.url, 'orders', 'two');
    await secondary.waitFor(() => secondary.messageCount('orders') === 1, 10_000);
    expect(asked).toEqual(['dr']);
    expect(primary.messages('orders').map((m) => m.accessKeyId)).toEqual([AKID]);
    expect(secondary.messages('orders').map((m) => m.accessKeyId)).toEqual(['AKIDPROFILE']);
    const status = await getJson(d.url, '/status');
    expect(status.upstreams.map((u: any) => u.name)).toEqual([new URL(primary.endpoint).host, 'dr-region']);
    expect(JSON.stringify(status)).not.toContain('profile-secret');
    expect(d.logs.raw.join('\n')).not.toContain('profile-secret');
  }, 30_000);

  describe('the worker side', () => {
    let app: TestApp | undefined;
    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it('reads the queue in every upstream, so consumers drain wherever messages landed', async () => {
      app = await startTestApp();
      s = await setup(['--worker', `jobs=${app.url}`, '--worker-wait-time', '1'], ['jobs'], ['jobs'], { spool: false });
      const { primary, secondary, d } = s;
      // Messages put straight into each region, as two producers would.
      const creds = { accessKeyId: AKID, secretAccessKey: SECRET };
      for (const fake of [primary, secondary]) {
        const c = new SqsClient({ endpoint: fake.endpoint, region: 'us-east-1' });
        await c.call('SendMessage', { QueueUrl: fake.queueUrl('jobs'), MessageBody: `in-${fake.port}` }, creds);
        await c.close();
      }
      await until(() => app!.requests.length >= 2, 15_000, 'both messages at the app');
      expect(app.requests.map((r) => r.body).sort()).toEqual([`in-${primary.port}`, `in-${secondary.port}`].sort());
      const status = await getJson(d.url, '/status');
      expect(status.workers.map((w: any) => w.upstream).sort()).toEqual([new URL(primary.endpoint).host, new URL(secondary.endpoint).host].sort());
    }, 30_000);
  });
});
