import type { SqsClient } from './client.js';
import { SqsError } from './errors.js';
import type { Credentials, MessageAttributes } from './types.js';

/**
 * What the queue browser asks of SQS beyond management: look at messages (ReceiveMessage with a
 * chosen visibility timeout, no long poll), delete one, change settings, and message-move tasks
 * (DLQ redrive). Answers are checked here and turned into plain values; errors are SqsError.
 * The shape of a received message is the worker side's (src/sqs/consume.ts on its branch), so
 * the two can become one helper.
 */

/** SQS's bounds for a receive from the browser. */
export const RECEIVE_LIMITS = { maxMessages: { min: 1, max: 10 }, visibilityTimeout: { min: 0, max: 43_200 } } as const;

export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** Message attributes as sent. */
  attributes: MessageAttributes;
  /** System attributes (strings, as SQS gives them): SentTimestamp, ApproximateReceiveCount, MessageGroupId, ... */
  system: Record<string, string>;
  /** SQS's MD5 of the body, when it gave one. */
  md5OfBody?: string;
}

interface WireMessage {
  MessageId?: unknown;
  ReceiptHandle?: unknown;
  Body?: unknown;
  MD5OfBody?: unknown;
  Attributes?: unknown;
  MessageAttributes?: unknown;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * One ReceiveMessage without waiting: up to `maxMessages` with every attribute and system
 * attribute. `visibilityTimeoutSeconds` 0 puts them back at once (a look that still counts as a
 * receive: ApproximateReceiveCount grows, and a redrive policy counts it).
 */
export async function receiveForBrowsing(client: SqsClient, queueUrl: string, credentials: Credentials, options: { maxMessages: number; visibilityTimeoutSeconds: number }): Promise<ReceivedMessage[]> {
  const out = await client.call<{ Messages?: unknown }>(
    'ReceiveMessage',
    {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.maxMessages,
      WaitTimeSeconds: 0,
      VisibilityTimeout: options.visibilityTimeoutSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      // Older endpoints (and emulators) only know the legacy name.
      AttributeNames: ['All'],
    },
    credentials,
  );
  if (out.Messages === undefined) return [];
  if (!Array.isArray(out.Messages)) throw new SqsError('BadResponse', 'ReceiveMessage answered Messages that is not a list', 200, undefined, 'retry');
  const messages: ReceivedMessage[] = [];
  for (const m of out.Messages as WireMessage[]) {
    if (typeof m.MessageId !== 'string' || typeof m.ReceiptHandle !== 'string') continue;
    const system: Record<string, string> = {};
    if (isObject(m.Attributes)) for (const [k, v] of Object.entries(m.Attributes)) if (typeof v === 'string') system[k] = v;
    const r: ReceivedMessage = {
      messageId: m.MessageId,
      receiptHandle: m.ReceiptHandle,
      body: typeof m.Body === 'string' ? m.Body : '',
      attributes: (isObject(m.MessageAttributes) ? m.MessageAttributes : {}) as MessageAttributes,
      system,
    };
    if (typeof m.MD5OfBody === 'string') r.md5OfBody = m.MD5OfBody;
    messages.push(r);
  }
  return messages;
}

export async function deleteMessage(client: SqsClient, queueUrl: string, credentials: Credentials, receiptHandle: string): Promise<void> {
  await client.call('DeleteMessage', { QueueUrl: queueUrl, ReceiptHandle: receiptHandle }, credentials);
}

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
