import type { Logger } from 'pino';
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
  deadLettered(envs: readonly Envelope[], reason: FailureReason): void;
  /** Messages still held at shutdown: a spool keeps them for the next start. */
  abandon(envs: readonly Envelope[]): void;
  close(): Promise<void>;
  /** True when the store keeps messages across restarts. */
  readonly durable: boolean;
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
}
