import type { Logger } from 'pino';
import type { SqsClient } from '../sqs/client.js';
import { deleteMessageBatch, receiveMessages, type ReceivedMessage } from '../sqs/consume.js';
import type { CredentialSource } from '../sqs/credentials.js';
import { isSqsError, SqsError } from '../sqs/errors.js';

/**
 * Request/reply for web apps: `POST /queues/:name?reply=<s>` sends a task whose `ReplyTo` is this
 * daemon's own reply queue and whose `CorrelationId` is the task's local id, then waits here for
 * the reply. One listener per set of credentials long-polls the reply queue while anyone waits
 * (and for `keepMs` after, to catch late replies); a reply nobody waits for any more stays
 * readable for `keepMs`, within a count and byte bound.
 */

export interface Reply {
  id: string;
  body: string;
  /** String attributes of the reply (CorrelationId excluded). */
  attributes: Record<string, string>;
  receivedAt: number;
}

export interface ReplyHubOptions {
  client: SqsClient;
  log: Logger;
  queueName: string;
  /** How long late replies are kept, and listeners poll after their last waiter. ms. */
  keepMs: number;
  maxKept: number;
  maxKeptBytes: number;
  /** Requests waiting at once, at most (all credentials together). */
  maxWaiters: number;
}

export class ReplyHubError extends Error {
  override readonly name = 'ReplyHubError';
  readonly code: 'TooManyWaiting' | 'ReplyQueueUnavailable';
  constructor(code: 'TooManyWaiting' | 'ReplyQueueUnavailable', message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
  }
}

interface Waiter {
  resolve: (r: Reply | undefined) => void;
  timer: NodeJS.Timeout;
}

/** Late replies, oldest first; bounded by count, bytes and age. Keys embed the credentials key: never logged. */
class LateStore {
  private readonly items = new Map<string, Reply & { bytes: number }>();
  private bytes = 0;
  constructor(private readonly o: Pick<ReplyHubOptions, 'keepMs' | 'maxKept' | 'maxKeptBytes'>) {}

  put(key: string, r: Reply): void {
    const bytes = Buffer.byteLength(r.body) + Object.entries(r.attributes).reduce((n, [k, v]) => n + k.length + v.length, 0);
    if (bytes > this.o.maxKeptBytes) return;
    this.drop(key);
    this.items.set(key, { ...r, bytes });
    this.bytes += bytes;
    this.expire();
    for (const k of this.items.keys()) {
      if (this.items.size <= this.o.maxKept && this.bytes <= this.o.maxKeptBytes) break;
      this.drop(k);
    }
  }

  get(key: string): Reply | undefined {
    this.expire();
    const r = this.items.get(key);
    if (!r) return undefined;
    const { bytes: _bytes, ...reply } = r;
    return reply;
  }

  private drop(key: string): void {
    const r = this.items.get(key);
    if (!r) return;
    this.items.delete(key);
    this.bytes -= r.bytes;
  }

  private expire(): void {
    const before = Date.now() - this.o.keepMs;
    for (const [k, r] of this.items) {
      if (r.receivedAt >= before) break;
      this.drop(k);
    }
  }

  get size(): number {
    return this.items.size;
  }
}

class Listener {
  private queueUrl: Promise<string> | undefined;
  readonly waiters = new Map<string, Waiter>();
  private polls = 0;
  private lastWaitEnded = 0;
  private readonly abort = new AbortController();
  private failures = 0;

  constructor(private readonly hub: ReplyHub, private readonly creds: CredentialSource, private readonly o: ReplyHubOptions) {}

  /** Creates the reply queue on first use (5-minute retention) and remembers its URL. */
  prepare(): Promise<string> {
    this.queueUrl ??= (async () => {
      const c = await this.creds.get();
      try {
        const out = await this.o.client.call<{ QueueUrl?: string }>('CreateQueue', { QueueName: this.o.queueName, Attributes: { MessageRetentionPeriod: '300' } }, c);
        if (typeof out.QueueUrl !== 'string') throw new SqsError('BadResponse', 'CreateQueue answered without QueueUrl', 200, undefined, 'retry');
        return out.QueueUrl;
      } catch (err) {
        // Made earlier with other attributes (by hand, or an older version): use it as it is.
        if (isSqsError(err) && (err.code === 'QueueAlreadyExists' || err.code === 'QueueNameExists')) return this.o.client.getQueueUrl(this.o.queueName, c);
        throw err;
      }
    })().catch((err: unknown) => {
      this.queueUrl = undefined; // retried by the next request
      throw err;
    });
    return this.queueUrl;
  }

  wait(id: string, timeoutMs: number): Promise<Reply | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(id);
        this.lastWaitEnded = Date.now();
        resolve(undefined);
      }, timeoutMs);
      this.waiters.set(id, { resolve, timer });
      this.pump();
    });
  }

  private wanted(): number {
    if (this.waiters.size > 0) return Math.min(10, Math.ceil(this.waiters.size / 10));
    return Date.now() - this.lastWaitEnded < this.o.keepMs ? 1 : 0;
  }

  private pump(): void {
    while (!this.abort.signal.aborted && this.polls < this.wanted()) {
      this.polls += 1;
      void this.poll().finally(() => {
        this.polls -= 1;
        this.pump();
      });
    }
  }

  private async poll(): Promise<void> {
    let got: ReceivedMessage[] = [];
    let url = '';
    try {
      url = await this.prepare();
      const c = await this.creds.get();
      got = await receiveMessages(this.o.client, url, c, { maxMessages: 10, waitTimeSeconds: 20, visibilityTimeoutSeconds: 30, signal: this.abort.signal, timeoutMs: 30_000 });
      this.failures = 0;
      // Handed to the waiting requests first, deleted after: the delete's round trip is not theirs
      // to wait for. A delete that fails lets the reply come again after 30 s; it is then kept as a
      // late reply, which nobody asks for (the request was answered).
      if (got.length > 0) {
        const handles = got.map((m) => m.receiptHandle);
        void deleteMessageBatch(this.o.client, url, c, handles).catch((err: unknown) => {
          this.o.log.warn({ code: isSqsError(err) ? err.code : 'UnexpectedError', count: handles.length }, 'could not delete replies from the reply queue; they come again after 30 s');
        });
      }
    } catch (err) {
      if (isSqsError(err) && err.code === 'Aborted') return;
      this.failures += 1;
      if (this.failures === 1 || this.failures % 10 === 0) this.o.log.warn({ code: isSqsError(err) ? err.code : 'CredentialsUnavailable', failures: this.failures }, 'cannot read the reply queue; retrying');
      await new Promise((r) => setTimeout(r, Math.min(200 * 2 ** Math.min(this.failures, 7), 20_000)));
    }
    for (const m of got) this.deliver(m);
  }

  private deliver(m: ReceivedMessage): void {
    const id = m.attributes.CorrelationId?.StringValue;
    if (id === undefined) return;
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(m.attributes)) if (k !== 'CorrelationId' && typeof v.StringValue === 'string') attributes[k] = v.StringValue;
    const reply: Reply = { id, body: m.body, attributes, receivedAt: Date.now() };
    const w = this.waiters.get(id);
    if (w) {
      this.waiters.delete(id);
      clearTimeout(w.timer);
      this.lastWaitEnded = Date.now();
      w.resolve(reply);
    } else this.hub.keepLate(this.creds, reply);
  }

  close(): void {
    this.abort.abort();
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.resolve(undefined);
    }
    this.waiters.clear();
  }
}

export class ReplyHub {
  private readonly listeners = new Map<string, Listener>();
  private readonly late: LateStore;
  private waiting = 0;

  constructor(private readonly o: ReplyHubOptions) {
    this.late = new LateStore(o);
  }

  get queueName(): string {
    return this.o.queueName;
  }

  private listener(creds: CredentialSource): Listener {
    let l = this.listeners.get(creds.key);
    if (!l) {
      // Bounded: beyond 100 sets of credentials, the idle listener longest unused goes.
      if (this.listeners.size >= 100) {
        for (const [k, old] of this.listeners) {
          if (old.waiters.size === 0) {
            old.close();
            this.listeners.delete(k);
            break;
          }
        }
      }
      l = new Listener(this, creds, this.o);
      this.listeners.set(creds.key, l);
    }
    return l;
  }

  /** Makes sure the reply queue exists for these credentials; rejects with ReplyQueueUnavailable. */
  async prepare(creds: CredentialSource): Promise<void> {
    if (this.waiting >= this.o.maxWaiters) throw new ReplyHubError('TooManyWaiting', `${this.waiting} requests already wait for replies`);
    try {
      await this.listener(creds).prepare();
    } catch (err) {
      throw new ReplyHubError('ReplyQueueUnavailable', `could not create or find the reply queue ${this.o.queueName}`, err);
    }
  }

  /** Waits for the reply correlated with `id`; undefined after `timeoutMs`. Register before sending. */
  async wait(creds: CredentialSource, id: string, timeoutMs: number): Promise<Reply | undefined> {
    this.waiting += 1;
    try {
      return await this.listener(creds).wait(id, timeoutMs);
    } finally {
      this.waiting -= 1;
    }
  }

  /** Gives up waiting for `id` (the send was refused). */
  cancel(creds: CredentialSource, id: string): void {
    const l = this.listeners.get(creds.key);
    const w = l?.waiters.get(id);
    if (!l || !w) return;
    l.waiters.delete(id);
    clearTimeout(w.timer);
    w.resolve(undefined);
  }

  keepLate(creds: CredentialSource, reply: Reply): void {
    this.late.put(`${creds.key}\0${reply.id}`, reply);
  }

  /** A reply that came after its request gave up, if still kept (only for the same credentials). */
  lateReply(creds: CredentialSource, id: string): Reply | undefined {
    return this.late.get(`${creds.key}\0${id}`);
  }

  get stats(): { waiting: number; kept: number; listeners: number } {
    return { waiting: this.waiting, kept: this.late.size, listeners: this.listeners.size };
  }

  close(): void {
    for (const l of this.listeners.values()) l.close();
    this.listeners.clear();
  }
}
