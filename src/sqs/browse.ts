import type { SqsClient } from './client.js';
import type { Credentials } from './types.js';

/**
 * What the queue browser asks of SQS beyond management and beyond what it shares with the worker
 * side (receiveMessages and deleteMessageBatch in consume.ts): changing settings and reading the
 * redrive policy. Errors are SqsError.
 */

/** SQS's bounds for a receive from the browser (through receiveMessages in consume.ts, shared with the worker side). */
export const RECEIVE_LIMITS = { maxMessages: { min: 1, max: 10 }, visibilityTimeout: { min: 0, max: 43_200 } } as const;

export async function setQueueAttributes(client: SqsClient, queueUrl: string, credentials: Credentials, attributes: Record<string, string>): Promise<void> {
  await client.call('SetQueueAttributes', { QueueUrl: queueUrl, Attributes: attributes }, credentials);
}

/** A queue's RedrivePolicy attribute, read: the dead-letter queue's name and the receives before a move. */
export function redrivePolicyOf(attributes: Record<string, string>): { deadLetterQueue: string; deadLetterArn: string; maxReceiveCount: number } | undefined {
  const raw = attributes.RedrivePolicy;
  if (raw === undefined || raw === '') return undefined;
  try {
    const p = JSON.parse(raw) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (typeof p.deadLetterTargetArn !== 'string') return undefined;
    const arn = p.deadLetterTargetArn;
    return { deadLetterQueue: arn.slice(arn.lastIndexOf(':') + 1), deadLetterArn: arn, maxReceiveCount: Number(p.maxReceiveCount) };
  } catch {
    return undefined;
  }
}
