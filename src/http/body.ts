import type { IncomingMessage } from 'node:http';
import { HttpError } from './errors.js';

/** Reads the whole request body, refusing more than `limit` bytes with 413 as soon as it is known. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  // The client may have gone while we waited (first send: GetQueueUrl): its 'error' and
  // 'close' have fired already and no listener added now would ever be called.
  if (req.destroyed) return Promise.reject(new HttpError(400, 'BodyReadError', 'the client closed the connection before the body was read'));
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      if (!failed) {
        failed = true;
        reject(new HttpError(400, 'BodyReadError', `could not read the request body: ${err.message}`));
      }
    });
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'RequestTooLarge', `request body is larger than ${limit} bytes (--max-request-bytes)`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, refusing invalid sequences rather than inventing U+FFFD characters. */
export function decodeUtf8(buf: Buffer): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw new HttpError(400, 'InvalidEncoding', 'request body is not valid UTF-8');
  }
}
