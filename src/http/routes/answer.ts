import { HttpError } from '../errors.js';

/**
 * An error answer of the queue-browser routes (messages, settings, redrive, dead letters):
 * HTTP status, a stable code, a message safe to show, optional details (e.g. the fields).
 * The one place these routes make errors, so they follow the daemon's error model in one edit.
 */
export function answerError(status: number, code: string, message: string, options: { details?: unknown } = {}): Error {
  return new HttpError(status, code, message, options);
}
