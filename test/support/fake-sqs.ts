/**
 * A fault-injecting fake of Amazon SQS (JSON protocol, AWS JSON 1.0) for tests and benchmarks.
 *
 * fauxqs is the emulator for ordinary integration tests. This fake exists for what fauxqs cannot do:
 * throttling, 5xx, partial batch failures, dropped connections, latency, outages, and exact counting
 * of what was delivered (including duplicates). It is free of jest APIs so that a standalone benchmark
 * process can use it too, and it only uses erasable TypeScript (no enums, no parameter properties).
 *
 * Two views of a queue are kept:
 * - the delivery log (`messages()`, `bodies()`, `countByBody()`, `messageCount()`): every message that
 *   was stored, in arrival order. Consuming (ReceiveMessage, DeleteMessage, PurgeQueue) never shrinks it;
 *   only `reset()` and deleting the queue do. This is what tests count deliveries against.
 * - the live queue that ReceiveMessage reads from, with visibility timeouts, per-message delays and FIFO
 *   group ordering; DeleteMessage and PurgeQueue remove from it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  BatchResultErrorEntry,
  MessageAttributeValue,
  MessageAttributes,
  SendMessageBatchResultEntry,
} from '../../src/sqs/types.js';
import { mulberry32 } from './prng.js';

// ---------------------------------------------------------------------------------------------------
// Public API

export interface FakeSqsOptions {
  /** Added before every response, including errors and dropped connections (default 0). */
  latencyMs?: number;
  /** Queues to create up front. A name ending in `.fifo` makes a FIFO queue. */
  queues?: Array<string | { name: string; attributes?: Record<string, string> }>;
  /** Seed of the PRNG that decides faults. Default: a random seed, readable as `fake.seed` to reproduce a run. */
  seed?: number;
  /** FIFO deduplication window (default 300000 ms = 5 minutes, as SQS). */
  dedupWindowMs?: number;
  /**
   * Long polling, as SQS: a ReceiveMessage with WaitTimeSeconds > 0 that finds nothing waits for a
   * message (sent, or made visible by ChangeMessageVisibility) up to that wait, and answers half the
   * latency after one came (the answer's trip back). Default false: every receive answers at once.
   */
  longPolling?: boolean;
}

export interface StoredMessage {
  messageId: string;
  body: string;
  attributes?: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  groupId?: string;
  dedupId?: string;
  sequenceNumber?: string;
  /** The DelaySeconds that applied (the entry's, else the queue's), when above 0. */
  delaySeconds?: number;
  /** Date.now() when stored. */
  receivedAt: number;
  /** From `Credential=<AKID>/...` of the Authorization header. */
  accessKeyId: string;
  /** The AWSTraceHeader system attribute (MessageSystemAttributes), when sent. */
  traceHeader?: string;
}

export interface Faults {
  /** Probability 0..1 per request of each fault; evaluated in this order; at most one fault per request. */
  throttle?: number; // 403 RequestThrottled (half the time) or 400 ThrottlingException
  serverError?: number; // 500 InternalError or 503 ServiceUnavailable
  dropConnection?: number; // destroy the socket without answering (before processing: message NOT stored)
  dropAfterStore?: number; // process and store, then destroy the socket without answering
  partialFailure?: number; // per ENTRY: fail it with SenderFault false, Code 'InternalError'; the others succeed
  kmsThrottled?: number; // per ENTRY: fail with Code 'KmsThrottled', SenderFault false
  badMd5?: number; // per ENTRY: store it but answer with a wrong MD5OfMessageBody
  extraLatencyMs?: number; // added on top of latencyMs
  /**
   * Added after the action took effect, before the answer is written: the answer's trip back. A
   * client that gives up meanwhile has lost what the answer carried (a receive's messages stay
   * invisible for their visibility timeout, as with SQS).
   */
  answerDelayMs?: number;
  /** Only inject faults into these actions (e.g. ['SendMessageBatch']). Default: every action. */
  actions?: string[];
  /** A lower limit on a SendMessageBatch's total bytes than SQS's 1 MiB (as some SQS-compatible servers have): BatchRequestTooLong above it. */
  maxBatchBytes?: number;
  /** Answer errors as the query protocol's XML document (as SQS-compatible servers do for signature errors) instead of JSON. */
  errorFormat?: 'json' | 'xml';
  /** Access key ids refused with the given code (403), e.g. { AKIDBAD: 'InvalidClientTokenId' }, before anything else. */
  refuseKeys?: Record<string, string>;
}

export interface FakeSqsStats {
  /** HTTP requests received (every one, whatever the outcome). */
  requests: number;
  /** Requests per action name (from X-Amz-Target, without the `AmazonSQS.` prefix). */
  byAction: Record<string, number>;
  /** Entries received in SendMessage / SendMessageBatch requests, whether they ended up stored or not. */
  entries: number;
  /**
   * What SQS would bill for those requests: each 64 KiB (65,536 bytes) of a request's message
   * payload (bodies and attributes, as SQS sizes a message) is one request, at least one each.
   */
  billedSendRequests: number;
  /** Per fault name (`throttle`, `serverError`, ..., `badMd5`, and `down`): how many were injected. */
  faultsInjected: Record<string, number>;
  /** Most requests being processed at once (from arrival until the response ends or the socket dies). */
  maxConcurrent: number;
}

export interface FakeSqs {
  readonly endpoint: string; // http://127.0.0.1:<port>
  readonly port: number;
  /** The seed the fault PRNG started from. */
  readonly seed: number;
  latencyMs: number;
  /** See FakeSqsOptions.longPolling; mutable at runtime. */
  longPolling: boolean;
  faults: Faults; // mutable at runtime
  /** When true, refuse work: answer 503 ServiceUnavailable to everything (simulates an outage). */
  down: boolean;
  /** Creates the queue (idempotent with the same attributes) and returns its URL. Throws on invalid input. */
  createQueue(name: string, attributes?: Record<string, string>): string;
  /** Deletes the queue and its delivery log; no-op when it does not exist. */
  deleteQueue(name: string): void;
  /** Queue URL of an existing queue. */
  queueUrl(name: string): string;
  /** Everything stored, in arrival order (a copy). `queue` is a name or a queue URL; throws if unknown. */
  messages(queue: string): StoredMessage[];
  bodies(queue: string): string[];
  /** Number of stored messages, O(1): cheap enough for waitFor predicates. */
  messageCount(queue: string): number;
  /** Counts of each body: to find lost and duplicated messages (a copy). */
  countByBody(queue: string): Map<string, number>;
  readonly stats: FakeSqsStats;
  /** Resolves once predicate() is true (polled every 10 ms); rejects with a clear message on timeout. */
  waitFor(predicate: () => boolean, timeoutMs: number): Promise<void>;
  /** Clears messages (log, live queue, dedup cache) and stats; keeps queues and their attributes. */
  reset(): void;
  /** Closes the server and destroys open sockets. */
  close(): Promise<void>;
  /**
   * An outage that leaves nothing listening: stops accepting and destroys open sockets (clients get
   * ECONNREFUSED or a reset), keeping queues and messages; `plugIn()` listens on the same port again.
   */
  unplug(): Promise<void>;
  plugIn(): Promise<void>;
}

export async function startFakeSqs(options: FakeSqsOptions = {}): Promise<FakeSqs> {
  const fake = new FakeSqsServer(options);
  await fake.listen();
  return fake;
}

// ---------------------------------------------------------------------------------------------------
// Protocol details

const ACCOUNT_ID = '000000000000';
const REGION = 'us-east-1';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.0';
const MAX_BATCH_BYTES = 1_048_576;
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;

/** Legacy (query-protocol) codes for the x-amzn-query-error header, where they differ from the JSON code. */
const LEGACY_CODES: Record<string, string> = {
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
  KmsThrottled: 'KMS.ThrottlingException',
};

const SETTABLE_ATTRIBUTES = new Set([
  'DelaySeconds', 'MaximumMessageSize', 'MessageRetentionPeriod', 'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout', 'Policy', 'RedrivePolicy', 'RedriveAllowPolicy', 'KmsMasterKeyId',
  'KmsDataKeyReusePeriodSeconds', 'SqsManagedSseEnabled', 'FifoQueue', 'ContentBasedDeduplication',
  'DeduplicationScope', 'FifoThroughputLimit',
]);
const FIFO_ONLY_ATTRIBUTES = new Set(['FifoQueue', 'ContentBasedDeduplication', 'DeduplicationScope', 'FifoThroughputLimit']);
const READ_ONLY_ATTRIBUTES = new Set([
  'QueueArn', 'ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed', 'CreatedTimestamp', 'LastModifiedTimestamp',
]);

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;
const FIFO_QUEUE_NAME = /^[A-Za-z0-9_-]{1,75}\.fifo$/;
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;
/** MessageGroupId / MessageDeduplicationId: 1..128 printable ASCII characters. */
const GROUP_OR_DEDUP_ID = /^[\x21-\x7e]{1,128}$/;
/** Anything outside #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF (lone surrogates included). */
const INVALID_BODY_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
/** Anything but printable ASCII: a body without it is valid without the slower unicode regex above. */
const NOT_PRINTABLE_ASCII = /[^\x20-\x7e]/;
const invalidChars = (text: string): boolean => NOT_PRINTABLE_ASCII.test(text) && INVALID_BODY_CHAR.test(text);
const ATTRIBUTE_NAME = /^(?!\.)(?!.*\.\.)(?!.*\.$)(?!(?:aws|amazon)\.)[A-Za-z0-9_.-]{1,256}$/i;

class SqsError extends Error {
  readonly code: string;
  readonly status: number;
  readonly senderFault: boolean;
  constructor(code: string, message: string, status = 400, senderFault = true) {
    super(message);
    this.code = code;
    this.status = status;
    this.senderFault = senderFault;
  }
}

const queueDoesNotExist = (): SqsError => new SqsError('QueueDoesNotExist', 'The specified queue does not exist.');

/** One call per digest (crypto.hash, Node >= 21.7), not a Hash object's createHash/update/digest chain: the fake MD5s every stored message. */
const md5Hex = (data: string | Buffer): string => hash('md5', data, 'hex');

/** SQS's MD5OfMessageAttributes: names sorted; length-prefixed name, type, transport byte, value. */
export function md5OfMessageAttributes(attributes: MessageAttributes): string {
  const parts: Buffer[] = [];
  const lengthPrefixed = (bytes: Buffer): void => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(bytes.length);
    parts.push(len, bytes);
  };
  for (const name of Object.keys(attributes).sort()) {
    const value = attributes[name]!;
    lengthPrefixed(Buffer.from(name, 'utf8'));
    lengthPrefixed(Buffer.from(value.DataType, 'utf8'));
    if (value.DataType.startsWith('Binary')) {
      parts.push(Buffer.from([2]));
      lengthPrefixed(Buffer.from(value.BinaryValue ?? '', 'base64'));
    } else {
      parts.push(Buffer.from([1]));
      lengthPrefixed(Buffer.from(value.StringValue ?? '', 'utf8'));
    }
  }
  return md5Hex(Buffer.concat(parts));
}

/** SQS bills each 64 KiB chunk of a request's payload as one request (at least one per request). */
function billedRequests(messages: readonly unknown[]): number {
  let bytes = 0;
  for (const m of messages) {
    const e = m as { MessageBody?: unknown; MessageAttributes?: MessageAttributes };
    if (typeof e?.MessageBody === 'string') bytes += messageSize(e.MessageBody, e.MessageAttributes);
  }
  return Math.max(1, Math.ceil(bytes / 65_536));
}

/** The byte size SQS counts against MaximumMessageSize: body plus every attribute's name, type and value. */
function messageSize(body: string, attributes: MessageAttributes | undefined): number {
  let size = Buffer.byteLength(body, 'utf8');
  if (attributes) {
    for (const [name, value] of Object.entries(attributes)) {
      size += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value.DataType, 'utf8');
      if (value.BinaryValue !== undefined) size += Buffer.from(value.BinaryValue, 'base64').length;
      if (value.StringValue !== undefined) size += Buffer.byteLength(value.StringValue, 'utf8');
    }
  }
  return size;
}

function queueNameFromUrl(url: string): string {
  const trimmed = url.endsWith('/') ? url.slice(0, -1) : url;
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

// ---------------------------------------------------------------------------------------------------
// Request parameter helpers (the body is untrusted JSON)

type Params = Record<string, unknown>;

function optionalString(params: Params, name: string): string | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new SqsError('InvalidParameterValue', `Value for parameter ${name} must be a string.`);
  return value;
}

function requiredString(params: Params, name: string): string {
  const value = optionalString(params, name);
  if (value === undefined || value === '') throw new SqsError('MissingParameter', `The request must contain the parameter ${name}.`);
  return value;
}

function optionalInteger(params: Params, name: string, min: number, max: number): number | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SqsError('InvalidParameterValue', `Value ${JSON.stringify(value)} for parameter ${name} is invalid. Reason: must be an integer from ${min} to ${max}.`);
  }
  return value;
}

function stringMap(params: Params, name: string): Record<string, string> | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw new SqsError('InvalidParameterValue', `${name} must be a map.`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw new SqsError('InvalidAttributeValue', `Value for attribute ${k} must be a string.`);
    out[k] = v;
  }
  return out;
}

function stringList(params: Params, name: string): string[] | undefined {
  const value = params[name];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new SqsError('InvalidParameterValue', `${name} must be a list of strings.`);
  }
  return value as string[];
}

/** Validates MessageAttributes; returns an error message, or undefined when valid. */
function invalidMessageAttributes(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'MessageAttributes must be a map.';
  const entries = Object.entries(value);
  if (entries.length > 10) return `Number of message attributes [${entries.length}] exceeds the allowed maximum [10].`;
  for (const [name, raw] of entries) {
    if (!ATTRIBUTE_NAME.test(name)) return `Message attribute name '${name}' is invalid.`;
    if (typeof raw !== 'object' || raw === null) return `Message attribute '${name}' must be an object.`;
    const attr = raw as Partial<MessageAttributeValue>;
    if (typeof attr.DataType !== 'string' || !/^(String|Number|Binary)(\..+)?$/.test(attr.DataType)) {
      return `The type of message attribute '${name}' is invalid: ${String(attr.DataType)}.`;
    }
    if (attr.DataType.startsWith('Binary')) {
      if (typeof attr.BinaryValue !== 'string' || attr.BinaryValue === '') return `Message attribute '${name}' must contain a non-empty BinaryValue.`;
    } else {
      if (typeof attr.StringValue !== 'string' || attr.StringValue === '') return `Message attribute '${name}' must contain a non-empty StringValue.`;
      if (invalidChars(attr.StringValue)) return `Message attribute '${name}' contains invalid characters.`;
      if (attr.DataType.startsWith('Number') && !Number.isFinite(Number(attr.StringValue))) {
        return `Message attribute '${name}' of type Number has a non-numeric value.`;
      }
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// State

interface LiveMessage {
  stored: StoredMessage;
  md5OfBody: string;
  md5OfAttributes?: string;
  visibleAt: number;
  receiveCount: number;
  firstReceiveAt?: number;
  /** The most recent receipt handle: only it deletes the message (older ones succeed without deleting). */
  receiptHandle?: string;
  /** Every receipt handle issued for it; created by the first receive (most messages of a send-only run are never received). */
  handles?: string[];
}

interface DedupRecord {
  expiresAt: number;
  messageId: string;
  sequenceNumber?: string;
}

interface Queue {
  name: string;
  url: string;
  fifo: boolean;
  attributes: Record<string, string>;
  createdAt: number;
  log: StoredMessage[];
  /** Counts of each body of log[0..counted): brought up to date by countByBody(), not by every send. */
  counts: Map<string, number>;
  counted: number;
  /** Read only through liveOf(): by MessageId, in arrival order; stored messages wait in `pending` until something reads it. */
  live: Map<string, LiveMessage>;
  pending: LiveMessage[];
  handles: Map<string, string>; // receipt handle -> MessageId
  dedup: Map<string, DedupRecord>; // insertion order == expiry order
  sequence: bigint;
}

type EntryOutcome =
  | { ok: true; result: SendMessageBatchResultEntry }
  | { ok: false; error: BatchResultErrorEntry; status: number };

interface RequestContext {
  action: string;
  accessKeyId: string;
  now: number;
  /** Whether per-entry faults may be injected into this request. */
  entryFaults: boolean;
}

const emptyStats = (maxConcurrent = 0): FakeSqsStats =>
  ({ requests: 0, byAction: {}, entries: 0, billedSendRequests: 0, faultsInjected: {}, maxConcurrent });

class FakeSqsServer implements FakeSqs {
  endpoint = '';
  port = 0;
  readonly seed: number;
  latencyMs: number;
  longPolling: boolean;
  faults: Faults = {};
  down = false;

  private readonly server: Server;
  private readonly queues = new Map<string, Queue>();
  private readonly random: () => number;
  private readonly dedupWindowMs: number;
  private readonly closing = new AbortController();
  private currentStats: FakeSqsStats = emptyStats();
  private concurrent = 0;
  private closed: Promise<void> | undefined;
  /** Pending delays (latency, answer delays): cut short by close(). */
  private readonly delays = new Set<() => void>();
  /** Long polls waiting for a message, per queue name. */
  private readonly pollers = new Map<string, Set<() => void>>();

  constructor(options: FakeSqsOptions) {
    this.latencyMs = options.latencyMs ?? 0;
    this.longPolling = options.longPolling ?? false;
    this.seed = options.seed ?? Math.floor(Math.random() * 0x1_0000_0000);
    this.random = mulberry32(this.seed);
    this.dedupWindowMs = options.dedupWindowMs ?? 300_000;
    this.server = createServer({ keepAlive: true }, (req, res) => { void this.handle(req, res); });
    for (const q of options.queues ?? []) {
      if (typeof q === 'string') this.createQueue(q);
      else this.createQueue(q.name, q.attributes);
    }
  }

  get stats(): FakeSqsStats {
    return this.currentStats;
  }

  async unplug(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  async plugIn(): Promise<void> {
    await this.listen(this.port);
  }

  async listen(port = 0): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.endpoint = `http://127.0.0.1:${this.port}`;
    // Queues created before listen() got a URL without the port.
    for (const q of this.queues.values()) q.url = this.urlOf(q.name);
  }

  // ----- inspection API -----

  createQueue(name: string, attributes: Record<string, string> = {}): string {
    return this.doCreateQueue(name, attributes).url;
  }

  deleteQueue(name: string): void {
    this.queues.delete(queueNameFromUrl(name));
  }

  queueUrl(name: string): string {
    return this.inspect(name).url;
  }

  messages(queue: string): StoredMessage[] {
    return this.inspect(queue).log.slice();
  }

  bodies(queue: string): string[] {
    return this.inspect(queue).log.map((m) => m.body);
  }

  messageCount(queue: string): number {
    return this.inspect(queue).log.length;
  }

  countByBody(queue: string): Map<string, number> {
    const q = this.inspect(queue);
    for (; q.counted < q.log.length; q.counted++) {
      const body = q.log[q.counted]!.body;
      q.counts.set(body, (q.counts.get(body) ?? 0) + 1);
    }
    return new Map(q.counts);
  }

  async waitFor(predicate: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (predicate()) return;
      if (Date.now() >= deadline) {
        const s = this.currentStats;
        const stored = [...this.queues.values()].map((q) => `${q.name}=${q.log.length}`).join(', ') || 'no queues';
        throw new Error(
          `FakeSqs.waitFor: condition still false after ${timeoutMs} ms ` +
            `(requests=${s.requests}, entries=${s.entries}, stored: ${stored}, faults=${JSON.stringify(s.faultsInjected)}, seed=${this.seed})`,
        );
      }
      await sleep(Math.min(10, Math.max(1, deadline - Date.now())));
    }
  }

  reset(): void {
    for (const q of this.queues.values()) {
      q.log = [];
      q.counts = new Map();
      q.counted = 0;
      q.live.clear();
      q.pending = [];
      q.handles.clear();
      q.dedup.clear();
    }
    this.currentStats = emptyStats(this.concurrent);
  }

  close(): Promise<void> {
    this.closed ??= new Promise<void>((resolve) => {
      this.closing.abort();
      for (const cancel of this.delays) cancel();
      this.delays.clear();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closed;
  }

  // ----- HTTP -----

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const stats = this.currentStats;
    this.concurrent++;
    if (this.concurrent > stats.maxConcurrent) stats.maxConcurrent = this.concurrent;
    let finished = false;
    res.once('close', () => {
      if (!finished) {
        finished = true;
        this.concurrent--;
      }
    });
    try {
      await this.process(req, res);
    } catch (err) {
      if (!res.headersSent && !res.destroyed) {
        this.sendError(res, new SqsError('InternalError', `FakeSqs bug: ${(err as Error).stack ?? String(err)}`, 500, false));
      }
    }
  }

  private async process(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const stats = this.currentStats;
    stats.requests++;
    const target = req.headers['x-amz-target'];
    const action = typeof target === 'string' && target.startsWith('AmazonSQS.') ? target.slice('AmazonSQS.'.length) : '';
    const actionKey = action || String(target ?? '(none)');
    stats.byAction[actionKey] = (stats.byAction[actionKey] ?? 0) + 1;

    let params: Params | undefined;
    let early: SqsError | undefined;
    if (raw === undefined) {
      early = new SqsError('SerializationException', `Request body larger than ${MAX_REQUEST_BYTES} bytes.`);
    } else {
      try {
        const parsed: unknown = JSON.parse(raw.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        params = parsed as Params;
      } catch {
        early = new SqsError('SerializationException', 'Start of structure or map found where not expected, or malformed JSON.');
      }
    }
    if (params && (action === 'SendMessageBatch' || action === 'SendMessage')) {
      stats.entries += action === 'SendMessage' ? 1 : Array.isArray(params.Entries) ? params.Entries.length : 0;
      stats.billedSendRequests += billedRequests(action === 'SendMessage' ? [params] : Array.isArray(params.Entries) ? params.Entries : []);
    }

    const latency = this.latencyMs + (this.faults.extraLatencyMs ?? 0);
    if (latency > 0 && !(await this.delay(latency))) return; // closing: the socket is being destroyed anyway
    if (res.destroyed) return;

    if (early) return this.sendError(res, early);
    if (this.down) {
      this.countFault('down');
      return this.sendError(res, new SqsError('ServiceUnavailable', 'Service is unavailable (FakeSqs is down).', 503, false));
    }
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(req.headers.authorization ?? '')?.[1];
    if (accessKeyId === undefined) {
      return this.sendError(res, new SqsError('MissingAuthenticationToken', 'Request is missing Authentication Token (no Credential= in Authorization).', 403));
    }

    const refused = this.faults.refuseKeys?.[accessKeyId];
    if (refused !== undefined) {
      this.countFault('refuseKeys');
      return this.sendError(res, new SqsError(refused, refused === 'SignatureDoesNotMatch'
        ? 'The request signature we calculated does not match the signature you provided.'
        : 'The security token included in the request is invalid.', 403));
    }

    // Request-level faults: at most one, in the documented order.
    const f = this.faults;
    const faultable = f.actions === undefined || f.actions.includes(action);
    let dropAfterStore = false;
    if (faultable) {
      if (this.chance(f.throttle)) {
        this.countFault('throttle');
        return this.sendError(res, this.random() < 0.5
          ? new SqsError('RequestThrottled', 'Request is throttled.', 403)
          : new SqsError('ThrottlingException', 'Rate exceeded', 400));
      }
      if (this.chance(f.serverError)) {
        this.countFault('serverError');
        return this.sendError(res, this.random() < 0.5
          ? new SqsError('InternalError', 'We encountered an internal error. Please try again.', 500, false)
          : new SqsError('ServiceUnavailable', 'Service is unavailable. Please try again.', 503, false));
      }
      if (this.chance(f.dropConnection)) {
        this.countFault('dropConnection');
        req.socket.destroy();
        return;
      }
      if (this.chance(f.dropAfterStore)) {
        this.countFault('dropAfterStore');
        dropAfterStore = true;
      }
    }

    const ctx: RequestContext = { action, accessKeyId, now: Date.now(), entryFaults: faultable && !dropAfterStore };
    let result: unknown;
    let error: SqsError | undefined;
    try {
      result = this.dispatch(ctx, params!);
      if (this.longPolling && action === 'ReceiveMessage' && (result as { Messages?: unknown }).Messages === undefined) {
        result = await this.longPoll(ctx, params!, res, result);
      }
    } catch (err) {
      if (!(err instanceof SqsError)) throw err;
      error = err;
    }
    if (res.destroyed) return;
    if (faultable && (f.answerDelayMs ?? 0) > 0) {
      if (!(await this.delay(f.answerDelayMs as number))) return;
      if (res.destroyed) return; // the client gave up: what the answer carried is lost with it
    }
    if (dropAfterStore) {
      req.socket.destroy();
      return;
    }
    if (error) return this.sendError(res, error);
    const json = JSON.stringify(result);
    res.writeHead(200, {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': Buffer.byteLength(json),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(json);
  }

  /**
   * An empty receive with WaitTimeSeconds (or the queue's ReceiveMessageWaitTimeSeconds) waits for
   * a message until the wait ends, the client goes away or the fake closes; then tries again.
   */
  private async longPoll(ctx: RequestContext, p: Params, res: ServerResponse, empty: unknown): Promise<unknown> {
    const q = this.queueOf(p);
    const wait = optionalInteger(p, 'WaitTimeSeconds', 0, 20) ?? Number(q.attributes.ReceiveMessageWaitTimeSeconds ?? '0');
    const until = Date.now() + wait * 1000;
    let result = empty;
    while (Date.now() < until && !res.destroyed && !this.closing.signal.aborted) {
      let set = this.pollers.get(q.name);
      if (!set) this.pollers.set(q.name, (set = new Set()));
      const waiters = set;
      await new Promise<void>((resolve) => {
        // Re-checked at least every second: messages whose delay or visibility timeout ran out.
        const timer = setTimeout(done, Math.min(until - Date.now(), 1000));
        res.once('close', done);
        this.closing.signal.addEventListener('abort', done, { once: true });
        waiters.add(done);
        function done(): void {
          clearTimeout(timer);
          waiters.delete(done);
          res.off('close', done);
          resolve();
        }
      });
      if (res.destroyed || this.closing.signal.aborted) return result;
      result = this.dispatch({ ...ctx, now: Date.now() }, p);
      if ((result as { Messages?: unknown }).Messages !== undefined) {
        const back = this.latencyMs / 2;
        if (back > 0) await this.delay(back);
        return result;
      }
    }
    return result;
  }

  /**
   * Resolves true after `ms`, or false at once when the fake closes. A plain timer: the latency of
   * every request goes through here, and a benchmark's fake must stay cheap (no AbortSignal each).
   */
  private delay(ms: number): Promise<boolean> {
    if (this.closing.signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const cancel = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.delays.delete(cancel);
        resolve(true);
      }, ms);
      this.delays.add(cancel);
    });
  }

  /** A message may have become receivable in this queue: wake its long polls. */
  private wake(queueName: string): void {
    const set = this.pollers.get(queueName);
    if (!set || set.size === 0) return;
    for (const done of [...set]) done();
  }

  private sendError(res: ServerResponse, err: SqsError): void {
    if (this.faults.errorFormat === 'xml') {
      const esc = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
      const xml = `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>${err.senderFault ? 'Sender' : 'Receiver'}</Type>` +
        `<Code>${esc(LEGACY_CODES[err.code] ?? err.code)}</Code><Message>${esc(err.message)}</Message><Detail/></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
      res.writeHead(err.status, { 'content-type': 'text/xml', 'content-length': Buffer.byteLength(xml) });
      res.end(xml);
      return;
    }
    const json = JSON.stringify({ __type: `com.amazonaws.sqs#${err.code}`, message: err.message });
    res.writeHead(err.status, {
      'content-type': JSON_CONTENT_TYPE,
      'content-length': Buffer.byteLength(json),
      'x-amzn-requestid': randomUUID(),
      'x-amzn-query-error': `${LEGACY_CODES[err.code] ?? err.code};${err.senderFault ? 'Sender' : 'Receiver'}`,
    });
    res.end(json);
  }

  private chance(p: number | undefined): boolean {
    if (p === undefined || !(p > 0)) return false;
    return p >= 1 || this.random() < p;
  }

  private countFault(name: string): void {
    const f = this.currentStats.faultsInjected;
    f[name] = (f[name] ?? 0) + 1;
  }

  // ----- actions -----

  private dispatch(ctx: RequestContext, p: Params): unknown {
    switch (ctx.action) {
      case 'SendMessageBatch': return this.sendMessageBatch(ctx, p);
      case 'SendMessage': return this.sendMessage(ctx, p);
      case 'ReceiveMessage': return this.receiveMessage(ctx, p);
      case 'DeleteMessage': return this.deleteMessage(p);
      case 'DeleteMessageBatch': return this.deleteMessageBatch(p);
      case 'ChangeMessageVisibility': {
        const q = this.queueOf(p);
        if (!this.changeVisibility(q, requiredString(p, 'ReceiptHandle'), optionalInteger(p, 'VisibilityTimeout', 0, 43_200) ?? 0, ctx.now)) throw new SqsError('ReceiptHandleIsInvalid', 'The input receipt handle is not a valid receipt handle.');
        return {};
      }
      case 'ChangeMessageVisibilityBatch': return this.changeVisibilityBatch(ctx, p);
      case 'CreateQueue': {
        const attributes = stringMap(p, 'Attributes');
        return { QueueUrl: this.doCreateQueue(requiredString(p, 'QueueName'), attributes ?? {}).url };
      }
      case 'GetQueueUrl': {
        const q = this.queues.get(requiredString(p, 'QueueName'));
        if (!q) throw queueDoesNotExist();
        return { QueueUrl: q.url };
      }
      case 'GetQueueAttributes': return this.getQueueAttributes(ctx, p);
      case 'SetQueueAttributes': {
        const q = this.queueOf(p);
        const attributes = stringMap(p, 'Attributes') ?? {};
        this.validateAttributes(q.name, q.fifo, attributes);
        Object.assign(q.attributes, attributes);
        q.attributes.LastModifiedTimestamp = String(Math.floor(ctx.now / 1000));
        return {};
      }
      case 'DeleteQueue': {
        const q = this.queueOf(p);
        this.queues.delete(q.name);
        return {};
      }
      case 'ListQueues': {
        const prefix = optionalString(p, 'QueueNamePrefix') ?? '';
        const max = optionalInteger(p, 'MaxResults', 1, 1000) ?? 1000;
        const urls = [...this.queues.values()].filter((q) => q.name.startsWith(prefix)).slice(0, max).map((q) => q.url);
        return urls.length > 0 ? { QueueUrls: urls } : {};
      }
      case 'PurgeQueue': {
        const q = this.queueOf(p);
        q.live.clear();
        q.pending = [];
        q.handles.clear();
        return {};
      }
      default:
        throw new SqsError('InvalidAction', `The action ${ctx.action || '(missing X-Amz-Target)'} is not valid for this endpoint.`);
    }
  }

  private sendMessage(ctx: RequestContext, p: Params): unknown {
    const q = this.queueOf(p);
    const outcome = this.sendEntry(ctx, q, p, p.MessageBody);
    if (!outcome.ok) {
      throw new SqsError(outcome.error.Code, outcome.error.Message ?? outcome.error.Code, outcome.status, outcome.error.SenderFault);
    }
    const { Id: _id, ...rest } = outcome.result;
    return rest;
  }

  private sendMessageBatch(ctx: RequestContext, p: Params): unknown {
    const q = this.queueOf(p);
    const entries = p.Entries;
    if (entries === undefined || entries === null) throw new SqsError('MissingParameter', 'The request must contain the parameter Entries.');
    if (!Array.isArray(entries)) throw new SqsError('SerializationException', 'Entries must be a list.');
    if (entries.length === 0) throw new SqsError('EmptyBatchRequest', 'There should be at least one SendMessageBatchRequestEntry in the request.');
    if (entries.length > 10) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
    const ids = new Set<string>();
    let total = 0;
    for (const entry of entries as unknown[]) {
      if (typeof entry !== 'object' || entry === null) throw new SqsError('SerializationException', 'Each entry must be an object.');
      const e = entry as Params;
      if (typeof e.Id !== 'string' || !BATCH_ENTRY_ID.test(e.Id)) {
        throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
      }
      if (ids.has(e.Id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`);
      ids.add(e.Id);
      if (typeof e.MessageBody !== 'string') throw new SqsError('MissingParameter', `The request must contain the parameter MessageBody (entry ${e.Id}).`);
      const attrs = e.MessageAttributes;
      total += messageSize(e.MessageBody, attrs !== undefined && attrs !== null && invalidMessageAttributes(attrs) === undefined ? (attrs as MessageAttributes) : undefined);
    }
    const maxBatch = this.faults.maxBatchBytes ?? MAX_BATCH_BYTES;
    if (total > maxBatch) {
      if (maxBatch !== MAX_BATCH_BYTES) this.countFault('maxBatchBytes');
      throw new SqsError('BatchRequestTooLong', `Batch requests cannot be longer than ${maxBatch} bytes. You have sent ${total} bytes.`);
    }
    const Successful: SendMessageBatchResultEntry[] = [];
    const Failed: BatchResultErrorEntry[] = [];
    for (const entry of entries as Params[]) {
      const outcome = this.sendEntry(ctx, q, entry, entry.MessageBody);
      if (outcome.ok) Successful.push(outcome.result);
      else Failed.push(outcome.error);
    }
    return { Successful, Failed };
  }

  /** Validates, injects per-entry faults, deduplicates and stores one message. */
  private sendEntry(ctx: RequestContext, q: Queue, e: Params, rawBody: unknown): EntryOutcome {
    const id = typeof e.Id === 'string' ? e.Id : '';
    const fail = (Code: string, Message: string, SenderFault = true, status = 400): EntryOutcome =>
      ({ ok: false, error: { Id: id, SenderFault, Code, Message }, status });

    if (typeof rawBody !== 'string' || rawBody === '') return fail('MissingParameter', 'The request must contain the parameter MessageBody.');
    const body = rawBody;
    if (invalidChars(body)) {
      return fail('InvalidMessageContents', 'Invalid binary character in message body. Valid unicode characters are #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.');
    }
    let attributes: MessageAttributes | undefined;
    if (e.MessageAttributes !== undefined && e.MessageAttributes !== null) {
      const problem = invalidMessageAttributes(e.MessageAttributes);
      if (problem) return fail('InvalidParameterValue', problem);
      attributes = e.MessageAttributes as MessageAttributes;
      if (Object.keys(attributes).length === 0) attributes = undefined;
    }
    const maxSize = Number(q.attributes.MaximumMessageSize);
    const size = messageSize(body, attributes);
    if (size > maxSize) return fail('InvalidParameterValue', `One or more parameters are invalid. Reason: Message must be shorter than ${maxSize} bytes.`);

    const rawDelay = e.DelaySeconds;
    if (rawDelay !== undefined && rawDelay !== null && (typeof rawDelay !== 'number' || !Number.isInteger(rawDelay) || rawDelay < 0 || rawDelay > 900)) {
      return fail('InvalidParameterValue', `Value ${JSON.stringify(rawDelay)} for parameter DelaySeconds is invalid. Reason: must be between 0 and 900, if provided.`);
    }
    const groupId = e.MessageGroupId;
    const explicitDedupId = e.MessageDeduplicationId;
    if (groupId !== undefined && groupId !== null && (typeof groupId !== 'string' || !GROUP_OR_DEDUP_ID.test(groupId))) {
      return fail('InvalidParameterValue', 'Value for parameter MessageGroupId is invalid. Reason: it must be 1 to 128 printable ASCII characters.');
    }
    if (explicitDedupId !== undefined && explicitDedupId !== null && (typeof explicitDedupId !== 'string' || !GROUP_OR_DEDUP_ID.test(explicitDedupId))) {
      return fail('InvalidParameterValue', 'Value for parameter MessageDeduplicationId is invalid. Reason: it must be 1 to 128 printable ASCII characters.');
    }
    let dedupId: string | undefined;
    if (q.fifo) {
      if (typeof groupId !== 'string') return fail('MissingParameter', 'The request must contain the parameter MessageGroupId.');
      if (typeof rawDelay === 'number' && rawDelay !== 0) {
        return fail('InvalidParameterValue', `Value ${rawDelay} for parameter DelaySeconds is invalid. Reason: The request include parameter that is not valid for this queue type.`);
      }
      if (typeof explicitDedupId === 'string') dedupId = explicitDedupId;
      else if (q.attributes.ContentBasedDeduplication === 'true') dedupId = hash('sha256', body, 'hex');
      else {
        return fail('InvalidParameterValue', 'The queue should either have ContentBasedDeduplication enabled or MessageDeduplicationId provided explicitly');
      }
    } else if (typeof explicitDedupId === 'string') {
      return fail('InvalidParameterValue', 'Value for parameter MessageDeduplicationId is invalid. Reason: The request includes a parameter that is not valid for this queue type.');
    }

    // Per-entry faults: at most one per entry.
    let badMd5 = false;
    if (ctx.entryFaults) {
      const f = this.faults;
      if (this.chance(f.partialFailure)) {
        this.countFault('partialFailure');
        return fail('InternalError', 'We encountered an internal error. Please try again.', false, 500);
      }
      if (this.chance(f.kmsThrottled)) {
        this.countFault('kmsThrottled');
        return fail('KmsThrottled', 'The request was denied due to request throttling (KMS).', false, 400);
      }
      if (this.chance(f.badMd5)) {
        this.countFault('badMd5');
        badMd5 = true;
      }
    }

    const md5OfBody = md5Hex(body);
    const md5OfAttributes = attributes ? md5OfMessageAttributes(attributes) : undefined;
    const answer = (messageId: string, sequenceNumber: string | undefined): EntryOutcome => {
      const result: SendMessageBatchResultEntry = { Id: id, MessageId: messageId, MD5OfMessageBody: badMd5 ? md5Hex(`${body}\u0000corrupted`) : md5OfBody };
      if (md5OfAttributes) result.MD5OfMessageAttributes = md5OfAttributes;
      if (sequenceNumber) result.SequenceNumber = sequenceNumber;
      return { ok: true, result };
    };

    let dedupKey: string | undefined;
    if (q.fifo && dedupId !== undefined) {
      dedupKey = q.attributes.DeduplicationScope === 'messageGroup' ? `${groupId as string}\u0000${dedupId}` : dedupId;
      pruneDedup(q.dedup, ctx.now);
      const seen = q.dedup.get(dedupKey);
      if (seen) return answer(seen.messageId, seen.sequenceNumber);
    }

    const delaySeconds = typeof rawDelay === 'number' ? rawDelay : Number(q.attributes.DelaySeconds ?? '0');
    const stored: StoredMessage = { messageId: randomUUID(), body, receivedAt: ctx.now, accessKeyId: ctx.accessKeyId };
    if (attributes) stored.attributes = attributes;
    if (typeof groupId === 'string') stored.groupId = groupId;
    if (dedupId !== undefined) stored.dedupId = dedupId;
    if (delaySeconds > 0) stored.delaySeconds = delaySeconds;
    const system = e.MessageSystemAttributes as { AWSTraceHeader?: { StringValue?: unknown } } | undefined;
    if (typeof system?.AWSTraceHeader?.StringValue === 'string') stored.traceHeader = system.AWSTraceHeader.StringValue;
    if (q.fifo) {
      q.sequence += 1n;
      stored.sequenceNumber = q.sequence.toString();
    }
    if (dedupKey !== undefined) {
      q.dedup.set(dedupKey, { expiresAt: ctx.now + this.dedupWindowMs, messageId: stored.messageId, sequenceNumber: stored.sequenceNumber });
    }
    q.log.push(stored);
    const live: LiveMessage = { stored, md5OfBody, md5OfAttributes, visibleAt: ctx.now + delaySeconds * 1000, receiveCount: 0, firstReceiveAt: undefined, receiptHandle: undefined, handles: undefined };
    q.pending.push(live);
    if (delaySeconds === 0) this.wake(q.name);
    return answer(stored.messageId, stored.sequenceNumber);
  }

  private receiveMessage(ctx: RequestContext, p: Params): unknown {
    const q = this.queueOf(p);
    const max = optionalInteger(p, 'MaxNumberOfMessages', 1, 10) ?? 1;
    const visibility = optionalInteger(p, 'VisibilityTimeout', 0, 43_200) ?? Number(q.attributes.VisibilityTimeout ?? '30');
    optionalInteger(p, 'WaitTimeSeconds', 0, 20); // validated, but there is no long polling
    const now = ctx.now;
    const blockedGroups = new Set<string>();
    const taken: LiveMessage[] = [];
    for (const m of liveOf(q).values()) {
      if (taken.length >= max) break;
      const group = m.stored.groupId;
      if (q.fifo && group !== undefined && blockedGroups.has(group)) continue;
      if (m.visibleAt > now) {
        // FIFO: an in-flight or delayed message holds back the rest of its group.
        if (q.fifo && group !== undefined) blockedGroups.add(group);
        continue;
      }
      taken.push(m);
    }
    if (taken.length === 0) return {};
    const Messages = taken.map((m) => {
      m.receiveCount++;
      m.firstReceiveAt ??= now;
      m.visibleAt = now + visibility * 1000;
      const handle = Buffer.from(`${q.name} ${m.stored.messageId} ${randomUUID()}`).toString('base64');
      m.receiptHandle = handle;
      (m.handles ??= []).push(handle);
      q.handles.set(handle, m.stored.messageId);
      const s = m.stored;
      const Attributes: Record<string, string> = {
        SenderId: s.accessKeyId,
        SentTimestamp: String(s.receivedAt),
        ApproximateReceiveCount: String(m.receiveCount),
        ApproximateFirstReceiveTimestamp: String(m.firstReceiveAt),
      };
      if (s.groupId !== undefined) Attributes.MessageGroupId = s.groupId;
      if (s.dedupId !== undefined) Attributes.MessageDeduplicationId = s.dedupId;
      if (s.sequenceNumber !== undefined) Attributes.SequenceNumber = s.sequenceNumber;
      if (s.traceHeader !== undefined) Attributes.AWSTraceHeader = s.traceHeader;
      const message: Record<string, unknown> = {
        MessageId: s.messageId,
        ReceiptHandle: handle,
        MD5OfBody: m.md5OfBody,
        Body: s.body,
        Attributes,
      };
      if (s.attributes) {
        message.MessageAttributes = s.attributes;
        message.MD5OfMessageAttributes = m.md5OfAttributes;
      }
      return message;
    });
    return { Messages };
  }

  /** Deletes by receipt handle. Returns false for a handle this queue never issued. */
  private deleteByHandle(q: Queue, handle: string): boolean {
    const messageId = q.handles.get(handle);
    if (messageId === undefined) return false;
    const m = liveOf(q).get(messageId);
    if (m && m.receiptHandle === handle) {
      q.live.delete(messageId);
      for (const h of m.handles ?? []) q.handles.delete(h);
    }
    return true;
  }

  /** Sets when the message of this (current) receipt handle is visible again; false for an unknown or stale handle. */
  private changeVisibility(q: Queue, handle: string, seconds: number, now: number): boolean {
    const messageId = q.handles.get(handle);
    if (messageId === undefined) return false;
    const m = liveOf(q).get(messageId);
    if (!m || m.receiptHandle !== handle) return false;
    m.visibleAt = now + seconds * 1000;
    if (seconds === 0) this.wake(q.name);
    return true;
  }

  private changeVisibilityBatch(ctx: RequestContext, p: Params): unknown {
    const q = this.queueOf(p);
    const entries = p.Entries;
    if (!Array.isArray(entries) || entries.length === 0) throw new SqsError('EmptyBatchRequest', 'There should be at least one ChangeMessageVisibilityBatchRequestEntry in the request.');
    if (entries.length > 10) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
    const Successful: Array<{ Id: string }> = [];
    const Failed: BatchResultErrorEntry[] = [];
    for (const e of entries as Array<{ Id: string; ReceiptHandle?: unknown; VisibilityTimeout?: unknown }>) {
      const seconds = typeof e.VisibilityTimeout === 'number' ? e.VisibilityTimeout : 0;
      if (typeof e.ReceiptHandle === 'string' && this.changeVisibility(q, e.ReceiptHandle, seconds, ctx.now)) Successful.push({ Id: e.Id });
      else Failed.push({ Id: e.Id, SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle is not a valid receipt handle.' });
    }
    return { Successful, Failed };
  }

  private deleteMessage(p: Params): unknown {
    const q = this.queueOf(p);
    const handle = requiredString(p, 'ReceiptHandle');
    if (!this.deleteByHandle(q, handle)) throw new SqsError('ReceiptHandleIsInvalid', `The input receipt handle "${handle}" is not a valid receipt handle.`);
    return {};
  }

  private deleteMessageBatch(p: Params): unknown {
    const q = this.queueOf(p);
    const entries = p.Entries;
    if (!Array.isArray(entries) || entries.length === 0) throw new SqsError('EmptyBatchRequest', 'There should be at least one DeleteMessageBatchRequestEntry in the request.');
    if (entries.length > 10) throw new SqsError('TooManyEntriesInBatchRequest', `Maximum number of entries per request are 10. You have sent ${entries.length}.`);
    const ids = new Set<string>();
    for (const e of entries as Params[]) {
      if (typeof e?.Id !== 'string' || !BATCH_ENTRY_ID.test(e.Id)) throw new SqsError('InvalidBatchEntryId', 'A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.');
      if (ids.has(e.Id)) throw new SqsError('BatchEntryIdsNotDistinct', `Id ${e.Id} repeated.`);
      ids.add(e.Id);
    }
    const Successful: Array<{ Id: string }> = [];
    const Failed: BatchResultErrorEntry[] = [];
    for (const e of entries as Array<{ Id: string; ReceiptHandle?: unknown }>) {
      if (typeof e.ReceiptHandle === 'string' && this.deleteByHandle(q, e.ReceiptHandle)) Successful.push({ Id: e.Id });
      else Failed.push({ Id: e.Id, SenderFault: true, Code: 'ReceiptHandleIsInvalid', Message: 'The input receipt handle is not a valid receipt handle.' });
    }
    return { Successful, Failed };
  }

  private getQueueAttributes(ctx: RequestContext, p: Params): unknown {
    const q = this.queueOf(p);
    const names = stringList(p, 'AttributeNames') ?? [];
    for (const n of names) {
      if (n !== 'All' && !SETTABLE_ATTRIBUTES.has(n) && !READ_ONLY_ATTRIBUTES.has(n)) {
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${n}.`);
      }
    }
    if (names.length === 0) return {};
    let visible = 0;
    let inFlight = 0;
    let delayed = 0;
    for (const m of liveOf(q).values()) {
      if (m.visibleAt <= ctx.now) visible++;
      else if (m.receiveCount > 0) inFlight++;
      else delayed++;
    }
    const all: Record<string, string> = {
      ...q.attributes,
      ApproximateNumberOfMessages: String(visible),
      ApproximateNumberOfMessagesNotVisible: String(inFlight),
      ApproximateNumberOfMessagesDelayed: String(delayed),
    };
    const wanted = names.includes('All') ? Object.keys(all) : names;
    const Attributes: Record<string, string> = {};
    for (const n of wanted) {
      const v = all[n];
      if (v !== undefined) Attributes[n] = v;
    }
    return Object.keys(Attributes).length > 0 ? { Attributes } : {};
  }

  // ----- queues -----

  private urlOf(name: string): string {
    return `${this.endpoint}/${ACCOUNT_ID}/${name}`;
  }

  private queueOf(p: Params): Queue {
    const q = this.queues.get(queueNameFromUrl(requiredString(p, 'QueueUrl')));
    if (!q) throw queueDoesNotExist();
    return q;
  }

  private inspect(queue: string): Queue {
    const q = this.queues.get(queueNameFromUrl(queue));
    if (!q) throw new Error(`FakeSqs: no queue named ${JSON.stringify(queue)} (queues: ${[...this.queues.keys()].join(', ') || 'none'})`);
    return q;
  }

  private validateAttributes(name: string, fifo: boolean, attributes: Record<string, string>): void {
    const range = (key: string, min: number, max: number): void => {
      const v = attributes[key];
      if (v !== undefined && !(/^\d+$/.test(v) && Number(v) >= min && Number(v) <= max)) {
        throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${key}: ${v} (must be ${min}..${max}).`);
      }
    };
    for (const [k, v] of Object.entries(attributes)) {
      if (!SETTABLE_ATTRIBUTES.has(k)) throw new SqsError('InvalidAttributeName', `Unknown Attribute ${k}.`);
      if (!fifo && FIFO_ONLY_ATTRIBUTES.has(k) && !(k === 'FifoQueue' && v === 'false')) {
        throw new SqsError('InvalidAttributeName', `Unknown Attribute ${k}.`);
      }
    }
    range('DelaySeconds', 0, 900);
    range('MaximumMessageSize', 1024, 1_048_576);
    range('MessageRetentionPeriod', 60, 1_209_600);
    range('ReceiveMessageWaitTimeSeconds', 0, 20);
    range('VisibilityTimeout', 0, 43_200);
    if (fifo) {
      for (const key of ['ContentBasedDeduplication', 'FifoQueue']) {
        const v = attributes[key];
        if (v !== undefined && v !== 'true' && v !== 'false') throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter ${key}: ${v}.`);
      }
      if (attributes.FifoQueue === 'false') throw new SqsError('InvalidParameterValue', `Queue ${name} ends in .fifo, so FifoQueue must be true.`);
      const scope = attributes.DeduplicationScope;
      if (scope !== undefined && scope !== 'queue' && scope !== 'messageGroup') throw new SqsError('InvalidAttributeValue', `Invalid value for the parameter DeduplicationScope: ${scope}.`);
    }
  }

  private doCreateQueue(name: string, requested: Record<string, string>): Queue {
    const fifo = name.endsWith('.fifo');
    if (!(fifo ? FIFO_QUEUE_NAME : QUEUE_NAME).test(name)) {
      throw new SqsError('InvalidParameterValue', `Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length (queue name ${JSON.stringify(name)}).`);
    }
    if (!fifo && requested.FifoQueue === 'true') throw new SqsError('InvalidParameterValue', 'The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix.');
    this.validateAttributes(name, fifo, requested);
    const existing = this.queues.get(name);
    if (existing) {
      for (const [k, v] of Object.entries(requested)) {
        if (existing.attributes[k] !== v) {
          throw new SqsError('QueueNameExists', `A queue already exists with the same name and a different value for attribute ${k}.`);
        }
      }
      return existing;
    }
    const now = Date.now();
    const seconds = String(Math.floor(now / 1000));
    const attributes: Record<string, string> = {
      QueueArn: `arn:aws:sqs:${REGION}:${ACCOUNT_ID}:${name}`,
      CreatedTimestamp: seconds,
      LastModifiedTimestamp: seconds,
      DelaySeconds: '0',
      MaximumMessageSize: '1048576',
      MessageRetentionPeriod: '345600',
      ReceiveMessageWaitTimeSeconds: '0',
      VisibilityTimeout: '30',
      SqsManagedSseEnabled: 'true',
      ...(fifo ? { FifoQueue: 'true', ContentBasedDeduplication: 'false', DeduplicationScope: 'queue', FifoThroughputLimit: 'perQueue' } : {}),
      ...requested,
    };
    if (!fifo) delete attributes.FifoQueue;
    const q: Queue = {
      name, url: this.urlOf(name), fifo, attributes, createdAt: now,
      log: [], counts: new Map(), counted: 0, live: new Map(), pending: [], handles: new Map(), dedup: new Map(),
      sequence: 18_849_496_460_467_696_128n,
    };
    this.queues.set(name, q);
    return q;
  }
}

/** The queue's live messages, with those stored since the last read moved in (in arrival order). */
function liveOf(q: Queue): Map<string, LiveMessage> {
  if (q.pending.length > 0) {
    for (const m of q.pending) q.live.set(m.stored.messageId, m);
    q.pending = [];
  }
  return q.live;
}

/** Drops expired dedup records. Records are inserted in time order, so only the front needs looking at. */
function pruneDedup(dedup: Map<string, DedupRecord>, now: number): void {
  for (const [key, record] of dedup) {
    if (record.expiresAt > now) return;
    dedup.delete(key);
  }
}

/**
 * Reads the whole body; undefined when it exceeds MAX_REQUEST_BYTES. By 'data' and 'end' events rather
 * than an async iterator (a few µs a request less); rejects, as the iterator did, on an error or a
 * close before the end.
 */
function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    let ended = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) tooLarge = true;
      else chunks.push(chunk);
    });
    req.once('end', () => {
      ended = true;
      resolve(tooLarge ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
    });
    req.once('error', reject);
    req.once('close', () => {
      if (!ended) reject(new Error('request closed before its body ended'));
    });
  });
}
