/**
 * SendMessage and SendMessageBatch, answered at once: validated as SQS validates, recorded in the
 * spool through the ingest step, and answered with the daemon's message id and the MD5s SQS would
 * give. Errors carry SQS's codes, so SDKs raise the typed errors they raise against SQS.
 */
import type { Logger } from 'pino';
import { isDaemonError } from '../errors.js';
import type { EntryResult, Ingest, IngestEntry } from '../ingest/index.js';
import { utf8Bytes, scan } from '../sqs/chars.js';
import type { CredentialSource } from '../sqs/credentials.js';
import type { MessageInput } from '../sqs/limits.js';
import { SQS_MAX_MESSAGE_BYTES } from '../sqs/quotas.js';
import type { Destination } from '../sqs/resolver.js';
import { invalidParameter, isSqsApiError, missingParameter, queueDoesNotExist, SqsApiError } from './errors.js';
import { md5OfAttributes, md5OfBody, md5OfTraceHeader } from './md5.js';
import { queuePath, type QueueUrls } from './urls.js';

export interface SendDeps {
  credentials: CredentialSource;
  ingest: Ingest;
  urls: QueueUrls;
  log: Logger;
  /** --s3-bucket is set: messages past SQS's limits go through S3, so a batch may be longer than SQS's 1 MiB. */
  offload?: boolean;
}

/** Batch entry ids: SQS's rule. */
const BATCH_ID = /^[A-Za-z0-9_-]{1,80}$/;
export const MAX_BATCH_ENTRIES = 10;
/** A trace header is ~100 bytes; this only bounds what a caller can make us store. */
export const MAX_TRACE_HEADER_BYTES = 16_384;

/** What to do with a send: answer it here, or forward it (a queue of another account, an odd URL). */
type Routed = { dest: Destination } | 'forward';

/** The destination for a request's QueueUrl, resolved with the daemon's credentials (cached after the first time). */
async function route(deps: SendDeps, params: Record<string, unknown>): Promise<Routed> {
  const queueUrl = params.QueueUrl;
  if (typeof queueUrl !== 'string' || queueUrl === '') throw missingParameter('QueueUrl');
  let url: URL;
  try {
    url = new URL(deps.urls.toUpstream(queueUrl));
  } catch {
    return 'forward'; // SQS says what is wrong with it
  }
  const path = queuePath(url.pathname);
  if (!path) return 'forward';
  let dest: Destination;
  try {
    dest = await deps.ingest.destination(deps.credentials, path.name);
  } catch (err) {
    throw destinationError(err);
  }
  // The name resolved in the daemon's own account; a URL naming another account's queue
  // (cross-account access) is not this destination: SQS gets that send as it is.
  if (new URL(dest.queueUrl).pathname.replace(/\/$/, '') !== url.pathname.replace(/\/$/, '')) return 'forward';
  return { dest };
}

/** The ingest step's refusals (DaemonErrors) as SQS would answer them; anything else is a bug and passes. */
function destinationError(err: unknown): unknown {
  if (!isDaemonError(err)) return err;
  if (err.code === 'InvalidQueueName' || err.code === 'QueueDoesNotExist') return queueDoesNotExist();
  if (err.status === 401 || err.status === 403) return new SqsApiError(403, err.code, `SQS refused the daemon's credentials: ${err.message}`);
  if (err.status === 503) return unavailable(err.message, err.retryAfterSeconds);
  return new SqsApiError(err.status >= 400 && err.status < 600 ? err.status : 502, err.code, err.message);
}

/** 503 + Retry-After: every SDK backs off and retries it. */
function unavailable(message: string, retryAfterSeconds = 2): SqsApiError {
  return new SqsApiError(503, 'ServiceUnavailable', message, { headers: { 'retry-after': String(retryAfterSeconds) } });
}

/** The door's view of one entry: its input for ingest, or the SQS error that refuses it. */
function toEntry(p: Record<string, unknown>): { input: MessageInput; traceHeader?: string } | SqsApiError {
  const body = p.MessageBody;
  if (body === undefined || body === null || body === '') return missingParameter('MessageBody');
  const input: MessageInput = { body };
  if (p.MessageAttributes !== undefined) input.attributes = p.MessageAttributes;
  if (p.DelaySeconds !== undefined) input.delaySeconds = p.DelaySeconds;
  if (p.MessageGroupId !== undefined) input.groupId = p.MessageGroupId;
  if (p.MessageDeduplicationId !== undefined) input.deduplicationId = p.MessageDeduplicationId;
  const entry: { input: MessageInput; traceHeader?: string } = { input };
  const sys = p.MessageSystemAttributes;
  if (sys !== undefined && sys !== null) {
    if (typeof sys !== 'object' || Array.isArray(sys)) return invalidParameter('MessageSystemAttributes must be a map of attribute names to values.');
    for (const [name, value] of Object.entries(sys as Record<string, unknown>)) {
      if (name !== 'AWSTraceHeader') return invalidParameter(`Message system attribute name '${name.slice(0, 100)}' is invalid: only AWSTraceHeader is supported.`);
      const v = value as { DataType?: unknown; StringValue?: unknown } | null;
      if (v?.DataType !== 'String' || typeof v.StringValue !== 'string' || v.StringValue === '') {
        return invalidParameter('Message system attribute AWSTraceHeader must have DataType String and a non-empty StringValue.');
      }
      const bytes = scan(v.StringValue);
      if (bytes < 0) return new SqsApiError(400, 'InvalidMessageContents', 'Message system attribute AWSTraceHeader contains a character SQS does not allow.');
      if (bytes > MAX_TRACE_HEADER_BYTES) return invalidParameter(`Message system attribute AWSTraceHeader is ${bytes} bytes; this daemon accepts at most ${MAX_TRACE_HEADER_BYTES}.`);
      entry.traceHeader = v.StringValue;
    }
  }
  return entry;
}

/** The validator's codes as SQS's: SQS says InvalidParameterValue for nearly everything. */
function sqsCode(code: string): string {
  if (code === 'InvalidCharacter') return 'InvalidMessageContents';
  if (code === 'EmptyBody' || code === 'MissingGroupId') return 'MissingParameter';
  return 'InvalidParameterValue';
}

function failureMessage(r: Extract<EntryResult, { ok: false }>): string {
  if (r.error.code === 'MissingGroupId') return 'The request must contain the parameter MessageGroupId.';
  return `One or more parameters are invalid. Reason: ${r.error.message}`;
}

function answerFor(r: Extract<EntryResult, { ok: true }>): Record<string, string> {
  const out: Record<string, string> = { MessageId: r.id, MD5OfMessageBody: md5OfBody(r.message.body) };
  const attrs = md5OfAttributes(r.message.attributes);
  if (attrs !== undefined) out.MD5OfMessageAttributes = attrs;
  const sys = md5OfTraceHeader(r.message.traceHeader);
  if (sys !== undefined) out.MD5OfMessageSystemAttributes = sys;
  return out;
}

async function ingestOrThrow(deps: SendDeps, dest: Destination, entries: IngestEntry[]): Promise<EntryResult[]> {
  try {
    return await deps.ingest.send(dest, entries);
  } catch (err) {
    // BacklogFull, SpoolFull, SpoolUnavailable: nothing was accepted.
    if (isDaemonError(err) && err.status === 503) throw unavailable(err.message, err.retryAfterSeconds);
    throw err;
  }
}

export async function sendMessage(deps: SendDeps, params: Record<string, unknown>): Promise<Record<string, unknown> | 'forward'> {
  const routed = await route(deps, params);
  if (routed === 'forward') return routed;
  const entry = toEntry(params);
  if (isSqsApiError(entry)) throw entry;
  const [r] = await ingestOrThrow(deps, routed.dest, [entry]);
  if (!r) throw new Error('ingest answered no result');
  if (!r.ok) throw new SqsApiError(400, sqsCode(r.error.code), failureMessage(r));
  return answerFor(r);
}

/** Size of an entry as SQS counts it for BatchRequestTooLong, from the raw request (before validation). */
function rawBytes(p: Record<string, unknown>): number {
  let n = typeof p.MessageBody === 'string' ? utf8Bytes(p.MessageBody) : 0;
  const attrs = p.MessageAttributes;
  if (attrs && typeof attrs === 'object') {
    for (const [name, a] of Object.entries(attrs as Record<string, { DataType?: unknown; StringValue?: unknown; BinaryValue?: unknown }>)) {
      n += utf8Bytes(name);
      if (typeof a?.DataType === 'string') n += utf8Bytes(a.DataType);
      if (typeof a?.StringValue === 'string') n += utf8Bytes(a.StringValue);
      if (typeof a?.BinaryValue === 'string') n += Math.floor((a.BinaryValue.length * 3) / 4);
    }
  }
  return n;
}

export async function sendMessageBatch(deps: SendDeps, params: Record<string, unknown>): Promise<Record<string, unknown> | 'forward'> {
  const raw = params.Entries;
  if (raw !== undefined && !Array.isArray(raw)) throw invalidParameter('Entries must be a list.');
  const list = (raw ?? []) as unknown[];
  // Whole-request checks first, in SQS's order; then the queue.
  if (list.length === 0) throw new SqsApiError(400, 'EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
  if (list.length > MAX_BATCH_ENTRIES) throw new SqsApiError(400, 'TooManyEntriesInBatchRequest', `Maximum number of entries per request are ${MAX_BATCH_ENTRIES}. You have sent ${list.length}.`);
  const seen = new Set<string>();
  let total = 0;
  for (const e of list) {
    const id = (e as { Id?: unknown } | null)?.Id;
    if (typeof id !== 'string' || !BATCH_ID.test(id)) {
      throw new SqsApiError(400, 'InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
    }
    if (seen.has(id)) throw new SqsApiError(400, 'BatchEntryIdsNotDistinct', `Id ${id} repeated.`);
    seen.add(id);
    total += rawBytes(e as Record<string, unknown>);
  }
  // With --s3-bucket entries past SQS's limits go through S3 (their pointers are small): no such limit then.
  if (total > SQS_MAX_MESSAGE_BYTES && !deps.offload) {
    throw new SqsApiError(400, 'BatchRequestTooLong', `Batch requests cannot be longer than ${SQS_MAX_MESSAGE_BYTES} bytes. You have sent ${total} bytes.`);
  }
  const routed = await route(deps, params);
  if (routed === 'forward') return routed;

  const entries = list as Array<Record<string, unknown>>;
  const failed: Array<{ Id: string; SenderFault: true; Code: string; Message: string }> = [];
  const toIngest: IngestEntry[] = [];
  const ingestIds: string[] = [];
  for (const e of entries) {
    const entry = toEntry(e);
    if (isSqsApiError(entry)) failed.push({ Id: e.Id as string, SenderFault: true, Code: entry.code, Message: entry.message });
    else {
      toIngest.push(entry);
      ingestIds.push(e.Id as string);
    }
  }
  const successful: Array<Record<string, string>> = [];
  if (toIngest.length > 0) {
    const results = await ingestOrThrow(deps, routed.dest, toIngest);
    results.forEach((r, i) => {
      const Id = ingestIds[i] as string;
      if (r.ok) successful.push({ Id, ...answerFor(r) });
      else failed.push({ Id, SenderFault: true, Code: sqsCode(r.error.code), Message: failureMessage(r) });
    });
  }
  // Failed in request order, as SQS lists them.
  const order = new Map(entries.map((e, i) => [e.Id as string, i]));
  failed.sort((a, b) => (order.get(a.Id) ?? 0) - (order.get(b.Id) ?? 0));
  return { Successful: successful, Failed: failed };
}
