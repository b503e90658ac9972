import type { Context } from 'koa';
import basicAuth from 'basic-auth';
import type { Config } from '../config.js';
import { type CredentialSource, staticCredentials } from '../sqs/credentials.js';
import { DaemonError } from '../errors.js';
import type { AuthDeps } from './deps.js';
import type { LocalUsers, LoginResult } from './users.js';

const ACCESS_KEY_ID = /^[A-Za-z0-9]{1,128}$/;

/**
 * Who signs this request's SQS calls. Pass-through: the Basic-auth pair (user = access key
 * id, password = secret, optional X-Amz-Security-Token header). Chain: the daemon's own, after
 * the local user check (async: scrypt runs off the event loop). The secret is never put in
 * an error message.
 */
/** What the credential check needs of a request (Koa's Context has it; so has fast-send.ts's). */
export type AuthContext = Pick<Context, 'get' | 'ip'> & { state: object };

export async function credentialsFor(ctx: AuthContext, deps: { config: Pick<Config, 'credentials'>; auth: AuthDeps }): Promise<CredentialSource> {
  return credentialsNow(ctx, deps);
}

/**
 * credentialsFor without a promise when none is needed: pass-through (the default) and the
 * daemon's own credentials without local users are known at once; only a local-user check
 * (scrypt, off the loop) answers with a promise. A refusal throws. For the send route, which
 * awaits it only when it must (issue 14: a promise and an await less per message).
 */
export function credentialsNow(ctx: AuthContext, deps: { config: Pick<Config, 'credentials'>; auth: AuthDeps }): CredentialSource | Promise<CredentialSource> {
  const { config } = deps;
  const { daemonCredentials: daemon, localUsers } = deps.auth;
  if (config.credentials === 'chain' && daemon) {
    if (localUsers) return checkLocalUser(ctx, localUsers).then(() => daemon);
    return daemon;
  }
  const header = ctx.get('authorization');
  const token = ctx.get('x-amz-security-token');
  if (last.source !== undefined && sameAsLast(header, token)) return last.source;
  if (header === '') {
    throw new DaemonError('MissingCredentials', 'send AWS credentials with HTTP Basic auth: user = access key id, password = secret access key');
  }
  const parsed = basicAuth.parse(header);
  if (!parsed || parsed.name === '' || parsed.pass === '') {
    throw new DaemonError('MalformedCredentials', 'the Authorization header is not HTTP Basic with a non-empty user and password');
  }
  if (!ACCESS_KEY_ID.test(parsed.name)) {
    throw new DaemonError('MalformedCredentials', 'the Basic-auth user must be an AWS access key id (letters and digits)');
  }
  const source = staticCredentials(token ? { accessKeyId: parsed.name, secretAccessKey: parsed.pass, sessionToken: token } : { accessKeyId: parsed.name, secretAccessKey: parsed.pass });
  last = { header, token, source };
  return source;
}

/**
 * Pass-through: the last Authorization and X-Amz-Security-Token pair that parsed, and its
 * credentials. An app sends the same pair with every message; decoding and checking it again,
 * and building the frozen credentials and their key, was ~1.1 KB of garbage a message (a sixth
 * of what the send path allocates beside Node's HTTP server, issue 14). The mapping is a pure
 * function of the two strings (staticCredentials never refreshes), so one entry shared by every
 * daemon in the process is exact; it holds one secret, which the resolver's cache keys hold anyway.
 */
let last: { header: string; token: string; source: CredentialSource | undefined } = { header: '', token: '', source: undefined };

/**
 * Is this the last pair? Compared in constant time, not with `===`: the header holds a secret key
 * and `===` stops at the first differing character, so its timing would tell a local caller how
 * much of another app's header it guessed (issue 11 named such a compare a finding). Every UTF-16
 * code unit of both strings is XORed into one accumulator, with no branch on the values and no
 * early exit (the compare of `scmp` and of Node's own before crypto.timingSafeEqual); whole code
 * units, so no two different strings compare equal. Lengths may differ at once: a header's length
 * says nothing useful about the key in it. (Before, both strings were written as UTF-16 into a
 * buffer kept with the pair and compared with timingSafeEqual: a native call and two encodes per
 * request for ~50 characters, ~1.5 % of the open loop's main-thread samples, issue 14.)
 */
function sameAsLast(header: string, token: string): boolean {
  const h = last.header;
  const t = last.token;
  if (header.length !== h.length || token.length !== t.length) return false;
  let diff = 0;
  for (let i = 0; i < h.length; i++) diff |= header.charCodeAt(i) ^ h.charCodeAt(i);
  for (let i = 0; i < t.length; i++) diff |= token.charCodeAt(i) ^ t.charCodeAt(i);
  return diff === 0;
}

/** --credentials chain with --users-file: Basic auth is a local access check. */
async function checkLocalUser(ctx: AuthContext, users: LocalUsers): Promise<void> {
  const parsed = basicAuth.parse(ctx.get('authorization'));
  if (!parsed) {
    throw new DaemonError('MissingCredentials', 'this daemon signs with its own AWS credentials; log in with a local user from its --users-file');
  }
  // The same request may check twice (a guard, then its route): one scrypt, one count.
  const state = ctx.state as { login?: Promise<LoginResult> };
  state.login ??= users.login(ctx.ip, parsed.name, parsed.pass);
  const r = await state.login;
  if (r.ok) return;
  if (r.code === 'TooManyFailedLogins') throw tooManyFailedLogins(r.retryAfterS);
  if (r.code === 'LoginBusy') {
    throw new DaemonError('LoginBusy', 'too many logins being checked right now; try again');
  }
  throw new DaemonError(r.code, 'unknown local user or wrong password');
}

/** The refusal of a client throttled for failed logins (the send fast path prepares it once per wait: refusal.ts). */
export function tooManyFailedLogins(retryAfterS: number): DaemonError {
  return new DaemonError('TooManyFailedLogins', `too many failed logins from this client; try again in ${retryAfterS} s`, { retryAfterSeconds: retryAfterS });
}
