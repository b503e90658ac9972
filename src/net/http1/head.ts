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

/** A header name's lower-case form, or undefined if it is empty or not a token. */
function headerName(head: string, from: number, to: number): string | undefined {
  if (to <= from) return undefined;
  let upper = false;
  for (let i = from; i < to; i++) {
    const c = head.charCodeAt(i);
    if (c >= 128 || TCHAR[c] === 0) return undefined;
    if (c >= 65 && c <= 90) upper = true;
  }
  const name = head.slice(from, to);
  return upper ? name.toLowerCase() : name;
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
  const eol0 = head.indexOf('\r\n');
  const first = eol0 < 0 ? head : head.slice(0, eol0);
  if (!first.startsWith('HTTP/1.') || first.charCodeAt(8) !== 32 || !(first.length === 12 || first.charCodeAt(12) === 32)) return `status line ${JSON.stringify(first.slice(0, 60))}`;
  const minor = first.charCodeAt(7) - 48;
  const status = Number(first.slice(9, 12));
  if ((minor !== 0 && minor !== 1) || !Number.isInteger(status) || status < 100) return `status line ${JSON.stringify(first.slice(0, 60))}`;
  const h = new HeaderBag();
  // Header lines, each up to the next CRLF, walked in place (no array of lines per answer).
  for (let at = eol0 + 2; eol0 >= 0 && at <= head.length;) {
    let end = head.indexOf('\r\n', at);
    if (end < 0) end = head.length;
    const colon = head.indexOf(':', at);
    const key = colon > at && colon < end ? headerName(head, at, colon) : undefined;
    if (key === undefined) return `header line ${JSON.stringify(head.slice(at, end).slice(0, 60))}`;
    const value = head.slice(colon + 1, end).trim();
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
