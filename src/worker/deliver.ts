import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { type Dispatcher, Pool } from 'undici';
import type { ReceivedMessage } from '../sqs/consume.js';
import { type AppFailure, AppPool } from './app-client.js';
import { SqsdHead, sqsdHeaders } from './sqsd-head.js';

/**
 * POSTs one message to the local app the way Elastic Beanstalk's sqsd does, over one pool of
 * keep-alive sockets per worker, and reads the answer into an outcome. Never throws. An `http:`
 * app gets the worker's own lean HTTP/1.1 client (src/worker/app-client.ts: undici's client was
 * the largest cost per message); an `https:` one an undici pool.
 */

export type AppOutcome =
  /** 2xx. `body` and `replyAttributes` (from X-Reply-Attr-* headers) feed a reply. */
  | { kind: 'ok'; status: number; body: string; replyAttributes: Record<string, string>; latencyMs: number }
  /** 429 or 503: the app is overloaded, not the message at fault. */
  | { kind: 'busy'; status: number; retryAfterMs: number | undefined; latencyMs: number }
  /** Any other status, a timeout or a refused connection. */
  | { kind: 'failed'; code: string; message: string; latencyMs: number };

/** Largest answer body read from the app (a reply must fit in an SQS message anyway). */
export const MAX_APP_BODY_BYTES = 1_048_576;

/** Largest non-2xx body drained before the socket is given up (the status is the answer). */
const MAX_DISCARD_BYTES = 65_536;

function retryAfterMs(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s === '') return undefined;
  if (/^\d+$/.test(s.trim())) return Math.min(Number(s) * 1000, 300_000);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - Date.now()), 300_000);
}

/** A POST in flight: its abort, for stop past the grace period. */
interface Inflight {
  abort(): void;
}

const ABORTED = Object.assign(new Error('aborted by the worker\'s stop'), { code: 'UND_ERR_ABORTED' });

export class AppClient {
  /** https: apps only. */
  private readonly pool: Pool | undefined;
  /** http: apps. */
  private readonly lean: AppPool | undefined;
  private readonly path: string;
  private readonly inflight = new Set<Inflight>();
  private leanActive = 0;
  /** The sqsd head builder of the last queue and content type posted for (one per worker in practice). */
  private head: SqsdHead | undefined;

  constructor(readonly url: string, connections: number, private readonly timeoutMs: number) {
    const u = new URL(url);
    this.path = `${u.pathname}${u.search}`;
    if (u.protocol === 'http:') this.lean = new AppPool(u, { connections, timeoutMs, maxBodyBytes: MAX_APP_BODY_BYTES, maxDiscardBytes: MAX_DISCARD_BYTES });
    else this.pool = new Pool(u.origin, { connections, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  /** The POST over the lean client: one callback, the head and body in one write. `done` is called once (maybe at once, for a refusal). */
  private postLean(lean: AppPool, msg: ReceivedMessage, queueName: string, contentType: string, payload: { body: Readable; bytes: number } | undefined, done: (out: AppOutcome) => void): void {
    const t0 = performance.now();
    let head = this.head;
    if (head === undefined || head.queueName !== queueName || head.contentType !== contentType) this.head = head = new SqsdHead(queueName, contentType);
    const h = head.lines(msg);
    if ('bad' in h) {
      payload?.body.destroy();
      done({ kind: 'failed', code: 'UnsendableHeader', message: `header ${JSON.stringify(h.bad.slice(0, 80))} of the message cannot be sent over HTTP (CR, LF or NUL in its value, or not a token)`, latencyMs: 0 });
      return;
    }
    this.leanActive += 1;
    lean.post(h.lines, payload ? { stream: payload.body, bytes: payload.bytes } : msg.body, (failure, answer) => {
      this.leanActive -= 1;
      const ms = performance.now() - t0;
      if (failure || !answer) {
        payload?.body.destroy();
        done(this.leanFailure(failure as AppFailure, ms));
        return;
      }
      done(this.outcome(answer.status, answer.headers, answer.body === undefined ? undefined : [answer.body], ms));
    });
  }

  /**
   * `post` without a promise, for the worker's hot path: `done` gets the outcome once, possibly
   * before postWith returns (a message whose headers cannot be sent, a closed client).
   */
  postWith(msg: ReceivedMessage, queueName: string, contentType: string, done: (out: AppOutcome) => void): void {
    if (this.lean) this.postLean(this.lean, msg, queueName, contentType, undefined, done);
    else void this.post(msg, queueName, contentType).then(done);
  }

  private leanFailure(f: AppFailure, latencyMs: number): AppOutcome {
    return { kind: 'failed', code: f.code, message: f.code === 'AppRefused' ? `nothing listens at ${this.url}` : f.message, latencyMs };
  }

  /**
   * POSTs one message and resolves with the outcome. Uses undici's dispatch API with a handler of
   * its own rather than `request()`: no response stream, no AbortSignal listener per message (the
   * hot path of the worker; see docs/benchmarks.md).
   */
  /** `payload`: the body streamed from S3 (a large message's, src/worker/payload.ts), instead of `msg.body`. */
  post(msg: ReceivedMessage, queueName: string, contentType: string, payload?: { body: Readable; bytes: number }): Promise<AppOutcome> {
    const lean = this.lean;
    if (lean) return new Promise((resolve) => this.postLean(lean, msg, queueName, contentType, payload, resolve));
    const pool = this.pool as Pool;
    const t0 = performance.now();
    return new Promise<AppOutcome>((resolve) => {
      let controller: Dispatcher.DispatchController | undefined;
      let aborted = false;
      let status = 0;
      let headers: IncomingHttpHeaders = {};
      let chunks: Buffer[] | undefined;
      let size = 0;
      let settled = false;
      const entry: Inflight = {
        abort: () => {
          aborted = true;
          controller?.abort(ABORTED);
        },
      };
      const finish = (out: AppOutcome): void => {
        if (settled) return;
        settled = true;
        if (payload && out.kind === 'failed') payload.body.destroy();
        this.inflight.delete(entry);
        resolve(out);
      };
      this.inflight.add(entry);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (c) => {
          controller = c;
          if (aborted) c.abort(ABORTED);
        },
        onResponseStart: (c, statusCode, h) => {
          if (statusCode < 200) return; // 1xx: the real answer follows
          status = statusCode;
          headers = h;
          if (status >= 200 && status < 300) chunks = [];
        },
        onResponseData: (c, chunk) => {
          size += chunk.length;
          if (chunks === undefined) {
            // Not a 2xx: the body is not read, only drained (64 KiB at most).
            if (size > 65_536) c.abort(Object.assign(new Error('error body too large'), { code: 'AppErrorBodyTooLarge' }));
            return;
          }
          if (size > MAX_APP_BODY_BYTES) {
            chunks = undefined;
            finish({ kind: 'failed', code: 'AppBodyTooLarge', message: `the app answered ${status} with a body over ${MAX_APP_BODY_BYTES} bytes`, latencyMs: performance.now() - t0 });
            c.abort(Object.assign(new Error('body too large'), { code: 'AppBodyTooLarge' }));
            return;
          }
          chunks.push(chunk);
        },
        onResponseEnd: () => finish(this.outcome(status, headers, chunks, performance.now() - t0)),
        onResponseError: (_c, err) => {
          // A non-2xx answer whose body was cut short still says what the app meant.
          const code = (err as { code?: unknown }).code;
          if (code === 'AppErrorBodyTooLarge' && status > 0) return finish(this.outcome(status, headers, undefined, performance.now() - t0));
          finish(this.failure(err, performance.now() - t0));
        },
      };
      try {
        pool.dispatch({
          path: this.path,
          method: 'POST',
          headers: payload ? withLength(sqsdHeaders(msg, queueName, contentType), payload.bytes) : sqsdHeaders(msg, queueName, contentType),
          body: payload ? payload.body : msg.body,
          headersTimeout: this.timeoutMs,
          bodyTimeout: this.timeoutMs,
        }, handler);
      } catch (err) {
        finish(this.failure(err, performance.now() - t0));
      }
    });
  }

  private outcome(status: number, headers: IncomingHttpHeaders | Record<string, string>, chunks: Buffer[] | undefined, latencyMs: number): AppOutcome {
    if (status >= 200 && status < 300) {
      const replyAttributes: Record<string, string> = {};
      for (const k in headers) {
        const v = headers[k];
        if (k.length > 13 && k.startsWith('x-reply-attr-') && v !== undefined) replyAttributes[k.slice(13)] = Array.isArray(v) ? v.join(', ') : v;
      }
      const body = chunks === undefined || chunks.length === 0 ? '' : chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
      return { kind: 'ok', status, body, replyAttributes, latencyMs };
    }
    if (status === 429 || status === 503) return { kind: 'busy', status, retryAfterMs: retryAfterMs(headers['retry-after']), latencyMs };
    return { kind: 'failed', code: `Http${status}`, message: `the app answered HTTP ${status}`, latencyMs };
  }

  private failure(err: unknown, latencyMs: number): AppOutcome {
    const e = err as { code?: unknown; name?: unknown };
    const code = e === ABORTED || e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED' ? 'Aborted'
      : e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' ? 'AppTimeout'
      : e.code === 'ECONNREFUSED' ? 'AppRefused'
      : typeof e.code === 'string' ? e.code : 'AppError';
    const message = code === 'AppTimeout' ? `the app did not answer within ${this.timeoutMs / 1000} s (inactivity timeout)`
      : code === 'AppRefused' ? `nothing listens at ${this.url}`
      : `request to the app failed (${code})`;
    return { kind: 'failed', code, message, latencyMs };
  }

  /** POSTs in flight now. */
  get active(): number {
    return this.inflight.size + this.leanActive;
  }

  /** Aborts every POST in flight (stop past its grace period): each resolves as failed with code `Aborted`. */
  abortAll(): void {
    this.lean?.abortAll();
    for (const r of [...this.inflight]) r.abort();
  }

  /** Closes the sockets once the POSTs in flight have their answers. */
  async close(): Promise<void> {
    if (this.pool) return this.pool.close();
    while (this.leanActive > 0) await new Promise((r) => setTimeout(r, 10));
    await this.lean?.destroy();
  }

  destroy(): Promise<void> {
    return this.pool ? this.pool.destroy() : (this.lean as AppPool).destroy();
  }
}

/** Headers with the Content-Length of a streamed body (when S3 said it). */
function withLength(headers: Record<string, string>, bytes: number): Record<string, string> {
  if (bytes >= 0) headers['content-length'] = String(bytes);
  return headers;
}
