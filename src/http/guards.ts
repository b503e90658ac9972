import type { Context, Next } from 'koa';
import { DaemonError } from '../errors.js';

const LOCAL_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/**
 * DNS-rebinding guard: a page on evil.example that rebinds its name to 127.0.0.1 still
 * sends `Host: evil.example`. Only the daemon's own names are served. A missing Host (HTTP/1.0)
 * is accepted: no browser sends such requests.
 */
export function hostGuard(extraHosts: readonly string[]) {
  const served = servedHosts(extraHosts);
  return async function checkHost(ctx: Context, next: Next): Promise<void> {
    const host = ctx.get('host');
    if (!served(host)) {
      throw new DaemonError('HostNotAllowed', `Host ${JSON.stringify(host.slice(0, 100))} is not served here; add it with --allowed-hosts if it is really this daemon`);
    }
    await next();
  };
}

/**
 * Whether a Host header (or a URL's host) names this daemon: localhost, 127.0.0.1, [::1] or one
 * of `extraHosts` (--allowed-hosts), any port. An empty one counts (HTTP/1.0 sends none).
 */
export function servedHosts(extraHosts: readonly string[]): (host: string) => boolean {
  const allowed = new Set([...LOCAL_NAMES, ...extraHosts.map((h) => h.toLowerCase())]);
  // The last Host served, as sent: an app sends the same one with every request, so it is
  // compared, not lower-cased and sliced again (issue 14: two strings a message). The answer is
  // a pure function of the header, so one entry is always right.
  let lastServed = '';
  return (host) => {
    if (host === '' || host === lastServed) return true;
    if (!allowed.has(hostName(host))) return false;
    lastServed = host;
    return true;
  };
}

/** `LOCALHOST:9292` -> `localhost`, `[::1]:9292` -> `[::1]`. */
export function hostName(host: string): string {
  const h = host.toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end > 0 ? h.slice(0, end + 1) : h;
  }
  const colon = h.indexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** True when the request's Origin (or Referer) names this daemon's own origin. */
export function sameOrigin(ctx: Context): boolean {
  const source = ctx.get('origin') || ctx.get('referer');
  if (source === '' || source === 'null') return false;
  try {
    return new URL(source).host.toLowerCase() === ctx.get('host').toLowerCase();
  } catch {
    return false;
  }
}

/**
 * Did a browser send this? Browsers name the requesting site (Origin on every cross-origin
 * POST, Sec-Fetch-Site, Referer); scripts (curl, SDKs) send none of these. Sec-Fetch-Mode alone
 * does not count: Node's own fetch() sends `sec-fetch-mode: cors` on every request, and an app
 * server posting with fetch() is exactly the client this daemon serves.
 */
export function fromBrowser(ctx: Context): boolean {
  return ctx.get('origin') !== '' || ctx.get('sec-fetch-site') !== '' || ctx.get('referer') !== '';
}
