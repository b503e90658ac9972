import type { SqsClient } from './client.js';
import { classifyEntry, type Disposition, RECEIPT_GONE_CODES, SqsError } from './errors.js';
import type { Credentials, MessageAttributes } from './types.js';

/**
 * The consuming side of SQS (ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibility[Batch])
 * as typed helpers over `SqsClient.call`. Answers are checked here and turned into plain values;
 * per-entry failures carry a disposition decided by errors.ts, so the worker never reads SQS.
 */

/** A received message, with the system attributes the worker uses parsed. */
export interface ReceivedMessage {
  messageId: string;
  receiptHandle: string;
  body: string;
  /** Message attributes as sent. */
  attributes: MessageAttributes;
  /** System attributes (strings, as SQS gives them): SentTimestamp, MessageGroupId, ... */
  system: Record<string, string>;
  /** ApproximateReceiveCount (1 on the first receive). */
  receiveCount: number;
  /** ApproximateFirstReceiveTimestamp, ms since the epoch (now when SQS gave none). */
  firstReceivedAt: number;
  /** FIFO queues: the message group. */
  groupId?: string;
}

export interface ReceiveOptions {
  maxMessages: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  signal?: AbortSignal;
  /** Timeout of the request: the wait plus the client's usual timeout. ms. */
  timeoutMs: number;
}

interface WireMessage {
  MessageId?: unknown;
  ReceiptHandle?: unknown;
  Body?: unknown;
  Attributes?: unknown;
  MessageAttributes?: unknown;
}

const MAX_DATE_MS = 8.64e15;

function toReceived(m: WireMessage, now: number): ReceivedMessage | undefined {
  if (typeof m.MessageId !== 'string' || typeof m.ReceiptHandle !== 'string') return undefined;
  const system = (m.Attributes !== null && typeof m.Attributes === 'object' ? m.Attributes : {}) as Record<string, string>;
  const count = Number(system.ApproximateReceiveCount);
  const first = Number(system.ApproximateFirstReceiveTimestamp);
  const out: ReceivedMessage = {
    messageId: m.MessageId,
    receiptHandle: m.ReceiptHandle,
    body: typeof m.Body === 'string' ? m.Body : '',
    attributes: (m.MessageAttributes !== null && typeof m.MessageAttributes === 'object' ? m.MessageAttributes : {}) as MessageAttributes,
    system,
    receiveCount: Number.isInteger(count) && count > 0 ? count : 1,
    // Past 8.64e15 ms a Date is invalid (toISOString throws): an endpoint's nonsense is "now".
    firstReceivedAt: Number.isFinite(first) && first > 0 && first <= MAX_DATE_MS ? first : now,
  };
  if (typeof system.MessageGroupId === 'string') out.groupId = system.MessageGroupId;
  return out;
}

/** One long poll: up to `maxMessages` messages with every attribute and system attribute. */
export async function receiveMessages(client: SqsClient, queueUrl: string, credentials: Credentials, options: ReceiveOptions): Promise<ReceivedMessage[]> {
  const out = await client.call<{ Messages?: unknown }>(
    'ReceiveMessage',
    {
      QueueUrl: queueUrl,
      MaxNumberOfMessages: options.maxMessages,
      WaitTimeSeconds: options.waitTimeSeconds,
      VisibilityTimeout: options.visibilityTimeoutSeconds,
      MessageAttributeNames: ['All'],
      MessageSystemAttributeNames: ['All'],
      // Older endpoints (and emulators) only know the legacy name.
      AttributeNames: ['All'],
    },
    credentials,
    options.signal ? { signal: options.signal, timeoutMs: options.timeoutMs } : { timeoutMs: options.timeoutMs },
  );
  if (out.Messages === undefined) return [];
  if (!Array.isArray(out.Messages)) throw new SqsError('BadResponse', 'ReceiveMessage answered Messages that is not a list', 200, undefined, 'retry');
  const now = Date.now();
  const messages: ReceivedMessage[] = [];
  for (const m of out.Messages as WireMessage[]) {
    const r = toReceived(m, now);
    if (r) messages.push(r);
  }
  return messages;
}

/** What happened to one entry of a batch call. */
export type EntryOutcome =
  | { ok: true }
  /** `gone`: the receipt handle no longer works (RECEIPT_GONE_CODES); retrying cannot help. */
  | { ok: false; code: string; message: string; disposition: Disposition; gone: boolean };

interface BatchAnswer {
  Successful?: Array<{ Id?: unknown }>;
  Failed?: Array<{ Id?: unknown; Code?: unknown; Message?: unknown; SenderFault?: unknown }>;
}

/** The entry ids of a batch: its positions. */
const IDS = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;
const idsFor = (n: number): readonly string[] => (n <= IDS.length ? IDS.slice(0, n) : Array.from({ length: n }, (_, i) => String(i)));
const OK: EntryOutcome = Object.freeze({ ok: true as const });

function outcomes(ids: readonly string[], out: BatchAnswer, action: string): EntryOutcome[] {
  // The usual answer: every entry successful, in the order sent.
  const s = out.Successful;
  if (Array.isArray(s) && s.length === ids.length && (out.Failed === undefined || (Array.isArray(out.Failed) && out.Failed.length === 0))) {
    let inOrder = true;
    for (let i = 0; i < ids.length && inOrder; i++) inOrder = (s[i] as { Id?: unknown } | null)?.Id === ids[i];
    if (inOrder) return ids.map(() => OK);
  }
  const byId = new Map<string, EntryOutcome>();
  for (const e of out.Successful ?? []) if (typeof e?.Id === 'string') byId.set(e.Id, OK);
  for (const f of out.Failed ?? []) {
    if (typeof f?.Id !== 'string') continue;
    const code = typeof f.Code === 'string' ? f.Code : 'Unknown';
    byId.set(f.Id, { ok: false, code, message: typeof f.Message === 'string' ? f.Message : code, disposition: classifyEntry(code, f.SenderFault === true), gone: RECEIPT_GONE_CODES.has(code) });
  }
  // An entry SQS did not mention is not confirmed: try it again.
  return ids.map((id) => byId.get(id) ?? { ok: false, code: 'BadResponse', message: `${action} did not answer for this entry`, disposition: 'retry', gone: false });
}

/** DeleteMessageBatch for up to 10 receipt handles; one outcome per handle, in order. */
export async function deleteMessageBatch(client: SqsClient, queueUrl: string, credentials: Credentials, receiptHandles: readonly string[]): Promise<EntryOutcome[]> {
  const ids = idsFor(receiptHandles.length);
  const out = await client.call<BatchAnswer>('DeleteMessageBatch', { QueueUrl: queueUrl, Entries: receiptHandles.map((h, i) => ({ Id: ids[i], ReceiptHandle: h })) }, credentials);
  return outcomes(ids, out, 'DeleteMessageBatch');
}

/** ChangeMessageVisibilityBatch for up to 10 messages; one outcome per entry, in order. */
export async function changeVisibilityBatch(
  client: SqsClient,
  queueUrl: string,
  credentials: Credentials,
  entries: ReadonlyArray<{ receiptHandle: string; visibilityTimeoutSeconds: number }>,
): Promise<EntryOutcome[]> {
  const ids = idsFor(entries.length);
  const out = await client.call<BatchAnswer>(
    'ChangeMessageVisibilityBatch',
    { QueueUrl: queueUrl, Entries: entries.map((e, i) => ({ Id: ids[i], ReceiptHandle: e.receiptHandle, VisibilityTimeout: e.visibilityTimeoutSeconds })) },
    credentials,
  );
  return outcomes(ids, out, 'ChangeMessageVisibilityBatch');
}

/** ChangeMessageVisibility for one message. */
export async function changeVisibility(client: SqsClient, queueUrl: string, credentials: Credentials, receiptHandle: string, visibilityTimeoutSeconds: number): Promise<void> {
  await client.call('ChangeMessageVisibility', { QueueUrl: queueUrl, ReceiptHandle: receiptHandle, VisibilityTimeout: visibilityTimeoutSeconds }, credentials);
}

/** A batch call's request failed as a whole: does it apply to every entry? Always; the disposition says whether to retry. */
export function wholeBatchFailed(err: Pick<SqsError, 'code' | 'message' | 'disposition'>, count: number): EntryOutcome[] {
  return Array.from({ length: count }, () => ({ ok: false as const, code: err.code, message: err.message, disposition: err.disposition, gone: RECEIPT_GONE_CODES.has(err.code) }));
}
