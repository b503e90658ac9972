import { createHash } from 'node:crypto';
import type { OutgoingMessage, QueueLimits } from './types.js';

/**
 * The deduplication id a FIFO message is sent with. Always explicit, so a queue's
 * ContentBasedDeduplication can change under a running daemon without SQS refusing the
 * messages already accepted: the sender's own id; else, when the queue uses content-based
 * deduplication, the SHA-256 (hex) of the body, which is what SQS itself would compute; else
 * the message's stable local id, so a retry can never duplicate. Undefined for standard queues.
 */
export function deduplicationIdFor(message: OutgoingMessage, limits: QueueLimits, localId: string): string | undefined {
  if (!limits.fifo) return undefined;
  if (message.dedupId !== undefined) return message.dedupId;
  return limits.contentBasedDedup ? contentDeduplicationId(message.body) : localId;
}

/** SQS's content-based deduplication id: SHA-256 of the body (attributes not included), hex. */
export function contentDeduplicationId(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}
