import querystring from 'node:querystring';

/**
 * An application/x-www-form-urlencoded body's fields, in order, exactly as `new
 * URLSearchParams(text)` reads them (names and values decoded the same way, repeated names
 * kept), without the URLSearchParams object, its copy of the text and its iterator's entry
 * arrays (issue 14: ~1 KB of garbage per single-message POST). `pairs` alternates names and
 * values: [name0, value0, name1, value1, ...].
 */
export class UrlencodedForm implements Iterable<[string, string]> {
  constructor(readonly pairs: readonly string[]) {}

  /** Every value of `name`, in order (URLSearchParams.getAll). */
  getAll(name: string): string[] {
    const out: string[] = [];
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (p[i] === name) out.push(p[i + 1] as string);
    return out;
  }

  /** The first value of `name`, or null (URLSearchParams.get). */
  get(name: string): string | null {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) if (p[i] === name) return p[i + 1] as string;
    return null;
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    const p = this.pairs;
    for (let i = 0; i < p.length; i += 2) yield [p[i] as string, p[i + 1] as string];
  }
}

const AMP = 0x26;
const EQ = 0x3d;
const PLUS = 0x2b;
const PERCENT = 0x25;

/** String.prototype.toWellFormed (lone surrogates as U+FFFD), as URLSearchParams takes a USVString; ES2024, past this project's lib. */
const wellFormed = (s: string): string => {
  const w = s as unknown as { isWellFormed(): boolean; toWellFormed(): string };
  return w.isWellFormed() ? s : w.toWellFormed();
};

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * Parses `text` as `new URLSearchParams(text)` does in Node (lib/internal/url.js: the string
 * made well-formed, a leading `?` dropped, then its parseParams), step for step, so that every
 * input gives the same fields, including malformed ones: empty pieces between `&` skipped, a
 * piece without `=` a name with an empty value, `+` a space, and a name or value decoded with
 * `querystring.unescape` (decodeURIComponent, else Node's byte-wise unescape) only when it holds
 * a `%` followed by two hex digits (counted as Node counts them: a `+` between does not reset
 * the count), as Node does; a name or value without `%` or `+` is a slice of the text.
 * test/http/urlencoded.unit.test.ts compares the two on many inputs.
 */
export function parseUrlencoded(input: string): UrlencodedForm {
  const qs = wellFormed(input);
  if (qs === '') return new UrlencodedForm([]);
  // Fields go into one scratch list kept between calls, copied out at their exact length at the
  // end: a new list grown by push() starts at 17 slots (issue 14: ~150 bytes for a form's usual
  // two strings). (Not `length = 0` to empty it: V8 drops the slots then.)
  const out = scratch;
  let k = 0;
  let seenSep = false;
  let buf = '';
  let encoded = false;
  let encodeCheck = 0;
  let i = qs.charCodeAt(0) === 0x3f ? 1 : 0;
  let pairStart = i;
  let lastPos = i;
  const n = qs.length;
  for (; i < n; ++i) {
    const code = qs.charCodeAt(i);
    if (code === AMP) {
      if (pairStart === i) {
        lastPos = pairStart = i + 1; // an empty piece
        continue;
      }
      if (lastPos < i) buf = buf === '' ? qs.slice(lastPos, i) : buf + qs.slice(lastPos, i);
      out[k++] = encoded ? querystring.unescape(buf) : buf;
      if (!seenSep) out[k++] = '';
      seenSep = false;
      buf = '';
      encoded = false;
      encodeCheck = 0;
      lastPos = pairStart = i + 1;
      continue;
    }
    if (!seenSep && code === EQ) {
      if (lastPos < i) buf = buf === '' ? qs.slice(lastPos, i) : buf + qs.slice(lastPos, i);
      out[k++] = encoded ? querystring.unescape(buf) : buf;
      seenSep = true;
      buf = '';
      encoded = false;
      encodeCheck = 0;
      lastPos = i + 1;
      continue;
    }
    if (code === PLUS) {
      if (lastPos < i) buf += qs.slice(lastPos, i);
      buf += ' ';
      lastPos = i + 1;
    } else if (!encoded) {
      // One valid %XX is enough to decode the piece (and only then: as Node decides).
      if (code === PERCENT) encodeCheck = 1;
      else if (encodeCheck > 0) {
        if (isHex(code)) {
          if (++encodeCheck === 3) encoded = true;
        } else encodeCheck = 0;
      }
    }
  }
  if (pairStart !== i) {
    // The last piece (none after a trailing '&').
    if (lastPos < i) buf = buf === '' ? qs.slice(lastPos, i) : buf + qs.slice(lastPos, i);
    out[k++] = encoded ? querystring.unescape(buf) : buf;
    if (!seenSep) out[k++] = '';
  }
  const pairs = out.slice(0, k);
  if (out.length > 64) scratch = []; // a large form's slots are not kept
  else out.fill('', 0, k); // nor its strings
  return new UrlencodedForm(pairs);
}

let scratch: string[] = [];
