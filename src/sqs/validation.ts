/** The outcome of validating one message, and the 400 failure most checks return. */
import type { OutgoingMessage } from './types.js';

export type Validation =
  | { ok: true; message: OutgoingMessage; bytes: number }
  | { ok: false; status: 400 | 413; code: string; message: string; field?: string };

export type Failure = Extract<Validation, { ok: false }>;

export function fail(code: string, message: string, field?: string): Failure {
  return field === undefined ? { ok: false, status: 400, code, message } : { ok: false, status: 400, code, message, field };
}
