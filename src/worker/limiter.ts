/**
 * How many messages the app gets at once: starts at the configured maximum, halves when the app
 * answers 429/503 (and pauses for its Retry-After), shrinks by a tenth when answers get much
 * slower than the fastest seen lately, and grows back by one per quick success.
 */
export class AdaptiveLimit {
  current: number;
  /** Date.now() before which nothing new is sent (Retry-After). */
  pausedUntil = 0;
  private baselineMs = Infinity;
  private baselineAt = 0;
  private ewmaMs = 0;

  constructor(readonly max: number, private readonly now: () => number = Date.now) {
    this.current = max;
  }

  /** The app said 429/503: halve, and pause for `retryAfterMs` when it gave one. */
  busy(retryAfterMs: number | undefined): void {
    this.current = Math.max(1, Math.floor(this.current / 2));
    if (retryAfterMs !== undefined && retryAfterMs > 0) this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
  }

  /** An answer came (any status but 429/503) after `latencyMs`. */
  answered(latencyMs: number): void {
    const t = this.now();
    // The fastest recent answer is the baseline; forgotten after a minute so a slower app (a
    // deploy, bigger tasks) becomes the new normal instead of throttling forever.
    if (latencyMs < this.baselineMs || t - this.baselineAt > 60_000) {
      this.baselineMs = Math.max(latencyMs, 1);
      this.baselineAt = t;
    }
    this.ewmaMs = this.ewmaMs === 0 ? latencyMs : this.ewmaMs * 0.9 + latencyMs * 0.1;
    if (this.ewmaMs > 8 * this.baselineMs && this.ewmaMs > 100) {
      this.current = Math.max(1, Math.floor(this.current * 0.9));
    } else if (this.current < this.max) {
      this.current += 1;
    }
  }

  get paused(): boolean {
    return this.pausedUntil > this.now();
  }

  /** Smoothed app latency, ms (0 before the first answer). */
  get latencyMs(): number {
    return this.ewmaMs;
  }
}
