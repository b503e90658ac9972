import type { Logger } from 'pino';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PipelineObserver, QueueStats } from './delivery/pipeline.js';
import type { StoreInfo } from './delivery/store.js';
import type { PoolStatsSnapshot } from './sqs/client.js';
import type { Destination } from './sqs/resolver.js';
import type { Workers, WorkerStatus } from './worker/index.js';
import type { Upstreams } from './upstreams/router.js';
import { registerUpstreamMetrics } from './upstreams/metrics.js';
import { registerS3Metrics } from './s3/metrics.js';
import type { OutageSnapshot } from './delivery/outage.js';
import { type Observer, QueueTally, ScrapedHistogram, ScrapedSeries, tallyCounter } from './hot-metrics.js';
import type { S3Stats, UploadBacklog } from './s3/stats.js';
import type { HttpServerStats } from './http/server.js';

/** What the daemon knows about SQS from its own traffic; it never probes. */
export type UpstreamState = 'unknown' | 'reachable' | 'unreachable';

export interface MetricsOptions {
  /** Logs the upstream turning unreachable and back. */
  log?: Logger;
  /** Distinct queue label values before new queues are counted as "(other)". Default 1000. */
  maxQueueLabels?: number;
  /** Distinct error-code label values before new codes are counted as "(other)". Default 100. */
  maxCodeLabels?: number;
  /** prom-client's process and Node.js metrics (CPU, memory, event loop, GC). Default true. */
  processMetrics?: boolean;
  /** Consecutive SQS requests failing at the network or with 5xx before SQS counts as unreachable. Default 3. */
  unreachableAfter?: number;
}

/** The live state the gauges read at scrape time. */
export interface MetricSources {
  pipeline: {
    readonly backlogMessages: number;
    readonly backlogBytes: number;
    readonly inFlightRequests: number;
    readonly totals: { readonly md5Mismatch: number };
    allStats(): ReadonlyMap<string, QueueStats>;
    /** Batches held behind one probe while SQS fails every request (src/delivery/outage.ts). */
    readonly outage?: { snapshot(): OutageSnapshot };
  };
  store: { info(): StoreInfo };
  client: { stats(): PoolStatsSnapshot | undefined };
}

/** Not a valid SQS queue name, so it cannot be mistaken for one. */
export const OTHER = '(other)';

/** Keeps a label's distinct values bounded: the first `max` values seen keep their name. */
class LabelCap {
  private readonly seen = new Set<string>();
  constructor(private readonly max: number) {}
  get(value: string): string {
    if (this.seen.has(value)) return value;
    if (this.seen.size >= this.max) return OTHER;
    this.seen.add(value);
    return value;
  }
}

const ACK_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const UPSTREAM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
const POOL_STATS = ['connected', 'free', 'pending', 'queued', 'running', 'size'] as const;

/**
 * The daemon's Prometheus metrics, in a registry of its own (several daemons can share a
 * process in tests). Counters move through the PipelineObserver hooks; gauges read the
 * pipeline, store and pool when scraped. Labels: queue names (capped), SQS error codes
 * (capped) and HTTP statuses; never message ids, never credentials.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly maxQueues: number;
  readonly observer: PipelineObserver;
  private sources: MetricSources | undefined;
  private readonly queues: LabelCap;
  private readonly codes: LabelCap;
  private readonly log: Logger | undefined;
  private readonly unreachableAfter: number;
  private upstreamState: UpstreamState = 'unknown';
  /** Per queue name: its capped label's counts, plain numbers read at scrape time (hot-metrics.ts). */
  private readonly perQueue = new Map<string, QueueTally>();
  /** Per capped label, for the scrape (names past the cap all count into "(other)"'s). */
  private readonly tallies = new Map<string, QueueTally>();
  private readonly ackByStatus = new Map<number, Observer>();
  private upstreamFailures = 0;

  private readonly retried: Counter<'queue' | 'code'>;
  private readonly deadLettered: Counter<'queue' | 'code'>;
  private readonly requestErrors: Counter<'queue' | 'code'>;
  private readonly batchSize: Histogram;
  private readonly ackSeconds: ScrapedHistogram;
  private readonly upstreamSeconds: Histogram<'result'>;
  private readonly unexpected: Counter<'where'>;

  constructor(options: MetricsOptions = {}) {
    this.maxQueues = options.maxQueueLabels ?? 1000;
    this.queues = new LabelCap(this.maxQueues);
    this.codes = new LabelCap(options.maxCodeLabels ?? 100);
    this.log = options.log;
    this.unreachableAfter = options.unreachableAfter ?? 3;
    const registers = [this.registry];
    const p = 'sqs_accelerator_';
    const tallies = () => this.tallies.values();
    tallyCounter(this.registry, `${p}messages_accepted_total`, 'Messages acknowledged with 202 (recorded, on their way to SQS).', tallies, (t) => t.accepted);
    tallyCounter(this.registry, `${p}accepted_bytes_total`, 'Bytes of accepted messages, body and attributes as SQS counts them.', tallies, (t) => t.acceptedBytes);
    tallyCounter(this.registry, `${p}messages_sent_total`, 'Messages SQS confirmed.', tallies, (t) => t.sent);
    this.retried = new Counter({ name: `${p}messages_retried_total`, help: 'Message send attempts that failed transiently and were scheduled again, by error code.', labelNames: ['queue', 'code'], registers });
    this.deadLettered = new Counter({ name: `${p}messages_dead_lettered_total`, help: 'Messages SQS refused for good (or too old), by reason code.', labelNames: ['queue', 'code'], registers });
    new ScrapedSeries(
      `${p}sqs_requests_total`,
      'SendMessageBatch requests, by whether the request as a whole succeeded.',
      'counter',
      (emit) => {
        for (const t of this.tallies.values()) {
          if (t.requestsOk > 0) emit(t.sharedOk, t.requestsOk);
          if (t.requestsError > 0) emit(t.sharedError, t.requestsError);
        }
      },
      this.registry,
    );
    this.requestErrors = new Counter({ name: `${p}sqs_request_errors_total`, help: 'SendMessageBatch requests that failed as a whole, by error code (NetworkError, TimeoutError, throttling, 5xx, ...).', labelNames: ['queue', 'code'], registers });
    this.batchSize = new Histogram({ name: `${p}batch_size`, help: 'Entries per SendMessageBatch request.', buckets: BATCH_BUCKETS, registers });
    this.ackSeconds = new ScrapedHistogram(`${p}ack_duration_seconds`, 'Time to answer POST /queues/:name, from request to response, by HTTP status.', 'status', ACK_BUCKETS, this.registry);
    this.upstreamSeconds = new Histogram({ name: `${p}sqs_request_duration_seconds`, help: 'SendMessageBatch round trip to SQS, by result.', labelNames: ['result'], buckets: UPSTREAM_BUCKETS, registers });
    this.unexpected = new Counter({ name: `${p}unexpected_errors_total`, help: 'Bugs: errors the daemon did not expect (logged with their stack), by where they happened (http, delivery). Should stay 0.', labelNames: ['where'], registers });
    this.unexpected.inc({ where: 'http' }, 0);
    this.unexpected.inc({ where: 'delivery' }, 0);

    const self = this;
    const gauge = (name: string, help: string, read: (s: MetricSources) => number) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        registers,
        collect() {
          if (self.sources) this.set(read(self.sources));
        },
      });
    gauge('backlog_messages', 'Messages accepted and not yet delivered or dead-lettered.', (s) => s.pipeline.backlogMessages);
    gauge('backlog_bytes', 'Bytes accepted and not yet delivered or dead-lettered.', (s) => s.pipeline.backlogBytes);
    gauge('inflight_requests', 'SendMessageBatch requests in flight.', (s) => s.pipeline.inFlightRequests);
    gauge('spool_bytes', 'Bytes on disk used by the spool journal (0 in memory-only mode).', (s) => s.store.info().spoolBytes);
    gauge('spool_writable', '1 when the spool can be written; 0 means sends get 503.', (s) => (s.store.info().writable ? 1 : 0));
    gauge('spool_recovered_messages', 'Messages recovered from the spool at start.', (s) => s.store.info().recovered);
    gauge('spool_corrupt_records', 'Damaged journal records found at start.', (s) => s.store.info().corruptRecords);
    gauge('dead_letters_stored', 'Dead letters kept in the dead-letter store.', (s) => s.store.info().deadLetters);
    gauge('dead_letters_limit', 'The --max-dead-letters bound (0: no dead-letter store); past it refused messages stay in the spool.', (s) => s.store.info().deadLettersLimit ?? 0);
    new ScrapedSeries(
      `${p}queue_backlog_messages`,
      'Messages not yet delivered, per queue.',
      'gauge',
      (emit) => {
        if (!this.sources) return;
        // Per label: queues past the cap add up into "(other)"'s series, where the first of them is.
        const sums = new Map<QueueTally, number>();
        for (const [name, stats] of this.sources.pipeline.allStats()) {
          const t = this.queue(name);
          sums.set(t, (sums.get(t) ?? 0) + stats.backlog);
        }
        for (const [t, v] of sums) emit(t.shared, v);
      },
      this.registry,
    );
    new Gauge({
      name: `${p}upstream_pool`,
      help: 'The connection pool to SQS: connections (connected, free) and requests (pending, queued, running, size).',
      labelNames: ['stat'],
      registers,
      collect() {
        const stats = self.sources?.client.stats();
        if (!stats) return;
        for (const k of POOL_STATS) this.set({ stat: k }, stats[k]);
      },
    });
    new Gauge({
      name: `${p}upstream_state`,
      help: 'What the daemon knows of SQS from its own requests: 1 for the current state (unknown, reachable, unreachable).',
      labelNames: ['state'],
      registers,
      collect() {
        for (const s of ['unknown', 'reachable', 'unreachable'] as const) this.set({ state: s }, s === self.upstreamState ? 1 : 0);
      },
    });
    gauge('delivery_outage', '1 while SQS fails every request and batches are held behind one probe at a time; 0 while batches go as the in-flight limit allows.', (s) => (s.pipeline.outage?.snapshot().state === 'outage-probe' ? 1 : 0));
    new Counter({
      name: `${p}outage_probes_total`,
      help: 'Batches sent as the one probe while batches were held (an outage); each failed probe doubles the wait for the next, up to 5 s.',
      registers,
      collect() {
        const o = self.sources?.pipeline.outage;
        if (!o) return;
        this.reset();
        this.inc(o.snapshot().probesTotal);
      },
    });
    new Counter({
      name: `${p}md5_mismatches_total`,
      help: 'Entries SQS stored with a body MD5 other than what was sent (resent).',
      registers,
      collect() {
        if (!self.sources) return;
        this.reset();
        this.inc(self.sources.pipeline.totals.md5Mismatch);
      },
    });
    // nodejs_eventloop_lag_* sample every 10 ms (prom-client's default, stated here: bench/lib/event-loop.ts subtracts it).
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 10 });

    this.observer = {
      accepted: (dest, count, bytes) => {
        const q = this.queue(dest.queueName);
        q.accepted += count;
        q.acceptedBytes += bytes;
      },
      delivered: (dest, count) => {
        this.queue(dest.queueName).sent += count;
      },
      retried: (dest, code, count) => this.retried.inc({ queue: this.queues.get(dest.queueName), code: this.codes.get(code) }, count),
      deadLettered: (dest, code, count) => this.deadLettered.inc({ queue: this.queues.get(dest.queueName), code: this.codes.get(code) }, count),
      batchDone: (dest, entries, latencyMs, requestError) => {
        const q = this.queue(dest.queueName);
        this.batchSize.observe(entries);
        this.upstreamSeconds.observe({ result: requestError ? 'error' : 'ok' }, latencyMs / 1000);
        if (requestError) {
          q.requestsError += 1;
          this.requestErrors.inc({ queue: q.label, code: this.codes.get(requestError.code) });
        } else q.requestsOk += 1;
      },
      unexpectedError: () => this.unexpectedError('delivery'),
    };
  }

  private queue(name: string): QueueTally {
    let q = this.perQueue.get(name);
    if (!q) {
      const label = this.queues.get(name);
      q = this.tallies.get(label);
      if (!q) this.tallies.set(label, (q = new QueueTally(label)));
      // Names past the cap share "(other)"'s tally; remembering them all would be the leak the cap prevents.
      if (label !== OTHER) this.perQueue.set(name, q);
    }
    return q;
  }

  /**
   * The worker side: per worker queue (configured, so a bounded label set), counters and gauges
   * read from each worker's status at scrape time, and the app's answer times as a histogram.
   */
  attachWorkers(workers: Workers): void {
    const p = 'sqs_accelerator_worker_';
    const registers = [this.registry];
    const latency = new Histogram({ name: `${p}app_duration_seconds`, help: 'Time the local app took to answer one message, by worker queue and outcome (ok, failed).', labelNames: ['queue', 'outcome'], buckets: UPSTREAM_BUCKETS, registers });
    // One child per (queue, outcome), made once: observing through labels hashes them each time, per message.
    // Keyed by the queue name itself (no key string built per message); each child made on first use.
    type Child = { observe(v: number): void };
    const children = new Map<string, { ok?: Child; failed?: Child }>();
    const observe = (queue: string, outcome: 'ok' | 'failed', ms: number): void => {
      let pair = children.get(queue);
      if (!pair) children.set(queue, (pair = {}));
      (pair[outcome] ??= latency.labels({ queue, outcome })).observe(ms / 1000);
    };
    workers.on('delivered', (e) => observe(e.queue, 'ok', e.latencyMs));
    workers.on('failed', (e) => observe(e.queue, 'failed', e.latencyMs));
    const fromStatus = (kind: 'counter' | 'gauge', name: string, help: string, read: (w: WorkerStatus) => number) => {
      const Ctor = kind === 'counter' ? Counter : Gauge;
      new Ctor({
        name: `${p}${name}`,
        help,
        labelNames: ['queue'],
        registers,
        collect() {
          this.reset();
          for (const w of workers.status()) (this as Gauge<'queue'>).inc({ queue: w.queue }, read(w));
        },
      });
    };
    fromStatus('counter', 'delivered_total', 'Messages the app answered 2xx to and SQS deleted.', (w) => w.delivered);
    fromStatus('counter', 'failed_total', 'Deliveries the app failed (non-2xx, timeout, refused), or whose reply was not accepted.', (w) => w.failed);
    fromStatus('counter', 'retried_total', 'Failed deliveries handed back to SQS for another attempt.', (w) => w.retried);
    fromStatus('counter', 'left_to_redrive_total', 'Messages past maxRetries, left to the queue\'s redrive policy.', (w) => w.leftToRedrive);
    fromStatus('counter', 'replies_total', 'Replies accepted for a reply queue.', (w) => w.replies);
    fromStatus('gauge', 'in_flight', 'Messages being POSTed to the app now.', (w) => w.inFlight);
    fromStatus('gauge', 'held', 'Messages received and not yet settled with SQS.', (w) => w.held);
    fromStatus('gauge', 'limit', 'The adaptive limit on messages at the app at once.', (w) => w.limit);
    fromStatus('gauge', 'app_latency_seconds', 'Smoothed time the app takes to answer.', (w) => w.appLatencyMs / 1000);
  }

  /** Failover: each upstream's health and deliveries, and which upstream each queue uses (src/upstreams/metrics.ts). */
  attachUpstreams(upstreams: Upstreams, pipeline: { allStats(): ReadonlyMap<string, QueueStats> }): void {
    registerUpstreamMetrics(this.registry, upstreams, () => pipeline.allStats().keys(), this.maxQueues);
  }

  /** Large messages: S3 uploads, downloads, deletes, failures and the upload backlog (src/s3/metrics.ts). */
  attachS3(stats: S3Stats, backlog: (() => UploadBacklog) | undefined): void {
    registerS3Metrics(this.registry, stats, backlog);
  }

  /** The HTTP server's client connections and request-body bytes held, against their bounds (src/http/server.ts). */
  attachHttp(read: () => HttpServerStats): void {
    const p = 'sqs_accelerator_';
    const gauge = (name: string, help: string, value: (s: HttpServerStats) => number) =>
      new Gauge({
        name: `${p}${name}`,
        help,
        registers: [this.registry],
        collect() {
          this.set(value(read()));
        },
      });
    gauge('client_connections', 'Client connections open now (past --max-connections new ones are refused 503 TooManyConnections).', (s) => s.connections);
    gauge('client_connections_limit', 'The --max-connections bound.', (s) => s.maxConnections);
    gauge('inflight_body_bytes', 'Request-body bytes held by all requests together now (past the bound new bodies are refused 503 TooManyBodyBytes).', (s) => s.bodyBytesInFlight);
    gauge('inflight_body_bytes_limit', 'The --max-inflight-body-bytes bound (0: none).', (s) => s.maxInflightBodyBytes);
  }

  /** Gives the gauges something to read; until then they stay at 0. */
  attach(sources: MetricSources): void {
    this.sources = sources;
  }

  /** A bug met while serving a request (`http`) or sending (`delivery`); already logged with its stack. */
  unexpectedError(where: 'http' | 'delivery'): void {
    this.unexpected.inc({ where });
  }

  /** One answered POST /queues/:name. */
  observeAck(status: number, seconds: number): void {
    let h = this.ackByStatus.get(status);
    if (!h) this.ackByStatus.set(status, (h = this.ackSeconds.child(String(status))));
    h.observe(seconds);
  }

  get upstream(): UpstreamState {
    return this.upstreamState;
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /**
   * The Prometheus text exposition, the same text as the registry's metrics(), one metric family
   * a turn of the event loop: the registry renders every family in one turn, 13-20 ms with 1,000
   * queues in use (issue 11: no request holds the loop more than a few milliseconds; a scrape
   * every 15 s held every ack behind it).
   */
  async render(): Promise<string> {
    const parts: string[] = [];
    for (const metric of this.registry.getMetricsAsArray()) {
      parts.push(await this.registry.getSingleMetricAsString(metric.name));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    return `${parts.join('\n\n')}\n`;
  }

  /** The last request error that counted towards "unreachable" (for /readyz's reason). */
  lastUpstreamError: string | undefined;

  /**
   * Every request the daemon makes to SQS (sending, resolving, reading settings) ends here.
   * Network failures, timeouts and 5xx say SQS is not there; any other answer (even
   * throttling or access denied) says it is. Credential-provider failures say nothing.
   */
  noteCall(action: string, err: { code: string; httpStatus: number } | undefined): void {
    if (err && (err.httpStatus >= 500 || (err.httpStatus === 0 && (err.code === 'NetworkError' || err.code === 'TimeoutError')))) {
      this.upstreamFailures += 1;
      this.lastUpstreamError = err.code;
      if (this.upstreamFailures >= this.unreachableAfter && this.upstreamState !== 'unreachable') {
        this.upstreamState = 'unreachable';
        this.log?.warn({ action, code: err.code, failures: this.upstreamFailures }, 'SQS looks unreachable: consecutive requests failed; accepted messages are kept and retried');
      }
      return;
    }
    if (err && err.httpStatus === 0) return;
    if (this.upstreamState === 'unreachable') this.log?.info({ action }, 'SQS reachable again');
    this.upstreamFailures = 0;
    this.upstreamState = 'reachable';
  }
}
