import { randomBytes } from 'node:crypto';
import type { Destination } from '../sqs/resolver.js';
import type { OutgoingMessage } from '../sqs/types.js';

/** An accepted message on its way to SQS. */
export interface Envelope {
  /** Local id returned to the sender; also the generated FIFO deduplication id. */
  readonly id: string;
  readonly dest: Destination;
  /** Replaced (never changed in place) when a FIFO message gets its deduplication id at its first send. */
  message: OutgoingMessage;
  /** Size as SQS counts it (body + attributes). */
  readonly bytes: number;
  readonly acceptedAt: number;
  attempts: number;
  firstAttemptAt?: number;
  lastAttemptAt?: number;
  lastError?: { code: string; message: string };
  /** SQS refused it in a way that made the daemon re-read the queue's settings once already. */
  rechecked?: boolean;
  /** Where the spool wrote it (segment number, byte offset, record length); spool bookkeeping. */
  pos?: SpoolPosition;
}

export interface SpoolPosition {
  seg: number;
  off: number;
  len: number;
}

/** Ends an envelope's life: delivered, or given up with a reason. */
export interface FailureReason {
  code: string;
  message: string;
}

// Ids: a per-process random prefix (unique across restarts) and a counter, base 36.
// Cheaper than randomUUID and sortable within a process run.
const prefix = `${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
let seq = 0;

export function newMessageId(): string {
  seq += 1;
  return `${prefix}-${seq.toString(36)}`;
}
