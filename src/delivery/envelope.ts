import { randomBytes } from 'node:crypto';
import { deduplicationIdFor } from '../sqs/dedup.js';
import { type Destination, isVerified } from '../sqs/resolver.js';
import type { OutgoingMessage } from '../sqs/types.js';
import type { OffloadedPayload } from '../ingest/offload.js';

/** An accepted message on its way to SQS. */
export interface Envelope {
  /** Local id returned to the sender; also the generated FIFO deduplication id. */
  readonly id: string;
  readonly dest: Destination;
  /**
   * The message; its body alone when it has nothing else (see HeldMessage). Replaced (never changed
   * in place) when a FIFO message gets its deduplication id at its first send.
   */
  message: HeldMessage;
  /** Size as SQS counts it (body + attributes). */
  readonly bytes: number;
  /**
   * When it was accepted: a record shared by the envelopes accepted together (one accept call,
   * or consecutive records of one page-in), not a number per envelope. A time in ms is not a
   * small integer, so a number field held a heap number of its own for each envelope (16 bytes
   * of a held message's ~350, a young collection's copy each; issue 11, bench/held.ts).
   */
  readonly accepted: AcceptedAt;
  attempts: number;
  /**
   * When its failed attempts started (the first and the latest), from its first failed attempt on;
   * undefined until an attempt fails. Set only on failure, like `lastError`: a field made for every
   * envelope is 8 bytes of every held message, copied by each young collection it survives (issue 11:
   * a 10,000-entry batch's held messages are what a scavenge copies; bench/held.ts). An attempt that
   * succeeds ends the envelope, so nothing reads its time.
   */
  tries?: Tries;
  lastError?: { code: string; message: string };
  /** SQS refused it in a way that made the daemon re-read the queue's settings once already. */
  rechecked?: boolean;
  /** Its payload is in a spool payload file, uploaded to S3 (`uploaded`, in this run) before the pointer in `message` is sent. */
  offload?: OffloadedPayload & { uploaded?: boolean };
  /**
   * Where the spool wrote it: segment number, byte offset and record length (spool bookkeeping;
   * undefined until written). Three fields, not an object: a position object and the boxed
   * number its length field was made of were 2 of the 7 objects a held message kept alive, ~64
   * of its ~410 bytes (issue 11: a batch's held messages survive young collections and are
   * promoted; bench/held.ts).
   */
  spoolSeg?: number;
  spoolOff?: number;
  spoolLen?: number;
}

/**
 * A held message: a message with nothing but a body (the common case) is held as its body string,
 * not as a `{body}` object, 32 of the ~340 bytes a queued message keeps alive, copied by every
 * young collection it survives (issue 11: what a scavenge copies during a 10,000-entry batch is
 * its held messages; bench/held.ts). Read it through the functions below; what is written to the
 * spool is the same `{"body":…}` as before (toStored).
 */
export type HeldMessage = OutgoingMessage | string;

/** How a message is held: its body alone if it has nothing else. */
export function toHeld(m: OutgoingMessage): HeldMessage {
  return m.attributes === undefined && m.delaySeconds === undefined && m.groupId === undefined && m.dedupId === undefined && m.traceHeader === undefined ? m.body : m;
}

export function bodyOf(m: HeldMessage): string {
  return typeof m === 'string' ? m : m.body;
}

export function groupIdOf(m: HeldMessage): string | undefined {
  return typeof m === 'string' ? undefined : m.groupId;
}

/** The message as an object (a new `{body}` for a body alone: for what is done once a message, not per delivery attempt). */
export function messageOf(m: HeldMessage): OutgoingMessage {
  return typeof m === 'string' ? { body: m } : m;
}

/**
 * The message with its body in a string of its own. A batch's bodies may be slices of the
 * request's text (Frames.plainBody, issue 11), and a slice keeps the whole text alive: harmless
 * while the batch's messages go out together (in order, per destination: a batch is one
 * destination's), not when a few of them stay behind. Called when an attempt fails (once an
 * envelope: outcome.ts), so what stays behind for a retry, a backoff or an outage keeps its own
 * body, not its batch's text; what is left pinned is the text of batches whose messages have not
 * been tried yet, which wait in order, at most the in-memory bound of them, the rest paged out.
 * JSON's round trip gives the same code units (lone surrogates included) in a new flat string.
 */
export function unpinned(m: HeldMessage): HeldMessage {
  if (typeof m === 'string') return flatCopy(m);
  return typeof m.body === 'string' ? { ...m, body: flatCopy(m.body) } : m;
}

function flatCopy(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** An envelope's failed attempts' start times, ms since the epoch (dead letters show them). */
export interface Tries {
  readonly firstAt: number;
  lastAt: number;
}

/** When messages were accepted (ms since the epoch), shared by the envelopes accepted then. */
export interface AcceptedAt {
  readonly at: number;
}

/** Ends an envelope's life: delivered, or given up with a reason. */
export interface FailureReason {
  code: string;
  message: string;
}

// Ids: a per-process random prefix (unique across restarts) and a counter, base 36.
// Cheaper than randomUUID and sortable within a process run.
/**
 * An id's two parts, joined into one sequential string: V8 makes a concatenation of 13 or more
 * characters a ConsString (a pair of pointers to its parts), so an id made as `${prefix}-${n}`
 * was two of them and the counter's digits, ~90 bytes for as long as its message is held,
 * instead of one ~40-byte string (issue 11: bench/held.ts). Array.prototype.join always builds a
 * flat string; the array is this one, reused, so only the digits and the id are made per id.
 */
const idParts: [string, string] = [`${Date.now().toString(36)}${randomBytes(3).toString('hex')}-`, ''];
let seq = 0;

/**
 * Envelopes for messages accepted together, with their new ids. FIFO messages get an explicit
 * deduplication id now, from the queue's settings as known (see deduplicationIdFor); those of a
 * queue not verified yet get theirs at their first send, once SQS has said its settings.
 */
export function newEnvelopes(dest: Destination, items: ReadonlyArray<{ message: OutgoingMessage; bytes: number; id?: string; offload?: OffloadedPayload }>, now: number): { envs: Envelope[]; ids: string[] } {
  const needDedup = dest.limits.fifo && isVerified(dest);
  const envs: Envelope[] = new Array(items.length);
  const ids: string[] = new Array(items.length);
  const accepted: AcceptedAt = { at: now };
  for (let i = 0; i < items.length; i++) {
    const it = items[i] as { message: OutgoingMessage; bytes: number; id?: string; offload?: OffloadedPayload };
    const id = it.id ?? newMessageId();
    const message = needDedup && it.message.dedupId === undefined ? { ...it.message, dedupId: deduplicationIdFor(it.message, dest.limits, id) as string } : toHeld(it.message);
    envs[i] = {
      id,
      dest,
      message,
      bytes: it.bytes,
      accepted,
      attempts: 0,
      // Every field a delivered message's life sets, made now (undefined until then): fields added
      // later would give each envelope a new out-of-object property store, twice over (issue 14:
      // per-message garbage). What only a failure sets (tries, lastError, rechecked) is added then;
      // SQS's ids of a delivered message go from the batch's outcome to the tracker, never here.
      spoolSeg: undefined,
      spoolOff: undefined,
      spoolLen: undefined,
      offload: it.offload === undefined ? undefined : { ...it.offload },
    };
    ids[i] = id;
  }
  return { envs, ids };
}

export function newMessageId(): string {
  seq += 1;
  idParts[1] = seq.toString(36);
  return idParts.join('');
}
