import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { BodyBudget } from './body-budget.js';

/** The client-connection bounds, from the config (see OPTIONS for their meaning). */
export type ServerLimits = Pick<Config, 'maxConnections' | 'headersTimeoutMs' | 'clientRequestTimeoutMs' | 'keepAliveTimeoutMs'> & Partial<Pick<Config, 'maxInflightBodyBytes'>>;

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
  return server;
}
