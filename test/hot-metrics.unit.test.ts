/**
 * The per-request metrics read at scrape time (src/hot-metrics.ts) print exactly what
 * prom-client's own Histogram and Counter print for the same observations, and the daemon's
 * Metrics keeps its series' names, labels and label cap.
 */
import { Counter, Histogram, Registry } from 'prom-client';
import { QueueTally, ScrapedHistogram, tallyCounter } from '../src/hot-metrics.js';
import { Metrics } from '../src/metrics.js';
import type { Destination } from '../src/sqs/resolver.js';

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
});
