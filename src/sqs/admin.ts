import pLimit from 'p-limit';
import type { SqsClient } from './client.js';
import { isSqsError, SqsError } from './errors.js';
import type { Credentials } from './types.js';

/**
 * Queue management calls (list, create, describe, purge, delete) for the UI and the REST
 * routes. Errors are the client's SqsError, mapped to HTTP by the routes.
 */

/** The attributes the queue list shows for every queue. */
export const SUMMARY_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
  'FifoQueue',
] as const;

/** GetQueueAttributes calls in flight at once for one list page. */
const LIST_CONCURRENCY = 8;

export interface QueueSummary {
  name: string;
  url: string;
  fifo: boolean;
  /** ApproximateNumberOfMessages (available to receive). */
  visible?: number;
  /** ApproximateNumberOfMessagesNotVisible (received, not yet deleted). */
  inFlight?: number;
  /** ApproximateNumberOfMessagesDelayed. */
  delayed?: number;
  /** Why the attributes are missing (e.g. the queue was deleted meanwhile, or access denied). */
  error?: { code: string; message: string };
}

export interface ListOptions {
  prefix?: string;
  /** 1..1000. */
  maxResults: number;
  nextToken?: string;
}

/** The queue name is the last path segment of its URL. */
export function queueNameFromUrl(url: string): string {
  const path = url.replace(/^[a-z]+:\/\/[^/]+/i, '');
  const segments = path.split('/').filter((s) => s !== '');
  return decodeURIComponent(segments[segments.length - 1] ?? '');
}

export async function listQueueUrls(client: SqsClient, creds: Credentials, options: ListOptions): Promise<{ urls: string[]; nextToken?: string }> {
  const params: Record<string, unknown> = { MaxResults: options.maxResults };
  if (options.prefix) params.QueueNamePrefix = options.prefix;
  if (options.nextToken) params.NextToken = options.nextToken;
  const out = await client.call<{ QueueUrls?: string[]; NextToken?: string }>('ListQueues', params, creds);
  const urls = Array.isArray(out.QueueUrls) ? out.QueueUrls.filter((u): u is string => typeof u === 'string') : [];
  return typeof out.NextToken === 'string' && out.NextToken !== '' ? { urls, nextToken: out.NextToken } : { urls };
}

/**
 * One page of queues with their key attributes, fetched with bounded concurrency. A queue whose
 * attributes cannot be read keeps its row with the error; credential and throttling errors
 * are thrown instead, since every other row would fail the same way.
 */
export async function listQueues(client: SqsClient, creds: Credentials, options: ListOptions): Promise<{ queues: QueueSummary[]; nextToken?: string }> {
  const page = await listQueueUrls(client, creds, options);
  const limit = pLimit(LIST_CONCURRENCY);
  const queues = await Promise.all(
    page.urls.map((url) =>
      limit(async (): Promise<QueueSummary> => {
        const name = queueNameFromUrl(url);
        try {
          const a = await client.getQueueAttributes(url, [...SUMMARY_ATTRIBUTES], creds);
          return {
            name,
            url,
            fifo: a.FifoQueue === 'true' || name.endsWith('.fifo'),
            visible: toInt(a.ApproximateNumberOfMessages),
            inFlight: toInt(a.ApproximateNumberOfMessagesNotVisible),
            delayed: toInt(a.ApproximateNumberOfMessagesDelayed),
          };
        } catch (err) {
          if (!isSqsError(err) || !err.queueMissing) throw err;
          return { name, url, fifo: name.endsWith('.fifo'), error: { code: err.code, message: 'deleted while the list was being read' } };
        }
      }),
    ),
  );
  return page.nextToken === undefined ? { queues } : { queues, nextToken: page.nextToken };
}

function toInt(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

export async function queueUrl(client: SqsClient, creds: Credentials, name: string): Promise<string> {
  return client.getQueueUrl(name, creds);
}

/** Every attribute of a queue, as SQS gives them (strings). */
export async function describeQueue(client: SqsClient, creds: Credentials, name: string): Promise<{ url: string; attributes: Record<string, string> }> {
  const url = await client.getQueueUrl(name, creds);
  const attributes = await client.getQueueAttributes(url, ['All'], creds);
  return { url, attributes };
}

export async function createQueue(client: SqsClient, creds: Credentials, name: string, attributes: Record<string, string>): Promise<string> {
  const params: Record<string, unknown> = { QueueName: name };
  if (Object.keys(attributes).length > 0) params.Attributes = attributes;
  const out = await client.call<{ QueueUrl?: string }>('CreateQueue', params, creds);
  if (typeof out.QueueUrl !== 'string') throw new SqsError('BadResponse', 'CreateQueue answered without QueueUrl', 200, undefined, 'retry');
  return out.QueueUrl;
}

export async function deleteQueue(client: SqsClient, creds: Credentials, name: string): Promise<void> {
  const url = await client.getQueueUrl(name, creds);
  await client.call('DeleteQueue', { QueueUrl: url }, creds);
}

export async function purgeQueue(client: SqsClient, creds: Credentials, name: string): Promise<void> {
  const url = await client.getQueueUrl(name, creds);
  await client.call('PurgeQueue', { QueueUrl: url }, creds);
}

/** The ARN and type of a queue named as a dead-letter target. */
export async function queueArn(client: SqsClient, creds: Credentials, name: string): Promise<{ arn: string; fifo: boolean }> {
  const url = await client.getQueueUrl(name, creds);
  const a = await client.getQueueAttributes(url, ['QueueArn', 'FifoQueue'], creds);
  if (typeof a.QueueArn !== 'string') throw new SqsError('BadResponse', 'GetQueueAttributes answered without QueueArn', 200, undefined, 'retry');
  return { arn: a.QueueArn, fifo: a.FifoQueue === 'true' };
}

/** `arn:aws:sqs:eu-west-1:123456789012:orders-dlq` -> `orders-dlq`. */
export function queueNameFromArn(arn: string): string {
  const i = arn.lastIndexOf(':');
  return i >= 0 ? arn.slice(i + 1) : arn;
}

/**
 * SQS's rules for the attributes the create form offers (CreateQueue documentation):
 * seconds or bytes, inclusive ranges, and SQS's default when the field is left empty (null: not stated).
 */
export const QUEUE_ATTRIBUTE_RULES = {
  VisibilityTimeout: { min: 0, max: 43_200, unit: 's', sqsDefault: 30 },
  DelaySeconds: { min: 0, max: 900, unit: 's', sqsDefault: 0 },
  MessageRetentionPeriod: { min: 60, max: 1_209_600, unit: 's', sqsDefault: 345_600 },
  // The default moved when SQS raised its limit to 1 MiB (2025); we do not claim one.
  MaximumMessageSize: { min: 1_024, max: 1_048_576, unit: 'bytes', sqsDefault: null },
  ReceiveMessageWaitTimeSeconds: { min: 0, max: 20, unit: 's', sqsDefault: 0 },
} as const;

export type RuledAttribute = keyof typeof QUEUE_ATTRIBUTE_RULES;

/** RedrivePolicy maxReceiveCount range. */
export const MAX_RECEIVE_COUNT = { min: 1, max: 1000 } as const;
