import type { Logger } from 'pino';
import type { SqsClient } from '../sqs/client.js';
import { changeVisibilityBatch, deleteMessageBatch, type EntryOutcome, wholeBatchFailed } from '../sqs/consume.js';
import { isSqsError } from '../sqs/errors.js';
import type { Credentials } from '../sqs/types.js';

/**
 * Deletes and visibility changes of one queue, batched by ten: a full batch leaves at once (up to
 * MAX_REQUESTS of a kind in flight), a partial one when no request of its kind is in flight, so
 * under load batches fill by themselves and at low load nothing waits. Deletes are retried until
 * SQS confirms them (or says the receipt handle no longer works); visibility changes are tried a
 * few times, since the timeout runs out anyway.
 */

interface Pending<T> {
  item: T;
  attempts: number;
  resolve: (ok: boolean) => void;
}

type Visibility = { receiptHandle: string; visibilityTimeoutSeconds: number };

export interface SettlerDeps {
  client: SqsClient;
  queueUrl: () => string;
  credentials: () => Promise<Credentials>;
  log: Logger;
  /** An SQS call failed (for the worker's last error and metrics). */
  onError: (code: string, message: string) => void;
}

const VISIBILITY_ATTEMPTS = 3;
/**
 * Requests of one kind in flight at most: at 20 ms a round trip, 16 batches of 10 settle 8,000
 * messages a second, above what one worker delivers.
 */
const MAX_REQUESTS = 16;

export class Settler {
  private readonly deletes: Array<Pending<string>> = [];
  private readonly visibility: Array<Pending<Visibility>> = [];
  private deleting = 0;
  private changing = 0;
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;
  private idle: Array<() => void> = [];

  constructor(private readonly deps: SettlerDeps) {}

  /** Resolves true once SQS deleted it, false if the receipt handle no longer worked (or after close). */
  delete(receiptHandle: string): Promise<boolean> {
    return new Promise((resolve) => this.deleteWith(receiptHandle, resolve));
  }

  /**
   * `delete` with a callback instead of a promise (the worker's hot path): `done` is called once
   * with the same answer, at once if the settler is closed. It must not throw: it is called
   * while a batch's outcomes are handed out.
   */
  deleteWith(receiptHandle: string, done: (ok: boolean) => void): void {
    if (this.closed) return done(false);
    this.deletes.push({ item: receiptHandle, attempts: 0, resolve: done });
    this.pump();
  }

  /** Resolves true once SQS changed it, false after a few failed tries. */
  changeVisibility(receiptHandle: string, visibilityTimeoutSeconds: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.visibility.push({ item: { receiptHandle, visibilityTimeoutSeconds }, attempts: 0, resolve });
      this.pump();
    });
  }

  get pending(): number {
    return this.deletes.length + this.visibility.length + this.deleting + this.changing + this.timers.size;
  }

  /** Waits until nothing is pending, or `deadline` (Date.now()) passes; then gives up on the rest. */
  async drain(deadline: number): Promise<void> {
    if (this.pending > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        this.idle.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const p of this.deletes.splice(0)) p.resolve(false);
    for (const p of this.visibility.splice(0)) p.resolve(false);
  }

  private pump(): void {
    if (this.closed) return;
    while (this.deletes.length >= 10 && this.deleting < MAX_REQUESTS) void this.flushDeletes(this.deletes.splice(0, 10));
    if (this.deletes.length > 0 && this.deleting === 0) void this.flushDeletes(this.deletes.splice(0, 10));
    while (this.visibility.length >= 10 && this.changing < MAX_REQUESTS) void this.flushVisibility(this.visibility.splice(0, 10));
    if (this.visibility.length > 0 && this.changing === 0) void this.flushVisibility(this.visibility.splice(0, 10));
    if (this.pending === 0) for (const f of this.idle.splice(0)) f();
  }

  private async run<T>(batch: Array<Pending<T>>, call: (creds: Credentials) => Promise<EntryOutcome[]>): Promise<EntryOutcome[]> {
    try {
      return await call(await this.deps.credentials());
    } catch (err) {
      if (!isSqsError(err)) {
        this.deps.log.error({ err: (err as Error)?.message }, 'unexpected error settling messages');
        return wholeBatchFailed({ code: 'InternalError', message: 'unexpected error', disposition: 'retry' }, batch.length);
      }
      return wholeBatchFailed(err, batch.length);
    }
  }

  private async flushDeletes(batch: Array<Pending<string>>): Promise<void> {
    this.deleting += 1;
    const out = await this.run(batch, (creds) => deleteMessageBatch(this.deps.client, this.deps.queueUrl(), creds, batch.map((p) => p.item)));
    this.deleting -= 1;
    const retry: Array<Pending<string>> = [];
    out.forEach((o, i) => {
      const p = batch[i] as Pending<string>;
      if (o.ok) p.resolve(true);
      else if (o.gone) {
        this.deps.log.warn({ code: o.code }, 'SQS no longer knew a message the app finished (its visibility ran out first); it may be delivered again');
        p.resolve(false);
      } else {
        this.deps.onError(o.code, o.message);
        p.attempts += 1;
        retry.push(p);
      }
    });
    if (retry.length > 0) this.later(Math.min(100 * 2 ** Math.min((retry[0] as Pending<string>).attempts, 8), 20_000), () => this.deletes.unshift(...retry));
    this.pump();
  }

  private async flushVisibility(batch: Array<Pending<Visibility>>): Promise<void> {
    this.changing += 1;
    const out = await this.run(batch, (creds) => changeVisibilityBatch(this.deps.client, this.deps.queueUrl(), creds, batch.map((p) => p.item)));
    this.changing -= 1;
    const retry: Array<Pending<Visibility>> = [];
    out.forEach((o, i) => {
      const p = batch[i] as Pending<Visibility>;
      if (o.ok) p.resolve(true);
      else if (o.gone || o.disposition === 'permanent' || p.attempts + 1 >= VISIBILITY_ATTEMPTS) {
        if (!o.gone) this.deps.onError(o.code, o.message);
        p.resolve(false);
      } else {
        this.deps.onError(o.code, o.message);
        p.attempts += 1;
        retry.push(p);
      }
    });
    if (retry.length > 0) this.later(200 * (retry[0] as Pending<Visibility>).attempts, () => this.visibility.unshift(...retry));
    this.pump();
  }

  private later(ms: number, requeue: () => void): void {
    const jittered = ms * (0.5 + Math.random() / 2);
    const t = setTimeout(() => {
      this.timers.delete(t);
      requeue();
      this.pump();
    }, jittered);
    this.timers.add(t);
  }
}
