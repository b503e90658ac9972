import type { IncomingMessage } from 'node:http';
import { DaemonError } from '../errors.js';
import { bodyLease } from './body-budget.js';
import { parseUrlencoded, type UrlencodedForm } from './urlencoded.js';

/**
 * Reads the whole request body, refusing more than `limit` bytes with 413 as soon as it is known,
 * and what would pass --max-inflight-body-bytes with 503 (body-budget.ts): the declared length
 * before a byte is read, else chunk by chunk.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return readBodyAs(req, limit, asBuffer, undefined);
}

const asBuffer = (buf: Buffer): Buffer => buf;

/**
 * readBody, resolving with `finish(buf, arg)` instead of the Buffer (a throw of `finish` is the
 * rejection): for a reader that turns the body into something else (formNow), without an async
 * layer of its own around readBody (issue 14: each was a promise, an await's reaction and its
 * closures per message). `finish` is a module-level function and `arg` its context, so no
 * closure is made for it.
 */
function readBodyAs<T, A>(req: IncomingMessage, limit: number, finish: (buf: Buffer, arg: A) => T, arg: A): Promise<T> {
  try {
    checkDeclared(req, limit);
    const buf = bufferedBody(req, limit);
    if (buf !== undefined) return Promise.resolve(finish(buf, arg));
  } catch (err) {
    return Promise.reject(err as Error);
  }
  return readListening(req, limit, finish, arg);
}

/** readBodyAs's read chunk by chunk as they come, after checkDeclared and bufferedBody. */
function readListening<T, A>(req: IncomingMessage, limit: number, finish: (buf: Buffer, arg: A) => T, arg: A): Promise<T> {
  const lease = bodyLease(req);
  return new Promise((resolve, reject) => {
    // A small body comes in one chunk: the list is made only for a second one (issue 14: the
    // list alone was ~150 bytes of garbage per message). A body of a declared length that comes
    // in several is copied into one buffer of that length as it arrives (`whole`), so its end
    // is not one long copy: a 1.2 MB batch's Buffer.concat held the loop 1-3 ms, its new pages
    // faulted in at once (issue 14: no single request holds the loop more than 5 ms).
    let first: Buffer | undefined;
    let chunks: Buffer[] | undefined;
    let whole: Buffer | undefined;
    let size = 0;
    let failed = false;
    const declared = Number(req.headers['content-length']);
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      const at = size;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        first = chunks = whole = undefined;
        reject(tooLarge(limit));
        return;
      }
      if (lease && size > lease.bytes) {
        try {
          lease.ensure(size);
        } catch (err) {
          failed = true;
          first = chunks = whole = undefined;
          reject(err as Error);
          return;
        }
      }
      if (first === undefined) first = chunk;
      else if (whole !== undefined) {
        if (size <= whole.length) chunk.copy(whole, at);
        else (chunks = [whole.subarray(0, at), chunk]), (whole = undefined); // more than declared: the parser would not let it, kept anyway
      } else if (chunks === undefined && size <= declared && declared <= limit && (lease === undefined || lease.bytes >= declared)) {
        // Bytes already allowed: within the limit checked before the first byte and taken from
        // the body budget then (checkDeclared), so a client that declares much and sends little
        // makes the daemon hold no more than its declaration was charged.
        whole = Buffer.allocUnsafeSlow(declared);
        first.copy(whole, 0);
        chunk.copy(whole, at);
      } else (chunks ??= [first]).push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      const buf = whole !== undefined ? (size === whole.length ? whole : whole.subarray(0, size)) : chunks !== undefined ? Buffer.concat(chunks, size) : (first ?? EMPTY);
      let out: T;
      try {
        out = finish(buf, arg);
      } catch (err) {
        reject(err as Error);
        return;
      }
      resolve(out);
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(new DaemonError('BodyReadError', `could not read the request body: ${err.message}`));
      }
    });
    // readHead() may have paused the stream; with its 'readable' listener gone this restarts it.
    req.resume();
  });
}

/**
 * What is known before a byte is read, thrown as readBody rejects: the client gone already, a
 * declared Content-Length over `limit` (the body is read and dropped), or one the body budget
 * cannot take (the same).
 */
function checkDeclared(req: IncomingMessage, limit: number): void {
  // The client may have gone while we waited (first send: GetQueueUrl): its 'error' and
  // 'close' have fired already and no listener added now would ever be called.
  if (req.destroyed) throw new DaemonError('BodyReadError', 'the client closed the connection before the body was read');
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    throw tooLarge(limit);
  }
  const lease = bodyLease(req);
  if (lease && declared !== undefined && Number(declared) > 0) {
    try {
      lease.ensure(Number(declared));
    } catch (err) {
      req.resume(); // read and dropped, never kept
      throw err;
    }
  }
}

/**
 * The whole body at once when the parser has put all of it into the request's buffer and nobody
 * reads the stream yet (not flowing, no 'data' listener, 'end' not emitted): the message is
 * complete, or its declared Content-Length is all buffered (a small body comes in the packet of
 * its headers, and the parser pushes it a moment after the route started, ahead of the message's
 * end). No listeners, closures or promise (issue 14: ~0.6 KB a message). Same refusals as the
 * read chunk by chunk: over `limit` (413), over what the body budget can take (503). Undefined
 * when the body is not all there yet: read it with listeners. Call after checkDeclared.
 */
function bufferedBody(req: IncomingMessage, limit: number): Buffer | undefined {
  if (req.readableFlowing === true || req.readableEnded || req.listenerCount('data') > 0) return undefined;
  const size = req.readableLength;
  const complete = req.complete;
  if (!complete && !(size > 0 && size === Number(req.headers['content-length']))) return undefined;
  // Taken as buffered: one chunk is that Buffer, several are concatenated once.
  const buf = (req.read() as Buffer | null) ?? EMPTY;
  // The end of the message is still to come: the stream flows so that it ends ('end', then
  // Node's own clean-up of the request) as when it is read with listeners.
  if (!complete) req.resume();
  if (size > limit) throw tooLarge(limit);
  const lease = bodyLease(req);
  if (lease && size > lease.bytes) lease.ensure(size);
  return buf;
}

/**
 * Is the body still on its way, with no reader yet? A route about to read a small form may wait
 * a turn for it (bufferedBody): the route starts as the headers are parsed, before the parser
 * pushes the body that came with them.
 */
export function bodyPending(ctx: BodyContext): boolean {
  const req = ctx.req;
  if ((ctx.state as BodyState).body !== undefined || req.complete || req.destroyed || req.readableFlowing === true) return false;
  return req.readableLength === 0 || req.readableLength !== Number(req.headers['content-length']);
}

/**
 * Reads only the start of a body: up to and including the first `stop` byte, or `max` bytes,
 * whichever comes first, or all of it if it is shorter. What was read and not needed stays in
 * the stream (unshift), so a later readBody() sees the whole body; `ended` says the head is
 * the whole body (nothing can be put back after the end).
 */
export function readHead(req: IncomingMessage, max: number, stop: number): Promise<{ head: Buffer; ended: boolean }> {
  if (req.destroyed) return Promise.reject(new DaemonError('BodyReadError', 'the client closed the connection before the body was read'));
  if (req.readableEnded) return Promise.resolve({ head: Buffer.alloc(0), ended: true });
  const lease = bodyLease(req);
  const declared = Number(req.headers['content-length']);
  if (lease && declared > 0) {
    try {
      lease.ensure(declared); // the route reads the rest of it: taken once, here
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (ended: boolean): void => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      req.off('error', onError);
      const head = Buffer.concat(chunks, size);
      if (!ended && head.length > 0) req.unshift(head);
      resolve({ head, ended });
    };
    const onReadable = (): void => {
      let chunk: Buffer | null;
      while ((chunk = req.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        size += chunk.length;
        if (lease && size > lease.bytes) {
          try {
            lease.ensure(size);
          } catch (err) {
            req.off('readable', onReadable);
            req.off('end', onEnd);
            req.off('error', onError);
            chunks.length = 0;
            return reject(err as Error);
          }
        }
        if (size >= max || chunk.includes(stop)) return finish(false);
      }
    };
    const onEnd = (): void => finish(true);
    const onError = (err: Error): void => {
      req.off('readable', onReadable);
      req.off('end', onEnd);
      reject(new DaemonError('BodyReadError', `could not read the request body: ${err.message}`));
    };
    req.on('readable', onReadable);
    req.once('end', onEnd);
    req.once('error', onError);
  });
}

const EMPTY = Buffer.alloc(0);

function tooLarge(limit: number): DaemonError {
  return new DaemonError('RequestTooLarge', `request body is larger than ${limit} bytes (--max-request-bytes)`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, refusing invalid sequences rather than inventing U+FFFD characters. */
export function decodeUtf8(buf: Buffer): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw new DaemonError('InvalidEncoding', 'request body is not valid UTF-8');
  }
}

/**
 * A request's body, read once and decoded once per form, whoever needs it first (the CSRF guard
 * reads a browser form to find its token; the route then reads the same fields). Kept in
 * `ctx.state`, so every reader after the first gets the same Buffer, string and form.
 */
interface BodyState {
  body?: BodyRecord;
}
type BodyRecord = { buf: Buffer; text?: string; form?: UrlencodedForm };

/** What the readers below need of a request: Koa's Context has both, so has fast-send.ts's. */
export interface BodyContext {
  req: IncomingMessage;
  state: object;
}

/**
 * The request body's record, read now or by an earlier reader. `limit` is checked against what
 * was read either way (an earlier reader may have had a larger limit). The readers below each
 * await only this (issue 14: one async layer per reader, not three, fewer promises per message).
 */
async function bodyRecord(ctx: BodyContext, limit: number): Promise<BodyRecord> {
  const state = ctx.state as BodyState;
  let body = state.body;
  if (body === undefined) {
    const buf = await readBody(ctx.req, limit);
    body = state.body ??= { buf };
  }
  if (body.buf.length > limit) throw new DaemonError('RequestTooLarge', `request body is larger than ${limit} bytes`);
  return body;
}

/** The request body, read now or by an earlier reader (see bodyRecord). */
export async function requestBody(ctx: BodyContext, limit: number): Promise<Buffer> {
  return (await bodyRecord(ctx, limit)).buf;
}

/** The request body as UTF-8 text (400 InvalidEncoding otherwise), decoded once. */
export async function requestText(ctx: BodyContext, limit: number): Promise<string> {
  const body = await bodyRecord(ctx, limit);
  return (body.text ??= decodeUtf8(body.buf));
}

/** The request body as an urlencoded form, parsed once (UTF-8 required, as for every body), as URLSearchParams reads it (urlencoded.ts). */
export async function requestForm(ctx: BodyContext, limit: number): Promise<UrlencodedForm> {
  return formOf(await bodyRecord(ctx, limit));
}

function formOf(body: BodyRecord): UrlencodedForm {
  body.text ??= decodeUtf8(body.buf);
  return (body.form ??= parseUrlencoded(body.text));
}

/**
 * requestForm without its async layers: the form at once when an earlier reader read the body
 * or the parser has buffered all of it (bufferedBody), else the body read's own promise,
 * resolved with the form parsed as the body ends (the send fast path's single message, issue
 * 14). Same limit checks and refusals as requestForm, thrown or rejected.
 */
export function formNow(ctx: BodyContext, limit: number): UrlencodedForm | Promise<UrlencodedForm> {
  const body = (ctx.state as BodyState).body;
  if (body !== undefined) {
    if (body.buf.length > limit) throw new DaemonError('RequestTooLarge', `request body is larger than ${limit} bytes`);
    return formOf(body);
  }
  checkDeclared(ctx.req, limit);
  const buf = bufferedBody(ctx.req, limit);
  if (buf !== undefined) return formRead(buf, ctx.state as BodyState);
  return readListening(ctx.req, limit, formRead, ctx.state as BodyState);
}

/** formNow's finish: the body read is kept as every reader's record (bodyRecord's), then parsed. */
function formRead(buf: Buffer, state: BodyState): UrlencodedForm {
  return formOf((state.body ??= { buf }));
}

/**
 * How much of a large body decodeUtf8Sliced decodes in one turn of the event loop. 256 KiB: an
 * ASCII slice decodes in ~0.3-1 ms on the bench machine (1 MiB took 1.1-4.5 ms, and with the
 * body's Buffer.concat the turn a 1.2 MB batch ended in held the loop 9-18 ms in the bench's
 * mid-run batch, issue 14).
 */
export const DECODE_SLICE_BYTES = 262_144;
const SLICE_BYTES = DECODE_SLICE_BYTES;

/**
 * decodeUtf8 for large bodies: DECODE_SLICE_BYTES at a time with a turn of the event loop between
 * (decoding 32 MiB at once holds the loop for tens of milliseconds). Same refusal of invalid
 * UTF-8, also across slice boundaries.
 *
 * Each slice ends on a character boundary and is decoded whole (`decodeUtf8`), not with a
 * streaming decoder: Node's TextDecoder decodes a stream through ICU, into UTF-16, so an ASCII
 * body came back as a two-byte string (a 1.2 MB NDJSON batch as 2.5 MB of text, decoded in
 * ~4.2 ms against ~0.7 ms whole on the 2026-12-02 bench machine) and so did every line sliced
 * out of it (issue 11). Decoded whole, an ASCII or Latin-1 slice is a one-byte string. A slice
 * is valid UTF-8 exactly when the bytes between two character boundaries are, so a body is
 * refused exactly when one of its slices is: a cut can only move back over continuation bytes
 * (at most three), and where more follow the body is not UTF-8 anyway (the next slice starts
 * with one and is refused).
 */
export async function decodeUtf8Sliced(buf: Buffer): Promise<string> {
  if (buf.length <= SLICE_BYTES) return decodeUtf8(buf);
  return (await decodeInSlices(buf, characterCut)).join('');
}

/** Where a slice from `off` ends: SLICE_BYTES on, backed over the continuation bytes (10xxxxxx) of a character the cut would split. */
function characterCut(buf: Buffer, off: number): number {
  let end = Math.min(buf.length, off + SLICE_BYTES);
  for (let k = 0; k < 3 && end < buf.length && ((buf[end] as number) & 0xc0) === 0x80; k++) end -= 1;
  return end;
}

/** `buf` decoded a slice a turn, each slice from where the last ended to `cut(buf, off)`. */
async function decodeInSlices(buf: Buffer, cut: (buf: Buffer, off: number) => number): Promise<string[]> {
  const parts: string[] = [];
  for (let off = 0; off < buf.length; ) {
    const end = cut(buf, off);
    parts.push(decodeUtf8(buf.subarray(off, end)));
    off = end;
    if (off < buf.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return parts;
}

/**
 * decodeUtf8Sliced for a batch, kept as parts, never joined: a 32 MiB batch's join held the loop
 * 30-40 ms in one turn (issue 11). For records separated by one ASCII byte (`separator`: NDJSON's
 * newline, a JSON text sequence's RS) each slice is cut just after the last separator in it
 * (further only when one record is longer than a slice): an ASCII byte never sits inside a UTF-8
 * sequence, so each part is valid UTF-8 exactly when the body is, and as every part but the last
 * ends with the separator, no record spans two (slices.ts eachRecordInParts). With `'character'`
 * (a JSON array, whose framing follows strings and elements across parts: eachArrayElementInParts)
 * the slices are decodeUtf8Sliced's, cut between two characters.
 */
export async function decodeUtf8Parts(buf: Buffer, separator: number | 'character'): Promise<string[]> {
  if (buf.length <= SLICE_BYTES) return [decodeUtf8(buf)];
  if (separator === 'character') return decodeInSlices(buf, characterCut);
  return decodeInSlices(buf, (b, off) => {
    if (off + SLICE_BYTES >= b.length) return b.length;
    const at = b.lastIndexOf(separator, off + SLICE_BYTES - 1);
    const cut = at >= off ? at : b.indexOf(separator, off + SLICE_BYTES);
    return cut >= 0 ? cut + 1 : b.length;
  });
}

/** A batch body in parts (decodeUtf8Parts), or the text an earlier reader decoded, as parts. */
export async function requestPartsSliced(ctx: BodyContext, limit: number, separator: number | 'character'): Promise<readonly string[]> {
  const body = await bodyRecord(ctx, limit);
  return body.text !== undefined ? [body.text] : decodeUtf8Parts(body.buf, separator);
}

/** requestText for bodies that may be large: decoded a slice at a time (decodeUtf8Sliced), once. */
export async function requestTextSliced(ctx: BodyContext, limit: number): Promise<string> {
  const body = await bodyRecord(ctx, limit);
  body.text ??= await decodeUtf8Sliced(body.buf);
  return body.text;
}
