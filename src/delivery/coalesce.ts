import type { Envelope } from './envelope.js';
import type { MessageStore } from './store.js';

interface Waiting {
  envs: readonly Envelope[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Gathers the appends of one event-loop turn into one `store.append` (for the spool in `write`
 * mode: one `write(2)` instead of one per request, ~10 µs each on the bench machine). The
 * requests whose bodies were read in one poll phase append one after the other; the group is
 * written in the check phase right after (setImmediate), and each caller's promise resolves only
 * once the write holding its messages has returned, in the order they appended. If the group's
 * write throws, each append is tried again alone, so every caller gets exactly the answer it
 * would have got without the grouping (one that still fits a nearly full spool is written, the
 * rest are refused with their own error). A store that answers with a promise settles the whole
 * group with it. The pipeline uses this for the spool in `write` mode only: `memory` writes
 * nothing and `fsync` group-commits in the spool already.
 *
 * An append of {@link WRITE_AT_ONCE_ENTRIES} or more messages that finds nobody waiting is written
 * at once instead: its write is already shared by many messages, and waiting for the check phase
 * only delays its ack (batch ingest lost a quarter of its acks per second to that wait). Nobody is
 * waiting, so no earlier append is overtaken; later ones in the same turn form the next group.
 */
export const WRITE_AT_ONCE_ENTRIES = 16;

export class AppendCoalescer {
  private waiting: Waiting[] = [];
  private scheduled = false;
  private readonly flushNow = (): void => this.flush();

  constructor(private readonly store: MessageStore) {}

  /**
   * Like `store.append`: `undefined` when the messages were written at once (a large append with
   * nobody waiting; a refusal then throws, as `store.append` does), otherwise a promise that
   * settles once the group holding them is recorded (or refused).
   */
  append(envs: readonly Envelope[]): void | Promise<void> {
    if (envs.length >= WRITE_AT_ONCE_ENTRIES && this.waiting.length === 0) return this.store.append(envs);
    return new Promise<void>((resolve, reject) => {
      this.waiting.push({ envs, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(this.flushNow);
      }
    });
  }

  /** Appends waiting for the next flush (for tests and close). */
  get pending(): number {
    return this.waiting.length;
  }

  private flush(): void {
    this.scheduled = false;
    const group = this.waiting;
    this.waiting = [];
    if (group.length === 1) return this.alone(group[0] as Waiting);
    const envs: Envelope[] = [];
    for (const w of group) for (const e of w.envs) envs.push(e);
    let stored: void | Promise<void>;
    try {
      stored = this.store.append(envs);
    } catch {
      // Nothing of the group was kept (the spool cuts a failed write back): try each alone.
      for (const w of group) this.alone(w);
      return;
    }
    if (stored === undefined) {
      for (const w of group) w.resolve();
      return;
    }
    stored.then(
      () => {
        for (const w of group) w.resolve();
      },
      (err: unknown) => {
        for (const w of group) w.reject(err);
      },
    );
  }

  private alone(w: Waiting): void {
    let stored: void | Promise<void>;
    try {
      stored = this.store.append(w.envs);
    } catch (err) {
      w.reject(err);
      return;
    }
    if (stored === undefined) w.resolve();
    else stored.then(w.resolve, w.reject);
  }
}
