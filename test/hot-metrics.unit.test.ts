/**
 * The per-request metrics read at scrape time (src/hot-metrics.ts) print exactly what
 * prom-client's own Histogram and Counter print for the same observations, and the daemon's
 * Metrics keeps its series' names, labels and label cap.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QueueTally, ScrapedHistogram, ScrapedSeries, tallyCounter } from '../src/hot-metrics.js';
import { Metrics } from '../src/metrics.js';
import type { Destination } from '../src/sqs/resolver.js';
import { withTurns } from './support/turns.js';

const BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Deterministic values spread over every bucket, on the bounds themselves and past the last one. */
function values(n: number, seed: number): number[] {
  let x = seed;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(i % 7 === 0 ? (BOUNDS[i % BOUNDS.length] as number) : (x / 2147483648) * 8 * 10 ** -(i % 5));
  }
  return out;
}

describe('ScrapedHistogram', () => {
  it('prints what a prom-client Histogram prints for the same observations, text and JSON', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const h = new ScrapedHistogram('t_ack_seconds', 'Ack time.', 'status', BOUNDS, ours);
    const ref = new Histogram({ name: 't_ack_seconds', help: 'Ack time.', labelNames: ['status'], buckets: BOUNDS, registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics()); // nothing observed: no series
    for (const [status, n, seed] of [['202', 500, 1], ['503', 37, 2], ['400', 1, 3]] as const) {
      const child = h.child(status);
      const refChild = ref.labels(status);
      for (const v of values(n, seed)) {
        child.observe(v);
        refChild.observe(v);
      }
    }
    const text = await ours.metrics();
    expect(text).toBe(await theirs.metrics());
    expect(text).toMatch(/^t_ack_seconds_bucket\{le="\+Inf",status="202"\} 500$/m);
    expect(text).toMatch(/^t_ack_seconds_count\{status="400"\} 1$/m);
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
    ours.resetMetrics();
    theirs.resetMetrics();
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});

describe('tallyCounter', () => {
  it('prints what a labelled prom-client Counter prints after the same increments', async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const a = new QueueTally('orders');
    const b = new QueueTally('(other)');
    tallyCounter(ours, 't_accepted_total', 'Accepted.', () => [a, b], (t) => t.accepted);
    const ref = new Counter({ name: 't_accepted_total', help: 'Accepted.', labelNames: ['queue'], registers: [theirs] });
    expect(await ours.metrics()).toBe(await theirs.metrics());
    a.accepted += 3;
    ref.inc({ queue: 'orders' }, 3);
    expect(await ours.metrics()).toBe(await theirs.metrics()); // "(other)" has no series until counted
    b.accepted += 100;
    ref.inc({ queue: '(other)' }, 100);
    a.accepted += 1;
    ref.inc({ queue: 'orders' }, 1);
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.metrics()).toMatch(/^t_accepted_total\{queue="orders"\} 4$/m);
  });
});

describe('ScrapedSeries', () => {
  it("prints what prom-client's Counter and Gauge print for the same series (labels with quotes, backslashes, newlines), text and JSON", async () => {
    const ours = new Registry();
    const theirs = new Registry();
    const odd = 'a "quoted" \\ back\nslash';
    const series: Array<[Record<string, string>, number]> = [
      [{ queue: 'orders', result: 'ok' }, 3],
      [{ queue: odd, result: 'error' }, 1.5],
      [{ queue: 'orders', result: 'error' }, 0],
    ];
    new ScrapedSeries('t_requests_total', 'Requests.', 'counter', (emit) => series.forEach(([l, v]) => emit(l, v)), ours);
    new ScrapedSeries('t_backlog', 'Backlog.', 'gauge', (emit) => series.forEach(([l, v]) => emit({ queue: `${l.queue}/${l.result}` }, v + 1)), ours);
    const c = new Counter({ name: 't_requests_total', help: 'Requests.', labelNames: ['queue', 'result'], registers: [theirs] });
    const g = new Gauge({ name: 't_backlog', help: 'Backlog.', labelNames: ['queue'], registers: [theirs] });
    for (const [l, v] of series) {
      c.inc(l, v);
      g.inc({ queue: `${l.queue}/${l.result}` }, v + 1);
    }
    expect(await ours.metrics()).toBe(await theirs.metrics());
    expect(await ours.getMetricsAsJSON()).toEqual(await theirs.getMetricsAsJSON());
  });
});

describe('Metrics', () => {
  const dest = (queueName: string) => ({ queueName }) as Destination;
  const sample = (text: string, series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('counts accepted messages, bytes, sends and acks per queue, past the label cap into "(other)"', async () => {
    const m = new Metrics({ processMetrics: false, maxQueueLabels: 2 });
    m.observer.accepted?.(dest('a'), 2, 400);
    m.observer.accepted?.(dest('b'), 1, 10);
    m.observer.accepted?.(dest('c'), 5, 50);
    m.observer.accepted?.(dest('d'), 1, 1);
    m.observer.accepted?.(dest('a'), 1, 100);
    m.observer.delivered?.(dest('a'), 3);
    m.observer.delivered?.(dest('d'), 1);
    m.observeAck(202, 0.0003);
    m.observeAck(202, 0.2);
    m.observeAck(503, 7);
    const t = await m.render();
    expect(sample(t, 'sqs_accelerator_messages_accepted_total{queue="a"}')).toBe(3);
    expect(sample(t, 'sqs_accelerator_messages_accepted_total{queue="b"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_messages_accepted_total{queue="(other)"}')).toBe(6);
    expect(sample(t, 'sqs_accelerator_accepted_bytes_total{queue="a"}')).toBe(500);
    expect(sample(t, 'sqs_accelerator_accepted_bytes_total{queue="(other)"}')).toBe(51);
    expect(sample(t, 'sqs_accelerator_messages_sent_total{queue="a"}')).toBe(3);
    expect(sample(t, 'sqs_accelerator_messages_sent_total{queue="(other)"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_messages_sent_total{queue="b"}')).toBeUndefined();
    expect(t).toContain('# TYPE sqs_accelerator_ack_duration_seconds histogram');
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_bucket{le="0.0005",status="202"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_bucket{le="0.25",status="202"}')).toBe(2);
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_bucket{le="5",status="503"}')).toBe(0);
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_bucket{le="+Inf",status="503"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_sum{status="503"}')).toBe(7);
    expect(sample(t, 'sqs_accelerator_ack_duration_seconds_count{status="202"}')).toBe(2);
  });

  it('counts SendMessageBatch requests and shows backlog per queue, past the label cap into "(other)"', async () => {
    const m = new Metrics({ processMetrics: false, maxQueueLabels: 2 });
    const stats = new Map([['a', { backlog: 4 }], ['b', { backlog: 0 }], ['c', { backlog: 2 }], ['d', { backlog: 5 }]]);
    m.attach({
      pipeline: { backlogMessages: 11, backlogBytes: 0, inFlightRequests: 0, totals: { md5Mismatch: 0 }, allStats: () => stats as never },
      store: { info: () => ({ durability: 'memory', spoolBytes: 0, writable: true, recovered: 0, corruptRecords: 0, deadLetters: 0 }) },
      client: { stats: () => undefined },
    });
    m.observer.batchDone?.(dest('a'), 10, 20, undefined);
    m.observer.batchDone?.(dest('a'), 3, 20, { code: 'NetworkError', message: 'x' } as never);
    m.observer.batchDone?.(dest('c'), 1, 20, undefined);
    m.observer.batchDone?.(dest('d'), 1, 20, undefined);
    const t = await m.render();
    expect(sample(t, 'sqs_accelerator_sqs_requests_total{queue="a",result="ok"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_sqs_requests_total{queue="a",result="error"}')).toBe(1);
    // The first two queues seen (a, c) keep their names; d, and b (seen first at the scrape), are "(other)".
    expect(sample(t, 'sqs_accelerator_sqs_requests_total{queue="c",result="ok"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_sqs_requests_total{queue="(other)",result="ok"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_sqs_requests_total{queue="c",result="error"}')).toBeUndefined();
    expect(sample(t, 'sqs_accelerator_sqs_request_errors_total{queue="a",code="NetworkError"}')).toBe(1);
    expect(sample(t, 'sqs_accelerator_queue_backlog_messages{queue="a"}')).toBe(4);
    expect(sample(t, 'sqs_accelerator_queue_backlog_messages{queue="c"}')).toBe(2);
    expect(sample(t, 'sqs_accelerator_queue_backlog_messages{queue="b"}')).toBeUndefined();
    expect(sample(t, 'sqs_accelerator_queue_backlog_messages{queue="(other)"}')).toBe(5);
    expect(t).toContain('# TYPE sqs_accelerator_queue_backlog_messages gauge');
    expect(t).toContain('# TYPE sqs_accelerator_sqs_requests_total counter');
  });

  it("renders the registry's own text one metric family a turn, so a scrape of many queues does not hold the event loop", async () => {
    const m = new Metrics({ maxQueueLabels: 1000 }); // process metrics on: the daemon's families
    for (let i = 0; i < 300; i++) {
      m.observer.accepted?.(dest(`q${i}`), i + 1, 10 * i);
      m.observer.retried?.(dest(`q${i}`), 'ThrottlingException', 1);
    }
    m.observeAck(202, 0.001);
    const { value: text, turns } = await withTurns(() => m.render());
    // One family a turn (the registry's metrics() renders all in one: no turn passes).
    expect(turns).toBeGreaterThanOrEqual(m.registry.getMetricsAsArray().length - 1);
    // The same text, but for the process figures that move between two readings.
    const moving = /^(process_|nodejs_)/;
    const steady = (t: string) => t.split('\n').filter((l) => !moving.test(l) && !moving.test(l.replace(/^# (HELP|TYPE) /, ''))).join('\n');
    expect(steady(text)).toBe(steady(await m.registry.metrics()));
    expect(sample(text, 'sqs_accelerator_messages_accepted_total{queue="q299"}')).toBe(300);
  });
});
