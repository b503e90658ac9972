import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureAnswer } from './app.js';
import { credentialsNow } from './auth.js';
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
    void serve(deps, log, req, res, m[1] as string, type[0], type[1], state);
  };
  return Object.assign(handler, { releaseHeld: () => tarpit.releaseAll() });
}

/** SECURITY_HEADERS as the [name, value, ...] list writeHead takes without walking an object's keys. */
const SECURITY_FLAT: readonly string[] = Object.entries(SECURITY_HEADERS).flat();
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * The answer's headers as one flat list, sized once: the security headers, the route's, then
 * content type and length (issue 14: spreading them into a new object for writeHead, which then
 * walks its keys, was a few hundred bytes of garbage per message).
 */
function headerList(headers: Record<string, string>, length: number): Array<string | number> | Record<string, string | number> {
  const names = Object.keys(headers);
  // A route header that replaces one of these (none does today): the object, where the last one wins.
  for (const name of names) if (name in SECURITY_HEADERS || name === 'content-type' || name === 'content-length') return { ...SECURITY_HEADERS, ...headers, 'content-type': JSON_TYPE, 'content-length': length };
  const n = SECURITY_FLAT.length;
  const list = new Array<string | number>(n + 2 * names.length + 4);
  for (let i = 0; i < n; i++) list[i] = SECURITY_FLAT[i] as string;
  let k = n;
  for (const name of names) {
    list[k++] = name;
    list[k++] = headers[name] as string;
  }
  list[k++] = 'content-type';
  list[k++] = JSON_TYPE;
  list[k++] = 'content-length';
  list[k] = length;
  return list;
}

/**
 * Answers every failure itself (a refusal as the route's error answer); only a bug gets to the
 * outer catch, which logs it and drops the connection: never an unhandled rejection. (One async
 * function rather than a `.catch()` on its promise: a closure and a promise less per request.)
 */
async function serve(deps: AppDeps, log: AppDeps['log'], req: IncomingMessage, res: ServerResponse, name: string, mime: string, charset: string, state: object): Promise<void> {
  try {
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
      const sent = await acceptSend(deps, { name, mime, charset, credentials: () => credentialsNow(ctx, deps), body: ctx, trace: traceFrom(header) });
      ({ status, headers, body } = sendAnswer(name, mime, sent));
    } catch (err) {
      const { error, payload } = failureAnswer(deps, err, 'POST', req.url ?? '');
      status = error.status;
      headers = errorHeaders(error);
      body = payload;
    }
    const json = JSON.stringify(body);
    if (!res.destroyed) {
      res.writeHead(status, headerList(headers, Buffer.byteLength(json)));
      res.end(json);
    }
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    deps.metrics?.observeAck(status, seconds);
    if (log.isLevelEnabled('debug')) log.debug({ method: 'POST', path: (req.url ?? '').slice(0, 200), status, ms: Math.round(seconds * 10_000) / 10, fast: true }, 'request');
  } catch (err) {
    log.error({ err: (err as Error)?.stack ?? String(err) }, 'unexpected error in the send fast path');
    if (!res.headersSent) res.destroy();
  }
}
