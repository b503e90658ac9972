/**
 * The head of an HTTP/1.x answer (status line and header lines, CRLF-separated, without the
 * blank line): status, headers, whether the socket may be reused, and how the body is framed.
 */

/** How the body after the head ends. */
export const NO_BODY = -1;
export const LENGTH = 1;
export const CHUNKED = 2;
export const UNTIL_CLOSE = 6;

export interface Head {
  status: number;
  /** Names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  keepAlive: boolean;
  /** NO_BODY, LENGTH, CHUNKED or UNTIL_CLOSE. */
  framing: number;
  /** The body's length when `framing` is LENGTH. */
  length: number;
  /** The server's `Keep-Alive: timeout=N`, in ms, if it sent one. */
  keepAliveMs: number | undefined;
}

const KEEP_ALIVE_TIMEOUT = /timeout=(\d+)/i;

/** RFC 9110 token characters, by char code (below 128). */
const TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** Whether String.prototype.trim strips `c` (a latin1 code unit): TAB, LF, VT, FF, CR, space, NBSP. */
function trims(c: number): boolean {
  return (c >= 9 && c <= 13) || c === 32 || c === 0xa0;
}

/**
 * The headers' object: no prototype in its chain that a header name could hit ("constructor",
 * "__proto__", "toString" are plain keys), yet an ordinary fast object. `Object.create(null)`
 * makes a dictionary-mode object, whose hash table was the largest allocation per answer on the
 * worker's hot path (an answer per message; docs/benchmarks.md).
 */
const HeaderBag = function HeaderBag() {} as unknown as new () => Record<string, string>;
HeaderBag.prototype = Object.create(null) as object;

/**
 * Parses a head. Returns a string saying what is wrong, `undefined` for a 1xx (skipped: the
 * answer follows), or the head.
 */
export function parseHead(head: string): Head | string | undefined {
  const len = head.length;
  const eol0 = head.indexOf('\r\n');
  const firstEnd = eol0 < 0 ? len : eol0;
  // `HTTP/1.x NNN`, then the end of the line or a space (and a reason). Read in place, no slice.
  const minor = head.charCodeAt(7) - 48;
  const d0 = head.charCodeAt(9) - 48;
  const d1 = head.charCodeAt(10) - 48;
  const d2 = head.charCodeAt(11) - 48;
  if (firstEnd < 12 || !head.startsWith('HTTP/1.') || head.charCodeAt(8) !== 32 || !(firstEnd === 12 || head.charCodeAt(12) === 32) ||
      (minor !== 0 && minor !== 1) || !(d0 >= 1 && d0 <= 9) || !(d1 >= 0 && d1 <= 9) || !(d2 >= 0 && d2 <= 9)) {
    return `status line ${JSON.stringify(head.slice(0, Math.min(firstEnd, 60)))}`;
  }
  const status = d0 * 100 + d1 * 10 + d2;
  const h = new HeaderBag();
  // Header lines, each up to the next CRLF, walked in place (no array of lines per answer): the
  // name checked as a token and lower-cased in one pass up to its colon, the value's spaces
  // skipped without a trim (trim only when a tab or another character trim strips borders it).
  for (let at = eol0 + 2; eol0 >= 0 && at <= len;) {
    let colon = at;
    let upper = false;
    for (;;) {
      const c = head.charCodeAt(colon);
      if (c === 58 || !(c < 128 && TCHAR[c] === 1)) break; // NaN (the end) is no token character
      if (c >= 65 && c <= 90) upper = true;
      colon++;
    }
    if (colon === at || head.charCodeAt(colon) !== 58) {
      let end = head.indexOf('\r\n', at);
      if (end < 0) end = len;
      return `header line ${JSON.stringify(head.slice(at, end).slice(0, 60))}`;
    }
    let end = head.indexOf('\r\n', colon + 1);
    if (end < 0) end = len;
    const name = head.slice(at, colon);
    const key = upper ? name.toLowerCase() : name;
    let vs = colon + 1;
    while (vs < end && head.charCodeAt(vs) === 32) vs++;
    let ve = end;
    while (ve > vs && head.charCodeAt(ve - 1) === 32) ve--;
    const value = vs < ve && (trims(head.charCodeAt(vs)) || trims(head.charCodeAt(ve - 1))) ? head.slice(colon + 1, end).trim() : head.slice(vs, ve);
    const had = h[key];
    h[key] = had === undefined ? value : `${had}, ${value}`;
    at = end + 2;
  }
  if (status < 200) {
    if (status === 101) return 'it switched protocols (101)';
    return undefined; // 100 Continue, 102, 103: skipped, the answer follows
  }
  const connection = h.connection?.toLowerCase();
  let keepAlive = minor === 1 ? !(connection?.includes('close') ?? false) : connection?.includes('keep-alive') ?? false;
  const hint = h['keep-alive'] === undefined ? undefined : KEEP_ALIVE_TIMEOUT.exec(h['keep-alive']);
  const keepAliveMs = hint ? Number(hint[1]) * 1000 : undefined;
  const te = h['transfer-encoding'];
  const cl = h['content-length'];
  let framing: number;
  let length = 0;
  if (status === 204 || status === 304) {
    framing = NO_BODY;
  } else if (te !== undefined) {
    if (cl !== undefined) keepAlive = false; // both framings: read by Transfer-Encoding, never reuse the socket
    if (/(^|,)\s*chunked\s*$/i.test(te)) framing = CHUNKED;
    else {
      framing = UNTIL_CLOSE;
      keepAlive = false;
    }
  } else if (cl !== undefined && allDigits(cl)) {
    length = Number(cl);
    framing = length === 0 ? NO_BODY : LENGTH;
  } else if (cl !== undefined) {
    const parts = cl.split(',');
    const one = (parts[0] as string).trim();
    if (!/^\d{1,15}$/.test(one) || parts.some((p) => p.trim() !== one)) return `Content-Length ${JSON.stringify(cl.slice(0, 40))}`;
    length = Number(one);
    framing = length === 0 ? NO_BODY : LENGTH;
  } else {
    framing = UNTIL_CLOSE;
    keepAlive = false;
  }
  return { status, headers: h, keepAlive, framing, length, keepAliveMs };
}

/** 1 to 15 ASCII digits (a Content-Length read without split and regex). */
function allDigits(s: string): boolean {
  if (s.length < 1 || s.length > 15) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}
