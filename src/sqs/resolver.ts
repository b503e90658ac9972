import type { Logger } from 'pino';
import type { SqsClient } from './client.js';
import type { CredentialSource } from './credentials.js';
import { ACCESS_DENIED_CODES, isSqsError, type SqsError } from './errors.js';
import type { KnownQueues } from './known-queues.js';
import type { QueueLimits } from './types.js';

/**
 * A queue as seen with one set of credentials: where the batcher sends. The URL and settings are
 * what SQS said last; the resolver updates them in place (the same object stays the batcher's
 * and the spool's key), replacing `limits` as a whole so a reader never sees half an update.
 */
export interface Destination {
  /** Unique per (credentials, queue). May embed a secret: a Map key only, never logged. */
  readonly key: string;
  readonly queueName: string;
  /** '' while the queue is not verified: its first resolution failed for a transient reason. */
  queueUrl: string;
  limits: QueueLimits;
  readonly credentials: CredentialSource;
  /** Date.now() of SQS's last answer about this queue's settings (0 or absent: never in this run). */
  checkedAt?: number;
  /** Date.now() of the last send to it (what the refresh sweep looks at). */
  usedAt?: number;
}

/** Has SQS confirmed this queue (its URL is known)? */
export const isVerified = (dest: Destination): boolean => dest.queueUrl !== '';

export function makeDestination(key: string, queueName: string, queueUrl: string, limits: QueueLimits, credentials: CredentialSource): Destination {
  return { key, queueName, queueUrl, limits: Object.freeze({ ...limits }), credentials, checkedAt: 0, usedAt: 0 };
}

export interface ResolverOptions {
  /** The daemon's own cap on message size (bytes); a queue's MaximumMessageSize can only lower it. */
  maxMessageBytes: number;
  /** Most destinations kept; the least recently used is forgotten first. Default 10000. */
  maxEntries?: number;
  /** Queue settings of a queue in use (sent to in the last 10 minutes) are read again this often (ms). Default 60000; 0: never. */
  refreshMs?: number;
  /** URLs and settings kept across restarts (in the spool directory). */
  known?: KnownQueues;
  log?: Logger;
}

const ATTRIBUTES = ['FifoQueue', 'ContentBasedDeduplication', 'MaximumMessageSize'];
/** At most one on-demand re-read of a queue's settings per destination in this long (ms). */
const RECHECK_MS = 1000;
/** A queue sent to in this long (ms) counts as in use: its settings are re-read every refreshMs. */
const IN_USE_MS = 600_000;
/** Queues refreshed per sweep at most; the rest wait for the next one. */
const SWEEP_MAX = 100;

/**
 * Turns (credentials, queue name) into a Destination with GetQueueUrl and GetQueueAttributes,
 * once; later lookups are a Map hit. Concurrent first sends share one lookup. Definite failures
 * are not cached (a queue created later is found). Settings of queues in use are re-read every
 * `refreshMs` and on demand (an error hinting they changed, a send over the known size limit).
 */
export class QueueResolver {
  private readonly cache = new Map<string, Destination>();
  private readonly inflight = new Map<string, Promise<Destination>>();
  private readonly maxEntries: number;
  /**
   * The last destination cached() found and the credentials it was asked with: an app sends to
   * one queue with one key, so the next call is that pair again, answered without building and
   * hashing the `${credentials.key}\0${queue}` key (issue 14: ~0.2 KB a message, the key holding
   * the secret). Always the cache's own entry for its key: forgotten whenever that entry is
   * deleted or replaced (drop(), remember()).
   */
  private last: Destination | undefined;
  private lastCredentials: CredentialSource | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: SqsClient,
    private readonly options: ResolverOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  cached(credentials: CredentialSource, queueName: string): Destination | undefined {
    const last = this.last;
    if (last !== undefined && credentials === this.lastCredentials && queueName === last.queueName) return this.touch(last);
    const d = this.hit(`${credentials.key}\0${queueName}`) ?? this.fromKnown(credentials, queueName);
    if (d !== undefined) {
      this.last = d;
      this.lastCredentials = credentials;
    }
    return d;
  }

  /** Destinations cached. */
  get size(): number {
    return this.cache.size;
  }

  /** Forgets destinations not used since `before` (ms). */
  sweep(before: number): void {
    // Least recently used first (hit() moves an entry to the end), so stop at the first recent one.
    for (const [k, d] of this.cache) {
      if ((d.usedAt ?? 0) >= before) break;
      this.drop(k);
    }
  }

  private hit(key: string): Destination | undefined {
    const d = this.cache.get(key);
    return d ? this.touch(d) : undefined;
  }

  /** A cache hit: moved to the end (most recently used); at most once a second per entry, to stay cheap. */
  private touch(d: Destination): Destination {
    const now = Date.now();
    if (now - (d.usedAt ?? 0) > 1000) {
      this.cache.delete(d.key);
      this.cache.set(d.key, d);
      d.usedAt = now;
    }
    return d;
  }

  /** Deletes a cache entry, and the memo of it (see `last`). */
  private drop(key: string): void {
    this.cache.delete(key);
    if (this.last?.key === key) this.last = this.lastCredentials = undefined;
  }

  /** The destination, looked up if needed; rejects with the SqsError when SQS refuses or fails. */
  resolve(credentials: CredentialSource, queueName: string): Promise<Destination> {
    const hit = this.cached(credentials, queueName);
    if (hit) return Promise.resolve(hit);
    const key = `${credentials.key}\0${queueName}`;
    let p = this.inflight.get(key);
    if (!p) {
      p = this.lookup(key, credentials, queueName).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /**
   * For a send: like resolve(), but when SQS cannot be asked right now (network, 5xx,
   * throttling) the answer is an unverified destination (FIFO by name, the daemon's own size
   * cap), cached, that delivery verifies before its first batch. Definite refusals still reject.
   */
  async resolveForSend(credentials: CredentialSource, queueName: string): Promise<Destination> {
    try {
      return await this.resolve(credentials, queueName);
    } catch (err) {
      // Credentials that cannot be loaded are not "SQS cannot be asked": nothing could deliver them.
      if (!isSqsError(err) || err.disposition !== 'retry' || err.code === 'CredentialsUnavailable') throw err;
      const key = `${credentials.key}\0${queueName}`;
      const existing = this.cache.get(key);
      if (existing) return existing;
      const dest = makeDestination(key, queueName, '', this.guessLimits(queueName), credentials);
      dest.usedAt = Date.now();
      this.remember(dest);
      this.options.log?.warn({ queue: queueName, code: err.code }, 'could not verify the queue with SQS; accepting its messages into the spool, verified before delivery');
      return dest;
    }
  }

  /**
   * Delivery, before sending to an unverified destination: GetQueueUrl and settings, written into
   * `dest`. Rejects with SQS's error (QueueDoesNotExist: the messages are dead letters).
   */
  verify(dest: Destination): Promise<Destination> {
    if (isVerified(dest)) return Promise.resolve(dest);
    return this.shared(`v\0${dest.key}`, async () => {
      const creds = await dest.credentials.get();
      const queueUrl = await this.client.getQueueUrl(dest.queueName, creds);
      const limits = await this.readLimits(queueUrl, dest.queueName, creds);
      dest.queueUrl = queueUrl;
      this.update(dest, limits);
      this.remember(dest);
      this.options.log?.info({ queue: dest.queueName }, 'queue verified with SQS');
      return dest;
    });
  }

  /** Re-reads a destination's settings now (an error hinted they changed). Never rejects. */
  refresh(dest: Destination): Promise<Destination> {
    if (!isVerified(dest)) return this.verify(dest).catch(() => dest);
    return this.shared(`r\0${dest.key}`, async () => {
      try {
        const creds = await dest.credentials.get();
        this.update(dest, await this.readLimits(dest.queueUrl, dest.queueName, creds));
      } catch (err) {
        this.options.log?.debug({ queue: dest.queueName, code: (err as SqsError)?.code }, 'could not re-read queue settings');
      }
      return dest;
    });
  }

  /** Re-reads the settings unless SQS answered about them less than a second ago (a send over the known size limit). */
  recheck(dest: Destination): Promise<Destination> {
    if (Date.now() - (dest.checkedAt ?? 0) < RECHECK_MS) return Promise.resolve(dest);
    return this.refresh(dest);
  }

  /** Takes over destinations rebuilt from the spool at start, so new sends to them need no lookup. */
  adopt(dest: Destination): void {
    if (!this.cache.has(dest.key)) this.remember(dest);
  }

  /** Starts re-reading the settings of queues in use every `refreshMs`. */
  start(): void {
    const ms = this.options.refreshMs ?? 60_000;
    if (ms <= 0 || this.sweepTimer) return;
    this.sweepTimer = setInterval(() => void this.refreshSweep(ms), ms);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    this.options.known?.flush();
  }

  /** Forget a destination, e.g. after SQS said its queue no longer exists. */
  invalidate(dest: Destination): void {
    if (this.cache.get(dest.key) === dest) this.drop(dest.key);
    this.options.known?.forget(dest);
  }

  /** Forget every destination for a queue name (queue deleted through the UI). */
  invalidateQueue(queueName: string): void {
    for (const [k, d] of this.cache) if (d.queueName === queueName) this.drop(k);
    this.options.known?.forgetQueue(queueName);
  }

  private async refreshSweep(ms: number): Promise<void> {
    const now = Date.now();
    let n = 0;
    for (const dest of [...this.cache.values()]) {
      if (n >= SWEEP_MAX) break;
      // In use: sent to since its settings were read, or in the last IN_USE_MS.
      const usedAt = dest.usedAt ?? 0;
      const used = usedAt > (dest.checkedAt ?? 0) || now - usedAt < IN_USE_MS;
      if (!used || now - (dest.checkedAt ?? 0) < ms) continue;
      n += 1;
      await this.refresh(dest);
    }
  }

  private async lookup(key: string, credentials: CredentialSource, queueName: string): Promise<Destination> {
    const creds = await credentials.get();
    const queueUrl = await this.client.getQueueUrl(queueName, creds);
    const limits = await this.readLimits(queueUrl, queueName, creds);
    const dest = makeDestination(key, queueName, queueUrl, limits, credentials);
    dest.checkedAt = Date.now();
    dest.usedAt = dest.checkedAt;
    this.remember(dest);
    return dest;
  }

  private async readLimits(queueUrl: string, queueName: string, creds: Awaited<ReturnType<CredentialSource['get']>>): Promise<QueueLimits> {
    let attrs: Record<string, string> = {};
    try {
      attrs = await this.client.getQueueAttributes(queueUrl, ATTRIBUTES, creds);
    } catch (err) {
      // A policy may allow SendMessage but not GetQueueAttributes: fall back to what the
      // name says. FIFO messages then carry generated deduplication ids.
      if (!ACCESS_DENIED_CODES.has((err as SqsError).code)) throw err;
    }
    const queueMax = Number(attrs.MaximumMessageSize);
    return {
      fifo: attrs.FifoQueue === 'true' || queueName.endsWith('.fifo'),
      contentBasedDedup: attrs.ContentBasedDeduplication === 'true',
      maxMessageBytes: Number.isInteger(queueMax) && queueMax > 0 ? Math.min(queueMax, this.options.maxMessageBytes) : this.options.maxMessageBytes,
    };
  }

  /** Before SQS has answered: FIFO by name, content-based dedup unknown (ids generated), the daemon's own cap. */
  private guessLimits(queueName: string): QueueLimits {
    return { fifo: queueName.endsWith('.fifo'), contentBasedDedup: false, maxMessageBytes: this.options.maxMessageBytes };
  }

  private update(dest: Destination, limits: QueueLimits): void {
    const old = dest.limits;
    dest.checkedAt = Date.now();
    // A queue's type cannot change (FIFO queues are named so): only the other settings move.
    const next = { ...limits, fifo: old.fifo };
    if (old.contentBasedDedup !== next.contentBasedDedup || old.maxMessageBytes !== next.maxMessageBytes) {
      this.options.log?.info({ queue: dest.queueName, was: old, now: next }, 'queue settings changed');
      dest.limits = Object.freeze(next);
      this.options.known?.save(dest);
    }
  }

  private fromKnown(credentials: CredentialSource, queueName: string): Destination | undefined {
    const known = this.options.known?.get(credentials.key, queueName);
    if (!known) return undefined;
    const limits = { ...known.limits, maxMessageBytes: Math.min(known.limits.maxMessageBytes, this.options.maxMessageBytes) };
    const dest = makeDestination(`${credentials.key}\0${queueName}`, queueName, known.queueUrl, limits, credentials);
    this.remember(dest);
    // Known from an earlier run: usable at once, its settings read again in the background.
    void this.refresh(dest);
    return dest;
  }

  private remember(dest: Destination): void {
    if (!this.cache.has(dest.key) && this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.drop(oldest);
    }
    // A newer destination under the memo's key replaces it in the memo too.
    if (this.last?.key === dest.key && this.last !== dest) this.last = this.lastCredentials = undefined;
    this.cache.set(dest.key, dest);
    if (!dest.usedAt) dest.usedAt = Date.now();
    if (isVerified(dest)) this.options.known?.save(dest);
  }

  private shared(key: string, run: () => Promise<Destination>): Promise<Destination> {
    let p = this.inflight.get(key);
    if (!p) {
      p = run().finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }
}
