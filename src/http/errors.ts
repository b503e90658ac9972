import { DaemonError, isDaemonError } from '../errors.js';

export { DaemonError, isDaemonError };
/** Older name of isDaemonError: an error the HTTP door answers as it is. */
export const isHttpError = isDaemonError;

export const BASIC_CHALLENGE = 'Basic realm="sqs-accelerator", charset="UTF-8"';

/**
 * The HTTP door's one mapping from anything thrown while serving a request to an answer.
 * `unexpected` is true for a bug (not a DaemonError, not koa/router's own 405/501): the
 * caller logs it with its stack and counts it; the answer is a 500 that shows nothing of it.
 */
export function toHttpError(err: unknown): { error: DaemonError; unexpected: boolean } {
  if (isDaemonError(err)) return { error: err, unexpected: false };
  const ke = err as { status?: unknown; expose?: unknown; message?: unknown; headers?: Record<string, string> };
  if (typeof ke?.status === 'number' && ke.expose === true) {
    // koa/router's own (405 Method Not Allowed, 501): safe to show.
    const options = { status: ke.status, ...(ke.headers ? { headers: ke.headers } : {}) };
    return { error: new DaemonError(ke.status === 405 ? 'MethodNotAllowed' : 'BadRequest', String(ke.message), options), unexpected: false };
  }
  return { error: new DaemonError('InternalError'), unexpected: true };
}

/** The headers an error answer carries: Retry-After for temporary failures, the Basic challenge on 401. */
export function errorHeaders(e: DaemonError): Record<string, string> {
  const headers: Record<string, string> = { ...e.headers };
  if (e.retryAfterSeconds !== undefined) headers['retry-after'] = String(e.retryAfterSeconds);
  if (e.status === 401) headers['www-authenticate'] = BASIC_CHALLENGE;
  return headers;
}
