/**
 * The one place that turns SQS's answers into decisions. Delivery code sees an
 * SqsError with a stable `code` and a `disposition`; it never reads SQS responses.
 */

/** What the sender should do with a failed request or entry. */
export type Disposition =
  /** Transient: back off and try again (throttling, 5xx, network, timeouts). */
  | 'retry'
  /** SQS will never accept this as sent: dead-letter it, never retry forever. */
  | 'permanent'
  /** The credentials expired or were refused: refresh them (when the daemon owns them) and retry; else permanent. */
  | 'refresh-credentials'
  /**
   * The batch as a whole was refused without naming an entry (too long, too many entries):
   * send it again in smaller parts. A single entry refused this way is refused for good.
   */
  | 'split'
  /**
   * An entry refused in a way that says the queue's settings changed under us (message too
   * long for a lowered MaximumMessageSize, deduplication): re-read them and try once more.
   * The same refusal again is permanent.
   */
  | 'recheck-queue';

/** Throttling by any name: SQS answered and asks for less, which is not an outage (never a reason to fail over). */
export const THROTTLING_CODES: ReadonlySet<string> = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'KmsThrottled',
  'KMS.ThrottlingException',
  'SlowDown',
]);

/** Error codes (JSON protocol `__type` suffix or legacy query code) that are worth retrying: throttling, and SQS's own trouble. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  ...THROTTLING_CODES,
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailableException',
  // Our own, for failures below HTTP.
  'NetworkError',
  'TimeoutError',
  'BadResponse',
]);

/** Codes that mean the credentials are stale rather than wrong. */
export const CREDENTIAL_REFRESH_CODES: ReadonlySet<string> = new Set(['ExpiredToken', 'ExpiredTokenException', 'RequestExpired']);

/** Codes that mean the queue is gone (for cache invalidation and HTTP 404). */
export const QUEUE_MISSING_CODES: ReadonlySet<string> = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NonExistentQueue',
]);

/**
 * Codes that mean the caller's credentials are not accepted (HTTP 401 on a first send). In
 * delivery they are 'refresh-credentials': the daemon's own (chain) credentials are fetched
 * again before each retry; a pass-through pair cannot change, so its messages are dead letters.
 */
export const BAD_CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'InvalidAccessKeyId',
  'MissingAuthenticationTokenException',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'IncompleteSignature',
  'MissingAuthenticationToken',
  'InvalidSecurity',
  'AuthFailure',
]);

/** Codes that mean the credentials are valid but not allowed (HTTP 403). */
export const ACCESS_DENIED_CODES: ReadonlySet<string> = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'KmsAccessDenied',
  'OptInRequired',
]);

/**
 * Request-level refusals of a SendMessageBatch that name no entry: the batch is split and its
 * parts sent again (both spellings: JSON protocol and the legacy query code).
 */
export const BATCH_LEVEL_CODES: ReadonlySet<string> = new Set([
  'BatchRequestTooLong',
  'AWS.SimpleQueueService.BatchRequestTooLong',
  'TooManyEntriesInBatchRequest',
  'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  'BatchEntryIdsNotDistinct',
  'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  'InvalidBatchEntryId',
  'AWS.SimpleQueueService.InvalidBatchEntryId',
  'EmptyBatchRequest',
  'AWS.SimpleQueueService.EmptyBatchRequest',
]);

export function classify(code: string, httpStatus: number): Disposition {
  if (RETRYABLE_CODES.has(code)) return 'retry';
  if (CREDENTIAL_REFRESH_CODES.has(code) || BAD_CREDENTIAL_CODES.has(code)) return 'refresh-credentials';
  if (BATCH_LEVEL_CODES.has(code)) return 'split';
  if (httpStatus >= 500 || httpStatus === 429) return 'retry';
  return 'permanent';
}

export class SqsError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly disposition: Disposition;
  readonly requestId: string | undefined;
  override readonly name = 'SqsError';

  constructor(code: string, message: string, httpStatus: number, requestId?: string, disposition?: Disposition, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.code = code;
    this.httpStatus = httpStatus;
    this.disposition = disposition ?? classify(code, httpStatus);
    this.requestId = requestId;
  }

  get queueMissing(): boolean {
    return QUEUE_MISSING_CODES.has(this.code);
  }
}

/** `com.amazonaws.sqs#QueueDoesNotExist` -> `QueueDoesNotExist`. */
export function normalizeCode(type: string): string {
  const hash = type.lastIndexOf('#');
  let code = hash >= 0 ? type.slice(hash + 1) : type;
  const colon = code.indexOf(':'); // some services append ":http://internal.amazon.com/..."
  if (colon >= 0) code = code.slice(0, colon);
  return code;
}

/**
 * Builds the error for a non-2xx SQS response. Never includes request content. Reads, in this
 * order: the JSON protocol's `__type` (or a legacy `code`), the XML error document of the query
 * protocol (`<ErrorResponse><Error><Code>`, as SQS-compatible servers send for signature
 * errors), and the `x-amzn-query-error` header (`Code;Sender`); without any, the status decides.
 */
export function fromResponse(status: number, body: string, requestId?: string, queryError?: string): SqsError {
  let code = '';
  let message = '';
  let rid = requestId;
  const start = body.trimStart();
  if (start.startsWith('{')) {
    try {
      const parsed = JSON.parse(body) as { __type?: unknown; message?: unknown; Message?: unknown; code?: unknown };
      if (typeof parsed.__type === 'string') code = normalizeCode(parsed.__type);
      else if (typeof parsed.code === 'string') code = parsed.code;
      const m = parsed.message ?? parsed.Message;
      if (typeof m === 'string') message = m;
    } catch {
      // Not JSON after all: classified by the header or status below.
    }
  } else if (start.startsWith('<')) {
    const xml = fromXml(start);
    code = xml.code;
    message = xml.message;
    rid ??= xml.requestId;
  }
  if (code === '' && queryError !== undefined) {
    const semi = queryError.indexOf(';');
    code = (semi >= 0 ? queryError.slice(0, semi) : queryError).trim();
  }
  // Not an SQS answer at all: a proxy or load balancer answered. Classified by status.
  if (code === '') code = status >= 500 ? 'ServiceUnavailable' : status === 403 ? 'AccessDenied' : `Http${status}`;
  if (message === '') message = `SQS answered HTTP ${status}`;
  return new SqsError(code, message.slice(0, 1000), status, rid);
}

const XML_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

/** The text of the first `<tag>` element in `xml`, entities decoded; '' if absent. */
function xmlText(xml: string, tag: string): string {
  const open = new RegExp(`<${tag}(?:\\s[^>]*)?>`).exec(xml);
  if (!open) return '';
  const from = open.index + open[0].length;
  const to = xml.indexOf(`</${tag}>`, from);
  if (to < 0) return '';
  return xml
    .slice(from, to)
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>/g, '$1')
    .replace(/&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_m, e: string) =>
      e[0] === '#' ? codePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)) : (XML_ENTITIES[e] as string),
    )
    .trim();
}

const codePoint = (n: number): string => (n >= 0 && n <= 0x10ffff ? String.fromCodePoint(n) : '\ufffd');

/** `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>` (also S3's bare `<Error>`). */
function fromXml(xml: string): { code: string; message: string; requestId: string | undefined } {
  const at = xml.indexOf('<Error>');
  const error = at >= 0 ? xml.slice(at) : xml;
  const rid = xmlText(xml, 'RequestId') || xmlText(xml, 'RequestID');
  return { code: normalizeCode(xmlText(error, 'Code')), message: xmlText(error, 'Message'), requestId: rid === '' ? undefined : rid };
}

/**
 * Codes of a DeleteMessage(Batch) or ChangeMessageVisibility(Batch) entry whose receipt handle
 * no longer works: the message was deleted, its visibility ran out and another receive took it,
 * or it is no longer in flight. Retrying cannot help; the message is SQS's again.
 */
export const RECEIPT_GONE_CODES: ReadonlySet<string> = new Set([
  'ReceiptHandleIsInvalid',
  'InvalidReceiptHandle',
  'AWS.SimpleQueueService.MessageNotInflight',
  'MessageNotInflight',
  'InvalidParameterValue',
]);

/** Network-level failures (reset, refused, timeout) are always retryable; our own abort is `Aborted`. */
export function fromNetworkError(err: unknown): SqsError {
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  if (e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED' || e?.code === 'ABORT_ERR') return new SqsError('Aborted', 'request to SQS aborted by the daemon', 0, undefined, 'permanent');
  const timeout =
    e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.code === 'UND_ERR_CONNECT_TIMEOUT';
  const detail = typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message : 'unknown';
  // The cause (undici's error: its code, never request content) tells failover whether the request may have arrived.
  return new SqsError(timeout ? 'TimeoutError' : 'NetworkError', `request to SQS failed: ${detail}`, 0, undefined, 'retry', err);
}

/**
 * Does this failure say the endpoint itself is unwell (failover's health), rather than the queue,
 * the message or the caller? Connection errors, timeouts, 5xx, a 2xx that is not SQS's JSON; never
 * throttling (SQS answered: slow down), queue-level refusals, credentials, or our own abort.
 */
export function upstreamFault(err: SqsError): boolean {
  if (err.code === 'NetworkError' || err.code === 'TimeoutError' || err.code === 'BadResponse') return true;
  if (THROTTLING_CODES.has(err.code)) return false;
  return err.httpStatus >= 500;
}

/**
 * Codes of a connection that was never made: the request cannot have reached SQS. Node's, and
 * the SQS client's ConnectTimeout (src/sqs/client.ts; undici's name for it kept for any cause
 * that still carries it).
 */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ConnectTimeout', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Could SQS have stored the batch although the daemon saw a failure (its answer lost: a reset or
 * timeout after the request was sent, a 5xx from a proxy)? A resend elsewhere may then duplicate.
 */
export function mayHaveArrived(err: SqsError): boolean {
  if (err.code === 'BadResponse') return true; // a 2xx whose body was not SQS's JSON
  if (err.code !== 'NetworkError' && err.code !== 'TimeoutError') return err.httpStatus >= 500;
  const code = (err.cause as { code?: unknown } | undefined)?.code;
  return !(typeof code === 'string' && NOT_CONNECTED.has(code));
}

/**
 * A credential provider (AWS default chain: instance metadata, SSO, profile...) could not give
 * credentials. Retryable; the provider's own message is kept for the log, the answer to a caller
 * says only CredentialsUnavailable.
 */
export function fromCredentialsError(err: unknown): SqsError {
  if (isSqsError(err)) return err;
  const e = err as { name?: unknown; message?: unknown } | undefined;
  const detail = typeof e?.message === 'string' && e.message !== '' ? e.message.slice(0, 200) : typeof e?.name === 'string' ? e.name : 'unknown error';
  return new SqsError('CredentialsUnavailable', `could not load AWS credentials: ${detail}`, 0, undefined, 'retry', err);
}

/** Per-entry failure in a SendMessageBatch answer. */
export function classifyEntry(code: string, senderFault: boolean, message = ''): Disposition {
  if (RETRYABLE_CODES.has(code)) return 'retry';
  if (hintsQueueChanged(code, message)) return 'recheck-queue';
  if (CREDENTIAL_REFRESH_CODES.has(code) || BAD_CREDENTIAL_CODES.has(code)) return 'refresh-credentials';
  return senderFault ? 'permanent' : 'retry';
}

/** Entry refusals that hint the queue's settings changed since the daemon read them. */
const QUEUE_CHANGE_HINT = /shorter than|too long|MaximumMessageSize|Deduplication/i;

export function hintsQueueChanged(code: string, message: string): boolean {
  return (code === 'InvalidParameterValue' || code === 'MessageTooLong' || code === 'InvalidAttributeValue') && QUEUE_CHANGE_HINT.test(message);
}

/** Checks by shape, not instanceof (jest gives each test file its own realm). */
export function isSqsError(err: unknown): err is SqsError {
  return (err as { name?: unknown })?.name === 'SqsError' && typeof (err as { code?: unknown }).code === 'string';
}
