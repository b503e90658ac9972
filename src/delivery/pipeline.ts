import type { Logger } from 'pino';
import { describeBug } from '../errors.js';
import { THROTTLING_CODES } from '../sqs/errors.js';
import type { SqsClient } from '../sqs/client.js';
import type { Destination, QueueResolver } from '../sqs/resolver.js';
import { Batcher } from './batcher.js';
import { AppendCoalescer } from './coalesce.js';
import { type Envelope, groupIdOf, newEnvelopes } from './envelope.js';
import { attemptBatch } from './attempt.js';
import { InFlightLimit } from './inflight.js';
import { type DeadGroup, sortUndelivered } from './outcome.js';
import { OutageGate, outageSignal } from './outage.js';
import { Paging, PIPELINE_PAGING } from './paging.js';
import { Retrier } from './retrier.js';
import { DeliveryTurns } from './turns.js';
import { PipelineError, type PipelineObserver, type PipelineOptions, type Validated } from './pipeline-types.js';
import type { BatchOutcome } from './sender.js';
import { PipelineStats, type QueueStats } from './stats.js';
import type { MessageTracker } from './tracker.js';
import type { MessageStore } from './store.js';

export type { QueueStats };
export { PipelineError, type PipelineObserver, type PipelineOptions, type Validated } from './pipeline-types.js';

/**
 * The delivery pipeline behind every front door: accept() records and queues messages,
 * batches go out as send slots free up (so batches fill while they wait), failures are
 * retried per entry, and permanent rejections go to the store's dead letters.
 */
export class Pipeline {
  private readonly batchers = new Map<string, Batcher>();
  private readonly ready = new Set<Batcher>();
  private readonly retrier: Retrier;
  /** While SQS is down: batches held behind one probe at a time (outage.ts). */
  readonly outage: OutageGate<Batcher>;
  private readonly counters = new PipelineStats();
  private pumpScheduled = false;
  /** A pump that stopped for the turn's delivery slice is queued in `turns`. */
  private pumpDeferred = false;
  /** Delivery work (answers taken in, batches sent) in slices of the event loop, so it yields to ingest (turns.ts). */
  private readonly turns = new DeliveryTurns();
  private readonly deferredPump = (): void => {
    this.pumpDeferred = false;
    this.pump();
  };
  /** Messages held in memory: in batchers, in flight or backing off. */
  private inMemory = 0;
  /** Message bytes (as SQS counts them) of the messages in memory. */
  private inMemoryBytes = 0;
  private readonly paging: Paging;
  private closing = false;
  /** After close(): nothing is sent or retried any more; what is left stays in the store. */
  private closed = false;
  private drainWaiter: (() => void) | undefined;
  /** Spool bytes when the store last refused an append for lack of room (-1: it takes appends). */
  private fullAtBytes = -1;
  private idleWaiters: Array<() => void> = [];
  private readonly sweepTimer: NodeJS.Timeout;
  /** `write` mode: the appends of one event-loop turn go to the spool as one write (coalesce.ts). */
  private readonly appender: AppendCoalescer | undefined;

  inFlightRequests = 0;
  /** Message bytes of the batches in flight. */
  private bytesInFlight = 0;
  /** SendMessageBatch requests allowed in flight now: adapts between a floor and --max-concurrency (inflight.ts). */
  readonly concurrency: InFlightLimit;
  /** The last pump left batches ready that the in-flight limit held back. */
  private starved = false;
  backlogMessages = 0;
  backlogBytes = 0;
  readonly totals = this.counters.totals;

  constructor(
    private readonly client: SqsClient,
    private readonly store: MessageStore,
    private readonly options: PipelineOptions,
    private readonly log: Logger,
    private readonly resolver?: QueueResolver,
    private readonly observer: PipelineObserver = {},
    /** Recent messages' states for GET /messages/:id and ?wait=1. */
    private readonly tracker?: MessageTracker,
  ) {
    this.retrier = new Retrier(options, log, resolver);
    this.outage = new OutageGate<Batcher>(options, () => this.pump(), () => {
      this.log.info({ probes: this.outage.snapshot().probesTotal }, 'SQS answers again; held batches are sent');
      this.outage.takeHeld(this.ready);
      this.schedulePump();
    });
    this.concurrency = new InFlightLimit(options.maxConcurrency, undefined, undefined, options.maxInFlightBytes);
    this.appender = store.durable && store.info().durability === 'write' ? new AppendCoalescer(store) : undefined;
    // Closures made once here: paging calls back into the pipeline without exposing its internals.
    this.paging = new Paging(store, options.maxInMemoryMessages ?? 10_000, log, {
      inMemory: () => this.inMemory,
      inMemoryBytes: () => this.inMemoryBytes,
      closing: () => this.closing,
      hold: (env) => this.hold(env),
      lost: (dest, count, bytes) => {
        this.backlogMessages -= count;
        this.backlogBytes -= bytes;
        this.statsFor(dest).backlog -= count;
      },
      pagedIn: () => {
        if (this.backlogMessages === 0) this.notifyIdle();
      },
    }, options.maxInMemoryBytes, PIPELINE_PAGING);
    const idleMs = options.idleMs ?? 600_000;
    this.sweepTimer = setInterval(() => this.sweep(Date.now() - idleMs), Math.max(10, Math.min(60_000, Math.floor(idleMs / 2))));
    this.sweepTimer.unref();
  }

  /** Appends waiting for the coalescer's next write (`write` mode; 0 otherwise): a batch's next piece lets them go first (src/ingest/pieces.ts). */
  get appendsWaiting(): number {
    return this.appender?.pending ?? 0;
  }

  /** Destinations with a batcher (messages waiting, in flight or lately used). */
  get liveDestinations(): number {
    return this.batchers.size;
  }

  /**
   * Forgets what the pipeline holds for destinations idle since `before`: their batcher (none
   * waiting, in flight, backing off or lingering) and counters, and the resolver's entry. So a
   * caller cycling through queues or key pairs does not grow the daemon for ever.
   */
  sweep(before: number): void {
    this.sweepBatchers(before);
    this.counters.sweep(before);
    this.resolver?.sweep(before);
  }

  private sweepBatchers(before: number): void {
    for (const [key, b] of this.batchers) {
      if (b.usedAt >= before || b.size > 0 || b.inFlight > 0 || b.retrying > 0 || b.lingerTimer !== undefined || this.ready.has(b)) continue;
      this.batchers.delete(key);
    }
  }

  /** Messages waiting in the store rather than in memory. */
  get pagedOutMessages(): number {
    return this.paging.total;
  }

  /** Could `count` messages of `bytes` ever fit, even with an empty backlog? */
  couldEverFit(count: number, bytes: number): boolean {
    return count <= this.options.maxBacklogMessages && bytes <= this.options.maxBacklogBytes;
  }

  /** Is there room for `count` messages of `bytes`? */
  hasRoom(count: number, bytes: number): boolean {
    return this.backlogMessages + count <= this.options.maxBacklogMessages && this.backlogBytes + bytes <= this.options.maxBacklogBytes;
  }

  /**
   * Accepts validated messages for one destination. Returns false when the backlog is
   * full (nothing was accepted), else a promise of their ids that resolves once the store
   * has recorded them: only then may the caller acknowledge.
   */
  accept(dest: Destination, items: readonly Validated[]): Promise<string[]> | false {
    let bytes = 0;
    for (const it of items) bytes += it.bytes;
    if (this.closing || !this.hasRoom(items.length, bytes)) return false;
    const max = this.options.maxDestinations ?? 10_000;
    if (this.batchers.size >= max && !this.batchers.has(dest.key)) this.sweepBatchers(Infinity); // idle ones make room
    if (this.batchers.size >= max && !this.batchers.has(dest.key)) {
      return Promise.reject(new PipelineError('ETOOMANYDESTINATIONS', `the daemon is delivering to ${max} queue and credential pairs at once (--max-destinations); retry once some are idle`));
    }
    const { envs, ids } = newEnvelopes(dest, items, Date.now());
    this.backlogMessages += items.length;
    this.backlogBytes += bytes;
    const stats = this.statsFor(dest);
    stats.accepted += items.length;
    stats.backlog += items.length;
    this.totals.accepted += items.length;
    this.observer.accepted?.(dest, items.length, bytes);
    let stored: void | Promise<void>;
    try {
      stored = this.appender ? this.appender.append(envs) : this.store.append(envs);
    } catch (err) {
      this.unaccount(envs, stats, err);
      return Promise.reject(err);
    }
    if (stored === undefined) return Promise.resolve(this.recorded(envs, ids));
    return stored.then(
      () => this.recorded(envs, ids),
      (err: unknown) => {
        this.unaccount(envs, stats, err);
        throw err;
      },
    );
  }

  /** The store recorded them: they may be acknowledged and sent. */
  private recorded(envs: Envelope[], ids: string[]): string[] {
    this.fullAtBytes = -1;
    this.tracker?.accepted(envs);
    this.enqueue(envs);
    return ids;
  }

  /**
   * Takes over messages a spool recovered at start: they stay paged out in the store and are
   * read back in order as memory allows. Call before accepting anything new.
   */
  restore(recovered: ReadonlyArray<{ dest: Destination; count: number; bytes: number }>): void {
    for (const { dest, count, bytes } of recovered) {
      if (count === 0) continue;
      this.backlogMessages += count;
      this.backlogBytes += bytes;
      this.statsFor(dest).backlog += count;
      this.paging.restore(dest, count);
    }
    this.paging.maybePageIn();
  }

  stats(queueName: string): QueueStats | undefined {
    return this.counters.get(queueName);
  }

  /** Counters per queue name; with `owner` (a credentials key) only those of its own sends. */
  allStats(owner?: string): ReadonlyMap<string, QueueStats> {
    return this.counters.all(owner);
  }

  /**
   * Stops accepting, sends everything without lingering and waits up to `graceMs` for the
   * backlog to empty. What is left is handed to the store (a spool keeps it).
   */
  async close(graceMs: number): Promise<{ remaining: number }> {
    this.closing = true;
    for (const b of this.batchers.values()) {
      if (b.lingerTimer) clearTimeout(b.lingerTimer);
      b.lingerTimer = undefined;
      if (b.hasSendable()) this.ready.add(b);
    }
    this.pump();
    // Wait for what is in memory; messages paged out to a spool stay there for the next start.
    if (this.inMemory > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, graceMs);
        this.drainWaiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.drainWaiter = undefined;
    this.closed = true;
    this.options.payloads?.close();
    clearInterval(this.sweepTimer);
    this.retrier.cancelAll();
    this.outage.stop();
    const remaining = this.backlogMessages;
    const left: Envelope[] = [];
    for (const b of this.batchers.values()) left.push(...b.drainAll());
    // Entries in flight or backing off are not in a batcher; the store still holds them.
    this.store.abandon(left);
    return { remaining };
  }

  private enqueue(envs: readonly Envelope[]): void {
    for (const env of envs) {
      if (this.paging.maybePageOut(env)) continue;
      this.hold(env);
    }
  }

  private hold(env: Envelope): void {
    this.inMemory += 1;
    this.inMemoryBytes += env.bytes;
    if (env.offload !== undefined && env.offload.uploaded !== true) {
      this.uploadFirst(env);
      return;
    }
    this.toBatcher(env);
  }

  private toBatcher(env: Envelope): void {
    let b = this.batchers.get(env.dest.key);
    if (!b) {
      b = new Batcher(env.dest, this.options.fifoMaxPerGroup ?? 1);
      this.batchers.set(env.dest.key, b);
    }
    b.usedAt = Date.now();
    b.add(env);
    this.consider(b);
  }

  /** A large message: its payload goes to S3 first, then its pointer to the batcher (or it is a dead letter). */
  private uploadFirst(env: Envelope): void {
    const stage = this.options.payloads;
    if (!stage) {
      this.deadLetter(env.dest, [env], { code: 'S3NotConfigured', message: 'the message\'s payload waits in the spool for S3, but the daemon now runs without --s3-bucket; restart it with --s3-bucket, then replay the dead letter' });
      return;
    }
    void stage.upload(env).then((r) => {
      if (this.closed) return; // stays in the store for the next start
      if (r.ok) {
        (env.offload as NonNullable<Envelope['offload']>).uploaded = true;
        this.toBatcher(env);
        this.schedulePump();
      } else if (r.code !== 'Closed') {
        this.log.warn({ queue: env.dest.queueName, code: r.code, msgId: env.id, reason: r.message }, 'S3 refused a large message\'s payload for good; dead-lettered');
        this.deadLetter(env.dest, [env], r);
      }
    });
  }

  /**
   * Hands messages refused for good (by SQS, or outside a send: a payload that could not be
   * uploaded, an age limit) to the store, and once it has kept them (a spool writes and syncs a
   * file each, in libuv's pool: on the event loop that was a fsync a letter, issue 11) counts them
   * finished: tracker, metrics, backlog, and whoever waits for the backlog or the memory bound.
   */
  private deadLetter(dest: Destination, envs: Envelope[], reason: { code: string; message: string }, stats = this.statsFor(dest)): void {
    const done = (): void => {
      this.tracker?.deadLettered(envs, reason);
      this.observer.deadLettered?.(dest, reason.code, envs.length);
      this.finish(envs, stats, 'deadLettered');
      if (this.backlogMessages === 0) this.notifyIdle();
      if (this.inMemory === 0) this.drainWaiter?.();
      this.paging.maybePageIn();
    };
    const kept = this.store.deadLettered(envs, reason);
    if (kept === undefined) done();
    else void kept.then(done, done);
  }

  /** Decide whether a batcher may send now, or linger for more entries. */
  private consider(b: Batcher): void {
    if (!b.hasSendable()) return;
    if (b.fullBatchReady() || b.inFlight === 0 || this.closing) {
      if (!this.ready.has(b)) this.ready.add(b);
      this.schedulePump();
    } else if (b.lingerTimer === undefined) {
      b.lingerTimer = setTimeout(() => {
        b.lingerTimer = undefined;
        if (b.hasSendable()) {
          this.ready.add(b);
          this.pump();
        }
      }, this.options.lingerMs);
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // setImmediate, not a microtask: messages parsed in the same I/O turn share a batch.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.closed) return;
    if (this.outage.probeWaiting) this.outage.takeHeld(this.ready);
    let sent = 0;
    while (this.ready.size > 0 && this.concurrency.allows(this.inFlightRequests, this.bytesInFlight)) {
      // A pump that sends one batch (the usual case at low load) opens no window: opening one asks
      // for a check phase, and from the check phase that is one more turn of the loop per message.
      if (sent === 1) this.turns.begin();
      if (sent > 0 && this.turns.spent()) {
        // This turn's delivery slice is used up: the rest goes in a later turn, after the requests read meanwhile.
        if (!this.pumpDeferred) {
          this.pumpDeferred = true;
          this.turns.run(this.deferredPump);
        }
        break;
      }
      const b = this.ready.values().next().value as Batcher;
      this.ready.delete(b);
      let probe = false;
      if (this.outage.holding) {
        // SQS is down: the batch waits in its batcher (order kept) unless it may go as the probe.
        if (!b.hasSendable()) continue;
        if (!this.outage.admitProbe()) {
          this.outage.held.add(b);
          continue;
        }
        probe = true;
      }
      const batch = b.takeBatch();
      if (batch.length > 0) {
        sent += 1;
        void this.dispatch(b, batch, probe);
      }
      // The linger timer was the batch's that just left. What comes next is a new batch with its
      // own linger from its first entry: left armed, the old timer sent the next batch early and
      // part-filled (9.1-9.7 entries a request at 2,000 msg/s instead of 10, issue 14).
      if (b.lingerTimer !== undefined) clearTimeout(b.lingerTimer);
      b.lingerTimer = undefined;
      if (b.hasSendable()) {
        if (b.fullBatchReady() || this.closing) this.ready.add(b); // back of the line: round robin
        else this.consider(b);
      }
    }
    this.starved = this.ready.size > 0;
  }

  private async dispatch(b: Batcher, batch: Envelope[], probe: boolean): Promise<void> {
    this.inFlightRequests += 1;
    b.inFlight += 1;
    const stats = this.statsFor(b.dest);
    stats.inFlight += batch.length;
    const started = Date.now();
    let bytes = 0;
    for (const e of batch) {
      bytes += e.bytes;
      e.attempts += 1;
    }
    this.bytesInFlight += bytes;
    this.tracker?.sending(batch);
    const outcome = await (this.options.send ? this.options.send(batch) : attemptBatch(this.client, this.resolver, batch));
    // Taken in within the turn's delivery slice, or in a later turn (turns.ts): the slot stays taken until then.
    this.turns.run(() => this.completed(b, batch, probe, outcome, started, bytes, stats));
  }

  /** A batch's answer taken in: counters, delivered, dead letters, retries; then the next batches. */
  private completed(b: Batcher, batch: Envelope[], probe: boolean, outcome: BatchOutcome, started: number, bytes: number, stats: QueueStats): void {
    this.inFlightRequests -= 1;
    this.bytesInFlight -= bytes;
    b.inFlight -= 1;
    stats.inFlight -= batch.length;
    this.concurrency.done(started, Date.now(), throttled(outcome), this.starved);
    const wasHolding = this.outage.holding;
    this.outage.record(outageSignal(outcome), probe);
    if (!wasHolding && this.outage.holding) {
      this.log.warn({ queue: b.dest.queueName, code: outcome.requestError?.code ?? outcome.failed[0]?.error.code }, 'SQS fails every request: batches are held and one probe at a time tests whether it is back');
    }
    if (probe && this.outage.holding && this.options.maxMessageAgeMs > 0) this.expireHeld(started, outcome);
    this.totals.requests += 1;
    if (outcome.requestError) this.totals.requestErrors += 1;
    this.observer.batchDone?.(b.dest, batch.length, Date.now() - started, outcome.requestError);
    if (outcome.requestError?.code === 'UnexpectedError') {
      // A bug, not SQS: seen at once (stack in the log, a metric), the entries kept and retried.
      this.log.error({ err: describeBug(outcome.requestError.cause), queue: b.dest.queueName, count: batch.length, msgIds: batch.slice(0, 10).map((e) => e.id) }, 'unexpected error while sending a batch; its messages are kept and retried');
      this.observer.unexpectedError?.(b.dest, outcome.requestError);
    }

    if (outcome.delivered.length > 0) this.finish(outcome.delivered, stats, 'sent', outcome);

    const retry: Envelope[] = [];
    const dead = new Map<string, DeadGroup>();
    const todo = sortUndelivered(outcome, b.dest, started, this.options.maxMessageAgeMs, this.log, retry, dead);
    const requestId = outcome.requestError?.requestId;
    this.totals.md5Mismatch += outcome.md5Mismatch.length;
    stats.md5Mismatch += outcome.md5Mismatch.length;
    if (outcome.requestError?.queueMissing && this.resolver) this.resolver.invalidate(b.dest);

    for (const [code, { envs, error }] of dead) {
      this.log.warn({ queue: b.dest.queueName, code, count: envs.length, msgIds: envs.slice(0, 10).map((e) => e.id), attempts: envs[0]?.attempts, requestId: error.requestId ?? requestId }, 'SQS rejected messages for good; dead-lettered');
      this.deadLetter(b.dest, envs, { code, message: error.message }, stats);
    }

    const held = new Set<string>();
    if (retry.length > 0) {
      for (const e of retry) held.add(groupIdOf(e.message) ?? '');
      this.tracker?.retrying(retry);
      this.scheduleRetry(b, retry, todo, stats, requestId);
    }
    b.release(batch, held);
    if (this.backlogMessages === 0) this.notifyIdle();
    if (this.inMemory === 0) this.drainWaiter?.();
    this.paging.maybePageIn();
    this.consider(b);
    this.pump();
  }

  /**
   * A probe failed: messages held past --max-message-age-ms are dead-lettered now, as a failed
   * attempt would have found them without the hold.
   */
  private expireHeld(now: number, outcome: BatchOutcome): void {
    const max = this.options.maxMessageAgeMs;
    const last = outcome.requestError ?? outcome.failed[0]?.error;
    const reason = { code: 'MaxAgeExceeded', message: `undelivered after ${max} ms; last error ${last?.code ?? 'unknown'}: ${last?.message ?? ''}` };
    for (const b of this.batchers.values()) {
      if (b.size === 0) continue;
      const old = b.expireBefore(now - max);
      if (old.length === 0) continue;
      this.log.warn({ queue: b.dest.queueName, code: reason.code, count: old.length, msgIds: old.slice(0, 10).map((e) => e.id) }, 'messages held during an outage past --max-message-age-ms; dead-lettered');
      this.deadLetter(b.dest, old, reason);
    }
  }

  private scheduleRetry(b: Batcher, retry: Envelope[], todo: number, stats: QueueStats, requestId: string | undefined): void {
    // A batch that came back after close(): leave it to the store (a spool replays it at start).
    if (this.closed) return;
    const first = retry[0] as Envelope;
    const code = first.lastError?.code ?? 'unknown';
    this.totals.retried += retry.length;
    stats.retried += retry.length;
    this.observer.retried?.(b.dest, code, retry.length);
    this.log.debug({ queue: b.dest.queueName, code, count: retry.length, attempt: first.attempts, requestId, msgIds: retry.slice(0, 10).map((e) => e.id) }, 'retrying failed entries');
    if (this.outage.holding && todo === 0) {
      // SQS is down: no timer of its own; the entries wait in front of their batcher for the probe.
      b.requeue(retry);
      this.consider(b);
      return;
    }
    let attempts = 0;
    for (const e of retry) attempts = Math.max(attempts, e.attempts);
    b.retrying += 1;
    this.retrier.later(b.dest, attempts, todo, () => {
      b.retrying -= 1;
      b.requeue(retry);
      this.consider(b);
    });
  }

  /** `outcome`: the batch's answer that delivered `envs` (its `delivered`), with SQS's ids of them. */
  private finish(envs: readonly Envelope[], stats: QueueStats, kind: 'sent' | 'deadLettered', outcome?: BatchOutcome): void {
    let bytes = 0;
    for (const e of envs) bytes += e.bytes;
    this.inMemory -= envs.length;
    this.inMemoryBytes -= bytes;
    this.backlogMessages -= envs.length;
    this.backlogBytes -= bytes;
    stats.backlog -= envs.length;
    stats[kind] += envs.length;
    this.totals[kind] += envs.length;
    if (kind === 'sent') {
      this.store.delivered(envs);
      this.options.payloads?.delivered(envs);
      this.tracker?.delivered(envs, outcome?.messageIds, outcome?.sequenceNumbers);
      this.observer.delivered?.(envs[0]!.dest, envs.length);
    }
  }

  /**
   * Is the store refusing sends for lack of room (--max-spool-bytes)? From its last refusal until
   * an append succeeds or a finished segment was deleted (`spoolBytes` went down).
   */
  spoolRefusing(spoolBytes: number): boolean {
    return this.fullAtBytes >= 0 && spoolBytes >= this.fullAtBytes;
  }

  private unaccount(envs: readonly Envelope[], stats: QueueStats, err?: unknown): void {
    if ((err as { code?: unknown })?.code === 'ESPOOLFULL') this.fullAtBytes = this.store.info().spoolBytes;
    let bytes = 0;
    for (const e of envs) bytes += e.bytes;
    this.backlogMessages -= envs.length;
    this.backlogBytes -= bytes;
    stats.accepted -= envs.length;
    stats.backlog -= envs.length;
    this.totals.accepted -= envs.length;
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Resolves when nothing is waiting or in flight (tests, shutdown). */
  idle(): Promise<void> {
    if (this.backlogMessages === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private statsFor(dest: Destination): QueueStats {
    return this.counters.statsFor(dest);
  }
}

/** Did SQS throttle this batch: the request as a whole, or any of its entries? */
function throttled(outcome: BatchOutcome): boolean {
  if (outcome.requestError !== undefined) return THROTTLING_CODES.has(outcome.requestError.code);
  for (const f of outcome.failed) if (THROTTLING_CODES.has(f.error.code)) return true;
  return false;
}
