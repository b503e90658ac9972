import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { CHUNKED, LENGTH, NO_BODY, parseHead, UNTIL_CLOSE } from './head.js';
import type { Http1Pool } from './pool.js';
import type { Http1Answer, Http1Callback, Http1Failure, StreamBody } from './types.js';

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1');
const HEX = /^[0-9A-Fa-f]{1,15}$/;

// Parser states beyond the framings of head.ts.
const HEAD = 0;
const CHUNK_SIZE = CHUNKED;
const CHUNK_DATA = 3;
const CHUNK_END = 4;
const TRAILERS = 5;

/** One request: its whole head (and body, if a string) as one text, and whom to tell. */
export class Request {
  /** Some byte of the answer arrived: the request reached the server, it must not be sent again. */
  answered = false;
  retried = false;
  /** The socket it is on, if any (for an abort). */
  conn: Conn | undefined;
  /** Settled: the callback was called. */
  done = false;
  onAbort: (() => void) | undefined;
  constructor(
    readonly text: string,
    readonly body: StreamBody | undefined,
    private readonly cb: Http1Callback,
    readonly timeoutMs: number,
    readonly timeoutTicks: number,
    private readonly pool: Http1Pool,
    readonly signal: AbortSignal | undefined,
  ) {}

  settle(failure: Http1Failure | undefined, answer: Http1Answer | undefined): void {
    if (this.done) return;
    this.done = true;
    this.conn = undefined;
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
    this.pool.settled();
    this.cb(failure, answer);
  }
}

/** One keep-alive socket and the parser of the answer on it. Never throws, never emits. */
export class Conn {
  readonly socket: Socket;
  req: Request | undefined;
  /** Requests this socket finished: a socket that served one may have been closed by the server meanwhile. */
  served = 0;
  connected = false;
  /** The pool's tick when the socket was opened (connect timeout). */
  readonly openedTick: number;
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
  /** The chunk onData is reading is the pool's read buffer (see keep). */
  private borrowed = false;

  constructor(private readonly pool: Http1Pool, req: Request) {
    this.activity = pool.tick;
    this.openedTick = pool.tick;
    this.idleTicks = pool.idleTicks;
    if (pool.secure) {
      this.socket = tlsConnect({ host: pool.host, port: pool.port, servername: pool.servername, ALPNProtocols: ['http/1.1'], ca: pool.ca });
      this.socket.on('secureConnect', () => { this.connected = true; });
      this.socket.setNoDelay(true);
      this.socket.setKeepAlive(true, 60_000);
    } else {
      // `onread`: each read lands in the pool's one buffer and comes straight here, past the
      // Readable machinery ('data' events, a buffer per read): a third of a small answer's cost
      // on the worker's hot path. What outlives the call is copied (pending, body pieces).
      const buffer = pool.readBuffer();
      this.socket = netConnect({ host: pool.host, port: pool.port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000, onread: { buffer, callback: (n: number): boolean => { this.onData(buffer.subarray(0, n), true); return true; } } });
      this.socket.on('connect', () => { this.connected = true; });
    }
    if (pool.secure) this.socket.on('data', (chunk: Buffer) => this.onData(chunk, false));
    this.socket.on('drain', () => this.req?.body?.stream.resume());
    this.socket.on('error', (err) => { this.error ??= err; });
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onClose());
    this.start(req);
  }

  start(req: Request): void {
    this.req = req;
    req.conn = this;
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
      if (!chunked && sent > b.bytes) return this.fail(this.failure('BodyMismatch', `the payload is longer than its declared ${b.bytes} bytes`));
      const ok = chunked ? this.socket.write(`${c.length.toString(16)}\r\n`) && this.socket.write(c) && this.socket.write('\r\n') : this.socket.write(c);
      if (!ok) b.stream.pause();
    });
    b.stream.on('end', () => {
      if (this.req?.body !== b) return;
      if (!chunked && sent !== b.bytes) return this.fail(this.failure('BodyMismatch', `the payload ended after ${sent} of its declared ${b.bytes} bytes`));
      if (chunked) this.socket.write('0\r\n\r\n');
      this.bodySent = true;
    });
    b.stream.on('error', (err: Error & { code?: string }) => {
      if (this.req?.body !== b) return;
      this.fail(this.failure(typeof err.code === 'string' ? err.code : 'PayloadReadFailed', `reading the payload failed: ${err.message}`));
    });
  }

  /** A failure of the request on this socket, told whether the connection had been made. */
  failure(code: string, message: string): Http1Failure {
    return { code, message, connected: this.connected };
  }

  /** `borrowed`: `chunk` is the pool's read buffer, overwritten by the next read; keep nothing of it uncopied. */
  private onData(chunk: Buffer, borrowed: boolean): void {
    const req = this.req;
    if (!req) {
      this.socket.destroy(); // bytes nobody asked for: this socket cannot be trusted with the next request
      return;
    }
    req.answered = true;
    this.activity = this.pool.tick;
    if (this.pending) {
      chunk = Buffer.concat([this.pending, chunk]); // a fresh copy
      this.pending = undefined;
      borrowed = false;
    }
    this.borrowed = borrowed;
    const peer = this.pool.peer;
    const maxHead = this.pool.maxHeaderBytes;
    let off = 0;
    const len = chunk.length;
    while (this.req === req) {
      if (this.state === HEAD) {
        const end = chunk.indexOf(CRLFCRLF, off);
        if (end < 0 || end - off > maxHead) {
          if (end >= 0 || len - off > maxHead) return this.fail(this.failure('HeadersTooLarge', `${peer}'s answer has a head over ${maxHead} bytes`));
          this.pending = this.keep(chunk, off, len);
          return;
        }
        const head = parseHead(chunk.toString('latin1', off, end));
        off = end + 4;
        if (typeof head === 'string') return this.fail(this.failure('BadResponse', `${peer}'s answer is not HTTP/1.1: ${head}`));
        if (head === undefined) continue; // 1xx: the real answer follows
        this.status = head.status;
        this.headers = head.headers;
        this.keepAlive = head.keepAlive;
        if (head.keepAliveMs !== undefined) this.idleTicks = Math.min(this.pool.idleTicks, this.pool.ticksFor(head.keepAliveMs - Math.min(1000, head.keepAliveMs / 2)));
        if (this.pool.maxDiscardBytes === undefined || (head.status >= 200 && head.status < 300)) this.chunks = [];
        this.remaining = head.length;
        this.state = head.framing;
        if (this.state === NO_BODY) return this.finish(off < len);
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
          if (off < len) this.pending = this.keep(chunk, off, len);
          return;
        }
        if (chunk[off] !== 13 || chunk[off + 1] !== 10) return this.fail(this.failure('BadResponse', `${peer}'s answer is not HTTP/1.1: a chunk not followed by CRLF`));
        off += 2;
        this.state = CHUNK_SIZE;
      } else if (this.state === CHUNK_SIZE || this.state === TRAILERS) {
        const eol = chunk.indexOf('\r\n', off, 'latin1');
        if (eol < 0) {
          if (len - off > maxHead - this.trailerBytes) return this.fail(this.failure('HeadersTooLarge', `${peer}'s answer has a chunk line or trailers over ${maxHead} bytes`));
          if (off < len) this.pending = this.keep(chunk, off, len);
          return;
        }
        const line = chunk.toString('latin1', off, eol);
        off = eol + 2;
        if (this.state === TRAILERS) {
          this.trailerBytes += line.length + 2;
          if (this.trailerBytes > maxHead) return this.fail(this.failure('HeadersTooLarge', `${peer}'s answer has trailers over ${maxHead} bytes`));
          if (line === '') return this.finish(off < len); // trailers are read and ignored
          continue;
        }
        const semi = line.indexOf(';');
        const hex = (semi < 0 ? line : line.slice(0, semi)).trim();
        if (!HEX.test(hex)) return this.fail(this.failure('BadResponse', `${peer}'s answer is not HTTP/1.1: chunk size ${JSON.stringify(line.slice(0, 40))}`));
        this.remaining = parseInt(hex, 16);
        this.state = this.remaining === 0 ? TRAILERS : CHUNK_DATA;
      } else {
        // UNTIL_CLOSE: the body ends when the server closes the socket.
        if (off < len) this.body(chunk, off, len);
        return;
      }
    }
  }

  /** `chunk[from, to)` to keep past this read: a copy when the chunk is the pool's read buffer. */
  private keep(chunk: Buffer, from: number, to: number): Buffer {
    if (this.borrowed) return Buffer.from(chunk.subarray(from, to));
    return from === 0 && to === chunk.length ? chunk : chunk.subarray(from, to);
  }

  /** One piece of the body; false if the request ended on it (over a bound). */
  private body(chunk: Buffer, from: number, to: number): boolean {
    this.size += to - from;
    if (this.chunks !== undefined) {
      if (this.size > this.pool.maxBodyBytes) {
        this.fail(this.failure('BodyTooLarge', `${this.pool.peer} answered ${this.status} with a body over ${this.pool.maxBodyBytes} bytes`));
        return false;
      }
      this.chunks.push(this.keep(chunk, from, to));
    } else if (this.size > (this.pool.maxDiscardBytes as number)) {
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
    const answer = { status: this.status, headers: this.headers, body: body ?? (chunks ? Buffer.alloc(0) : undefined) };
    this.pool.release(this, this.keepAlive && this.bodySent && !extraBytes && this.state !== UNTIL_CLOSE);
    req.settle(undefined, answer);
  }

  /** Ends the request in flight with `failure` and closes the socket. */
  fail(failure: Http1Failure): void {
    const req = this.req;
    this.req = undefined;
    this.socket.destroy();
    if (!req) return;
    req.body?.stream.destroy();
    req.settle(failure, undefined);
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
    // A reused socket the server had closed while idle: the request never reached it, so it is sent again, once.
    if (this.pool.resendOnStale && !req.answered && this.served > 0 && !req.retried && req.body === undefined) {
      req.retried = true;
      req.conn = undefined;
      this.pool.retry(req);
      return;
    }
    req.body?.stream.destroy();
    const code = err?.code;
    if (!this.connected) {
      req.settle({ code: code ?? 'ConnectionClosed', message: `could not connect to ${this.pool.origin} (${code ?? 'closed'})`, connected: false, ...(code ? { errno: code } : {}) }, undefined);
    } else {
      const f: Http1Failure = { code: 'ConnectionClosed', message: `${this.pool.peer} closed the connection ${req.answered ? 'in the middle of its answer' : 'before answering'}${code ? ` (${code})` : ''}`, connected: true };
      if (code) f.errno = code;
      req.settle(f, undefined);
    }
  }
}
