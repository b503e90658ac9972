import type { SqsClient } from './client.js';
import type { CredentialSource } from './credentials.js';
import { ACCESS_DENIED_CODES, type SqsError } from './errors.js';
import type { QueueLimits } from './types.js';

/** A queue as seen with one set of credentials: where the batcher sends. */
export interface Destination {
  /** Unique per (credentials, queue). May embed a secret: a Map key only, never logged. */
  readonly key: string;
  readonly queueName: string;
  readonly queueUrl: string;
  readonly limits: QueueLimits;
  readonly credentials: CredentialSource;
}

export interface ResolverOptions {
  /** The daemon's own cap on message size (bytes); a queue's MaximumMessageSize can only lower it. */
  maxMessageBytes: number;
  /** Most destinations kept; the least recently used is forgotten first. Default 10000. */
  maxEntries?: number;
}

/**
 * Turns (credentials, queue name) into a Destination with GetQueueUrl and
 * GetQueueAttributes, once; later lookups are a Map hit. Concurrent first sends share
 * one lookup. Failures are not cached: a queue created later is found.
 */
export class QueueResolver {
  private readonly cache = new Map<string, Destination>();
  private readonly inflight = new Map<string, Promise<Destination>>();
  private readonly maxEntries: number;
  private readonly usedAt = new WeakMap<Destination, number>();

  constructor(
    private readonly client: SqsClient,
    private readonly options: ResolverOptions,
  ) {
    this.maxEntries = options.maxEntries ?? 10_000;
  }

  cached(credentials: CredentialSource, queueName: string): Destination | undefined {
    return this.hit(`${credentials.key}\0${queueName}`);
  }

  /** Destinations cached. */
  get size(): number {
    return this.cache.size;
  }

  /** Forgets destinations not used since `before` (ms). */
  sweep(before: number): void {
    // Least recently used first (hit() moves an entry to the end), so stop at the first recent one.
    for (const [k, d] of this.cache) {
      if ((this.usedAt.get(d) ?? 0) >= before) break;
      this.cache.delete(k);
    }
  }

  private hit(key: string): Destination | undefined {
    const d = this.cache.get(key);
    if (!d) return undefined;
    const now = Date.now();
    // Move to the end (most recently used); at most once a second per entry, to stay cheap.
    if (now - (this.usedAt.get(d) ?? 0) > 1000) {
      this.cache.delete(key);
      this.cache.set(key, d);
      this.usedAt.set(d, now);
    }
    return d;
  }

  resolve(credentials: CredentialSource, queueName: string): Promise<Destination> {
    const key = `${credentials.key}\0${queueName}`;
    const hit = this.hit(key);
    if (hit) return Promise.resolve(hit);
    let p = this.inflight.get(key);
    if (!p) {
      p = this.lookup(key, credentials, queueName).finally(() => this.inflight.delete(key));
      this.inflight.set(key, p);
    }
    return p;
  }

  /** Forget a destination, e.g. after SQS said its queue no longer exists. */
  invalidate(dest: Destination): void {
    if (this.cache.get(dest.key) === dest) this.cache.delete(dest.key);
  }

  /** Forget every destination for a queue name (queue deleted through the UI). */
  invalidateQueue(queueName: string): void {
    for (const [k, d] of this.cache) if (d.queueName === queueName) this.cache.delete(k);
  }

  private async lookup(key: string, credentials: CredentialSource, queueName: string): Promise<Destination> {
    const creds = await credentials.get();
    const queueUrl = await this.client.getQueueUrl(queueName, creds);
    let attrs: Record<string, string> = {};
    try {
      attrs = await this.client.getQueueAttributes(queueUrl, ['FifoQueue', 'ContentBasedDeduplication', 'MaximumMessageSize'], creds);
    } catch (err) {
      // A policy may allow SendMessage but not GetQueueAttributes: fall back to what the
      // name says. Then we generate deduplication ids even if content-based dedup is on.
      if (!ACCESS_DENIED_CODES.has((err as SqsError).code)) throw err;
    }
    const queueMax = Number(attrs.MaximumMessageSize);
    const limits: QueueLimits = {
      fifo: attrs.FifoQueue === 'true' || queueName.endsWith('.fifo'),
      contentBasedDedup: attrs.ContentBasedDeduplication === 'true',
      maxMessageBytes: Number.isInteger(queueMax) && queueMax > 0 ? Math.min(queueMax, this.options.maxMessageBytes) : this.options.maxMessageBytes,
    };
    const dest: Destination = Object.freeze({ key, queueName, queueUrl, limits, credentials });
    if (this.cache.size >= this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, dest);
    this.usedAt.set(dest, Date.now());
    return dest;
  }
}
