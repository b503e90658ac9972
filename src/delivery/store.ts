import type { Logger } from 'pino';
import type { Credentials } from '../sqs/types.js';
import type { Envelope, FailureReason } from './envelope.js';

/**
 * Where accepted messages are kept until SQS confirms them. The pipeline calls `append`
 * before it acknowledges, `delivered` when SQS confirmed, `deadLettered` when SQS refused
 * for good. The spool implements this with a journal; MemoryStore keeps nothing.
 */
export interface MessageStore {
  /** Record messages before they are acknowledged. May be async (fsync, group commit). Throws when it cannot. */
  append(envs: readonly Envelope[]): void | Promise<void>;
  delivered(envs: readonly Envelope[]): void;
  /**
   * Keep messages SQS refused for good. May be async: the pipeline counts them finished (the
   * tracker, metrics, the backlog) only once it is settled, so a dead letter can be read once its
   * message is said dead-lettered. Never rejects: a store that cannot keep them says so itself.
   */
  deadLettered(envs: readonly Envelope[], reason: FailureReason): void | Promise<void>;
  /** Messages still held at shutdown: a spool keeps them for the next start. */
  abandon(envs: readonly Envelope[]): void;
  close(): Promise<void>;
  /** True when the store keeps messages across restarts. */
  readonly durable: boolean;
  /** For the status page, readiness and metrics. */
  info(): StoreInfo;
  /** The dead-letter store, when there is one (the spool); memory-only mode only logs. */
  readonly deadLetters?: DeadLetterStore;
  /** A durable store can hold messages on disk only, so memory stays bounded whatever the backlog. */
  readonly pager?: Pager;
}

/**
 * Lets the pipeline keep only a window of the backlog in memory. Paged-out messages stay in
 * the store, in acceptance order per destination, and come back through pageIn().
 */
export interface Pager {
  /** The envelope is recorded; drop the in-memory copy. */
  pageOut(env: Envelope): void;
  /**
   * Up to `max` paged-out envelopes of a destination, oldest first, and (but for the first) no
   * more message bytes than `maxBytes` (default: no bound). `consumed` counts the
   * entries taken off the list, including any that could not be read back (damaged), and
   * `lostBytes` the message bytes of those.
   */
  pageIn(destKey: string, max: number, maxBytes?: number): { envs: Envelope[]; consumed: number; lostBytes?: number };
}

export type Durability = 'memory' | 'write' | 'fsync';

export interface StoreInfo {
  durability: Durability;
  /** Spool directory, when there is one. */
  dir?: string;
  /** Bytes on disk used by the journal. */
  spoolBytes: number;
  /** Dead letters kept. */
  deadLetters: number;
  /** Most dead letters kept (--max-dead-letters); absent without a dead-letter store. */
  deadLettersLimit?: number;
  /** Messages recovered from the journal at start. */
  recovered: number;
  /** Damaged records found at start (torn or corrupt tail). */
  corruptRecords: number;
  /** False when the spool cannot be written (disk full, unwritable): sends get 503. */
  writable: boolean;
}

/** A message SQS refused for good, as kept by the dead-letter store. */
export interface DeadLetter {
  id: string;
  queueName: string;
  /** The access key id that sent it (null: the daemon's own credentials). Never the secret. */
  accessKeyId: string | null;
  body: string;
  attributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  delaySeconds?: number;
  groupId?: string;
  dedupId?: string;
  /** X-Ray trace header (AWSTraceHeader), kept for replay. */
  traceHeader?: string;
  code: string;
  reason: string;
  attempts: number;
  acceptedAt: number;
  firstAttemptAt?: number;
  lastAttemptAt?: number;
  deadAt: number;
  /**
   * Large messages the daemon offloaded itself: where it put (or was to put) the payload. Purging
   * the letter deletes that object; a pointer that came in ready-made from an app has none.
   */
  offload?: { bucket: string; key: string; bytes: number };
}

/** Restricts a listing to the letters of one credential pair (pass-through mode). */
export interface Owner {
  accessKeyId: string;
  secretAccessKey: string;
}

/** A dead letter as stored: the public record plus what replay needs (never shown). */
export interface StoredDeadLetter extends DeadLetter {
  queueUrl: string;
  /** Pass-through credentials to replay with; null for the daemon's own (chain). */
  credentials: Credentials | null;
}

/** Dead letters kept (src/spool/dead-letters.ts): letters are read and removed off the event loop. */
export interface DeadLetterStore {
  /** A page, oldest first; `maxBodyChars` ends it early once its bodies pass that many characters. */
  list(options?: { queue?: string; limit?: number; offset?: number; owner?: Owner; maxBodyChars?: number }): Promise<{ total: number; items: DeadLetter[] }>;
  /** Ids of the letters of a queue (or all; the caller's own given an owner), oldest first, at most `limit`, and how many. */
  select(options: { queue?: string; limit: number; owner?: Owner }): Promise<{ total: number; ids: string[] }>;
  /** Of these ids, those with a letter (the caller's own, given an owner), in the order given. */
  owned(ids: readonly string[], owner?: Owner): Promise<string[]>;
  get(id: string, owner?: Owner): Promise<DeadLetter | undefined>;
  /** The full record, credentials included: for replay only, never for display. */
  load(id: string): Promise<StoredDeadLetter | undefined>;
  /** Every letter's id (optionally of one queue), oldest first. */
  ids(queue?: string): string[];
  /** Removes a letter (after replay, or purge). False if it was not there. */
  remove(id: string): Promise<boolean>;
}

/**
 * The 2009 behaviour: messages live only in memory. A crash loses the backlog, and a
 * permanently rejected message is only logged (with its id, queue and reason).
 */
export class MemoryStore implements MessageStore {
  readonly durable = false;
  constructor(private readonly log: Logger) {}

  append(): void {}
  delivered(): void {}

  deadLettered(envs: readonly Envelope[], reason: FailureReason): void {
    for (const e of envs) {
      this.log.error(
        { msgId: e.id, queue: e.dest.queueName, code: reason.code, attempts: e.attempts, reason: reason.message },
        'message rejected by SQS for good; not retried (memory-only mode keeps no dead-letter store)',
      );
    }
  }

  abandon(envs: readonly Envelope[]): void {
    if (envs.length > 0) {
      this.log.error({ count: envs.length, msgIds: envs.slice(0, 20).map((e) => e.id) }, 'shutdown left undelivered messages; memory-only mode loses them');
    }
  }

  async close(): Promise<void> {}

  info(): StoreInfo {
    return { durability: 'memory', spoolBytes: 0, deadLetters: 0, recovered: 0, corruptRecords: 0, writable: true };
  }
}
