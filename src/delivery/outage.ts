import { backoffMs } from './retry.js';
import type { BatchOutcome } from './sender.js';

/**
 * What one finished batch says about SQS: `fault` (the request failed as a whole, or every entry
 * failed, with a transient error: network, timeout, 5xx, throttling), `answer` (SQS took
 * something, or refused something for a reason of its own: it is there), `neutral` (the batch
 * says nothing about this upstream: the failover router may send the next batch elsewhere).
 */
export type OutageSignal = 'fault' | 'answer' | 'neutral';

export function outageSignal(outcome: BatchOutcome): OutageSignal {
  if (outcome.delivered.length > 0 || outcome.md5Mismatch.length > 0) return 'answer';
  const err = outcome.requestError;
  if (err !== undefined) {
    // A bug of ours is not an outage of SQS: it stays visible (log, metric) batch by batch.
    if (err.disposition !== 'retry' || err.code === 'UnexpectedError') return 'answer';
    return outcome.elsewhere === true ? 'neutral' : 'fault';
  }
  if (outcome.failed.length === 0) return 'answer';
  for (const f of outcome.failed) if (f.error.disposition !== 'retry') return 'answer';
  return 'fault';
}

/** Faults in a row (no answer between them) that, lasting OUTAGE_AFTER_MS as well, make an outage. */
export const OUTAGE_AFTER_FAULTS = 3;
/** How long faults must go on without an answer before batches are held. ms. */
export const OUTAGE_AFTER_MS = 1000;
/**
 * Faults in a row that hold batches at once, however little time they took. With many batches in
 * flight an outage's first second was ~3,600 failed requests (256 batches, each retried at
 * 50-100 ms, 100-200 ms, ...) before OUTAGE_AFTER_MS had passed. A healthy SQS does not fail this
 * many requests in a row with no answer between them; and holding on a blip costs one probe's wait
 * (--retry-base-ms, what each batch's own retry would have waited) before the answer releases all.
 */
export const OUTAGE_AT_ONCE_FAULTS = 32;
/**
 * Longest wait between two probes (when --retry-max-ms is longer): a probe is one request, and
 * the wait is how long delivery may stay stopped after SQS is back. ms.
 */
export const PROBE_MAX_MS = 5000;

export interface OutageOptions {
  /** The first probe waits about this long (jittered), doubling per failed probe: --retry-base-ms. */
  retryBaseMs: number;
  /** The probes' wait never exceeds this (nor PROBE_MAX_MS): --retry-max-ms. */
  retryMaxMs: number;
}

/** What /status and /metrics show of it. */
export interface OutageSnapshot {
  /** `delivering`: batches go as the in-flight limit allows; `outage-probe`: held, one probe at a time. */
  state: 'delivering' | 'outage-probe';
  /** When the state last changed (ISO 8601); absent before the first outage. */
  since?: string;
  /** Probes that failed in the current outage. */
  probesFailed: number;
  /** While held: when the next probe may go (ISO 8601); absent while one is in flight. */
  nextProbeAt?: string;
  /** Destinations whose batches are held now. */
  heldDestinations: number;
  /** Outages since the daemon started, and the probes sent in them. */
  outagesTotal: number;
  probesTotal: number;
}

/**
 * Holds every destination's batches while SQS is down, behind one probe at a time (issue 14).
 * Without it each batch in memory fails and retries on its own jittered schedule during an
 * outage: ~120 failed requests a second with 10,000 messages held, CPU, garbage and SQS requests
 * for nothing. With it, once faults have gone on for OUTAGE_AFTER_FAULTS batches in a row and
 * OUTAGE_AFTER_MS without an answer (or for OUTAGE_AT_ONCE_FAULTS in a row), batches are held where they wait (their batcher: order
 * kept); one batch at a time goes as the probe, after a capped, jittered backoff that doubles
 * per failed probe; the first answer (the probe's, or any batch's still in flight) releases
 * every held batch to go at the in-flight limit's pace. It decides nothing about entries: what
 * failed is sorted, dead-lettered or retried as ever (outcome.ts); only when batches go changes.
 *
 * `T` is what is held (the pipeline's batchers). The owner calls `admit` for each batch it is
 * about to send while `holding`, `record` for each that came back, and on `onProbeDue` /
 * `onEnd` takes the held ones back (`takeHeld`) and tries again.
 */
export class OutageGate<T> {
  holding = false;
  /** Batchers with sendable work that were held; taken back when a probe is due or the outage ends. */
  readonly held = new Set<T>();
  private streak = 0;
  private streakSince = 0;
  private probeDue = false;
  private probeInFlight = false;
  private probesFailed = 0;
  private changedAt = 0;
  private nextProbeAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private outagesTotal = 0;
  private probesTotal = 0;

  constructor(
    private readonly options: OutageOptions,
    /** A probe may go now: take the held ones back and try. */
    private readonly onProbeDue: () => void,
    /** SQS answered: take the held ones back and send. */
    private readonly onEnd: () => void,
    private readonly now: () => number = Date.now,
    private readonly random: () => number = Math.random,
  ) {}

  /** While holding: may this batch go, as the probe? True takes the probe's place (one at a time). */
  admitProbe(): boolean {
    if (!this.probeDue || this.probeInFlight) return false;
    this.probeDue = false;
    this.probeInFlight = true;
    this.probesTotal += 1;
    return true;
  }

  /** Is a probe due with none in flight (the owner should take the held ones back)? */
  get probeWaiting(): boolean {
    return this.holding && this.probeDue && !this.probeInFlight;
  }

  /** A batch came back; `probe`: it was the one admitProbe let go. */
  record(signal: OutageSignal, probe: boolean): void {
    if (probe) this.probeInFlight = false;
    if (signal === 'answer') {
      this.streak = 0;
      if (this.holding) this.end();
      return;
    }
    if (signal === 'neutral') {
      if (probe && this.holding) this.schedule();
      return;
    }
    if (!this.holding) {
      const now = this.now();
      if (this.streak === 0) this.streakSince = now;
      this.streak += 1;
      if (this.streak >= OUTAGE_AT_ONCE_FAULTS || (this.streak >= OUTAGE_AFTER_FAULTS && now - this.streakSince >= OUTAGE_AFTER_MS)) this.begin(now);
      return;
    }
    if (probe) {
      this.probesFailed += 1;
      this.schedule();
    }
  }

  /**
   * Something outside this gate says SQS may answer now (a failover upstream was found healthy
   * again by the router's own probe): while holding, the next probe goes at once instead of at
   * the end of its wait. One probe at a time still: with one in flight, nothing changes.
   */
  probeNow(): void {
    if (!this.holding || this.stopped || this.probeInFlight || this.probeDue) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.probeDue = true;
    this.onProbeDue();
  }

  /** Moves the held ones into `into` (the owner's ready set), in the order they were held. */
  takeHeld(into: Set<T>): void {
    for (const t of this.held) into.add(t);
    this.held.clear();
  }

  /** Shutdown: no more probes. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  snapshot(): OutageSnapshot {
    const s: OutageSnapshot = { state: this.holding ? 'outage-probe' : 'delivering', probesFailed: this.probesFailed, heldDestinations: this.held.size, outagesTotal: this.outagesTotal, probesTotal: this.probesTotal };
    if (this.changedAt > 0) s.since = new Date(this.changedAt).toISOString();
    if (this.holding && this.timer !== undefined) s.nextProbeAt = new Date(this.nextProbeAt).toISOString();
    return s;
  }

  private begin(now: number): void {
    this.holding = true;
    this.changedAt = now;
    this.outagesTotal += 1;
    this.probesFailed = 0;
    this.probeDue = false;
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    const delay = backoffMs(this.probesFailed + 1, { baseMs: this.options.retryBaseMs, maxMs: Math.min(this.options.retryMaxMs, PROBE_MAX_MS) }, this.random);
    this.nextProbeAt = this.now() + delay;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.probeDue = true;
      this.onProbeDue();
    }, delay);
    this.timer.unref();
  }

  private end(): void {
    this.holding = false;
    this.changedAt = this.now();
    this.streak = 0;
    this.probesFailed = 0;
    this.probeDue = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.onEnd();
  }
}
