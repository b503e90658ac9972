import type { OffloadedPayload } from '../ingest/offload.js';
import type { PayloadStage } from './payloads.js';
import type { SqsError } from '../sqs/errors.js';
import type { Destination } from '../sqs/resolver.js';
import type { OutgoingMessage } from '../sqs/types.js';
import type { Envelope } from './envelope.js';
import type { BatchOutcome } from './sender.js';

/** Sends one batch and sorts its entries by outcome; never throws (see attemptBatch). */
export type BatchSender = (batch: readonly Envelope[]) => Promise<BatchOutcome>;

export interface PipelineOptions {
  /** How long a partial batch waits for company while another batch of its queue is in flight. ms. */
  lingerMs: number;
  /** SendMessageBatch requests in flight at once, all queues together, at most (the adaptive limit's ceiling: inflight.ts). */
  maxConcurrency: number;
  /** Message bytes in flight at most (passed by one batch at most). Default 64 MiB. */
  maxInFlightBytes?: number;
  /** Most messages accepted but not yet delivered; beyond it accept() returns false (HTTP 503). */
  maxBacklogMessages: number;
  /** Most bytes accepted but not yet delivered. */
  maxBacklogBytes: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** A message still undelivered this long after it was accepted is dead-lettered. 0 = never. ms. */
  maxMessageAgeMs: number;
  /** With a paging store, at most this many messages are held in memory; the rest wait on disk. */
  maxInMemoryMessages?: number;
  /** With a paging store, at most this many message bytes (as SQS counts them) are held in memory; the rest wait on disk. Default: no bound. */
  maxInMemoryBytes?: number;
  /** FIFO: entries of one message group per SendMessageBatch (1-10); see Batcher. Default 1. */
  fifoMaxPerGroup?: number;
  /** Destinations (queue + credentials) with messages in the daemon at once; past it a send to a new one is refused. Default 10,000. */
  maxDestinations?: number;
  /** A destination's batcher and counters are forgotten once it has been idle this long. ms. Default 10 min. */
  idleMs?: number;
  /** Where batches go instead of attemptBatch(client, resolver): failover across upstreams (src/upstreams/). Default: the one client. */
  send?: BatchSender;
  /** Large messages (--s3-bucket): uploads payloads before their pointers are batched. */
  payloads?: PayloadStage;
}

/** A refusal of accept() other than a full backlog. */
export class PipelineError extends Error {
  override readonly name = 'PipelineError';
  constructor(
    readonly code: 'ETOOMANYDESTINATIONS',
    message: string,
  ) {
    super(message);
  }
}

/** Hooks for metrics; every method optional. Called synchronously, must not throw. */
export interface PipelineObserver {
  accepted?(dest: Destination, count: number, bytes: number): void;
  batchDone?(dest: Destination, entries: number, latencyMs: number, requestError: SqsError | undefined): void;
  retried?(dest: Destination, code: string, count: number): void;
  deadLettered?(dest: Destination, code: string, count: number): void;
  delivered?(dest: Destination, count: number): void;
  /** A bug (not an SQS answer) failed a batch; it is logged with its stack and the entries are retried. */
  unexpectedError?(dest: Destination, error: SqsError): void;
}

export interface Validated {
  message: OutgoingMessage;
  bytes: number;
  /** The local id to give it (from newMessageId(), made before accept because an attribute names it: request/reply). Default: a new one. */
  id?: string;
  /** The payload is in a spool payload file, to be uploaded to S3 before the pointer in `message` is sent. */
  offload?: OffloadedPayload;
}
