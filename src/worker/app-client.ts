import { connect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';

/**
 * A small HTTP/1.1 client for the worker's POSTs to the local app: a bounded pool of keep-alive
 * sockets to one `http:` origin, one write per request (head and body in one string), and a
 * response parser that knows only what an app may answer. undici's client cost ~85–90 µs of CPU
 * per POST on the bench machine, more than the rest of a message's handling; see
 * docs/worker-app-client.md for what this client does and does not support.
 *
 * Never throws and never emits: every outcome, socket errors included, reaches the request's
 * callback exactly once.
 */

export interface AppAnswer {
  status: number;
  /** Response headers, names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** The body of a 2xx answer (undefined for other statuses, whose body is drained unread). */
  body: Buffer | undefined;
}

/** Why a request has no answer. `code`: AppTimeout, AppRefused, Aborted, AppBodyTooLarge, AppHeadersTooLarge, AppBadResponse, AppConnectionClosed, AppBodyMismatch, or a socket's errno code. */
export interface AppFailure {
  code: string;
  message: string;
}

export type AppCallback = (failure: AppFailure | undefined, answer: AppAnswer | undefined) => void;

/** A body streamed to the app (a payload from S3): `bytes` is its length, or -1 if unknown (then sent chunked). */
export interface StreamBody {
  stream: Readable;
  bytes: number;
}

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

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEX = /^[0-9A-Fa-f]{1,15}$/;
const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/i;

const HEAD = 0;
const LENGTH = 1;
const CHUNK_SIZE = 2;
const CHUNK_DATA = 3;
const CHUNK_END = 4;
const TRAILERS = 5;
const UNTIL_CLOSE = 6;

class Request {
  /** Some byte of the answer arrived: the POST reached the app, it must not be sent again. */
  answered = false;
  retried = false;
  constructor(readonly text: string, readonly body: StreamBody | undefined, readonly cb: AppCallback) {}
}

class Conn {
  readonly socket: Socket;
  req: Request | undefined;
  /** Requests this socket finished: a socket that served one may have been closed by the app meanwhile. */
  served = 0;
  connected = false;
  /** The pool's tick of the last activity (request start, answer bytes, or going idle). */
  activity: number;
  idleTicks: number;
  private error: (Error & { code?: string }) | undefined;
  private state = HEAD;
  private pending: Buffer | undefined;
  private status = 0;
  private headers: Record<string, string> = {};
  private keepAlive = true;
  private remaining = 0;
  private size = 0;
  private chunks: Buffer[] | undefined;
  private trailerBytes = 0;
  private bodySent = true;

  constructor(private readonly pool: AppPool, req: Request) {
    this.activity = pool.tick;
    this.idleTicks = pool.idleTicks;
    this.socket = connect({ host: pool.host, port: pool.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 });
    this.socket.on('connect', () => { this.connected = true; });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('drain', () => this.req?.body?.stream.resume());
    this.socket.on('error', (err) => { this.error ??= err; });
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onClose());
    this.start(req);
  }

  start(req: Request): void {
    this.req = req;
    this.activity = this.pool.tick;
    this.state = HEAD;
    this.status = 0;
    this.headers = {};
    this.keepAlive = true;
    this.size = 0;
    this.chunks = undefined;
    this.trailerBytes = 0;
    this.socket.write(req.text);
    this.bodySent = req.body === undefined;
    if (req.body) this.stream(req.body);
  }

  private stream(b: StreamBody): void {
    const chunked = b.bytes < 0;
    let sent = 0;
    b.stream.on('data', (c: Buffer) => {
      if (this.req?.body !== b) return;
      sent += c.length;
      this.activity = this.pool.tick;
      if (!chunked && sent > b.bytes) return this.fail({ code: 'AppBodyMismatch', message: `the payload is longer than its declared ${b.bytes} bytes` });
      const ok = chunked ? this.socket.write(`${c.length.toString(16)}\r\n`) && this.socket.write(c) && this.socket.write('\r\n') : this.socket.write(c);
      if (!ok) b.stream.pause();
    });
    b.stream.on('end', () => {
      if (this.req?.body !== b) return;
      if (!chunked && sent !== b.bytes) return this.fail({ code: 'AppBodyMismatch', message: `the payload ended after ${sent} of its declared ${b.bytes} bytes` });
      if (chunked) this.socket.write('0\r\n\r\n');
      this.bodySent = true;
    });
    b.stream.on('error', (err: Error & { code?: string }) => {
      if (this.req?.body !== b) return;
      this.fail({ code: typeof err.code === 'string' ? err.code : 'PayloadReadFailed', message: `reading the payload failed: ${err.message}` });
    });
  }

  private onData(chunk: Buffer): void {
    const req = this.req;
    if (!req) {
      this.socket.destroy(); // bytes nobody asked for: this socket cannot be trusted with the next request
      return;
    }
    req.answered = true;
    this.activity = this.pool.tick;
    if (this.pending) {
      chunk = Buffer.concat([this.pending, chunk]);
      this.pending = undefined;
    }
    let off = 0;
    const len = chunk.length;
    while (this.req === req) {
      if (this.state === HEAD) {
        const end = chunk.indexOf(CRLFCRLF, off);
        if (end < 0 || end - off > this.pool.maxHeaderBytes) {
          if (end >= 0 || len - off > this.pool.maxHeaderBytes) return this.fail({ code: 'AppHeadersTooLarge', message: `the app's answer has a head over ${this.pool.maxHeaderBytes} bytes` });
          this.pending = chunk.subarray(off);
          return;
        }
        const bad = this.parseHead(chunk.toString('latin1', off, end));
        off = end + 4;
        if (bad !== undefined) return this.fail({ code: 'AppBadResponse', message: `the app's answer is not HTTP/1.1: ${bad}` });
        if (this.state === HEAD) continue; // 1xx: the real answer follows
        if (this.state === -1) return this.finish(off < len);
      } else if (this.state === LENGTH || this.state === CHUNK_DATA) {
        if (off >= len) return;
        const take = Math.min(this.remaining, len - off);
        if (!this.body(chunk, off, off + take)) return;
        off += take;
        this.remaining -= take;
        if (this.remaining > 0) return;
        if (this.state === LENGTH) return this.finish(off < len);
        this.state = CHUNK_END;
      } else if (this.state === CHUNK_END) {
        if (len - off < 2) {
          if (off < len) this.pending = chunk.subarray(off);
          return;
        }
        if (chunk[off] !== 13 || chunk[off + 1] !== 10) return this.fail({ code: 'AppBadResponse', message: 'the app\'s answer is not HTTP/1.1: a chunk not followed by CRLF' });
        off += 2;
        this.state = CHUNK_SIZE;
      } else if (this.state === CHUNK_SIZE || this.state === TRAILERS) {
        const eol = chunk.indexOf('\r\n', off, 'latin1');
        if (eol < 0) {
          if (len - off > this.pool.maxHeaderBytes - this.trailerBytes) return this.fail({ code: 'AppHeadersTooLarge', message: `the app's answer has a chunk line or trailers over ${this.pool.maxHeaderBytes} bytes` });
          if (off < len) this.pending = chunk.subarray(off);
          return;
        }
        const line = chunk.toString('latin1', off, eol);
        off = eol + 2;
        if (this.state === TRAILERS) {
          this.trailerBytes += line.length + 2;
          if (this.trailerBytes > this.pool.maxHeaderBytes) return this.fail({ code: 'AppHeadersTooLarge', message: `the app's answer has trailers over ${this.pool.maxHeaderBytes} bytes` });
          if (line === '') return this.finish(off < len); // trailers are read and ignored
          continue;
        }
        const semi = line.indexOf(';');
        const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
        if (!HEX.test(hex)) return this.fail({ code: 'AppBadResponse', message: `the app's answer is not HTTP/1.1: chunk size ${JSON.stringify(line.slice(0, 40))}` });
        this.remaining = parseInt(hex, 16);
        this.state = this.remaining === 0 ? TRAILERS : CHUNK_DATA;
      } else {
        // UNTIL_CLOSE: the body ends when the app closes the socket.
        if (off < len) this.body(chunk, off, len);
        return;
      }
    }
  }

  /** Reads the status line and headers; sets the body's framing. Returns what is wrong, if anything. */
  private parseHead(head: string): string | undefined {
    const lines = head.split('\r\n');
    const first = lines[0] as string;
    if (!first.startsWith('HTTP/1.') || first.charCodeAt(8) !== 32 || !(first.length === 12 || first.charCodeAt(12) === 32)) return `status line ${JSON.stringify(first.slice(0, 60))}`;
    const minor = first.charCodeAt(7) - 48;
    const status = Number(first.slice(9, 12));
    if ((minor !== 0 && minor !== 1) || !Number.isInteger(status) || status < 100) return `status line ${JSON.stringify(first.slice(0, 60))}`;
    const h: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i] as string;
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!TOKEN.test(name)) return `header line ${JSON.stringify(line.slice(0, 60))}`;
      const key = name.toLowerCase();
      const value = line.slice(colon + 1).trim();
      const had = h[key];
      h[key] = had === undefined ? value : `${had}, ${value}`;
    }
    if (status < 200) {
      if (status === 101) return 'it switched protocols (101)';
      return undefined; // 100 Continue, 102, 103: skipped, the answer follows
    }
    this.status = status;
    this.headers = h;
    const connection = h.connection?.toLowerCase();
    this.keepAlive = minor === 1 ? !(connection?.includes('close') ?? false) : connection?.includes('keep-alive') ?? false;
    const hint = h['keep-alive'] === undefined ? undefined : KEEP_ALIVE_TIMEOUT.exec(h['keep-alive']);
    if (hint) this.idleTicks = Math.min(this.pool.idleTicks, this.pool.ticksFor(Number(hint[1]) * 1000 - Math.min(1000, Number(hint[1]) * 500)));
    if (status >= 200 && status < 300) this.chunks = [];
    const te = h['transfer-encoding'];
    const cl = h['content-length'];
    if (status === 204 || status === 304) {
      this.state = -1;
    } else if (te !== undefined) {
      if (cl !== undefined) this.keepAlive = false; // both framings: read by Transfer-Encoding, never reuse the socket
      if (/(^|,)\s*chunked\s*$/i.test(te)) this.state = CHUNK_SIZE;
      else {
        this.state = UNTIL_CLOSE;
        this.keepAlive = false;
      }
    } else if (cl !== undefined) {
      const parts = cl.split(',');
      const first = (parts[0] as string).trim();
      if (!/^\d{1,15}$/.test(first) || parts.some((p) => p.trim() !== first)) return `Content-Length ${JSON.stringify(cl.slice(0, 40))}`;
      this.remaining = Number(first);
      this.state = this.remaining === 0 ? -1 : LENGTH;
    } else {
      this.state = UNTIL_CLOSE;
      this.keepAlive = false;
    }
    return undefined;
  }

  /** One piece of the body; false if the request ended on it (over a bound). */
  private body(chunk: Buffer, from: number, to: number): boolean {
    this.size += to - from;
    if (this.chunks !== undefined) {
      if (this.size > this.pool.maxBodyBytes) {
        this.fail({ code: 'AppBodyTooLarge', message: `the app answered ${this.status} with a body over ${this.pool.maxBodyBytes} bytes` });
        return false;
      }
      this.chunks.push(from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to));
    } else if (this.size > this.pool.maxDiscardBytes) {
      // Not a 2xx: its status is the answer; the rest of a large body is not worth reading.
      this.keepAlive = false;
      this.finish(false);
      return false;
    }
    return true;
  }

  private finish(extraBytes: boolean): void {
    const req = this.req as Request;
    this.req = undefined;
    const chunks = this.chunks;
    const body = chunks === undefined ? undefined : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
    this.chunks = undefined;
    this.pending = undefined;
    if (!this.bodySent) req.body?.stream.destroy(); // answered before it read the whole payload
    this.served += 1;
    this.pool.release(this, this.keepAlive && this.bodySent && !extraBytes && this.state !== UNTIL_CLOSE);
    req.cb(undefined, { status: this.status, headers: this.headers, body: body ?? (chunks ? Buffer.alloc(0) : undefined) });
  }

  /** Ends the request in flight with `failure` and closes the socket. */
  fail(failure: AppFailure): void {
    const req = this.req;
    this.req = undefined;
    this.socket.destroy();
    if (!req) return;
    req.body?.stream.destroy();
    req.cb(failure, undefined);
  }

  private onEnd(): void {
    if (this.req && this.state === UNTIL_CLOSE) this.finish(false);
    this.socket.destroy();
  }

  private onClose(): void {
    this.pool.dropped(this);
    const req = this.req;
    if (!req) return;
    this.req = undefined;
    const err = this.error;
    // A reused socket the app had closed while idle: the POST never reached it, so it is sent again, once.
    if (!req.answered && this.served > 0 && !req.retried && req.body === undefined) {
      req.retried = true;
      this.pool.retry(req);
      return;
    }
    req.body?.stream.destroy();
    const code = err?.code;
    if (!this.connected) {
      req.cb(code === 'ECONNREFUSED' ? { code: 'AppRefused', message: `nothing listens at ${this.pool.origin}` } : { code: code ?? 'AppConnectionClosed', message: `could not connect to ${this.pool.origin} (${code ?? err?.message ?? 'closed'})` }, undefined);
    } else {
      req.cb({ code: 'AppConnectionClosed', message: `the app closed the connection ${req.answered ? 'in the middle of its answer' : 'before answering'}${code ? ` (${code})` : ''}` }, undefined);
    }
  }
}

export class AppPool {
  readonly host: string;
  readonly port: number;
  readonly origin: string;
  readonly maxHeaderBytes: number;
  readonly maxBodyBytes: number;
  readonly maxDiscardBytes: number;
  /** Advanced by the sweep timer: request timeouts and idle sockets are counted in ticks. */
  tick = 0;
  readonly idleTicks: number;
  private readonly tickMs: number;
  private readonly timeoutTicks: number;
  private readonly conns = new Set<Conn>();
  private readonly idle: Conn[] = [];
  private readonly waiting: Request[] = [];
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly prefix: string;

  constructor(url: URL, private readonly options: AppPoolOptions) {
    if (url.protocol !== 'http:') throw new TypeError(`AppPool speaks plain HTTP only; got ${url.protocol}`);
    this.host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
    this.port = url.port === '' ? 80 : Number(url.port);
    this.origin = url.origin;
    this.prefix = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n`;
    this.maxHeaderBytes = options.maxHeaderBytes ?? 16_384;
    this.maxBodyBytes = options.maxBodyBytes;
    this.maxDiscardBytes = options.maxDiscardBytes;
    // Timeouts fire between timeoutMs and timeoutMs + one tick late; one timer for the pool, none per request.
    this.tickMs = Math.min(1000, Math.max(10, Math.floor(options.timeoutMs / 8)));
    this.timeoutTicks = this.ticksFor(options.timeoutMs);
    this.idleTicks = this.ticksFor(options.idleMs ?? 30_000);
  }

  ticksFor(ms: number): number {
    return Math.max(1, Math.ceil(ms / this.tickMs));
  }

  /**
   * POSTs `body` with `headerLines` (each `name: value\r\n`, values free of CR, LF and NUL: the
   * caller's duty) and calls `cb` once with the answer or the failure.
   */
  post(headerLines: string, body: string | StreamBody, cb: AppCallback): void {
    if (this.closed) return cb({ code: 'Aborted', message: 'the worker\'s app client is closed' }, undefined);
    const req = typeof body === 'string'
      ? new Request(`${this.prefix}${headerLines}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, undefined, cb)
      : new Request(`${this.prefix}${headerLines}${body.bytes >= 0 ? `content-length: ${body.bytes}` : 'transfer-encoding: chunked'}\r\n\r\n`, body, cb);
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

  /** The socket finished a request: it takes the next waiting one, waits idle, or is closed. */
  release(conn: Conn, reusable: boolean): void {
    if (!reusable || this.closed) {
      conn.socket.destroy();
      return;
    }
    const next = this.waiting.shift();
    if (next) return conn.start(next);
    conn.activity = this.tick;
    this.idle.push(conn);
  }

  /** A socket closed (its request, if any, is settled by the socket). */
  dropped(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    const i = this.idle.indexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
    if (this.conns.size === 0 && this.sweeper) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
    const next = this.closed ? undefined : this.waiting.shift();
    if (next) this.open(next);
  }

  /** The one resend of a POST whose reused socket had been closed: on a new socket, ahead of those waiting. */
  retry(req: Request): void {
    if (this.closed) return req.cb({ code: 'Aborted', message: 'the worker\'s app client is closed' }, undefined);
    if (this.conns.size < this.options.connections) this.open(req);
    else this.waiting.unshift(req);
  }

  private sweep(): void {
    this.tick += 1;
    for (const conn of this.conns) {
      if (conn.req) {
        if (this.tick - conn.activity > this.timeoutTicks) conn.fail({ code: 'AppTimeout', message: `the app did not answer within ${this.options.timeoutMs / 1000} s (inactivity timeout)` });
      } else if (this.tick - conn.activity > conn.idleTicks) {
        conn.socket.destroy();
      }
    }
  }

  /** Requests in flight on a socket or waiting for one. */
  get active(): number {
    let n = this.waiting.length;
    for (const c of this.conns) if (c.req) n += 1;
    return n;
  }

  /** Ends every request in flight or waiting as Aborted (their sockets closed). */
  abortAll(): void {
    const aborted = { code: 'Aborted', message: 'aborted by the worker\'s stop' };
    for (const req of this.waiting.splice(0)) req.cb(aborted, undefined);
    for (const c of [...this.conns]) if (c.req) c.fail(aborted);
  }

  /** Aborts what is in flight, closes every socket and resolves once they are closed. */
  async destroy(): Promise<void> {
    this.closed = true;
    this.abortAll();
    const closing = [...this.conns].map((c) => new Promise<void>((resolve) => {
      if (c.socket.closed) resolve();
      else c.socket.once('close', () => resolve());
    }));
    for (const c of this.conns) c.socket.destroy();
    await Promise.all(closing);
  }
}
