/**
 * The daemon's one error model (after undici's lib/core/errors.js and fastify's lib/errors.js).
 *
 * - `DaemonError` is the base class of every error the daemon answers with: a stable `code`
 *   from `ERRORS` below, the HTTP `status` that table gives it, a message safe to show, and
 *   optional `details` (shown) and `cause` (never shown: the SQS error or system error behind it).
 * - `ERRORS` lists every code the daemon itself answers, with its HTTP status and meaning.
 *   SQS's own codes are relayed through `sqsFailure()` by category (bad credentials 401, access
 *   denied 403, transient 503, other 502), never invented here.
 * - `sqsFailure()` is the one mapping from an SQS failure (an SqsError, classified in src/sqs/)
 *   to an answer; `exitCodeFor()` the one mapping from a start-up failure to an exit code.
 * - An error that is none of these is a bug: it is answered 500 `InternalError`, logged with its
 *   stack and counted, never relabelled as something it is not.
 *
 * Check errors by `code` (or `isDaemonError`), not `instanceof`: jest gives each test file its
 * own realm, and other doors (SQS API, worker side) map codes to their own wire formats.
 */
import { ACCESS_DENIED_CODES, BAD_CREDENTIAL_CODES, isSqsError } from './sqs/errors.js';

export interface ErrorSpec {
  /** HTTP status of the answer. */
  readonly status: number;
  /** What the code means (the default message, and the docs). */
  readonly message: string;
  /** Seconds for a Retry-After header: the caller should try again. */
  readonly retryAfterSeconds?: number;
}

/**
 * Every code the daemon answers with, its HTTP status and meaning. Validation codes of one
 * message come from src/sqs/limits.ts and src/sqs/attributes.ts with the same names.
 */
export const ERRORS = {
  // 400: the request itself
  BadRequest: { status: 400, message: 'the request is not valid' },
  BodyReadError: { status: 400, message: 'the request body could not be read' },
  InvalidEncoding: { status: 400, message: 'the request body is not valid UTF-8' },
  MalformedJson: { status: 400, message: 'the request body is not valid JSON' },
  MissingBody: { status: 400, message: 'form field message_body is missing' },
  EmptyBatch: { status: 400, message: 'the batch holds no messages' },
  InvalidReplyWait: { status: 400, message: 'reply must be whole seconds from 1 to --reply-max-wait' },
  ReplyNeedsOneMessage: { status: 400, message: '?reply= takes exactly one message, not a list' },
  InvalidId: { status: 400, message: 'not a message id' },
  ReplyNotFound: { status: 404, message: 'no reply for this id (not yet, expired, or sent with other credentials)' },
  ReplyQueueUnavailable: { status: 503, message: 'the reply queue could not be created or found; retry later', retryAfterSeconds: 2 },
  ReplyTimeout: { status: 504, message: 'no reply came in time; the message was sent' },
  InvalidEntry: { status: 400, message: 'a batch entry is neither a JSON object nor a string' },
  UnknownField: { status: 400, message: 'a JSON message names a field the daemon does not know' },
  InvalidField: { status: 400, message: 'a form or JSON field has the wrong type' },
  InvalidParameter: { status: 400, message: 'a query parameter is out of range' },
  InvalidQueueName: { status: 400, message: 'not a valid SQS queue name' },
  InvalidQueueSettings: { status: 400, message: 'some create-queue fields are not valid' },
  InvalidDeadLetterQueue: { status: 400, message: 'the dead-letter queue is of the other type' },
  DeadLetterQueueDoesNotExist: { status: 400, message: 'the named dead-letter queue does not exist' },
  NoQueuesSelected: { status: 400, message: 'no queue selected' },
  NoDeadLettersSelected: { status: 400, message: 'no dead letter selected for a replay or purge' },
  TooManyDeadLetters: { status: 400, message: 'more dead letters in one replay or purge than the daemon takes (1000)' },
  TooManyQueues: { status: 400, message: 'too many queues in one request' },
  // 400: one message against SQS's rules (src/sqs/limits.ts, attributes.ts)
  BodyNotString: { status: 400, message: 'the message body is not a string' },
  EmptyBody: { status: 400, message: 'the message body is empty' },
  InvalidCharacter: { status: 400, message: 'the message holds a character SQS does not allow' },
  AttributesNotObject: { status: 400, message: 'message attributes are not an object' },
  TooManyAttributes: { status: 400, message: 'more than 10 message attributes' },
  InvalidAttributeName: { status: 400, message: 'a message attribute name is not valid' },
  InvalidAttributeType: { status: 400, message: 'a message attribute type is not valid' },
  InvalidAttributeValue: { status: 400, message: 'a message attribute value is not valid' },
  InvalidDelay: { status: 400, message: 'delay outside 0-900 seconds' },
  DelayNotAllowedOnFifo: { status: 400, message: 'FIFO queues take no per-message delay' },
  MissingGroupId: { status: 400, message: 'a FIFO message needs a group id' },
  InvalidGroupId: { status: 400, message: 'the message group id is not valid' },
  InvalidDeduplicationId: { status: 400, message: 'the deduplication id is not valid' },
  DeduplicationIdOnStandardQueue: { status: 400, message: 'deduplication ids exist only on FIFO queues' },
  InvalidTraceHeader: { status: 400, message: 'awsTraceHeader is not an X-Ray trace header' },
  ReservedAttributeName: { status: 400, message: 'ExtendedPayloadSize and SQSLargePayloadSize are reserved for messages whose payload is in S3' },
  TooManyAttributesForS3: { status: 400, message: 'a message whose payload goes to S3 may have at most 9 attributes (one slot holds ExtendedPayloadSize)' },
  WaitUnavailable: { status: 400, message: '?wait=1 is not available in this process' },
  // 401, 403: who is asking
  MissingCredentials: { status: 401, message: 'no HTTP Basic credentials' },
  MalformedCredentials: { status: 401, message: 'the Basic credentials are not an access key id and secret' },
  InvalidLocalUser: { status: 401, message: 'unknown local user or wrong password' },
  TooManyFailedLogins: { status: 429, message: 'too many failed logins from this client; try again later', retryAfterSeconds: 60 },
  CsrfTokenMissing: { status: 403, message: 'a browser request without a CSRF token' },
  CsrfTokenInvalid: { status: 403, message: 'a CSRF token that is expired or not for these credentials' },
  CrossOriginRequest: { status: 403, message: 'a state-changing request from another origin' },
  // 404, 405, 501: what is asked for
  NotFound: { status: 404, message: 'no such route' },
  NoSuchPayload: { status: 404, message: 'no such object in S3 (the payload of a large message)' },
  PayloadNotAllowed: { status: 403, message: 'the daemon reads payloads only from its --s3-bucket with its own credentials' },
  QueueDoesNotExist: { status: 404, message: 'the queue does not exist (or is not visible to these credentials)' },
  NoDeadLetterStore: { status: 404, message: 'memory-only mode keeps no dead letters' },
  NoSuchDeadLetter: { status: 404, message: 'no such dead letter for these credentials' },
  UnknownMessage: { status: 404, message: 'no recent message with this id sent with these credentials (the daemon keeps the last --message-window messages\' states, since it started)' },
  MethodNotAllowed: { status: 405, message: 'the route does not take this method' },
  NotImplemented: { status: 501, message: 'this HTTP method is not supported' },
  MessageMoveUnsupported: { status: 501, message: 'the upstream has no message-move tasks (DLQ redrive); Amazon SQS has them, emulators may not' },
  // 413, 415, 421: limits and guards
  RequestTooLarge: { status: 413, message: 'request body over --max-request-bytes' },
  MessageTooLarge: { status: 413, message: 'message over 1 MiB or the queue\'s MaximumMessageSize' },
  PayloadTooLarge: { status: 413, message: 'message payload over --max-large-message-bytes' },
  TooManyEntries: { status: 413, message: 'more messages in one batch than --max-batch-entries' },
  BatchTooLarge: { status: 413, message: 'a batch larger than the whole backlog can ever hold (--max-backlog-messages, --max-backlog-bytes, --max-spool-bytes)' },
  UnsupportedMediaType: { status: 415, message: 'a content type the route does not read' },
  UnsupportedCharset: { status: 415, message: 'a charset other than UTF-8' },
  HostNotAllowed: { status: 421, message: 'a Host header that is not this daemon (DNS-rebinding guard)' },
  // 500, 503: the daemon's own state
  InternalError: { status: 500, message: 'internal error; see the daemon log' },
  BacklogFull: { status: 503, message: 'the daemon\'s backlog is full (SQS slow or unreachable); retry later', retryAfterSeconds: 1 },
  SpoolFull: { status: 503, message: 'the daemon\'s spool is full (SQS slow or unreachable); nothing was accepted, retry later', retryAfterSeconds: 5 },
  SpoolUnavailable: { status: 503, message: 'the daemon could not write the message to its spool (disk full or unwritable); nothing was accepted', retryAfterSeconds: 5 },
  CredentialsUnavailable: { status: 503, message: 'could not load the daemon\'s AWS credentials', retryAfterSeconds: 5 },
  TooManyDestinations: { status: 503, message: 'the daemon is delivering to --max-destinations queue and credential pairs at once; retry once some are idle', retryAfterSeconds: 5 },
  S3Unavailable: { status: 502, message: 'S3 did not give the payload of a large message; try again', retryAfterSeconds: 2 },
  LoginBusy: { status: 503, message: 'too many logins being checked right now; try again', retryAfterSeconds: 1 },
  TooManyWaiting: { status: 503, message: 'too many messages are waited for already (?wait=1); retry later, or send without wait', retryAfterSeconds: 1 },
  /** Answered by the HTTP server itself (src/http/server.ts), before the app. */
  TooManyBodyBytes: { status: 503, message: 'request bodies being read at once would pass --max-inflight-body-bytes; retry shortly', retryAfterSeconds: 1 },
  TooManyConnections: { status: 503, message: 'the daemon has --max-connections client connections open; retry shortly', retryAfterSeconds: 1 },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** Statuses of SQS refusals relayed with SQS's own code (see sqsFailure). */
export const RELAYED = {
  /** SQS refused the credentials (BAD_CREDENTIAL_CODES). */
  badCredentials: { status: 401, message: 'SQS refused the credentials' },
  /** SQS denied access (ACCESS_DENIED_CODES). */
  accessDenied: { status: 403, message: 'SQS denied access' },
  /** A management call refused for the caller's input (name taken, invalid attribute): ADMIN_CLIENT_ERRORS' status. */
  callerInput: { status: 400, message: 'SQS refused the request as given' },
  /** SQS transiently unavailable (throttling, 5xx, network). */
  transient: { status: 503, message: 'SQS is not answering right now; try again', retryAfterSeconds: 2 },
  /** Any other SQS refusal. */
  other: { status: 502, message: 'SQS answered with an error' },
} as const satisfies Record<string, ErrorSpec>;

export interface DaemonErrorOptions {
  /** Shown with the error (e.g. `{ field }`, `{ fields }`). */
  details?: unknown;
  /** Extra answer headers (e.g. Allow on a 405). Retry-After and WWW-Authenticate come from the status. */
  headers?: Record<string, string>;
  /** What caused it; logged, never shown. */
  cause?: unknown;
  /** Only for relayed SQS codes, whose status is not in ERRORS. */
  status?: number;
  retryAfterSeconds?: number;
}

/** An error the daemon answers with: stable `code`, HTTP `status`, a message safe to show. */
export class DaemonError extends Error {
  override readonly name = 'DaemonError';
  readonly code: string;
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly details: unknown;
  /** Seconds the caller should wait before trying again, when the failure is temporary. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message?: string, options?: DaemonErrorOptions);
  /** A relayed code (SQS's own): give its status. */
  constructor(code: string, message: string, options: DaemonErrorOptions & { status: number });
  constructor(code: string, message?: string, options: DaemonErrorOptions = {}) {
    const spec = (ERRORS as Record<string, ErrorSpec>)[code];
    super(message ?? spec?.message ?? code, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? spec?.status ?? 500;
    this.headers = options.headers ?? {};
    this.details = options.details;
    this.retryAfterSeconds = options.retryAfterSeconds ?? spec?.retryAfterSeconds;
  }
}

/** By shape, not instanceof (realms). */
export function isDaemonError(err: unknown): err is DaemonError {
  return (err as { name?: unknown })?.name === 'DaemonError' && typeof (err as { code?: unknown }).code === 'string' && typeof (err as { status?: unknown }).status === 'number';
}

/** SQS refusals of a management call that are the caller's input, not an outage: HTTP status to answer with. */
export const ADMIN_CLIENT_ERRORS: Readonly<Record<string, number>> = {
  QueueNameExists: 409,
  QueueAlreadyExists: 409,
  QueueDeletedRecently: 409,
  PurgeQueueInProgress: 409,
  InvalidAttributeValue: 400,
  InvalidAttributeName: 400,
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  ValidationError: 400,
};

export interface SqsFailureContext {
  /** The queue the call was about (named in a 404). */
  queueName?: string;
  /** A management call (create, purge, delete...): the caller's own mistakes answer 400/409 with SQS's code. */
  management?: boolean;
}

/**
 * The answer for an SQS failure met while serving a request: the one mapping from SQS's
 * classified errors (src/sqs/errors.ts) to the daemon's. A DaemonError passes unchanged; anything
 * that is neither is returned unchanged too (a bug: answered 500 and logged by the door, never
 * relabelled). The SqsError is kept as `cause` (its request id is logged, never shown).
 */
export function sqsFailure(err: unknown, context: SqsFailureContext = {}): Error {
  if (isDaemonError(err)) return err;
  if (!isSqsError(err)) return err as Error;
  const cause = { cause: err };
  if (err.code === 'CredentialsUnavailable') return new DaemonError('CredentialsUnavailable', undefined, cause);
  if (err.queueMissing) return new DaemonError('QueueDoesNotExist', `queue ${JSON.stringify(context.queueName ?? '')} does not exist (or is not visible to these credentials)`, cause);
  if (context.management) {
    const status = ADMIN_CLIENT_ERRORS[err.code];
    if (status !== undefined) return new DaemonError(err.code, `SQS refused (${err.code}): ${err.message}`, { ...cause, status });
  }
  if (BAD_CREDENTIAL_CODES.has(err.code)) {
    return new DaemonError(err.code, `SQS refused the credentials (${err.code}): check the access key id and secret`, { ...cause, status: RELAYED.badCredentials.status });
  }
  if (ACCESS_DENIED_CODES.has(err.code)) return new DaemonError(err.code, `SQS denied access (${err.code}): ${err.message}`, { ...cause, status: RELAYED.accessDenied.status });
  if (err.disposition === 'retry') {
    return new DaemonError(err.code, `SQS is not answering right now (${err.code}); try again`, { ...cause, status: RELAYED.transient.status, retryAfterSeconds: RELAYED.transient.retryAfterSeconds });
  }
  return new DaemonError(err.code, `SQS answered ${err.code}: ${err.message}`, { ...cause, status: RELAYED.other.status });
}

/**
 * Exit codes, documented in the README and systemd/README.md: systemd's
 * RestartPreventExitStatus=2 stops a restart loop on bad configuration. `--wait-ready`
 * exits 1 when the daemon did not become ready in time.
 */
export const EXIT = { ok: 0, crash: 1, badConfig: 2, forced: 130 } as const;

/** Start-up failures that no restart can fix: bad options, address in use, spool unusable. */
const BAD_CONFIG_CODES: ReadonlySet<string> = new Set(['ECONFIG', 'EADDRINUSE', 'EACCES', 'ESPOOLWRITE', 'ESPOOLLOCKED']);

/** The exit code for a failure to start: 2 for configuration a restart cannot fix, else 1. */
export function exitCodeFor(err: unknown): number {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && BAD_CONFIG_CODES.has(code) ? EXIT.badConfig : EXIT.crash;
}

/** A one-line description of an unexpected error for the log: name, message, stack. */
export function describeBug(err: unknown): { name?: string; message?: string; stack?: string } {
  const e = err as Error | undefined;
  return { name: e?.name, message: e?.message, stack: e?.stack };
}
