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
  /** The credentials expired: refresh them (when the daemon owns them) and retry. */
  | 'refresh-credentials';

/** Error codes (JSON protocol `__type` suffix or legacy query code) that are worth retrying. */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'RequestThrottled',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'KmsThrottled',
  'KMS.ThrottlingException',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'InternalServerError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ServiceUnavailableException',
  'SlowDown',
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

/** Codes that mean the caller's credentials are not accepted (HTTP 401). */
export const BAD_CREDENTIAL_CODES: ReadonlySet<string> = new Set([
  'InvalidClientTokenId',
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

export function classify(code: string, httpStatus: number): Disposition {
  if (RETRYABLE_CODES.has(code)) return 'retry';
  if (CREDENTIAL_REFRESH_CODES.has(code)) return 'refresh-credentials';
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

/** Builds the error for a non-2xx SQS response. Never includes request content. */
export function fromResponse(status: number, body: string, requestId?: string): SqsError {
  let code = '';
  let message = '';
  try {
    const parsed = JSON.parse(body) as { __type?: unknown; message?: unknown; Message?: unknown; code?: unknown };
    if (typeof parsed.__type === 'string') code = normalizeCode(parsed.__type);
    else if (typeof parsed.code === 'string') code = parsed.code;
    const m = parsed.message ?? parsed.Message;
    if (typeof m === 'string') message = m;
  } catch {
    // Not JSON: a proxy or load balancer answered. Classified by status below.
  }
  if (code === '') code = status >= 500 ? 'ServiceUnavailable' : status === 403 ? 'AccessDenied' : `Http${status}`;
  if (message === '') message = `SQS answered HTTP ${status}`;
  return new SqsError(code, message, status, requestId);
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
  return new SqsError(timeout ? 'TimeoutError' : 'NetworkError', `request to SQS failed: ${detail}`, 0, undefined, 'retry');
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
export function classifyEntry(code: string, senderFault: boolean): Disposition {
  if (RETRYABLE_CODES.has(code)) return 'retry';
  if (CREDENTIAL_REFRESH_CODES.has(code)) return 'refresh-credentials';
  return senderFault ? 'permanent' : 'retry';
}

/** Checks by shape, not instanceof (jest gives each test file its own realm). */
export function isSqsError(err: unknown): err is SqsError {
  return (err as { name?: unknown })?.name === 'SqsError' && typeof (err as { code?: unknown }).code === 'string';
}
