import { DaemonError } from '../../../errors.js';

/**
 * An error answer of the queue-browser routes (messages, settings, redrive, dead letters):
 * HTTP status, a stable code (listed in src/errors.ts ERRORS, or SQS's own), a message safe to
 * show, optional details (e.g. the fields). The one place these routes make errors.
 */
export function answerError(status: number, code: string, message: string, options: { details?: unknown } = {}): Error {
  return new DaemonError(code, message, { status, ...options });
}
