import type { MessageInput } from '../sqs/limits.js';
import type { OutgoingMessage } from '../sqs/types.js';
import type { OffloadedPayload } from './offload.js';

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
/** `id`: the local id to give the message (request/reply names it in an attribute before sending); default a new one. */
/** `payloadBytes`: the body is not in `input` but in the payload file of `id` (src/spool/large.ts), that many bytes, checked as UTF-8 in SQS's character set (the REST door streams large raw bodies there). */
export type IngestEntry = { input: MessageInput; traceHeader?: string; id?: string; payloadBytes?: number } | { error: EntryError };

/**
 * What became of one entry, in the order given: accepted with its local message id and the
 * message as it will be sent (validated, normalised: what MD5s are computed over), or refused.
 */
/** `offload`: the payload went to S3 (the message sent is a pointer to it); `message` is then the message as the sender gave it. */
export type EntryResult = { ok: true; id: string; message: OutgoingMessage; offload?: OffloadedPayload } | { ok: false; error: EntryError };
