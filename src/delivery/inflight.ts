/**
 * How many SendMessageBatch requests may be in flight at once, all queues together (issue 14):
 * an additive-increase, multiplicative-decrease limit between a floor and `--max-concurrency`.
 *
 * - It starts at `start` (64, the old fixed default, or the ceiling if lower).
 * - Each batch that comes back unthrottled while other batches were waiting for a slot raises it
 *   by one (so with a backlog it roughly doubles every round trip, up to the ceiling). Without
 *   waiting batches it stays: an idle or lightly loaded daemon never opens more connections.
 * - A batch that SQS throttled (the request or any entry: THROTTLING_CODES) halves it, not below
 *   the floor, once per round trip: batches sent before the last cut do not cut again, so a burst
 *   of throttled answers to requests that were all in flight together counts as one signal.
 *
 * Memory stays bounded by the ceiling and by `maxBytes` of message bytes in flight (a batch is
 * up to 1 MiB: at most 64 MiB in flight by default, what 64 full batches held before).
 */
export class InFlightLimit {
  /** Requests allowed in flight now. */
  current: number;
  /** When the limit was last halved (ms, the caller's clock). */
  private cutAt = -Infinity;

  constructor(
    /** The ceiling: --max-concurrency. */
    readonly max: number,
    readonly start = Math.min(64, max),
    /** The floor a throttled daemon goes down to. */
    readonly min = Math.min(8, max),
    /** Message bytes in flight at most (passed by at most one batch). */
    readonly maxBytes = 64 * 1_048_576,
  ) {
    this.current = Math.max(min, Math.min(start, max));
  }

  /**
   * May one more batch go, with `requests` requests and `bytesInFlight` message bytes in flight?
   * (The bytes bound may be passed by one batch, at most 1 MiB: a batch's size is known only once
   * it is taken.)
   */
  allows(requests: number, bytesInFlight: number): boolean {
    return requests < this.current && bytesInFlight < this.maxBytes;
  }

  /**
   * A batch sent at `startedAt` came back at `now`. `throttled`: SQS asked for less; `waiting`:
   * other batches were ready and waiting for a slot when it came back.
   */
  done(startedAt: number, now: number, throttled: boolean, waiting: boolean): void {
    if (throttled) {
      if (startedAt <= this.cutAt) return; // sent before the last cut (or in its millisecond): already counted
      this.cutAt = now;
      this.current = Math.max(this.min, Math.floor(this.current / 2));
      return;
    }
    if (waiting && this.current < this.max) this.current += 1;
  }
}
