/**
 * Held refusals (issue 11): a client throttled for failed logins gets its 429 after a delay
 * instead of at once, so that a client which ignores Retry-After and asks again the moment it
 * is answered (a closed loop, as a password-guessing script is) makes one request per delay
 * per connection instead of as many as the daemon can answer. Twenty such clients cost the
 * daemon ~6,500 answers/s answered at once and 20/s held for a second.
 *
 * Bounded: at most `maxHeld` answers are held at once (a timer and a reference each; their
 * connections are already counted by --max-connections). Past that a refusal is answered at
 * once with `Connection: close`, so a client with more requests in flight than the bound (many
 * connections, or pipelining) pays a new connection for each extra one. A connection that
 * closes while held frees its place at once. `releaseAll` (shutdown) answers every held
 * refusal at once with `Connection: close`, and later ones too: nothing is held past a stop.
 *
 * Only refusals are held; the decision to refuse is made before (LoginThrottle), so a
 * legitimate client, whose password is verified or not throttled, never waits here.
 */
import type { ServerResponse } from 'node:http';

/** How one held answer is written: `close` true when the connection must not be reused. */
export type Answer = (close: boolean) => void;

export class Tarpit {
  private readonly held = new Map<ServerResponse, { timer: NodeJS.Timeout; answer: Answer }>();
  private released = false;

  constructor(
    readonly delayMs: number,
    readonly maxHeld: number,
  ) {}

  /**
   * Answers `res` with `answer` after `delayMs` (at most `capMs`), or at once with
   * `Connection: close` when the bound is reached, the delay is 0, or the tarpit was released.
   */
  hold(res: ServerResponse, answer: Answer, capMs = Infinity): void {
    const ms = Math.min(this.delayMs, capMs);
    if (this.released || ms <= 0 || this.held.size >= this.maxHeld) {
      answer(this.released || ms > 0);
      return;
    }
    const onClose = (): void => {
      const h = this.held.get(res);
      if (!h) return;
      clearTimeout(h.timer);
      this.held.delete(res); // the client went away: its place is free, nothing to write
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      this.held.delete(res);
      if (!res.destroyed) answer(false);
    }, ms);
    this.held.set(res, { timer, answer });
    res.once('close', onClose);
  }

  /** Answers every held refusal now, each with `Connection: close`; from now on nothing is held. */
  releaseAll(): void {
    this.released = true;
    for (const [res, h] of this.held) {
      clearTimeout(h.timer);
      if (!res.destroyed) h.answer(true);
    }
    this.held.clear();
  }

  /** Answers held right now. */
  get size(): number {
    return this.held.size;
  }
}
