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

/**
 * A batch's entries, decoded a piece at a time: `read(from, to)` gives entries `from` to `to - 1`
 * (each call decodes them anew). A large batch is validated and recorded piece by piece from it,
 * so only one piece's decoded entries are alive at a time (see Ingest.sendBatch).
 */
export interface EntrySource {
  readonly count: number;
  /**
   * How many UTF-16 code units the entries' wire text (each entry's JSON, as read) has in all,
   * when the source knows: with it a batch's bytes are bounded without decoding it (pieces.ts,
   * textBound). Absent: no such bound.
   */
  readonly textChars?: number;
  /** UTF-16 code units of entry `i`'s wire text, when the source knows (a piece is bounded by them: pieces.ts PIECE_CHARS). */
  chars?(i: number): number;
  read(from: number, to: number): IngestEntry[];
}

/**
 * What became of each entry of a batch, kept compact until the answer: the local id of each
 * accepted entry, the error of each refused one, in the order given (an EntryResult per entry
 * would hold three objects per entry alive until the 202).
 */
export interface BatchResults {
  readonly count: number;
  readonly accepted: number;
  /** The local id of entry `i` when it was accepted, else undefined. */
  id(i: number): string | undefined;
  /** Why entry `i` was refused, else undefined; with its message for the first DETAILED_ERRORS refusals only. */
  error(i: number): BatchEntryError | undefined;
}

/** A refused batch entry's error as BatchResults keeps it: past the first refusals, no message. */
export type BatchEntryError = Omit<EntryError, 'message'> & { message?: string };
