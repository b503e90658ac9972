import type { PipelineTotals, QueueStats } from './stats.js';

/**
 * The last minutes of the daemon's own numbers, for the UI's live charts: every `intervalMs` a
 * sample of the pipeline's counters (cumulative) and backlog, in total and per queue, kept for
 * `windowMs`; and SQS's approximate counts per queue URL, recorded whenever a page asked SQS for
 * them (the daemon never polls SQS for a chart). Everything is bounded: points per series by the
 * window, queues by `maxQueues` (the first seen; later ones are not charted and `dropped` says so).
 */

export interface Sample {
  at: number;
  accepted: number;
  sent: number;
  retried: number;
  deadLettered: number;
  backlog: number;
}

export interface SqsSample {
  at: number;
  visible?: number;
  inFlight?: number;
  delayed?: number;
}

export interface HistorySource {
  readonly totals: PipelineTotals;
  readonly backlogMessages: number;
  allStats(): ReadonlyMap<string, QueueStats>;
}

export interface HistoryOptions {
  /** Time between samples. ms, default 10000. */
  intervalMs?: number;
  /** How far back samples are kept. ms, default 900000 (15 min). */
  windowMs?: number;
  /** Most queues (and, separately, queue URLs) with a series. Default 200. */
  maxQueues?: number;
  /** Shortest time between two recorded SQS samples of one queue URL. ms, default 2000. */
  minSqsGapMs?: number;
}

export class History {
  readonly intervalMs: number;
  readonly windowMs: number;
  private readonly maxQueues: number;
  private readonly minSqsGapMs: number;
  private readonly total: Sample[] = [];
  private readonly perQueue = new Map<string, Sample[]>();
  private readonly sqs = new Map<string, SqsSample[]>();
  private timer: NodeJS.Timeout | undefined;
  /** Queues or URLs not charted because the bound was reached. */
  dropped = 0;

  constructor(
    private readonly source: HistorySource,
    options: HistoryOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 10_000;
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.maxQueues = options.maxQueues ?? 200;
    this.minSqsGapMs = options.minSqsGapMs ?? 2_000;
  }

  start(): void {
    if (this.timer) return;
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Takes one sample now (the timer calls this; tests may too). */
  sample(now = Date.now()): void {
    const t = this.source.totals;
    this.push(this.total, { at: now, accepted: t.accepted, sent: t.sent, retried: t.retried, deadLettered: t.deadLettered, backlog: this.source.backlogMessages }, now);
    for (const [name, s] of this.source.allStats()) {
      const series = this.seriesOf(this.perQueue, name);
      if (!series) continue;
      this.push(series, { at: now, accepted: s.accepted, sent: s.sent, retried: s.retried, deadLettered: s.deadLettered, backlog: s.backlog }, now);
    }
  }

  /** SQS's approximate counts of a queue as a page just read them. */
  recordSqs(queueUrl: string, counts: Omit<SqsSample, 'at'>, now = Date.now()): void {
    const series = this.seriesOf(this.sqs, queueUrl);
    if (!series) return;
    const last = series[series.length - 1];
    if (last && now - last.at < this.minSqsGapMs) return;
    this.push(series, { at: now, ...counts }, now);
  }

  /** The series of `key`, made on first use while fewer than `maxQueues` exist; past that none (counted in `dropped`). */
  private seriesOf<T>(map: Map<string, T[]>, key: string): T[] | undefined {
    let series = map.get(key);
    if (!series) {
      if (map.size >= this.maxQueues) {
        this.dropped += 1;
        return undefined;
      }
      series = [];
      map.set(key, series);
    }
    return series;
  }

  daemon(): readonly Sample[] {
    return this.total;
  }

  queue(name: string): readonly Sample[] {
    return this.perQueue.get(name) ?? [];
  }

  sqsCounts(queueUrl: string): readonly SqsSample[] {
    return this.sqs.get(queueUrl) ?? [];
  }

  private push<T extends { at: number }>(series: T[], point: T, now: number): void {
    series.push(point);
    while (series.length > 0 && (series[0] as T).at < now - this.windowMs) series.shift();
  }
}

/** Per-second rates between consecutive samples of a cumulative counter: [time, rate] pairs. */
export function ratesOf(samples: readonly Sample[], key: 'accepted' | 'sent' | 'retried' | 'deadLettered'): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 1; i < samples.length; i++) {
    const a = samples[i - 1] as Sample;
    const b = samples[i] as Sample;
    const dt = (b.at - a.at) / 1000;
    if (dt > 0) out.push([b.at, Math.max(0, b[key] - a[key]) / dt]);
  }
  return out;
}
