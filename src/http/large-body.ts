import type { IncomingMessage } from 'node:http';
import { DaemonError } from '../errors.js';
import { type LargePayloads, LargeBodyError } from '../spool/large.js';
import { bodyLease } from './body-budget.js';

/**
 * What a body streamed to its payload file holds in memory at once, for --max-inflight-body-bytes:
 * pull() pauses the request at 4 waiting chunks of at most 64 KiB, plus the one being written.
 */
export const STREAM_WINDOW_BYTES = 5 * 65_536;

/** Content types whose body is parsed (form, JSON, NDJSON): every other body is the message itself. */
const PARSED = new Set(['application/x-www-form-urlencoded', 'application/json', 'application/x-ndjson', 'application/jsonl', 'application/jsonlines', 'application/json-seq']);

/** Is the body of this content type the message itself (a raw body)? */
export function isRawBody(mime: string): boolean {
  return !PARSED.has(mime) && !mime.startsWith('multipart/');
}

/**
 * Checks a body as it streams by, byte by byte, without decoding it to strings: UTF-8 (shortest
 * form, no surrogates, at most U+10FFFF, as a fatal TextDecoder wants; never U+FFFD invented) in
 * SQS's character set (#x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF), the same rules
 * as for a body read whole (a payload read from S3 by an Extended Client is a string too). A
 * sequence split across chunks is carried over. Decoding each 64 KiB chunk to a string made
 * 32 MiB of garbage per payload, which grew the V8 heap's young generation under load.
 */
export class BodyChecker {
  private offset = 0;
  /** Continuation bytes still expected, the code point so far, its smallest legal value, where it began. */
  private need = 0;
  private cp = 0;
  private min = 0;
  private start = 0;

  check(chunk: Uint8Array): void {
    let { need, cp, min, start } = this;
    const base = this.offset;
    const n = chunk.length;
    for (let i = 0; i < n; i++) {
      const b = chunk[i] as number;
      if (need === 0) {
        if (b < 0x80) {
          if (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) throw badCharacter(b, base + i);
          continue;
        }
        start = base + i;
        if ((b & 0xe0) === 0xc0) {
          cp = b & 0x1f;
          need = 1;
          min = 0x80;
        } else if ((b & 0xf0) === 0xe0) {
          cp = b & 0x0f;
          need = 2;
          min = 0x800;
        } else if ((b & 0xf8) === 0xf0) {
          cp = b & 0x07;
          need = 3;
          min = 0x10000;
        } else throw notUtf8(start);
        continue;
      }
      if ((b & 0xc0) !== 0x80) throw notUtf8(start);
      cp = (cp << 6) | (b & 0x3f);
      need -= 1;
      if (need === 0) {
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw notUtf8(start);
        if (cp === 0xfffe || cp === 0xffff) throw badCharacter(cp, start);
      }
    }
    this.offset += n;
    this.need = need;
    this.cp = cp;
    this.min = min;
    this.start = start;
  }

  end(): void {
    if (this.need > 0) throw notUtf8(this.start);
  }
}

function notUtf8(at: number): LargeBodyError {
  return new LargeBodyError('InvalidEncoding', `request body is not valid UTF-8 (at byte ${at})`);
}

function badCharacter(cp: number, at: number): LargeBodyError {
  return new LargeBodyError('InvalidCharacter', `body contains a character SQS does not allow: U+${cp.toString(16).toUpperCase().padStart(4, '0')} (at byte ${at})`);
}

/**
 * A raw body that may be large: read into memory while it is at most `memLimit` bytes (the
 * message then goes the ordinary way), else streamed, checked as it comes, into the payload
 * file of `id`, so a 40 MiB message is never whole in memory. Refuses more than
 * `maxPayloadBytes` with 413 as soon as it is known (Content-Length, or the byte past it).
 */
export async function readRawBody(
  req: IncomingMessage,
  options: { memLimit: number; payloads: LargePayloads; id: string; maxPayloadBytes: number },
): Promise<{ buf: Buffer } | { payloadBytes: number }> {
  if (req.destroyed) throw new DaemonError('BodyReadError', 'the client closed the connection before the body was read');
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxPayloadBytes) {
    req.resume();
    throw new DaemonError('PayloadTooLarge', `the message payload is ${declared} bytes; --max-large-message-bytes is ${options.maxPayloadBytes}`);
  }
  // A body declared larger than memLimit goes to its file from the first byte: buffering its first
  // memLimit bytes (1 MiB by default) per request only to find out what Content-Length said cost
  // 20 MiB with 20 such uploads at once (bench/large.ts).
  const streamAtOnce = Number.isFinite(declared) && declared > options.memLimit;
  // What it holds in memory, taken before a byte is read (503 TooManyBodyBytes when it does not fit).
  const lease = bodyLease(req);
  if (lease && Number.isFinite(declared) && declared > 0) {
    try {
      lease.ensure(streamAtOnce ? STREAM_WINDOW_BYTES : declared);
    } catch (err) {
      req.resume();
      throw err;
    }
  }
  if (Number.isFinite(declared) && declared > 0) options.payloads.reserve(declared > options.memLimit ? declared : 0);
  const it = pull(req);
  const head: Buffer[] = [];
  let size = 0;
  try {
    while (!streamAtOnce) {
      const c = await it.next();
      if (c === undefined) return { buf: head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head, size) };
      head.push(c);
      size += c.length;
      lease?.ensure(size);
      if (size > options.memLimit) break;
    }
    lease?.ensure(size + STREAM_WINDOW_BYTES); // the head, handed to the file chunk by chunk, and the window
    const checker = new BodyChecker();
    const chunks = async function* (): AsyncGenerator<Buffer> {
      while (head.length > 0) {
        const c = head.shift() as Buffer;
        checker.check(c);
        yield c;
      }
      for (;;) {
        const c = await it.next();
        if (c === undefined) break;
        checker.check(c);
        yield c;
      }
      checker.end();
    };
    return { payloadBytes: await options.payloads.write(options.id, chunks(), options.maxPayloadBytes) };
  } catch (err) {
    it.drop(); // the rest is read and dropped (bounded by --client-request-timeout-ms), so the answer can be sent
    if ((err as { code?: unknown }).code === 'TooManyBodyBytes') throw err;
    if ((err as { name?: unknown }).name === 'LargeBodyError') throw new DaemonError((err as LargeBodyError).code, (err as Error).message);
    const code = (err as { code?: unknown }).code;
    if (code === 'ESPOOLFULL') throw new DaemonError('SpoolFull', (err as Error).message, { cause: err });
    if (code === 'ESPOOLWRITE') throw new DaemonError('SpoolUnavailable', undefined, { cause: err });
    if ((err as { code?: unknown }).code === 'ECONNRESET' || (err as Error).message === 'aborted') throw new DaemonError('BodyReadError', 'the client closed the connection before the body was read');
    throw err;
  }
}

/**
 * The request's chunks, one at a time, with back-pressure (paused while a few wait). `drop()`
 * discards what is left, so the connection can carry the answer and the next request.
 */
function pull(req: IncomingMessage): { next(): Promise<Buffer | undefined>; drop(): void } {
  const queue: Buffer[] = [];
  let ended = false;
  let failure: Error | undefined;
  let dropped = false;
  let wake: (() => void) | undefined;
  req.on('data', (c: Buffer) => {
    if (dropped) return;
    queue.push(c);
    if (queue.length >= 4) req.pause();
    wake?.();
  });
  req.once('end', () => {
    ended = true;
    wake?.();
  });
  req.once('error', (err) => {
    failure = err;
    wake?.();
  });
  return {
    async next() {
      for (;;) {
        const c = queue.shift();
        if (c !== undefined) {
          if (queue.length < 2) req.resume();
          return c;
        }
        if (failure) throw failure;
        if (ended) return undefined;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    drop() {
      dropped = true;
      queue.length = 0;
      req.resume();
    },
  };
}
