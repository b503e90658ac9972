import type { IncomingMessage } from 'node:http';
import { DaemonError } from '../errors.js';
import { type LargePayloads, LargeBodyError } from '../spool/large.js';
import { badChar, invalidCharIndex } from '../sqs/chars.js';

/** Content types whose body is parsed (form, JSON, NDJSON): every other body is the message itself. */
const PARSED = new Set(['application/x-www-form-urlencoded', 'application/json', 'application/x-ndjson', 'application/jsonl', 'application/jsonlines', 'application/json-seq']);

/** Is the body of this content type the message itself (a raw body)? */
export function isRawBody(mime: string): boolean {
  return !PARSED.has(mime) && !mime.startsWith('multipart/');
}

/**
 * Checks a body as it streams by: UTF-8 (never U+FFFD invented) in SQS's character set, the
 * same rules as for a body read whole (a payload read from S3 by an Extended Client is a
 * string too).
 */
class BodyChecker {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  private offset = 0;

  check(chunk: Buffer, last = false): void {
    let text: string;
    try {
      text = this.decoder.decode(chunk, { stream: !last });
    } catch {
      throw new LargeBodyError('InvalidEncoding', `request body is not valid UTF-8 (near byte ${this.offset})`);
    }
    const bad = invalidCharIndex(text);
    if (bad >= 0) throw new LargeBodyError('InvalidCharacter', `body contains a character SQS does not allow: ${badChar(text, bad)} (near byte ${this.offset})`);
    this.offset += chunk.length;
  }

  end(): void {
    this.check(Buffer.alloc(0), true);
  }
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
  if (Number.isFinite(declared) && declared > 0) options.payloads.reserve(declared > options.memLimit ? declared : 0);
  const it = pull(req);
  const head: Buffer[] = [];
  let size = 0;
  try {
    for (;;) {
      const c = await it.next();
      if (c === undefined) return { buf: head.length === 1 ? (head[0] as Buffer) : Buffer.concat(head, size) };
      head.push(c);
      size += c.length;
      if (size > options.memLimit) break;
    }
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
