import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureAnswer } from './app.js';
import { credentialsFor } from './auth.js';
import type { AppDeps } from './deps.js';
import { errorHeaders } from './errors.js';
import { servedHosts } from './guards.js';
import { answerPrepared, throttledLogins } from './refusal.js';
import { acceptSend, sendAnswer, traceFrom } from './routes/send.js';
import { Tarpit } from './tarpit.js';
import { SECURITY_HEADERS } from './ui/layout.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Throttled-login refusals held at once (tarpit.ts); past it they are answered at once and their connections closed. */
export const MAX_HELD_REFUSALS = 256;

/** `/queues/<name>`, nothing after it: no query string (no ?wait=, ?reply=), no trailing slash, no %-escapes. */
const SEND_URL = /^\/queues\/([A-Za-z0-9_.-]{1,80})$/;

/** The content types apps send, exactly (after lower-casing and removing spaces); anything else goes through Koa. */
const TYPES = new Map<string, [mime: string, charset: string]>();
for (const mime of ['', 'application/x-www-form-urlencoded', 'application/json', 'application/x-ndjson', 'text/plain']) {
  TYPES.set(mime, [mime, '']);
  if (mime !== '') TYPES.set(`${mime};charset=utf-8`, [mime, 'utf-8']);
}

/**
 * `POST /queues/:name` served straight from node:http, ahead of Koa, for the requests apps send
 * (issue 14: Koa and its six middlewares cost more per message than the whole bare node:http
 * floor). It is the same route (`acceptSend` and `sendAnswer` of routes/send.ts), with the same
 * answers, headers and errors; only requests for which each skipped middleware is known to do
 * nothing take it, every other request goes to `koa` unchanged:
 *
 * - not from a browser (no Origin, Referer, Sec-Fetch-Site): the CSRF guard passes those, and
 *   the browser's redirect (Accept: text/html) and HTML error pages stay Koa's;
 * - a Host this daemon serves (or none), as the host guard requires;
 * - no X-Amz-Target: never an SQS API call (the door claims none at /queues/ anyway);
 * - no query string, a plain queue name, and one of the usual content types.
 *
 * Security headers, the ack-latency metric and the debug access log are applied here as the
 * middlewares would.
 *
 * A client throttled for failed logins is refused from here without the route (refusal.ts),
 * after --login-refusal-delay-ms (tarpit.ts); `releaseHeld` (shutdown) answers the held ones
 * at once.
 */
export function fastSend(deps: AppDeps, koa: Handler): Handler & { releaseHeld(): void } {
  const served = servedHosts(deps.config.allowedHosts);
  const log = deps.log.child({ mod: 'http' });
  const throttled = throttledLogins(deps);
  const tarpit = new Tarpit(deps.config.loginRefusalDelayMs, MAX_HELD_REFUSALS);
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const h = req.headers;
    const m = req.method === 'POST' ? SEND_URL.exec(req.url ?? '') : null;
    const type = m ? TYPES.get((h['content-type'] ?? '').toLowerCase().replace(/\s+/g, '')) : undefined;
    if (
      !m ||
      !type ||
      h.origin !== undefined ||
      h.referer !== undefined ||
      h['sec-fetch-site'] !== undefined ||
      h['x-amz-target'] !== undefined ||
      (h.accept !== undefined && h.accept.includes('html')) ||
      (h.host !== undefined && !served(h.host))
    ) {
      koa(req, res);
      return;
    }
    const state = {};
    if (throttled) {
      const start = process.hrtime.bigint();
      const refusal = throttled(req, state);
      if (refusal) {
        const decided = process.hrtime.bigint();
        return tarpit.hold(res, (close) => answerPrepared(deps, log, req, res, refusal, start, close, process.hrtime.bigint() - decided), refusal.retryAfterMs);
      }
    }
    serve(deps, log, req, res, m[1] as string, type[0], type[1], state).catch((err: unknown) => {
      // Only a bug gets here (serve answers every failure itself): never an unhandled rejection.
      log.error({ err: (err as Error)?.stack ?? String(err) }, 'unexpected error in the send fast path');
      if (!res.headersSent) res.destroy();
    });
  };
  return Object.assign(handler, { releaseHeld: () => tarpit.releaseAll() });
}

async function serve(deps: AppDeps, log: AppDeps['log'], req: IncomingMessage, res: ServerResponse, name: string, mime: string, charset: string, state: object): Promise<void> {
  const start = process.hrtime.bigint();
  const header = (n: string): string => {
    const v = req.headers[n];
    return typeof v === 'string' ? v : '';
  };
  // What credentialsFor and the body readers use of a Koa context.
  const ctx = { req, state, ip: req.socket.remoteAddress ?? '', get: header };
  let status: number;
  let headers: Record<string, string>;
  let body: object;
  try {
    const sent = await acceptSend(deps, { name, mime, charset, credentials: () => credentialsFor(ctx, deps), body: ctx, trace: traceFrom(header) });
    ({ status, headers, body } = sendAnswer(name, mime, sent));
  } catch (err) {
    const { error, payload } = failureAnswer(deps, err, 'POST', req.url ?? '');
    status = error.status;
    headers = errorHeaders(error);
    body = payload;
  }
  const json = JSON.stringify(body);
  if (!res.destroyed) {
    res.writeHead(status, { ...SECURITY_HEADERS, ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
    res.end(json);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  deps.metrics?.observeAck(status, seconds);
  if (log.isLevelEnabled('debug')) log.debug({ method: 'POST', path: (req.url ?? '').slice(0, 200), status, ms: Math.round(seconds * 10_000) / 10, fast: true }, 'request');
}
