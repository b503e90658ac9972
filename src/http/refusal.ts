import type { IncomingMessage, ServerResponse } from 'node:http';
import basicAuth from 'basic-auth';
import { tooManyFailedLogins } from './auth.js';
import type { AppDeps } from './deps.js';
import { type DaemonError, errorHeaders } from './errors.js';
import { SECURITY_HEADERS } from './ui/layout.js';
import type { LoginResult } from './users.js';

/** An answer built once: status, headers as node:http's flat [name, value, ...] list, JSON body. */
export interface PreparedAnswer {
  status: number;
  headers: string[];
  /** The same headers and `Connection: close`: the connection is not reused after this answer. */
  closeHeaders: string[];
  body: string;
  /** Its Retry-After, ms (what the tarpit holds it at most). */
  retryAfterMs: number;
}

/** Prepared TooManyFailedLogins answers, one per Retry-After value (at most the throttle window's seconds). */
const MAX_PREPARED = 256;

/**
 * The send fast path's early answer to a client throttled for failed local logins (issue 11):
 * with `--credentials chain --users-file`, a flood of wrong passwords from one client is
 * answered 429 TooManyFailedLogins (Retry-After) at the cost of a header parse, one SHA-256
 * (a password verified before still logs in, compared in constant time) and a map lookup,
 * with an answer prepared once: no promise chain, no error object, no stack capture per
 * request. The answer is the one the route gives (the same error, headers and body); the
 * decision is LocalUsers.answerAtOnce, the first steps of every login. Undefined when the
 * daemon has no local users; the function returns undefined for every request that must go
 * the usual way (no or malformed credentials, a password to check), and for a password
 * verified before it leaves that answer in `state` (what the route's credential check reads),
 * so the route does not hash it again.
 */
export function throttledLogins(deps: Pick<AppDeps, 'config' | 'auth'>): ((req: IncomingMessage, state: { login?: Promise<LoginResult> }) => PreparedAnswer | undefined) | undefined {
  const users = deps.auth.localUsers;
  if (deps.config.credentials !== 'chain' || !deps.auth.daemonCredentials || !users) return undefined;
  const prepared = new Map<number, PreparedAnswer>();
  return (req, state) => {
    const header = req.headers.authorization;
    if (header === undefined) return undefined;
    const parsed = basicAuth.parse(header);
    if (!parsed) return undefined;
    const r = users.answerAtOnce(req.socket.remoteAddress ?? '', parsed.name, parsed.pass);
    if (!r) return undefined;
    if (r.ok) {
      state.login = Promise.resolve(r);
      return undefined;
    }
    if (r.code !== 'TooManyFailedLogins') return undefined;
    let answer = prepared.get(r.retryAfterS);
    if (!answer) {
      answer = prepare(tooManyFailedLogins(r.retryAfterS), r.retryAfterS * 1000);
      if (prepared.size < MAX_PREPARED) prepared.set(r.retryAfterS, answer);
    }
    return answer;
  };
}

/** A DaemonError's answer as the send route gives it (fast-send.ts: failureAnswer's payload, errorHeaders), built once. */
function prepare(e: DaemonError, retryAfterMs: number): PreparedAnswer {
  const body = JSON.stringify({ error: { code: e.code, message: e.message } });
  const headers = Object.entries({ ...SECURITY_HEADERS, ...errorHeaders(e), 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) }).flat();
  return { status: e.status, headers, closeHeaders: [...headers, 'connection', 'close'], body, retryAfterMs };
}

/**
 * Writes a prepared answer (with `Connection: close` when `close`), counted in the ack-latency
 * metric and the debug access log as every answer of the route is. `heldNs`: how long it was
 * held (tarpit.ts) after it was decided; the metric counts the daemon's time to the answer,
 * not the hold (the log line gives both).
 */
export function answerPrepared(deps: Pick<AppDeps, 'metrics'>, log: AppDeps['log'], req: IncomingMessage, res: ServerResponse, answer: PreparedAnswer, start: bigint, close = false, heldNs = 0n): void {
  res.writeHead(answer.status, close ? answer.closeHeaders : answer.headers);
  res.end(answer.body);
  const seconds = Number(process.hrtime.bigint() - start - heldNs) / 1e9;
  deps.metrics?.observeAck(answer.status, seconds);
  if (log.isLevelEnabled('debug')) log.debug({ method: 'POST', path: (req.url ?? '').slice(0, 200), status: answer.status, ms: Math.round(seconds * 10_000) / 10, heldMs: Math.round(Number(heldNs) / 1e5) / 10, fast: true }, 'request');
}
