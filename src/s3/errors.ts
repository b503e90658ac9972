import type { Disposition } from '../sqs/errors.js';

/**
 * S3's answers, read in one place (as src/sqs/errors.ts does for SQS): every failure of an S3
 * request becomes an S3Error with S3's code, the HTTP status and what to do about it. Messages
 * never carry credentials.
 */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  constructor(
    readonly code: string,
    message: string,
    readonly httpStatus: number,
    readonly disposition: Exclude<Disposition, 'split'>,
    readonly requestId?: string,
  ) {
    super(message);
  }
}

export function isS3Error(err: unknown): err is S3Error {
  return (err as { name?: unknown })?.name === 'S3Error';
}

/** Credentials S3 refused or found expired: with the daemon's own (chain) they are fetched again. */
const CREDENTIAL_CODES = new Set(['ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'InvalidAccessKeyId', 'SignatureDoesNotMatch']);
const RETRY_CODES = new Set(['SlowDown', 'RequestTimeout', 'InternalError', 'ServiceUnavailable', 'RequestTimeTooSkewed', 'OperationAborted']);

export function classifyS3(code: string, status: number): Exclude<Disposition, 'split'> {
  if (CREDENTIAL_CODES.has(code)) return 'refresh-credentials';
  if (RETRY_CODES.has(code) || status >= 500 || status === 429 || status === 0) return 'retry';
  return 'permanent';
}

/** An S3 error answer (XML `<Error><Code>..</Code><Message>..</Message>`), or a bare status (HEAD). */
export function fromS3Response(status: number, text: string, what: string, requestId?: string): S3Error {
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1] ?? (status === 404 ? 'NotFound' : status === 403 ? 'AccessDenied' : `Http${status}`);
  const detail = /<Message>([^<]{0,300})<\/Message>/.exec(text)?.[1];
  return new S3Error(code, `S3 refused ${what} (${status} ${code}${detail ? `: ${detail}` : ''})`, status, classifyS3(code, status), requestId);
}

export function fromS3NetworkError(err: unknown, what: string): S3Error {
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  if (e?.name === 'AbortError' || e?.code === 'UND_ERR_ABORTED') return new S3Error('Aborted', `${what} aborted by the daemon`, 0, 'permanent');
  const timeout = e?.name === 'TimeoutError' || e?.code === 'UND_ERR_HEADERS_TIMEOUT' || e?.code === 'UND_ERR_BODY_TIMEOUT' || e?.code === 'UND_ERR_CONNECT_TIMEOUT';
  const detail = typeof e?.code === 'string' ? e.code : typeof e?.message === 'string' ? e.message : 'unknown';
  return new S3Error(timeout ? 'TimeoutError' : 'NetworkError', `${what} failed: ${detail}`, 0, 'retry');
}
