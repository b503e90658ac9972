import type { Registry } from 'prom-client';

/**
 * The metrics that move once per request (issue 14): plain numbers on the hot path, handed to
 * prom-client only when /metrics is scraped. prom-client hashes a series' labels and checks
 * them on every `inc` and `observe`, even through a child from `labels()`; three of those per
 * single-message POST were ~5 µs of the bench machine's ~225. The text a scrape gets is the same
 * as before, series for series (names, help, types, label order).
 */

/** One queue label's counts (queue names past the label cap share the "(other)" one). */
export class QueueTally {
  accepted = 0;
  acceptedBytes = 0;
  sent = 0;
  /** SendMessageBatch requests that succeeded / failed as a whole. */
  requestsOk = 0;
  requestsError = 0;
  /**
   * Its label sets, made once: prom-client formats a series' shared labels once per object (a
   * WeakMap), where a Counter's own labels are hashed, checked and escaped at every scrape.
   */
  readonly shared: Readonly<Record<string, string>>;
  readonly sharedOk: Readonly<Record<string, string>>;
  readonly sharedError: Readonly<Record<string, string>>;
  constructor(readonly label: string) {
    this.shared = { queue: label };
    this.sharedOk = { queue: label, result: 'ok' };
    this.sharedError = { queue: label, result: 'error' };
  }
}

/** Hands each series' label set and value to `emit`, in the order to print them. */
export type SeriesSource = (emit: (labels: Readonly<Record<string, string>>, value: number) => void) => void;

/**
 * A counter or gauge whose series are read at scrape time from plain numbers (`each`), each
 * with a label set made once: what prom-client's Counter or Gauge prints for the same values,
 * without hashing and escaping every label of every series at each scrape (a family of 1,000
 * queues took 3-7 ms of the event loop, issue 11) or on the hot path.
 */
export class ScrapedSeries {
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    private readonly each: SeriesSource,
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** Used by Registry.metrics(). */
  getForPromString(): { name: string; help: string; type: string; values: ValuePair[]; aggregator: string } {
    const values: ValuePair[] = [];
    this.each((sharedLabels, value) => values.push({ labels: {}, sharedLabels: sharedLabels as Record<string, string>, value, metricName: this.name, exemplar: undefined }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Used by Registry.getMetricsAsJSON(): the labels in `labels`, as prom-client gives them. */
  get(): { name: string; help: string; type: string; values: Array<{ value: number; labels: Record<string, string> }>; aggregator: string } {
    const values: Array<{ value: number; labels: Record<string, string> }> = [];
    this.each((labels, value) => values.push({ value, labels: { ...labels } }));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    // Nothing to reset: the values are read from their sources at each scrape.
  }
}

/**
 * A counter with a `queue` label whose values are read from `tallies` at scrape time. A label
 * gets its series with its first increment, as with `inc`.
 */
export function tallyCounter(registry: Registry, name: string, help: string, tallies: () => Iterable<QueueTally>, read: (t: QueueTally) => number): ScrapedSeries {
  return new ScrapedSeries(
    name,
    help,
    'counter',
    (emit) => {
      for (const t of tallies()) {
        const v = read(t);
        if (v > 0) emit(t.shared, v);
      }
    },
    registry,
  );
}

interface Series {
  /** Observations per bucket (not cumulative); the last slot is above every bound. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  readonly shared: Record<string, string>;
}

interface ValuePair {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
  /** As prom-client: null on buckets, undefined on _sum and _count. */
  exemplar: null | undefined;
}

/** What `observe` needs of a histogram child. */
export interface Observer {
  observe(value: number): void;
}

/**
 * A Prometheus histogram with one label, registered as a metric of its own: a child is a plain
 * bucket array, and the exposition (what prom-client's Histogram would print for the same
 * observations: `_bucket{le=…,label=…}` cumulative, `+Inf`, `_sum`, `_count`) is built when
 * scraped.
 */
export class ScrapedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelName: string,
    private readonly upperBounds: readonly number[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  /** The child for one label value, made once per value: observing through it allocates nothing. */
  child(value: string): Observer {
    let s = this.series.get(value);
    if (!s) {
      s = { counts: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0, shared: { [this.labelName]: value } };
      this.series.set(value, s);
    }
    const series = s;
    const bounds = this.upperBounds;
    return {
      observe(v: number): void {
        if (!Number.isFinite(v)) return; // prom-client throws; an ack time is always finite
        let i = 0;
        while (i < bounds.length && v > (bounds[i] as number)) i++;
        series.counts[i] = (series.counts[i] ?? 0) + 1;
        series.sum += v;
        series.count += 1;
      },
    };
  }

  reset(): void {
    for (const s of this.series.values()) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
    }
  }

  /** Used by Registry.metrics(): label sets as prom-client's Histogram gives them. */
  getForPromString(): { name: string; help: string; type: string; values: ValuePair[]; aggregator: string } {
    const values: ValuePair[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.series.values()) {
      if (s.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        acc += s.counts[i] as number;
        values.push({ labels: { le: this.upperBounds[i] as number }, sharedLabels: s.shared, value: acc, metricName: bucket, exemplar: null });
      }
      values.push({ labels: { le: '+Inf' }, sharedLabels: s.shared, value: s.count, metricName: bucket, exemplar: null });
      values.push({ labels: {}, sharedLabels: s.shared, value: s.sum, metricName: `${this.name}_sum`, exemplar: undefined });
      values.push({ labels: {}, sharedLabels: s.shared, value: s.count, metricName: `${this.name}_count`, exemplar: undefined });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Used by Registry.getMetricsAsJSON(): every label in `labels`. */
  get(): { name: string; help: string; type: string; values: Array<Omit<ValuePair, 'sharedLabels'>>; aggregator: string } {
    const data = this.getForPromString();
    return { ...data, values: data.values.map(({ sharedLabels, labels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } })) };
  }
}
