import type { SqsClient } from './client.js';
import { SqsError } from './errors.js';
import type { Credentials } from './types.js';

/**
 * What the queue browser asks of SQS beyond management and beyond what it shares with the worker
 * side (receiveMessages and deleteMessageBatch in consume.ts): changing settings, reading the
 * redrive policy, and dead-letter queue redrive (message-move tasks). Errors are SqsError.
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

/**
 * Codes an SQS-compatible endpoint answers for an action it does not implement (fauxqs:
 * InvalidAction; others: UnknownOperation...). Real SQS implements every action used here.
 */
export const UNSUPPORTED_ACTION_CODES: ReadonlySet<string> = new Set([
  'InvalidAction',
  'UnknownOperation',
  'UnknownOperationException',
  'UnsupportedOperation',
  'AWS.SimpleQueueService.UnsupportedOperation',
  'NotImplemented',
]);

/** The URLs of the queues whose redrive policy names this queue as their dead-letter queue. */
export async function deadLetterSourceQueues(client: SqsClient, queueUrl: string, credentials: Credentials): Promise<string[]> {
  const out = await client.call<{ queueUrls?: unknown; QueueUrls?: unknown }>('ListDeadLetterSourceQueues', { QueueUrl: queueUrl, MaxResults: 1000 }, credentials);
  const urls = out.queueUrls ?? out.QueueUrls;
  return Array.isArray(urls) ? urls.filter((u): u is string => typeof u === 'string') : [];
}

/** One message-move task (ListMessageMoveTasks), with SQS's field names kept. */
export interface MoveTask {
  TaskHandle?: string;
  Status: string;
  SourceArn: string;
  DestinationArn?: string;
  MaxNumberOfMessagesPerSecond?: number;
  ApproximateNumberOfMessagesMoved: number;
  ApproximateNumberOfMessagesToMove?: number;
  FailureReason?: string;
  StartedTimestamp?: number;
}

/** The most recent message-move tasks of a source (dead-letter) queue, newest first (SQS keeps up to 10). */
export async function listMoveTasks(client: SqsClient, sourceArn: string, credentials: Credentials): Promise<MoveTask[]> {
  const out = await client.call<{ Results?: unknown }>('ListMessageMoveTasks', { SourceArn: sourceArn, MaxResults: 10 }, credentials);
  if (!Array.isArray(out.Results)) return [];
  return out.Results.filter((r): r is Record<string, unknown> => r !== null && typeof r === 'object').map((r) => {
    const task: MoveTask = { Status: String(r.Status ?? 'UNKNOWN'), SourceArn: String(r.SourceArn ?? sourceArn), ApproximateNumberOfMessagesMoved: Number(r.ApproximateNumberOfMessagesMoved ?? 0) };
    if (typeof r.TaskHandle === 'string') task.TaskHandle = r.TaskHandle;
    if (typeof r.DestinationArn === 'string') task.DestinationArn = r.DestinationArn;
    if (typeof r.MaxNumberOfMessagesPerSecond === 'number') task.MaxNumberOfMessagesPerSecond = r.MaxNumberOfMessagesPerSecond;
    if (typeof r.ApproximateNumberOfMessagesToMove === 'number') task.ApproximateNumberOfMessagesToMove = r.ApproximateNumberOfMessagesToMove;
    if (typeof r.FailureReason === 'string') task.FailureReason = r.FailureReason;
    if (typeof r.StartedTimestamp === 'number') task.StartedTimestamp = r.StartedTimestamp;
    return task;
  });
}

/** StartMessageMoveTask: without a destination SQS moves each message back to the queue it came from. */
export async function startMoveTask(client: SqsClient, credentials: Credentials, task: { sourceArn: string; destinationArn?: string; maxPerSecond?: number }): Promise<string> {
  const params: Record<string, unknown> = { SourceArn: task.sourceArn };
  if (task.destinationArn) params.DestinationArn = task.destinationArn;
  if (task.maxPerSecond !== undefined) params.MaxNumberOfMessagesPerSecond = task.maxPerSecond;
  const out = await client.call<{ TaskHandle?: unknown }>('StartMessageMoveTask', params, credentials);
  if (typeof out.TaskHandle !== 'string') throw new SqsError('BadResponse', 'StartMessageMoveTask answered without TaskHandle', 200, undefined, 'retry');
  return out.TaskHandle;
}

export async function cancelMoveTask(client: SqsClient, credentials: Credentials, taskHandle: string): Promise<number> {
  const out = await client.call<{ ApproximateNumberOfMessagesMoved?: unknown }>('CancelMessageMoveTask', { TaskHandle: taskHandle }, credentials);
  return Number(out.ApproximateNumberOfMessagesMoved ?? 0);
}
