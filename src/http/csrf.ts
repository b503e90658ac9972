import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import basicAuth from 'basic-auth';
import type { Context, Next } from 'koa';
import { readHead, requestBody } from './body.js';

export { requestBody };
import { DaemonError } from '../errors.js';
import { fromBrowser } from './guards.js';

/**
 * CSRF defence for a daemon whose browser users authenticate with cached HTTP Basic
 * credentials (no session, no cookie). Reasoning and threat model: docs/ui.md.
 *
 * A state-changing request (POST, PUT, PATCH, DELETE) that comes from a browser (it carries
 * Origin, Sec-Fetch-Site or Referer: guards.ts fromBrowser) must pass both checks:
 *  1. it comes from this daemon's own origin: Sec-Fetch-Site, when sent, is `same-origin`, and
 *     Origin (or, without Origin, Referer) names the Host it was sent to;
 *  2. it carries a token that this process issued for the same Basic-auth user within
 *     `maxAgeMs`: form field `_csrf` (urlencoded forms) or header `X-CSRF-Token`.
 * Scripts (curl, SDKs) send none of those browser headers and present their credentials
 * explicitly, so they need no token.
 */

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Form field and header that carry the token. */
export const CSRF_FIELD = '_csrf';
export const CSRF_HEADER = 'x-csrf-token';

const FORM = 'application/x-www-form-urlencoded';
const VERSION = 'v1';

export interface CsrfOptions {
  /** HMAC key; default 32 random bytes made once per process, so a restart voids old tokens. */
  key?: Buffer;
  /** How long a token is accepted after it was issued. Default 12 hours (a working day with a tab left open). ms. */
  maxAgeMs?: number;
  /** Largest form body read to find the token (the send route's own limit). bytes. */
  maxRequestBytes: number;
  /**
   * Checks the request's credentials (throws 401, or 429 for throttled logins) before any of
   * its body is read: an unauthenticated body is never buffered.
   */
  authenticate?: (ctx: Context) => Promise<unknown>;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Stateless tokens: `v1.<issued, epoch seconds base 36>.<HMAC-SHA256(key, "v1\0user\0issued")>`.
 * Bound to the Basic-auth user (the access key id), so a token shown to one user is useless
 * with another's credentials; it never contains or depends on the secret.
 */
export class CsrfTokens {
  private readonly key: Buffer;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: Omit<CsrfOptions, 'maxRequestBytes'> = {}) {
    this.key = options.key ?? randomBytes(32);
    this.maxAgeMs = options.maxAgeMs ?? 12 * 3_600_000;
    this.now = options.now ?? Date.now;
  }

  issue(user: string): string {
    const issued = Math.floor(this.now() / 1000).toString(36);
    return `${VERSION}.${issued}.${this.mac(user, issued)}`;
  }

  /** 'ok', or why not: 'malformed' (not ours at all), 'expired', 'mismatch' (other key, user or forged). */
  check(token: string, user: string): 'ok' | 'malformed' | 'expired' | 'mismatch' {
    const parts = token.split('.');
    if (parts.length !== 3 || parts[0] !== VERSION || !/^[0-9a-z]{1,12}$/.test(parts[1] as string)) return 'malformed';
    const issued = parts[1] as string;
    const given = Buffer.from(parts[2] as string, 'base64url');
    const expected = Buffer.from(this.mac(user, issued), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'mismatch';
    const ageMs = this.now() - parseInt(issued, 36) * 1000;
    if (ageMs > this.maxAgeMs || ageMs < -60_000) return 'expired';
    return 'ok';
  }

  private mac(user: string, issued: string): string {
    return createHmac('sha256', this.key).update(`${VERSION}\0${user}\0${issued}`).digest('base64url');
  }
}

/** The Basic-auth user name (access key id) a request presents, or '' without one. Never the password. */
export function basicUser(ctx: Context): string {
  const header = ctx.get('authorization');
  if (header === '') return '';
  return basicAuth.parse(header)?.name ?? '';
}

interface CsrfState {
  csrfTokens?: CsrfTokens;
}

/** The token to put in this request's forms (issued for the request's Basic user). */
export function csrfToken(ctx: Context): string {
  const tokens = (ctx.state as CsrfState).csrfTokens;
  if (!tokens) throw new Error('csrfGuard is not installed in front of this route');
  return tokens.issue(basicUser(ctx));
}

function refuse(code: 'CsrfTokenMissing' | 'CsrfTokenInvalid' | 'CrossOriginRequest', message: string): DaemonError {
  // The body is not read: close the connection rather than drain whatever is left of it.
  return new DaemonError(code, message, { headers: { connection: 'close' } });
}

/** A token is 76 characters; the field name, `=` and `&` fit well within this. */
const TOKEN_HEAD_BYTES = 512;

/**
 * The token of a browser form, read from the form's first field only: the daemon's forms all
 * put `_csrf` first, and browsers send fields in document order. So at most 512 bytes of a
 * body are read before the token is checked; the rest stays in the stream for the route (which
 * applies its own limit) or, if the check fails, is never read at all.
 */
async function firstFieldToken(ctx: Context): Promise<string> {
  const { head, ended } = await readHead(ctx.req, TOKEN_HEAD_BYTES, 0x26 /* & */);
  // The whole body: kept for the route (body.ts requestBody), as nothing can be put back after the end.
  if (ended) (ctx.state as { body?: { buf: Buffer } }).body ??= { buf: head };
  const text = head.toString('latin1'); // the token is ASCII; anything else is not a token
  const amp = text.indexOf('&');
  const field = amp < 0 ? (ended ? text : '') : text.slice(0, amp);
  const prefix = `${CSRF_FIELD}=`;
  if (!field.startsWith(prefix)) return '';
  try {
    return decodeURIComponent(field.slice(prefix.length).replace(/\+/g, ' '));
  } catch {
    return ''; // malformed %-escapes: not a token
  }
}

/** Koa middleware; see the module comment. */
export function csrfGuard(options: CsrfOptions) {
  const tokens = new CsrfTokens(options);
  return async function checkCsrf(ctx: Context, next: Next): Promise<void> {
    const state = ctx.state as CsrfState;
    state.csrfTokens = tokens; // issued lazily by csrfToken(ctx), only for pages with forms
    if (!STATE_CHANGING.has(ctx.method) || !fromBrowser(ctx)) {
      await next();
      return;
    }
    checkOrigin(ctx);
    try {
      await options.authenticate?.(ctx);
    } catch (err) {
      // Refused before its body was read: close the connection rather than drain the body.
      ctx.set('connection', 'close');
      throw err;
    }
    let token = ctx.get(CSRF_HEADER);
    if (token === '' && ctx.request.type === FORM) token = await firstFieldToken(ctx);
    if (token === '') {
      throw refuse('CsrfTokenMissing', 'this browser request carries no CSRF token (as the form\'s first field, or the X-CSRF-Token header): submit the form from the daemon\'s own page (reload it and try again)');
    }
    const verdict = tokens.check(token, basicUser(ctx));
    if (verdict !== 'ok') {
      throw refuse(
        'CsrfTokenInvalid',
        verdict === 'expired'
          ? 'the form has expired: go back, reload the page and submit it again'
          : 'the CSRF token is not valid for these credentials (the daemon restarted, or the form came from elsewhere): go back, reload the page and submit it again',
      );
    }
    await next();
  };
}

/** Same-origin check from Sec-Fetch-Site, then Origin, else Referer. */
function checkOrigin(ctx: Context): void {
  const site = ctx.get('sec-fetch-site');
  if (site !== '' && site !== 'same-origin') {
    throw refuse('CrossOriginRequest', `state-changing requests from another origin are refused (Sec-Fetch-Site: ${site.slice(0, 40)}; CSRF protection)`);
  }
  const origin = ctx.get('origin');
  const source = origin !== '' ? origin : ctx.get('referer');
  if (source === '') {
    throw refuse('CrossOriginRequest', 'a browser request that names neither Origin nor Referer cannot be checked and is refused (CSRF protection)');
  }
  let host: string;
  try {
    host = source === 'null' ? '' : new URL(source).host.toLowerCase();
  } catch {
    host = '';
  }
  if (host === '' || host !== ctx.get('host').toLowerCase()) {
    throw refuse('CrossOriginRequest', `state-changing requests from another origin are refused (${origin !== '' ? 'Origin' : 'Referer'}: ${source.slice(0, 100)}; CSRF protection)`);
  }
}
