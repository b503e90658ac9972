/**
 * Character-level helpers for message validation: the one-pass scan of SQS's allowed characters
 * with UTF-8 byte counting, plain UTF-8 byte counting, ASCII character classes, and the quoting and
 * describing of values and characters in error messages.
 *
 * Hot path: the scans and predicates are single linear passes over code units (no allocation;
 * scan first asks one native regex whether the string is plain ASCII); the quoting helpers run only
 * when building an error message.
 */

export const QUOTE_MAX = 60;

/** JSON-quoted, capped at ~60 characters so a huge value is never echoed back. */
export function quote(s: string): string {
  if (s.length <= QUOTE_MAX) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, QUOTE_MAX - 3))}... (${s.length} characters)`;
}

/** Short description of a value that is not of the expected type. */
export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return `a value of type ${typeof v}`;
}

export function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * One pass over s: returns its UTF-8 byte length when every character is one SQS allows, otherwise
 * -(index + 1) for the first character it would reject.
 * Allowed: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF.
 */
export function scan(s: string): number {
  // Most bodies are tab, newline, CR and printable ASCII (DEL included), all allowed, one byte
  // each: one native regex pass finds the first other character, if any, in under half the
  // loop's time (issue 14: scan was ~7 % of a batch ingest's busy time); the loop takes over
  // from there, the characters before it counted one byte each.
  NOT_PLAIN_ASCII.lastIndex = 0;
  if (!NOT_PLAIN_ASCII.test(s)) return s.length;
  const from = NOT_PLAIN_ASCII.lastIndex - 1;
  const n = s.length;
  let bytes = from;
  for (let i = from; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        bytes += 1;
        continue;
      }
      return -(i + 1);
    }
    if (c < 0x800) {
      bytes += 2;
      continue;
    }
    if (c < 0xd800) {
      bytes += 3;
      continue;
    }
    if (c < 0xdc00) {
      // High surrogate: valid only as the first half of a pair (a code point >= U+10000, 4 bytes).
      if (i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          bytes += 4;
          i++;
          continue;
        }
      }
      return -(i + 1);
    }
    if (c < 0xe000 || c >= 0xfffe) return -(i + 1); // lone low surrogate, U+FFFE, U+FFFF
    bytes += 3;
  }
  return bytes;
}

/** A character other than #x9 #xA #xD #x20-#x7F (which are all allowed, one UTF-8 byte each); global, so `lastIndex` tells where (scan resets it). */
const NOT_PLAIN_ASCII = /[^\t\n\r\x20-\x7f]/g;

/** First character SQS would reject, or -1. Allowed: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF (lone surrogates and U+FFFE/U+FFFF are invalid). */
export function invalidCharIndex(s: string): number {
  const r = scan(s);
  return r < 0 ? -r - 1 : -1;
}

/** UTF-8 byte length, counting a lone surrogate as the 3 bytes of U+FFFD (as Buffer.byteLength does). */
export function utf8Bytes(s: string): number {
  const n = s.length;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Describes the bad character at index i of s, e.g. `U+0001 at index 5`. */
export function badChar(s: string, i: number): string {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c < 0xe000) return `a lone surrogate ${hex(c)} at index ${i}`;
  return `${hex(c)} at index ${i}`;
}

// ---------------------------------------------------------------------------------------------
// Character classes (ASCII only, so plain code-unit comparisons).

/** [A-Za-z0-9_.-]: attribute names and DataType labels. */
export function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2d // -
  );
}

/** Alphanumerics and punctuation: exactly the printable ASCII range without space, 0x21..0x7E. */
export function isIdChar(c: number): boolean {
  return c >= 0x21 && c <= 0x7e;
}

export function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

export function isBase64Char(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f
  );
}
