/**
 * GET /healthz, /readyz and /metrics on a real daemon against the fault-injecting fake SQS.
 */
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { createApp } from '../../src/http/app.js';
import { Metrics, OTHER } from '../../src/metrics.js';
import type { Destination } from '../../src/sqs/resolver.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, startTestDaemon, until, type TestDaemon } from '../support/daemon.js';

async function get(url: string, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; text: string }> {
  const res = await request(`${url}${path}`, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

/** The value of one sample line of the exposition, e.g. `name{queue="q1"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ops routes', () => {
  let fake: FakeSqs;
  let d: TestDaemon;

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['q1', 'q2'] });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(async () => {
    fake.reset();
    fake.down = false;
    fake.faults = {};
    d = await startTestDaemon(fake.endpoint, ['--retry-base-ms', '5', '--retry-max-ms', '20']);
  });
  afterEach(async () => {
    fake.down = false;
    await d.stop();
  });

  it('GET /healthz answers without credentials and says nothing but ok', async () => {
    const r = await get(d.url, '/healthz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ status: 'ok' });
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['www-authenticate']).toBeUndefined();
    const head = await request(`${d.url}/healthz`, { method: 'HEAD' });
    await head.body.text();
    expect(head.statusCode).toBe(200);
  });

  it('GET /readyz lists its checks by state only (no endpoint, no queue names)', async () => {
    await post(d.url, '/queues/q1', 'm');
    await until(() => fake.messageCount('q1') === 1, 5000, 'delivery');
    const r = await get(d.url, '/readyz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ status: 'ready', checks: { listener: 'ok', spool: 'ok', backlog: 'ok', upstream: 'reachable' } });
    expect(r.text).not.toContain('q1');
    expect(r.text).not.toContain(String(fake.port));
  });

  it('/readyz is 503 while the listener is down (starting/stopping) or the spool cannot be written', async () => {
    const deps = d.daemon.deps;
    // The daemon's parts are built once and frozen: the same parts, served by an app that is "not listening yet".
    const starting = createApp({ ...deps, ready: () => false }).listen(0, '127.0.0.1');
    await new Promise((resolve) => starting.once('listening', resolve));
    let r = await get(`http://127.0.0.1:${(starting.address() as AddressInfo).port}`, '/readyz');
    await new Promise((resolve) => starting.close(resolve));
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text)).toMatchObject({ status: 'not ready', checks: { listener: 'down' } });
    const info = deps.store.info.bind(deps.store);
    deps.store.info = () => ({ ...info(), writable: false });
    r = await get(d.url, '/readyz');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text).checks.spool).toBe('unwritable');
    // The start-up gate (systemd ExecStartPost) still waits for a writable spool.
    expect((await get(d.url, '/readyz?exclude=upstream,backlog')).status).toBe(503);
    deps.store.info = info;
    expect((await get(d.url, '/readyz')).status).toBe(200);
  });

  it('/readyz turns 503 when SQS is unreachable, ?exclude=upstream ignores that, and it recovers', async () => {
    expect((await post(d.url, '/queues/q1', 'first')).status).toBe(202); // resolves the queue
    await until(() => fake.messageCount('q1') === 1, 5000, 'first delivery');
    fake.down = true;
    expect((await post(d.url, '/queues/q1', 'during outage')).status).toBe(202);
    await until(() => (fake.stats.faultsInjected.down ?? 0) >= 3, 5000, 'three failed requests');
    let r = await get(d.url, '/readyz');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.text).checks.upstream).toBe('unreachable');
    expect((await get(d.url, '/readyz?exclude=upstream')).status).toBe(200);
    expect(d.logs.find('SQS looks unreachable').length).toBe(1);
    fake.down = false;
    await until(() => fake.messageCount('q1') === 2, 5000, 'delivery after the outage');
    r = await get(d.url, '/readyz');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).checks.upstream).toBe('reachable');
  });

  it('/readyz reports a full backlog', async () => {
    const small = await startTestDaemon(fake.endpoint, ['--max-backlog-messages', '1']);
    try {
      expect((await post(small.url, '/queues/q1', 'a')).status).toBe(202);
      await until(() => fake.messageCount('q1') === 1, 5000, 'delivery');
      fake.down = true;
      expect((await post(small.url, '/queues/q1', 'b')).status).toBe(202);
      expect((await post(small.url, '/queues/q1', 'c')).status).toBe(503);
      const r = await get(small.url, '/readyz?exclude=upstream');
      expect(r.status).toBe(503);
      expect(JSON.parse(r.text).checks.backlog).toBe('full');
    } finally {
      fake.down = false;
      await small.stop();
    }
  });

  it('GET /metrics: Prometheus text with counters, gauges, histograms, pool and process metrics', async () => {
    for (let i = 0; i < 5; i++) expect((await post(d.url, '/queues/q1', `m${i}`)).status).toBe(202);
    expect((await post(d.url, '/queues/q2', 'x')).status).toBe(202);
    expect((await post(d.url, '/queues/nope', 'x')).status).toBe(404);
    await until(() => fake.messageCount('q1') === 5 && fake.messageCount('q2') === 1, 5000, 'deliveries');
    await d.daemon.deps.pipeline.idle();
    const r = await get(d.url, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const t = r.text;
    expect(sample(t, 'sqs_accelerator_messages_accepted_total{queue="q1"}')).toBe(5);
    expect(sample(t, 'sqs_accelerator_messages_accepted_total{queue="q2"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_messages_sent_total{queue="q1"}')).toBe(5);
    expect(sample(t, 'sqs_accelerator_accepted_bytes_total{queue="q1"}')).toBe(10);
    expect(sample(t, 'sqs_accelerator_backlog_messages')).toBe(0);
    expect(sample(t, 'sqs_accelerator_backlog_bytes')).toBe(0);
    expect(sample(t, 'sqs_accelerator_inflight_requests')).toBe(0);
    expect(sample(t, 'sqs_accelerator_spool_bytes')).toBe(0);
    expect(sample(t, 'sqs_accelerator_spool_writable')).toBe(1);
    expect(sample(t, 'sqs_accelerator_dead_letters_limit')).toBe(0); // memory store: no dead-letter store
    const batches = sample(t, 'sqs_accelerator_batch_size_count') as number;
    expect(batches).toBeGreaterThanOrEqual(2);
    expect(sample(t, 'sqs_accelerator_batch_size_sum')).toBe(6);
    expect(sample(t, 'sqs_accelerator_batch_size_bucket{le="10"}')).toBe(batches);
    expect(sample(t, 'sqs_accelerator_sqs_request_duration_seconds_count{result="ok"}')).toBe(batches);
    expect(sample(t, 'sqs_accelerator_sqs_requests_total{queue="q1",result="ok"}')).toBeGreaterThanOrEqual(1);
    // Every POST /queues/:name is timed, whatever its answer; nothing else is.
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_count{status="202"}')).toBe(6);
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_count{status="404"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_bucket{le="+Inf",status="202"}')).toBe(6);
    expect(sample(t, 'sqs_accelerator_upstream_pool{stat="connected"}')).toBeGreaterThanOrEqual(1);
    expect(sample(t, 'sqs_accelerator_upstream_state{state="reachable"}')).toBe(1);
    expect(t).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(t).toMatch(/^nodejs_eventloop_lag_seconds \d/m);
    expect(t).toMatch(/^process_resident_memory_bytes \d/m);
    // Message ids never become labels, and a queue that does not exist leaves no series.
    expect(t).not.toMatch(/queue="nope"/);
    expect(t).not.toMatch(/msg|message_id/i);
  });

  it('counts retries, request errors and dead letters by queue and code', async () => {
    expect((await post(d.url, '/queues/q1', 'a')).status).toBe(202);
    await until(() => fake.messageCount('q1') === 1, 5000, 'delivery');
    fake.faults = { serverError: 1, actions: ['SendMessageBatch'] };
    expect((await post(d.url, '/queues/q1', 'b')).status).toBe(202);
    await until(() => (fake.stats.faultsInjected.serverError ?? 0) >= 2, 5000, 'server errors');
    fake.faults = {};
    await until(() => fake.messageCount('q1') === 2, 5000, 'delivery after 5xx');
    fake.deleteQueue('q1'); // the daemon still has its URL: the next send is refused for good
    expect((await post(d.url, '/queues/q1', 'c')).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    const t = (await get(d.url, '/metrics')).text;
    expect(sample(t, 'sqs_accelerator_messages_dead_lettered_total{queue="q1",code="QueueDoesNotExist"}')).toBe(1);
    const retried = t.split('\n').filter((l) => l.startsWith('sqs_accelerator_messages_retried_total{queue="q1",code='));
    expect(retried.reduce((n, l) => n + Number(l.split(' ')[1]), 0)).toBeGreaterThanOrEqual(2);
    const errors = t.split('\n').filter((l) => l.startsWith('sqs_accelerator_sqs_request_errors_total{queue="q1",code="'));
    expect(errors.map((l) => /code="([^"]+)"/.exec(l)?.[1]).sort()).toEqual(expect.arrayContaining(['QueueDoesNotExist']));
    expect(errors.some((l) => /code="(InternalError|ServiceUnavailable)"/.test(l))).toBe(true);
    fake.createQueue('q1');
  });

  it('each daemon has its own registry', async () => {
    const other = await startTestDaemon(fake.endpoint);
    try {
      expect((await post(other.url, '/queues/q2', 'only here')).status).toBe(202);
      await until(() => fake.messageCount('q2') === 1, 5000, 'delivery');
      expect(sample((await get(other.url, '/metrics')).text, 'sqs_accelerator_messages_accepted_total{queue="q2"}')).toBe(1);
      expect(sample((await get(d.url, '/metrics')).text, 'sqs_accelerator_messages_accepted_total{queue="q2"}')).toBeUndefined();
    } finally {
      await other.stop();
    }
  });

  it('logs one line per request at debug level, none at info', async () => {
    await get(d.url, '/healthz');
    expect(d.logs.find('request')).toHaveLength(0);
    const dbg = await startTestDaemon(fake.endpoint, [], 'debug');
    try {
      await get(dbg.url, '/healthz');
      await post(dbg.url, '/queues/q1', 'x');
      const lines = dbg.logs.lines.filter((l) => l.msg === 'request');
      expect(lines).toHaveLength(2);
      expect(lines[0]).toMatchObject({ level: 'debug', method: 'GET', path: '/healthz', status: 200 });
      expect(lines[1]).toMatchObject({ method: 'POST', path: '/queues/q1', status: 202 });
      expect(typeof lines[1]?.ms).toBe('number');
      expect(Object.keys(lines[1] ?? {})).not.toContain('headers');
    } finally {
      await dbg.stop();
    }
  });

  it('the Host guard still covers the ops routes (no DNS-rebinding reads of /metrics)', async () => {
    expect((await get(d.url, '/metrics', { host: 'evil.example' })).status).toBe(421);
  });
});

describe('Metrics label bounds', () => {
  const dest = (queueName: string) => ({ queueName }) as Destination;

  it('caps distinct queue names and error codes, the rest count as "(other)"', async () => {
    const m = new Metrics({ maxQueueLabels: 2, maxCodeLabels: 1, processMetrics: false });
    m.observer.accepted?.(dest('a'), 1, 1);
    m.observer.accepted?.(dest('b'), 2, 2);
    m.observer.accepted?.(dest('c'), 3, 3);
    m.observer.accepted?.(dest('d'), 4, 4);
    m.observer.accepted?.(dest('a'), 5, 5);
    m.observer.deadLettered?.(dest('a'), 'QueueDoesNotExist', 1);
    m.observer.deadLettered?.(dest('a'), 'AccessDenied', 1);
    const t = await m.render();
    expect(sample(t, 'sqs_accelerator_messages_accepted_total{queue="a"}')).toBe(6);
    expect(sample(t, 'sqs_accelerator_messages_accepted_total{queue="b"}')).toBe(2);
    expect(sample(t, `sqs_accelerator_messages_accepted_total{queue="${OTHER}"}`)).toBe(7);
    expect(t).not.toContain('queue="c"');
    expect(sample(t, 'sqs_accelerator_messages_dead_lettered_total{queue="a",code="QueueDoesNotExist"}')).toBe(1);
    expect(sample(t, `sqs_accelerator_messages_dead_lettered_total{queue="a",code="${OTHER}"}`)).toBe(1);
    expect(t).not.toMatch(/^process_/m);
  });

  it('upstream: unknown, then unreachable after 3 network/5xx failures; throttling means reachable', () => {
    const m = new Metrics({ processMetrics: false });
    const fail = { code: 'NetworkError', httpStatus: 0 } as never;
    expect(m.upstream).toBe('unknown');
    // Every SQS request counts (sending, and resolving queues: issue 10), not only SendMessageBatch.
    m.noteCall('GetQueueUrl', fail);
    m.noteCall('SendMessageBatch', fail);
    expect(m.upstream).toBe('unknown');
    m.noteCall('GetQueueAttributes', { code: 'ServiceUnavailable', httpStatus: 503 });
    expect(m.upstream).toBe('unreachable');
    m.noteCall('SendMessageBatch', { code: 'CredentialsUnavailable', httpStatus: 0 });
    expect(m.upstream).toBe('unreachable');
    m.noteCall('SendMessageBatch', { code: 'ThrottlingException', httpStatus: 400 });
    expect(m.upstream).toBe('reachable');
  });
});
