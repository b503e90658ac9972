import type { IncomingMessage, ServerResponse } from 'node:http';
import { failureAnswer } from './app.js';
import { type AuthContext, credentialsNow } from './auth.js';
import type { AppDeps } from './deps.js';
import { errorHeaders } from './errors.js';
import { servedHosts } from './guards.js';
import { answerPrepared, throttledLogins } from './refusal.js';
import { acceptSend, type SendAccepted, type SendAnswer, type SendRequest, sendAnswer, traceFrom } from './routes/send.js';
import type { EntryResult } from '../ingest/index.js';
import { isVerified } from '../sqs/resolver.js';
import type { CredentialSource } from '../sqs/credentials.js';
import type { TraceInput } from '../sqs/trace.js';
import type { BodyContext } from './body.js';
import { Tarpit } from './tarpit.js';
import { SECURITY_HEADERS } from './ui/layout.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Throttled-login refusals held at once (tarpit.ts); past it they are answered at once and their connections closed. */
export const MAX_HELD_REFUSALS = 256;

/** `/queues/<name>`, nothing after it: no query string (no ?wait=, ?reply=), no trailing slash, no %-escapes. */
const SEND_URL = /^\/queues\/[A-Za-z0-9_.-]{1,80}$/;
const QUEUES_PREFIX = '/queues/';

/** The content types apps send, exactly (after lower-casing and removing spaces); anything else goes through Koa. */
const TYPES = new Map<string, [mime: string, charset: string]>();
for (const mime of ['', 'application/x-www-form-urlencoded', 'application/json', 'application/x-ndjson', 'text/plain']) {
  TYPES.set(mime, [mime, '']);
  if (mime !== '') TYPES.set(`${mime};charset=utf-8`, [mime, 'utf-8']);
}

/** The TYPES entry of a Content-Type header: as sent (the usual case, no new string), else lower-cased without spaces. */
function contentType(raw: string): [mime: string, charset: string] | undefined {
  return TYPES.get(raw) ?? TYPES.get(raw.toLowerCase().replace(/\s+/g, ''));
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
    const url = req.url ?? '';
    // test(), then slice: no match array per request.
    const name = req.method === 'POST' && SEND_URL.test(url) ? url.slice(QUEUES_PREFIX.length) : undefined;
    const type = name !== undefined ? contentType(h['content-type'] ?? '') : undefined;
    if (
      name === undefined ||
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
    void serve(deps, log, res, new FastRequest(deps, req, name, type[0], type[1], state));
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
 * One fast-path request as the route takes it (SendRequest), as the body readers take it
 * (BodyContext: `req`, `state`) and as the credential check and trace reader take it (AuthContext:
 * `get`, `ip`, `state`): one object per request instead of a context, a closure for each reader
 * and the request literal (issue 14).
 */
class FastRequest implements SendRequest, AuthContext, BodyContext {
  readonly body: BodyContext = this;
  readonly trace: TraceInput | undefined;

  constructor(
    private readonly deps: AppDeps,
    readonly req: IncomingMessage,
    readonly name: string,
    readonly mime: string,
    readonly charset: string,
    readonly state: object,
  ) {
    this.trace = traceFrom(this);
  }

  /** A request header as Koa's `ctx.get` gives it: '' when absent. */
  get(name: string): string {
    const v = this.req.headers[name];
    return typeof v === 'string' ? v : '';
  }

  get ip(): string {
    return this.req.socket.remoteAddress ?? '';
  }

  credentials(): CredentialSource | Promise<CredentialSource> {
    return credentialsNow(this, this.deps);
  }
}

/**
 * The 202 of an accepted message as the flat header list writeHead takes, one per queue state,
 * made once and filled in per answer (writeHead reads the list before it returns and keeps
 * nothing of it; the route's headers, then content type and length, as headerList orders them).
 */
const ACK_HEAD: Array<string | number> = [...SECURITY_FLAT, 'x-message-id', '', 'content-type', JSON_TYPE, 'content-length', 0];
const ACK_HEAD_UNVERIFIED: Array<string | number> = [...SECURITY_FLAT, 'x-message-id', '', 'x-queue-verified', 'false', 'content-type', JSON_TYPE, 'content-length', 0];
const ACK_ID = SECURITY_FLAT.length + 1;
/** An id JSON writes as it is between its quotes. */
const PLAIN_ID = /^[A-Za-z0-9._-]*$/;

/** The result of an accepted single message without an S3 offload (whose answer says more), else undefined. */
function plainAck(sent: SendAccepted): Extract<EntryResult, { ok: true }> | undefined {
  if (sent.batch) return undefined;
  const only = sent.results[0] as EntryResult;
  return only.ok && !only.offload ? only : undefined;
}

/**
 * Answers a plainAck as sendAnswer does, byte for byte, without its header record, answer object
 * and their JSON walk: the body is `{"id":…,"queue":…}` (+ `"queueVerified":false`) in that
 * order. The name needs no escaping: the URL pattern admits only letters, digits, `_`, `.`, `-`.
 */
function writeAck(res: ServerResponse, name: string, id: string, verified: boolean): void {
  // The daemon's ids (newMessageId: base-36 digits and '-') need no escaping: quoted as they are, not through JSON.stringify.
  const quoted = PLAIN_ID.test(id) ? id : JSON.stringify(id).slice(1, -1);
  const json = `{"id":"${quoted}","queue":"${name}"${verified ? '}' : ',"queueVerified":false}'}`;
  if (res.destroyed) return;
  const head = verified ? ACK_HEAD : ACK_HEAD_UNVERIFIED;
  head[ACK_ID] = id;
  head[head.length - 1] = Buffer.byteLength(json);
  try {
    res.writeHead(202, head);
  } finally {
    head[ACK_ID] = '';
  }
  res.end(json);
}

/**
 * Answers every failure itself (a refusal as the route's error answer); only a bug gets to the
 * outer catch, which logs it and drops the connection: never an unhandled rejection. (One async
 * function rather than a `.catch()` on its promise: a closure and a promise less per request.)
 * Times with performance.now(), not hrtime.bigint(): no BigInts per request.
 */
async function serve(deps: AppDeps, log: AppDeps['log'], res: ServerResponse, r: FastRequest): Promise<void> {
  try {
    const start = performance.now();
    let ack: Extract<EntryResult, { ok: true }> | undefined;
    let verified = true;
    let answer: SendAnswer | undefined;
    try {
      const sent = await acceptSend(deps, r);
      ack = plainAck(sent);
      if (ack === undefined) answer = sendAnswer(r.name, r.mime, sent);
      else verified = isVerified(sent.dest);
    } catch (err) {
      ack = undefined;
      const { error, payload } = failureAnswer(deps, err, 'POST', r.req.url ?? '');
      answer = { status: error.status, headers: errorHeaders(error), body: payload };
    }
    let status = 202;
    if (answer === undefined) writeAck(res, r.name, (ack as { id: string }).id, verified);
    else {
      status = answer.status;
      const json = answer.json !== undefined ? await answer.json : JSON.stringify(answer.body);
      if (!res.destroyed) {
        res.writeHead(status, headerList(answer.headers, Buffer.byteLength(json)));
        res.end(json);
      }
    }
    const seconds = (performance.now() - start) / 1e3;
    deps.metrics?.observeAck(status, seconds);
    if (log.isLevelEnabled('debug')) log.debug({ method: 'POST', path: (r.req.url ?? '').slice(0, 200), status, ms: Math.round(seconds * 10_000) / 10, fast: true }, 'request');
  } catch (err) {
    log.error({ err: (err as Error)?.stack ?? String(err) }, 'unexpected error in the send fast path');
    if (!res.headersSent) res.destroy();
  }
}
