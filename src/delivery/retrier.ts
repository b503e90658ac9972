import type { Logger } from 'pino';
import type { Destination, QueueResolver } from '../sqs/resolver.js';
import { RECHECK_QUEUE, REFRESH_CREDENTIALS } from './outcome.js';
import { backoffMs } from './retry.js';

/**
 * Waits before entries are sent again: jittered backoff, and first, when the failure asked for
 * it, fresh credentials (chain mode) and a re-read of the queue's settings. Owns its timers, so
 * shutdown can cancel every pending retry at once.
 */
export class Retrier {
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly options: { retryBaseMs: number; retryMaxMs: number },
    private readonly log: Logger,
    private readonly resolver?: QueueResolver,
  ) {}

  /** Calls `go` after the backoff for `attempts` and what `todo` (REFRESH_CREDENTIALS, RECHECK_QUEUE bits) asks. */
  later(dest: Destination, attempts: number, todo: number, go: () => void): void {
    const refresh = (todo & REFRESH_CREDENTIALS) !== 0;
    const recheck = (todo & RECHECK_QUEUE) !== 0 && this.resolver !== undefined;
    // Refresh and resend at once the first time; credentials still refused after a refresh back
    // off like any failure (and are fetched again before each retry). A queue re-read happens once per message.
    const delay = recheck || (refresh && attempts <= 1) ? 0 : backoffMs(attempts, { baseMs: this.options.retryBaseMs, maxMs: this.options.retryMaxMs });
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const before: Array<Promise<unknown>> = [];
      if (refresh) {
        before.push(dest.credentials.refresh().catch((err: unknown) => {
          this.log.warn({ err: (err as Error)?.name }, 'refreshing AWS credentials failed; retrying later');
        }));
      }
      if (recheck) before.push((this.resolver as QueueResolver).refresh(dest));
      if (before.length > 0) void Promise.all(before).then(go);
      else go();
    }, delay);
    this.timers.add(timer);
  }

  /** Cancels every pending retry (shutdown: the store keeps those messages). */
  cancelAll(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
