import type { MessageInput } from '../sqs/limits.js';
import type { OutgoingMessage } from '../sqs/types.js';

export type { MessageInput };

/**
 * Why one entry was not accepted: a stable `code` (see ERRORS in src/errors.ts), a message
 * safe to show, the HTTP status a door answering for this entry alone would give (400 or 413),
 * and the input field at fault when one is.
 */
export interface EntryError {
  code: string;
  message: string;
  status: number;
  field?: string;
}

/**
 * One entry as a door decoded it from its wire format: a message still to be validated, or why
 * it could not even be read (malformed JSON line, unknown field). `traceHeader`: the SQS API's
 * MessageSystemAttributes.AWSTraceHeader, checked by that door, kept with the message.
 */
export type IngestEntry = { input: MessageInput; traceHeader?: string } | { error: EntryError };

/**
 * What became of one entry, in the order given: accepted with its local message id and the
 * message as it will be sent (validated, normalised: what MD5s are computed over), or refused.
 */
export type EntryResult = { ok: true; id: string; message: OutgoingMessage } | { ok: false; error: EntryError };
