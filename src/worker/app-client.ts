import { Http1Pool } from '../net/http1/pool.js';
import type { Http1Answer, Http1Failure, StreamBody } from '../net/http1/types.js';

/**
 * The worker's client for its POSTs to the local `http:` app: the daemon's own HTTP/1.1 client
 * (src/net/http1/) with the worker's bounds, its failure codes (`App…`) and the one resend of a
 * POST whose idle socket the app had closed. undici's client cost ~85–90 µs of CPU per POST on
 * the bench machine, more than the rest of a message's handling; see docs/http1-client.md.
 *
 * Never throws and never emits: every outcome reaches the request's callback exactly once.
 */

export type AppAnswer = Http1Answer;
export type { StreamBody };

/** Why a request has no answer. `code`: AppTimeout, AppRefused, Aborted, AppBodyTooLarge, AppHeadersTooLarge, AppBadResponse, AppConnectionClosed, AppBodyMismatch, or a socket's errno code. */
export interface AppFailure {
  code: string;
  message: string;
}

export type AppCallback = (failure: AppFailure | undefined, answer: AppAnswer | undefined) => void;

export interface AppPoolOptions {
  /** Sockets open at most (the worker's concurrency). Requests beyond wait in order. */
  connections: number;
  /** No byte of the answer for this long (or between two of its chunks): AppTimeout, ms. */
  timeoutMs: number;
  /** Largest 2xx body read, bytes; more is AppBodyTooLarge. */
  maxBodyBytes: number;
  /** Other statuses' bodies are drained up to this many bytes, then the socket is closed (the status still counts), bytes. */
  maxDiscardBytes: number;
  /** Largest response head (status line and headers), and the trailers' bound too; bytes. Default 16 KiB, as node:http's. */
  maxHeaderBytes?: number;
  /** An idle socket is closed after this long, ms; sooner when the app's Keep-Alive says so. Default 30 s. */
  idleMs?: number;
}

/** The shared client's own codes that the worker reports with an `App` prefix (as before the extraction). */
const PREFIXED: ReadonlySet<string> = new Set(['Timeout', 'BodyTooLarge', 'HeadersTooLarge', 'BadResponse', 'ConnectionClosed', 'BodyMismatch']);

function appFailure(f: Http1Failure, origin: string): AppFailure {
  if (f.code === 'ECONNREFUSED' && !f.connected) return { code: 'AppRefused', message: `nothing listens at ${origin}` };
  if (f.code === 'Closed') return { code: 'Aborted', message: 'the worker\'s app client is closed' };
  if (f.code === 'ConnectTimeout') return { code: 'AppTimeout', message: f.message };
  return { code: PREFIXED.has(f.code) ? `App${f.code}` : f.code, message: f.message };
}

export class AppPool {
  readonly origin: string;
  private readonly pool: Http1Pool;
  private readonly prefix: string;

  constructor(url: URL, options: AppPoolOptions) {
    if (url.protocol !== 'http:') throw new TypeError(`AppPool speaks plain HTTP only; got ${url.protocol}`);
    this.origin = url.origin;
    this.prefix = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    // The app is on this host: connecting is bounded by the worker's timeout, as it was.
    this.pool = new Http1Pool(url, { ...options, connectTimeoutMs: options.timeoutMs, resendOnStale: true, peer: 'the app' });
  }

  /**
   * POSTs `body` with `headerLines` (each `name: value\r\n`, values free of CR, LF and NUL: the
   * caller's duty) and calls `cb` once with the answer or the failure.
   */
  post(headerLines: string, body: string | StreamBody, cb: AppCallback): void {
    const done = (f: Http1Failure | undefined, a: Http1Answer | undefined): void => cb(f && appFailure(f, this.origin), a);
    if (typeof body === 'string') this.pool.request(`${this.prefix}${headerLines}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, undefined, done);
    else this.pool.request(`${this.prefix}${headerLines}${body.bytes >= 0 ? `content-length: ${body.bytes}` : 'transfer-encoding: chunked'}\r\n\r\n`, body, done);
  }

  /** Requests in flight on a socket or waiting for one. */
  get active(): number {
    return this.pool.active;
  }

  /** Ends every request in flight or waiting as Aborted (their sockets closed). */
  abortAll(): void {
    this.pool.abortAll('aborted by the worker\'s stop');
  }

  /** Aborts what is in flight, closes every socket and resolves once they are closed. */
  destroy(): Promise<void> {
    return this.pool.destroy('aborted by the worker\'s stop');
  }
}
