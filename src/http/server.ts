import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { BodyBudget } from './body-budget.js';

/** The client-connection bounds, from the config (see OPTIONS for their meaning). */
export type ServerLimits = Pick<Config, 'maxConnections' | 'headersTimeoutMs' | 'clientRequestTimeoutMs' | 'keepAliveTimeoutMs'> & Partial<Pick<Config, 'maxInflightBodyBytes'>>;

/** What the server holds now, read at scrape time by /metrics (Metrics.attachHttp). */
export interface HttpServerStats {
  /** Client connections being served (not counting ones refused past the bound). */
  readonly connections: number;
  /** --max-connections. */
  readonly maxConnections: number;
  /** Request-body bytes held by all requests together (0 without a budget). */
  readonly bodyBytesInFlight: number;
  /** --max-inflight-body-bytes (0 without a budget). */
  readonly maxInflightBodyBytes: number;
}

const statsOf = new WeakMap<Server, () => HttpServerStats>();

/** The live numbers of a server made by createHttpServer (undefined for any other server). */
export function httpServerStats(server: Server): (() => HttpServerStats) | undefined {
  return statsOf.get(server);
}

/** Node's own answers to a client error (node:_http_server's socketOnError), byte for byte. */
const ANSWERS: Record<string, Buffer> = {
  HPE_HEADER_OVERFLOW: Buffer.from('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n', 'ascii'),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: Buffer.from('HTTP/1.1 413 Payload Too Large\r\nConnection: close\r\n\r\n', 'ascii'),
  ERR_HTTP_REQUEST_TIMEOUT: Buffer.from('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', 'ascii'),
};
const BAD_REQUEST = Buffer.from('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', 'ascii');

/** Timed-out connections are closed at most this long at a time, ms. */
const CLOSE_SLICE_MS = 2;

const TOO_MANY = JSON.stringify({ error: { code: 'TooManyConnections', message: 'the daemon has --max-connections client connections open; retry shortly' } });

/**
 * The HTTP server with every bound a client connection has: headers and the whole request
 * within their timeouts (then Node answers 408 and closes; timeouts are checked often enough
 * that the bound holds within a fraction of itself, not Node's default 30 s later), idle
 * keep-alive connections closed, and at most `maxConnections` open. Past that a connection
 * gets a 503 TooManyConnections with `Connection: close` (a clear answer rather than a reset);
 * those refused connections are themselves bounded, and beyond that simply closed.
 */
export function createHttpServer(handler: (req: IncomingMessage, res: ServerResponse) => void, limits: ServerLimits, log: Logger): Server {
  const refused = new WeakSet<Socket>();
  // Every request's body readers take from one budget (body-budget.ts), whichever door they serve.
  const bodies = limits.maxInflightBodyBytes ? new BodyBudget(limits.maxInflightBodyBytes, log) : undefined;
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.clientRequestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(limits.headersTimeoutMs / 4))),
    },
    (req, res) => {
      if (!refused.has(req.socket)) {
        bodies?.admit(req, res);
        handler(req, res);
        return;
      }
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1', connection: 'close', 'content-length': Buffer.byteLength(TOO_MANY) });
      res.end(TOO_MANY);
    },
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  closeTimedOutInSlices(server);
  let open = 0;
  let refusing = 0;
  let full = false;
  // Before Node's own listener: decide first whether this connection is served.
  server.prependListener('connection', (socket: Socket) => {
    if (open < limits.maxConnections) {
      open += 1;
      socket.once('close', () => {
        open -= 1;
        if (full && open < limits.maxConnections) {
          full = false;
          log.info({ open, maxConnections: limits.maxConnections }, 'client connections below --max-connections again');
        }
      });
      return;
    }
    if (!full) {
      full = true;
      log.warn({ maxConnections: limits.maxConnections }, 'client connections at --max-connections; answering new ones 503 TooManyConnections');
    }
    if (refusing >= Math.max(16, Math.ceil(limits.maxConnections / 16))) {
      socket.destroy(); // even the refusals are bounded
      return;
    }
    refusing += 1;
    refused.add(socket);
    socket.setTimeout(Math.min(1000, limits.headersTimeoutMs), () => socket.destroy());
    socket.once('close', () => (refusing -= 1));
  });
  statsOf.set(server, () => ({ connections: open, maxConnections: limits.maxConnections, bodyBytesInFlight: bodies?.inFlight ?? 0, maxInflightBodyBytes: bodies?.limit ?? 0 }));
  return server;
}

/**
 * Node answers a client error (a malformed request, headers too large, a header or request
 * timeout) by writing its 400/431/413/408 and destroying the socket with the error, whose stack
 * it formats. The timeouts are found by a periodic check that handles every connection past
 * its timeout in one task: 1,000 slow-header connections opened together held the event loop
 * ~180 ms when they timed out (issue 11). Here a timed-out connection stops being read at once
 * (nothing more of it is parsed or served) and is answered 408 and closed in slices of
 * CLOSE_SLICE_MS, without an error to format; every other client error gets Node's own answer
 * at once, as before. Same bytes on the wire, same condition for writing them (no answer of
 * the connection's own has started).
 */
function closeTimedOutInSlices(server: Server): void {
  const queue: Duplex[] = [];
  let next = 0;
  let scheduled = false;
  const answer = (socket: Duplex, reply: Buffer): void => {
    const inFlight = (socket as { _httpMessage?: { _headerSent?: boolean } | null })._httpMessage;
    if (socket.writable && (!inFlight || !inFlight._headerSent)) socket.write(reply);
  };
  const drain = (): void => {
    scheduled = false;
    const started = performance.now();
    while (next < queue.length) {
      const socket = queue[next++] as Duplex;
      answer(socket, ANSWERS.ERR_HTTP_REQUEST_TIMEOUT as Buffer);
      socket.destroy();
      if (next % 16 === 0 && performance.now() - started >= CLOSE_SLICE_MS) break;
    }
    if (next < queue.length) {
      scheduled = true;
      setImmediate(drain);
    } else {
      queue.length = 0;
      next = 0;
    }
  };
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      socket.pause(); // the server stops reading it (and parsing what it sends)
      queue.push(socket);
      if (!scheduled) {
        scheduled = true;
        setImmediate(drain);
      }
      return;
    }
    answer(socket, ANSWERS[err.code ?? ''] ?? BAD_REQUEST);
    socket.destroy(err);
  });
}
