import type { SqsError } from '../sqs/errors.js';

export type UpstreamState = 'healthy' | 'down';

export interface HealthOptions {
  /** Consecutive faults that make an upstream down. */
  afterFailures: number;
  /** Faults without a success for this long make it down, however few. ms. */
  afterMs: number;
  /** First probe of a down upstream after this, doubling per failed probe. ms. */
  probeMs: number;
  /** Longest wait between probes. ms. */
  probeMaxMs: number;
}

/** What /status, the UI and /metrics show of one upstream (never a credential). */
export interface HealthSnapshot {
  state: UpstreamState;
  /** When the state last changed (ISO 8601). */
  since: string;
  consecutiveFailures: number;
  failuresTotal: number;
  /** Times it went down since the daemon started. */
  downTotal: number;
  lastError?: { code: string; message: string; at: string };
  /** While down: when the next probe goes out (ISO 8601). */
  nextProbeAt?: string;
}

/**
 * One upstream's health, from what delivery sees: faults (connection errors, timeouts, 5xx; see
 * upstreamFault in src/sqs/errors.ts) and answers. Down after `afterFailures` faults in a row, or
 * after faults without an answer for `afterMs`; healthy again at the first answer (a probe's or a
 * batch's). `onChange` is told each change once. Time comes from `now` (tests give their own).
 */
export class UpstreamHealth {
  state: UpstreamState = 'healthy';
  private consecutive = 0;
  private firstFaultAt = 0;
  private changedAt: number;
  private failuresTotal = 0;
  private downTotal = 0;
  private probesFailed = 0;
  private lastError: { code: string; message: string; at: number } | undefined;
  /** Date.now() of the next probe while down (set by whoever schedules it). */
  nextProbeAt = 0;

  constructor(
    private readonly options: HealthOptions,
    private readonly onChange: (state: UpstreamState, why: { code: string; failures: number } | undefined) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.changedAt = now();
  }

  get healthy(): boolean {
    return this.state === 'healthy';
  }

  /** The upstream answered (2xx, or any refusal that is not a fault: throttling, a queue's, a caller's). */
  answered(): void {
    this.consecutive = 0;
    this.firstFaultAt = 0;
    this.probesFailed = 0;
    if (this.state === 'down') this.change('healthy', undefined);
  }

  /** A request failed in a way that says the endpoint is unwell. */
  fault(err: SqsError): void {
    const now = this.now();
    this.failuresTotal += 1;
    this.consecutive += 1;
    if (this.firstFaultAt === 0) this.firstFaultAt = now;
    this.lastError = { code: err.code, message: err.message.slice(0, 300), at: now };
    if (this.state === 'healthy' && (this.consecutive >= this.options.afterFailures || now - this.firstFaultAt >= this.options.afterMs)) {
      this.downTotal += 1;
      this.change('down', { code: err.code, failures: this.consecutive });
    }
  }

  /** A probe of the down upstream failed: the next one waits twice as long (capped). Returns that wait, ms. */
  probeFailed(): number {
    this.probesFailed += 1;
    return this.probeDelayMs();
  }

  /** How long until the next probe, given the probes failed so far. */
  probeDelayMs(): number {
    return Math.min(this.options.probeMaxMs, this.options.probeMs * 2 ** Math.min(this.probesFailed, 30));
  }

  snapshot(): HealthSnapshot {
    const s: HealthSnapshot = {
      state: this.state,
      since: new Date(this.changedAt).toISOString(),
      consecutiveFailures: this.consecutive,
      failuresTotal: this.failuresTotal,
      downTotal: this.downTotal,
    };
    if (this.lastError) s.lastError = { code: this.lastError.code, message: this.lastError.message, at: new Date(this.lastError.at).toISOString() };
    if (this.state === 'down' && this.nextProbeAt > 0) s.nextProbeAt = new Date(this.nextProbeAt).toISOString();
    return s;
  }

  get counts(): { failuresTotal: number; downTotal: number } {
    return { failuresTotal: this.failuresTotal, downTotal: this.downTotal };
  }

  private change(state: UpstreamState, why: { code: string; failures: number } | undefined): void {
    this.state = state;
    this.changedAt = this.now();
    if (state === 'healthy') this.nextProbeAt = 0;
    this.onChange(state, why);
  }
}
