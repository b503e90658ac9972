import { setImmediate as turn } from 'node:timers/promises';
import type { Validated } from '../delivery/pipeline.js';
import { DaemonError, isDaemonError } from '../errors.js';
import type { Destination } from '../sqs/resolver.js';
import { MAX_ATTRIBUTES } from '../sqs/quotas.js';
import { Slicer } from './slices.js';
import type { BatchEntryError, BatchResults, EntryError, EntryResult, EntrySource, IngestEntry } from './types.js';

/**
 * A large batch is read, validated and recorded in pieces, a turn of the event loop between
 * them: at most this many entries a piece (fewer past PIECE_CHARS of their text), and at most
 * CHUNK_BYTES of them (at least one entry) per store append. Each piece costs the loop three
 * stretches of work proportional to its size (the envelopes, the journal record encoding and
 * write, the tracker and batcher): 500 entries held it ~10 ms each on the 2026-12-01 bench
 * machine, 100 about 2 ms.
 */
export const CHUNK_ENTRIES = 100;
export const CHUNK_BYTES = 1_048_576;

/**
 * A piece's entries' wire text, at most (UTF-16 code units, at least one entry), when the source
 * knows each entry's (EntrySource.chars): the work of a piece (reading, validating, the journal
 * records, the envelopes) goes with its bytes as much as with its entries. 100 entries of 3.3 KB,
 * 330 KB a piece, held the loop 10-15 ms a piece (issue 11, bench/own-turns.ts); 128 Ki
 * characters is 100 entries of up to 1.3 KB, so a batch of small messages is read as before.
 */
export const PIECE_CHARS = 131_072;

/** Where the piece of `source` that starts at `from` ends: CHUNK_ENTRIES entries, fewer if their text passes PIECE_CHARS (at least one). */
export function pieceEnd(source: EntrySource, from: number): number {
  const last = Math.min(source.count, from + CHUNK_ENTRIES);
  if (source.chars === undefined) return last;
  let chars = source.chars(from);
  let to = from + 1;
  while (to < last) {
    chars += source.chars(to);
    if (chars > PIECE_CHARS) break;
    to += 1;
  }
  return to;
}

/** Where the pieces of `valid` end: each at most CHUNK_ENTRIES entries and CHUNK_BYTES bytes (at least one entry). */
export function chunkEnds(valid: readonly { bytes: number }[]): number[] {
  const ends: number[] = [];
  let n = 0;
  let bytes = 0;
  for (let i = 0; i < valid.length; i++) {
    const b = (valid[i] as { bytes: number }).bytes;
    if (n > 0 && (n === CHUNK_ENTRIES || bytes + b > CHUNK_BYTES)) {
      ends.push(i);
      n = 0;
      bytes = 0;
    }
    n += 1;
    bytes += b;
  }
  if (valid.length > 0) ends.push(valid.length);
  return ends;
}

/** What recording a batch piece by piece needs of Ingest. */
export interface PieceSteps {
  /**
   * One entry validated (with the request's trace context): what to record, why it is refused,
   * or 'recheck' when it is over a queue limit that may have been raised since it was read and
   * `rechecked` is false (re-read the queue's settings, then ask again with `rechecked` true).
   */
  check(dest: Destination, entry: IngestEntry, rechecked: boolean): Validated | EntryError | 'recheck';
  recheck(dest: Destination): Promise<unknown>;
  /** Records valid messages (durable when it resolves); rejects with a DaemonError when it cannot. */
  append(dest: Destination, valid: readonly Validated[]): Promise<string[]>;
  /** Could `count` messages of `bytes` ever be recorded, even into an empty backlog and spool? */
  couldEverFit(count: number, bytes: number): boolean;
  /** The most bytes one valid message can have (SQS's limit; no queue's limit is above the daemon's cap). */
  maxMessageBytes(dest: Destination): number;
  /** Are other requests' appends waiting to be written (the pipeline's coalescer)? Absent: never asked. */
  othersWaiting?(): boolean;
}

/**
 * Validates and records the entries of `source` a piece of CHUNK_ENTRIES at a time, with the
 * semantics of Ingest.send: one result per entry, in order; a refused entry does not stop the
 * others; BatchTooLarge (413, nothing recorded) when the valid entries could never fit; a
 * refusal of the first append rejects the request with nothing accepted, of a later one refuses
 * the rest and keeps what was recorded; resolved only once every accepted entry is recorded.
 *
 * Only one piece's decoded entries and validated copies are alive at a time, so the young
 * collections during a 10,000-entry batch find little of it still alive (they copy what
 * survives: a whole decoded batch made each pause several ms long). Deciding "could never fit"
 * before the first append needs the valid entries' count and bytes; unless the bound of one
 * message (maxMessageBytes) proves the whole batch fits, a first pass validates every piece
 * and keeps only the two sums. Validation is a pure function of the entry and the queue's
 * limits, so the second pass refuses the same entries (unless the queue's settings changed in
 * between, as they may between any two requests).
 *
 * Between pieces, when other requests' appends are waiting to be written (`othersWaiting`: a
 * trickle of single messages read while the last piece was recorded), the next piece waits one
 * turn more, at most one a piece: their write comes first, alone, instead of after this piece's
 * validation and inside its write (issue 11: a single message's ack waited for a piece).
 */
export async function sendInPieces(steps: PieceSteps, dest: Destination, source: EntrySource): Promise<BatchResults> {
  const n = source.count;
  const out = new Outcome(n);
  const state = { rechecked: false };
  if (!steps.couldEverFit(n, Math.min(n * steps.maxMessageBytes(dest), textBound(source)))) {
    const slicer = new Slicer(2, 32);
    let count = 0;
    let bytes = 0;
    for (let from = 0; from < n; from += CHUNK_ENTRIES) {
      const piece = source.read(from, Math.min(n, from + CHUNK_ENTRIES));
      for (const entry of piece) {
        let r = steps.check(dest, entry, state.rechecked);
        if (r === 'recheck') r = await rechecked(steps, dest, entry, state);
        if ('bytes' in r) {
          count += 1;
          bytes += r.bytes;
        }
      }
      const y = slicer.tick();
      if (y) await y;
    }
    if (count > 0 && !steps.couldEverFit(count, bytes)) {
      throw new DaemonError('BatchTooLarge', `the batch (${count} messages, ${bytes} bytes) is larger than the daemon's whole backlog can ever hold (--max-backlog-messages, --max-backlog-bytes, --max-spool-bytes); send it in smaller parts`);
    }
  }
  let refused: EntryError | undefined;
  for (let from = 0, to = 0; from < n; from = to) {
    to = pieceEnd(source, from);
    const piece = source.read(from, to);
    const valid: Validated[] = [];
    const slots: number[] = [];
    for (let k = 0; k < piece.length; k++) {
      let r = steps.check(dest, piece[k] as IngestEntry, state.rechecked);
      if (r === 'recheck') r = await rechecked(steps, dest, piece[k] as IngestEntry, state);
      if (!('bytes' in r)) out.refuse(from + k, r);
      else if (refused) out.refuseRest(from + k, refused);
      else {
        valid.push(r);
        slots.push(from + k);
      }
    }
    let done = 0;
    for (const end of refused ? [] : chunkEnds(valid)) {
      const chunk = done === 0 && end === valid.length ? valid : valid.slice(done, end);
      let ids: string[];
      try {
        ids = await steps.append(dest, chunk);
      } catch (err) {
        if (out.accepted === 0 || !isDaemonError(err)) throw err;
        refused = { code: err.code, message: err.message, status: err.status };
        for (let k = done; k < valid.length; k++) out.refuseRest(slots[k] as number, refused);
        break;
      }
      for (let k = 0; k < chunk.length; k++) out.accept(slots[done + k] as number, ids[k] as string);
      done = end;
    }
    if (to < n) {
      await turn();
      if (steps.othersWaiting?.() === true) await turn();
    }
  }
  return out;
}

/**
 * What one valid entry can count (as SQS counts a message: body and attributes) beyond the UTF-8
 * bytes of its own wire text: per attribute, a shorthand's DataType that is not in the text
 * ("String" / "Number", 6 bytes) and a JSON number written out longer by String() than in the
 * text (`1e20` is "100000000000000000000": at most 25 characters for any double), for at most
 * MAX_ATTRIBUTES attributes; and the trace attributes ingest adds from the request's headers
 * (traceparent: name, type and its 55 characters; tracestate: name, type and at most 512).
 * Everything else a valid message counts is in its text at least as long: a JSON string's
 * escapes decode to no more UTF-8 bytes than they take, base64 to fewer.
 */
export const ENTRY_SLACK_BYTES = MAX_ATTRIBUTES * (6 + 25) + ('traceparent'.length + 6 + 55) + ('tracestate'.length + 6 + 512);

/**
 * An upper bound on the bytes of all the valid entries of `source`, from its wire text
 * (`textChars`: every UTF-16 code unit is at most 3 bytes of UTF-8) and ENTRY_SLACK_BYTES per
 * entry; Infinity when the source does not know its text. A 10,000-entry batch of 1.2 MB is
 * bounded by ~18 MB, so the default backlog (1 GiB) proves it fits without the first pass:
 * without this bound every such batch was decoded and validated twice (issue 11: half the
 * batch's ingest garbage, ~800 bytes a message).
 */
function textBound(source: EntrySource): number {
  return source.textChars === undefined ? Infinity : 3 * source.textChars + source.count * ENTRY_SLACK_BYTES;
}

/** The queue's settings re-read (once per request: `state`), then the entry checked again. */
async function rechecked(steps: PieceSteps, dest: Destination, entry: IngestEntry, state: { rechecked: boolean }): Promise<Validated | EntryError> {
  state.rechecked = true;
  await steps.recheck(dest);
  return steps.check(dest, entry, true) as Validated | EntryError;
}

/**
 * Refused entries of a batch whose error is kept (and answered) with its message; past them a
 * refusal keeps only its code and status, as the answer gives it (src/http/routes/send-batch.ts).
 */
export const DETAILED_ERRORS = 100;

/**
 * BatchResults in one array, an entry's local id (a string) or its error (an object): one
 * pointer an entry. Refusals past the first DETAILED_ERRORS share one error object per code,
 * without a message, so a 10,000-entry batch of bad lines keeps ~8 bytes an entry until its
 * answer instead of an error object and a message string each (alive across the turns between
 * pieces, so promoted: the fuzz test's bad batches grew the heap by ~100 MB, 2026-12-02).
 * Validation refuses in the order of the entries, so the first DETAILED_ERRORS refusals by
 * position keep their message; a refused append's error (refuseRest) is one object already.
 */
class Outcome implements BatchResults {
  accepted = 0;
  private detailed = 0;
  private readonly slots: (string | BatchEntryError | undefined)[];
  private briefs: Map<string, BatchEntryError> | undefined;

  constructor(readonly count: number) {
    this.slots = new Array<string | BatchEntryError | undefined>(count);
  }

  accept(i: number, id: string): void {
    this.slots[i] = id;
    this.accepted += 1;
  }

  refuse(i: number, error: EntryError): void {
    this.slots[i] = this.detailed++ < DETAILED_ERRORS ? error : this.brief(error);
  }

  /** Entry `i` refused with an error many entries share (a refused append): kept as given, not counted as detailed. */
  refuseRest(i: number, error: EntryError): void {
    this.slots[i] = error;
  }

  id(i: number): string | undefined {
    const s = this.slots[i];
    return typeof s === 'string' ? s : undefined;
  }

  error(i: number): BatchEntryError | undefined {
    const s = this.slots[i];
    return typeof s === 'object' ? s : undefined;
  }

  private brief(e: EntryError): BatchEntryError {
    const known = (this.briefs ??= new Map()).get(e.code);
    if (known !== undefined && known.status === e.status) return known;
    const b: BatchEntryError = { code: e.code, status: e.status };
    if (known === undefined) this.briefs.set(e.code, b);
    return b;
  }
}

/** EntryResults (Ingest.send's answer) as BatchResults. */
export function batchResultsOf(results: readonly EntryResult[]): BatchResults {
  const out = new Outcome(results.length);
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as EntryResult;
    if (r.ok) out.accept(i, r.id);
    else out.refuse(i, r.error);
  }
  return out;
}

/** An EntrySource over entries already decoded (a small JSON body). */
export function entriesSource(entries: readonly IngestEntry[]): EntrySource {
  return { count: entries.length, read: (from, to) => entries.slice(from, to) };
}
