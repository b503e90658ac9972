import { isIP } from 'node:net';
import { Conn, Request } from './connection.js';
import type { Http1Callback, Http1Failure, Http1PoolOptions, StreamBody } from './types.js';

/**
 * Idle sockets closed per turn of the event loop. Closing one costs ~40 µs (close(2) and its
 * events); after a burst has opened hundreds, they all expire in the same sweep, and closing them
 * at once held the daemon's loop for 10-14 ms in the middle of a 2,000 msg/s open loop (issue 14).
 * Expired sockets leave the idle list at once (never handed a request again); they are closed a
 * few per turn, so answers interleave with the closing.
 */
export const IDLE_CLOSES_PER_TURN = 8;

/**
 * A small HTTP/1.1 client: a bounded pool of keep-alive sockets to one `http:` or `https:`
 * origin, one write per request (head and body in one string), a response parser that reads
 * Content-Length, chunked and until-close bodies (connection.ts, head.ts), and one timer per pool
 * for timeouts and idle sockets instead of timers per request. See docs/http1-client.md.
 *
 * Never throws and never emits: every outcome, socket errors included, reaches the request's
 * callback exactly once.
 */
export class Http1Pool {
  readonly host: string;
  readonly port: number;
  readonly origin: string;
  readonly secure: boolean;
  /** The TLS server name (SNI and the certificate check); undefined for an IP address, which TLS checks as such. */
  readonly servername: string | undefined;
  readonly ca: string | Buffer | undefined;
  readonly peer: string;
  readonly resendOnStale: boolean;
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  readonly maxDiscardBytes: number | undefined;
  /** Advanced by the sweep timer: timeouts and idle sockets are counted in ticks. */
  tick = 0;
  readonly idleTicks: number;
  private readonly tickMs: number;
  private readonly timeoutTicks: number;
  private readonly connectTicks: number;
  private readonly connectTimeoutMs: number;
  private readonly conns = new Set<Conn>();
  private readonly idle: Conn[] = [];
  /** Idle sockets past their idle time, out of `idle`, waiting to be closed (IDLE_CLOSES_PER_TURN at a time). */
  private readonly expired = new Set<Conn>();
  private closingExpired = false;
  private readonly closeExpiredNow = (): void => this.closeExpired();
  private readonly waiting: Request[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  /** Requests taken and not yet settled (in flight or waiting). */
  private inFlight = 0;
  /** No new requests (close() or destroy() was called). */
  private closed = false;
  /** Sockets are being closed: nothing more is sent. */
  private destroyed = false;
  private drained: (() => void) | undefined;
  private buffer: Buffer | undefined;

  constructor(url: URL, private readonly options: Http1PoolOptions) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`Http1Pool speaks http: and https: only; got ${url.protocol}`);
    this.secure = url.protocol === 'https:';
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = url.port === '' ? (this.secure ? 443 : 80) : Number(url.port);
    this.origin = url.origin;
    this.servername = isIP(this.host) === 0 ? this.host : undefined;
    this.ca = options.ca;
    this.peer = options.peer;
    this.resendOnStale = options.resendOnStale;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16_384;
    this.maxBodyBytes = options.maxBodyBytes;
    this.maxDiscardBytes = options.maxDiscardBytes;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    // Timeouts fire between their ms and one tick late; one timer for the pool, none per request.
    this.tickMs = Math.min(1000, Math.max(10, Math.floor(Math.min(options.timeoutMs, this.connectTimeoutMs) / 8)));
    this.timeoutTicks = this.ticksFor(options.timeoutMs);
    this.connectTicks = this.ticksFor(this.connectTimeoutMs);
    this.idleTicks = this.ticksFor(options.idleMs ?? 30_000);
  }

  /**
   * The one buffer every plain socket of the pool reads into (net's `onread`): each read is parsed
   * at once, and the parser copies what it keeps, so one buffer serves them all. 64 KiB, as
   * Node's own reads.
   */
  readBuffer(): Buffer {
    this.buffer ??= Buffer.allocUnsafe(65_536);
    return this.buffer;
  }

  ticksFor(ms: number): number {
    return Math.max(1, Math.ceil(ms / this.tickMs));
  }

  /**
   * Sends `text` (the request's head, and its body when it is not streamed: the caller writes
   * both, header values free of CR, LF and NUL) and then `body` if given, and calls `cb` once
   * with the answer or the failure. `timeoutMs` replaces the pool's request timeout; `signal`
   * aborts the request (Aborted) wherever it is.
   */
  request(text: string, body: StreamBody | undefined, cb: Http1Callback, timeoutMs?: number, signal?: AbortSignal): void {
    if (this.closed) return cb({ code: 'Closed', message: `the client to ${this.origin} is closed`, connected: false }, undefined);
    if (signal?.aborted) return cb(aborted('aborted before it was sent', false), undefined);
    const ms = timeoutMs ?? this.options.timeoutMs;
    const req = new Request(text, body, cb, ms, timeoutMs === undefined ? this.timeoutTicks : this.ticksFor(ms), this, signal);
    this.inFlight += 1;
    if (signal) {
      req.onAbort = () => this.abort(req);
      signal.addEventListener('abort', req.onAbort, { once: true });
    }
    this.run(req);
  }

  private run(req: Request): void {
    const conn = this.idle.pop();
    if (conn) conn.start(req);
    else if (this.conns.size < this.options.connections) this.open(req);
    else this.waiting.push(req);
  }

  private open(req: Request): void {
    this.conns.add(new Conn(this, req));
    if (!this.sweeper) {
      this.sweeper = setInterval(() => this.sweep(), this.tickMs);
      this.sweeper.unref();
    }
  }

  private abort(req: Request): void {
    const conn = req.conn;
    if (conn) return conn.fail(aborted('aborted by the caller', conn.connected));
    const i = this.waiting.indexOf(req);
    if (i >= 0) this.waiting.splice(i, 1);
    req.settle(aborted('aborted by the caller before it was sent', false), undefined);
  }

  /** The socket finished a request: it takes the next waiting one, waits idle, or is closed. */
  release(conn: Conn, reusable: boolean): void {
    if (!reusable || this.destroyed) {
      conn.socket.destroy();
      return;
    }
    const next = this.waiting.shift();
    if (next) return conn.start(next);
    if (this.closed) {
      conn.socket.destroy();
      return;
    }
    conn.activity = this.tick;
    this.idle.push(conn);
  }

  /** A socket closed (its request, if any, is settled by the socket). */
  dropped(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    this.expired.delete(conn);
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.conns.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    const next = this.destroyed ? undefined : this.waiting.shift();
    if (next) this.open(next);
  }

  /** The one resend of a request whose reused socket had been closed: on a new socket, ahead of those waiting. */
  retry(req: Request): void {
    if (this.destroyed) return req.settle(aborted('the client is closed', false), undefined);
    if (this.conns.size < this.options.connections) this.open(req);
    else this.waiting.unshift(req);
  }

  /** A request settled (called by Request.settle). */
  settled(): void {
    this.inFlight -= 1;
    if (this.inFlight === 0 && this.drained) this.drained();
  }

  private sweep(): void {
    this.tick += 1;
    for (const conn of this.conns) {
      const req = conn.req;
      if (req) {
        if (!conn.connected && this.tick - conn.openedTick > this.connectTicks) {
          conn.fail({ code: 'ConnectTimeout', message: `could not connect to ${this.origin} within ${this.connectTimeoutMs / 1000} s`, connected: false });
        } else if (this.tick - conn.activity > req.timeoutTicks) {
          conn.fail(conn.failure('Timeout', `${this.peer} did not answer within ${req.timeoutMs / 1000} s (inactivity timeout)`));
        }
      } else if (this.tick - conn.activity > conn.idleTicks && !this.expired.has(conn)) {
        const i = this.idle.indexOf(conn);
        if (i >= 0) this.idle.splice(i, 1);
        this.expired.add(conn);
      }
    }
    if (this.expired.size > 0 && !this.closingExpired) this.closeExpired();
  }

  /** Closes up to IDLE_CLOSES_PER_TURN expired sockets, and the rest in the next turns. */
  private closeExpired(): void {
    this.closingExpired = false;
    let n = 0;
    for (const conn of this.expired) {
      if (n++ >= IDLE_CLOSES_PER_TURN) break;
      this.expired.delete(conn);
      conn.socket.destroy();
    }
    if (this.expired.size > 0) {
      this.closingExpired = true;
      setImmediate(this.closeExpiredNow);
    }
  }

  /** Requests in flight on a socket or waiting for one. */
  get active(): number {
    return this.inFlight;
  }

  /** Counters for metrics, after undici's PoolStats: sockets open and idle; requests waiting for a socket, on one, and both. */
  stats(): { connected: number; free: number; pending: number; queued: number; running: number; size: number } {
    let connected = 0;
    let running = 0;
    for (const c of this.conns) {
      if (c.connected && !c.socket.destroyed) connected += 1;
      if (c.req) running += 1;
    }
    const waiting = this.waiting.length;
    return { connected, free: this.idle.length, pending: waiting, queued: waiting, running, size: waiting + running };
  }

  /** Ends every request in flight or waiting as Aborted (their sockets closed). */
  abortAll(message: string): void {
    for (const req of this.waiting.splice(0)) req.settle(aborted(message, false), undefined);
    for (const c of [...this.conns]) if (c.req) c.fail(aborted(message, c.connected));
  }

  /** Refuses new requests, waits for those in flight or waiting to settle, then closes every socket. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.inFlight > 0) await new Promise<void>((resolve) => { this.drained = resolve; });
    await this.destroy();
  }

  /** Aborts what is in flight, closes every socket and resolves once they are closed. */
  async destroy(message = 'the client was closed'): Promise<void> {
    this.closed = true;
    this.destroyed = true;
    this.abortAll(message);
    const closing = [...this.conns].map((c) => new Promise<void>((resolve) => {
      if (c.socket.closed) resolve();
      else c.socket.once('close', () => resolve());
    }));
    for (const c of this.conns) c.socket.destroy();
    await Promise.all(closing);
  }
}

function aborted(message: string, connected: boolean): Http1Failure {
  return { code: 'Aborted', message, connected };
}
