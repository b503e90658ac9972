import type { ReceivedMessage } from '../sqs/consume.js';
import type { CredentialSource } from '../sqs/credentials.js';
import { queueNameFromUrl } from '../sqs/admin.js';
import type { AppOutcome } from './deliver.js';
import type { WorkerConfig } from './options.js';

/**
 * Replies: when the app answers 2xx with a body and the message names a reply queue (its
 * `ReplyTo` attribute, else the worker's `replyQueue`), the body goes to that queue with the
 * app's `X-Reply-Attr-<name>` headers as String attributes and `CorrelationId` carried over
 * (the task's SQS message id when it had none).
 */

export interface WorkerReply {
  /** Queue name (a `ReplyTo` holding a queue URL is reduced to its name). */
  queue: string;
  credentials: CredentialSource;
  /** Validated and sent like any other message: body, attributes, FIFO group and dedup id. */
  input: { body: string; attributes: Record<string, string>; groupId?: string; deduplicationId?: string };
}

/** Accepts a reply into the daemon's durable send path; rejects with a `code` and message if it cannot. */
export type ReplySender = (reply: WorkerReply) => Promise<void>;

export function replyFor(msg: ReceivedMessage, out: Extract<AppOutcome, { kind: 'ok' }>, config: WorkerConfig, credentials: CredentialSource): WorkerReply | undefined {
  if (out.body === '') return undefined;
  const replyTo = msg.attributes.ReplyTo?.StringValue?.trim();
  const queue = replyTo ? (replyTo.includes('/') ? queueNameFromUrl(replyTo) : replyTo) : config.replyQueue;
  if (!queue) return undefined;
  const correlationId = msg.attributes.CorrelationId?.StringValue ?? msg.messageId;
  // HTTP header names arrive lower-cased: X-Reply-Attr-Status becomes the attribute "status".
  const attributes: Record<string, string> = { ...out.replyAttributes, CorrelationId: correlationId };
  const input: WorkerReply['input'] = { body: out.body, attributes };
  if (queue.endsWith('.fifo')) {
    input.groupId = msg.groupId ?? correlationId;
    // The same task's reply, sent again after a crash, is deduplicated by SQS.
    input.deduplicationId = `reply-${msg.messageId}`.slice(0, 128);
  }
  return { queue, credentials, input };
}
