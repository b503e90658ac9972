import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

/** How long one slice of work may hold the event loop before it yields. ms. */
export const SLICE_MS = 2;

/**
 * Cuts a long loop into slices: `await slicer.tick()` in the loop yields to the event loop
 * (setImmediate: I/O of other requests runs) once the current slice has run `budgetMs`, so one
 * request's large batch never holds the loop for more than a few milliseconds. Checks the
 * clock only every `every` ticks: the check itself must stay cheap.
 */
export class Slicer {
  private started = performance.now();
  private n = 0;

  constructor(
    private readonly budgetMs = SLICE_MS,
    private readonly every = 64,
  ) {}

  /** Yields if this slice is used up; resolves at once (synchronously fast) otherwise. */
  tick(): Promise<void> | undefined {
    if (++this.n % this.every !== 0) return undefined;
    if (performance.now() - this.started < this.budgetMs) return undefined;
    return yieldToLoop().then(() => {
      this.started = performance.now();
    });
  }
}

/** More entries than the limit: the caller answers 413 naming it. */
export class TooManyEntries extends Error {
  override readonly name = 'TooManyEntries';
  readonly code = 'ETOOMANYENTRIES';
  constructor(readonly limit: number) {
    super(`the batch holds more than ${limit} messages (--max-batch-entries)`);
  }
}

/**
 * Calls `onRecord` for each non-empty record of `text` separated by `separator` (NDJSON: a
 * newline; JSON text sequences: RS) with its 1-based record number and where it sits
 * (`text.slice(start, end).trim()` is the record), slice by slice, without making the record's
 * string (issue 11: a 10,000-entry batch's framing made one sliced string a line, garbage at
 * once). Throws TooManyEntries as soon as there are more than `maxEntries`, before doing the rest.
 */
export function eachRecordAt(text: string, separator: string, maxEntries: number, onRecord: (recordNo: number, start: number, end: number) => void): Promise<void> {
  return eachRecordInParts([text], separator, maxEntries, (recordNo, _part, start, end) => onRecord(recordNo, start, end));
}

/**
 * eachRecordAt over a body decoded in parts (body.ts decodeUtf8Parts: every part but the last
 * ends just after a separator, so no record spans two parts): the same records with the same
 * numbers as over the parts joined, each given with the part it is in (eachRecordAt is this over
 * one part). A 32 MiB
 * batch's parts are never joined: that one copy held the loop 30-40 ms (issue 11).
 */
export async function eachRecordInParts(parts: readonly string[], separator: string, maxEntries: number, onRecord: (recordNo: number, part: number, start: number, end: number) => void): Promise<void> {
  const slicer = new Slicer();
  let recordNo = 0;
  let count = 0;
  for (let p = 0; p < parts.length; p++) {
    const text = parts[p] as string;
    const last = p === parts.length - 1;
    let start = 0;
    while (start <= text.length) {
      let end = text.indexOf(separator, start);
      if (end < 0) {
        // What follows a part's last separator is the start of the next part's first record; a
        // part is cut just after a separator, so here that is nothing.
        if (!last && start === text.length) break;
        if (!last) throw new Error(`part ${p} of a batch body does not end at a separator`);
        end = text.length;
      }
      recordNo += 1;
      if (!blank(text, start, end)) {
        if (++count > maxEntries) throw new TooManyEntries(maxEntries);
        onRecord(recordNo, p, start, end);
      }
      start = end + 1;
      const y = slicer.tick();
      if (y) await y;
    }
  }
}

/**
 * Is `text.slice(start, end).trim()` empty? Without the slice when the record starts with a
 * character that is surely not white space (a JSON record's `{` or `"`, any printable ASCII):
 * trim()'s white space is that of the spec, wider than ASCII's, so anything else asks trim().
 */
function blank(text: string, start: number, end: number): boolean {
  if (start >= end) return true;
  const c = text.charCodeAt(start);
  if (c > 0x20 && c < 0x7f) return false;
  return text.slice(start, end).trim() === '';
}

/**
 * A batch text at least this long (UTF-16 code units; a one-byte string of this many characters
 * is past V8's largest regular object, 128 KiB) is allocated in the large-object space, which a
 * young collection never copies: a body kept as a slice of it (V8 makes a SlicedString, 32 bytes,
 * for 13 characters or more) instead of its own string (~128 bytes for the bench's 110
 * characters) is 96 bytes less a held message for each young collection it survives (issue 11:
 * what a scavenge copies during a 10,000-entry batch is the batch's held messages, twice: in the
 * young generation, then promoted). A slice keeps its whole text alive: see unpinned() in
 * src/delivery/envelope.ts for what bounds that. A smaller text is a young object itself, copied
 * with its slices: no gain, so its bodies are decoded as before.
 */
export const SLICE_PARENT_MIN_CHARS = 131_072;

/** A record that is `{"body":"…"}` and nothing else, its string with no escape (sticky: tested at the record's start). */
const PLAIN_BODY = /\{"body":"[^"\\\u0000-\u001f]*"\}/y;

/**
 * Where each record of a batch body sits, four 32-bit numbers a record (start, end, record
 * number, and the part it is in of a body decoded in parts) in one typed array: a 10,000-entry
 * batch framed once costs one off-heap buffer, not 10,000 strings or objects that every young
 * collection would have to copy while the batch is recorded piece by piece.
 */
export class Frames {
  private a = new Int32Array(4 * 64);
  private n = 0;

  get count(): number {
    return this.n;
  }

  push(start: number, end: number, recordNo: number, part = 0): void {
    if (4 * this.n + 4 > this.a.length) {
      const grown = new Int32Array(this.a.length * 2);
      grown.set(this.a);
      this.a = grown;
    }
    this.a[4 * this.n] = start;
    this.a[4 * this.n + 1] = end;
    this.a[4 * this.n + 2] = recordNo;
    this.a[4 * this.n + 3] = part;
    this.n += 1;
  }

  /** The part record `i` is in (eachRecordInParts; 0 for a body in one piece). */
  partOf(i: number): number {
    return this.a[4 * i + 3] as number;
  }

  /** Record `i` (0-based) of `text`, trimmed, where eachRecordAt / eachArrayElementInParts found it. */
  record(text: string, i: number): string {
    return text.slice(this.a[4 * i] as number, this.a[4 * i + 1] as number).trim();
  }

  /**
   * Record `i`'s body when the record is exactly `{"body":"…"}` with nothing in the string to
   * unescape (no `"`, backslash or control character: JSON.parse's value is then those characters), as
   * a slice of `text`; otherwise undefined (decode it with JSON.parse). Only for a `text` of at
   * least SLICE_PARENT_MIN_CHARS: see there.
   */
  plainBody(text: string, i: number): string | undefined {
    if (text.length < SLICE_PARENT_MIN_CHARS) return undefined;
    const start = this.a[4 * i] as number;
    const end = this.a[4 * i + 1] as number;
    PLAIN_BODY.lastIndex = start;
    if (!PLAIN_BODY.test(text) || PLAIN_BODY.lastIndex !== end) return undefined;
    return text.slice(start + 9, end - 2);
  }

  /** Record `i`'s length in its text (UTF-16 code units, white space around it included). */
  chars(i: number): number {
    return (this.a[4 * i + 1] as number) - (this.a[4 * i] as number);
  }

  /** Record `i`'s 1-based record number (NDJSON: its line). */
  recordNo(i: number): number {
    return this.a[4 * i + 2] as number;
  }
}

/** Where a JSON array of messages sits in a body held as parts (body.ts decodeUtf8Parts, or one text as one part): each bracket as a part and a position in it. */
export interface PartsRegion {
  openPart: number;
  open: number;
  closePart: number;
  close: number;
}

/**
 * Where a JSON array of messages sits in a request body held as parts cut anywhere between two
 * characters, if the body is one the splitter handles: `[ ... ]`, or `{ "messages": [ ... ] }`
 * with nothing else in the object, white space around either.
 */
export function arrayRegionInParts(parts: readonly string[]): PartsRegion | undefined {
  const first = nonSpace(parts, 0, 0, 1);
  const last = nonSpace(parts, parts.length - 1, (parts[parts.length - 1]?.length ?? 0) - 1, -1);
  if (!first || !last) return undefined;
  const [fp, fi] = first;
  const [lp, li] = last;
  const head = (parts[fp] as string)[fi];
  if (head === '[') {
    if ((parts[lp] as string)[li] !== ']' || !(lp > fp || li > fi)) return undefined;
    return { openPart: fp, open: fi, closePart: lp, close: li };
  }
  if (head !== '{' || (parts[lp] as string)[li] !== '}') return undefined;
  // The object's opening, up to its `[`, read from the first 64 characters wherever they are.
  const m = /^\{\s*"messages"\s*:\s*\[/.exec(charsFrom(parts, fp, fi, 64));
  if (!m) return undefined;
  const [op, oi] = advance(parts, fp, fi, m[0].length - 1);
  const close = nonSpace(parts, lp, li - 1, -1);
  if (!close) return undefined;
  const [cp, ci] = close;
  if ((parts[cp] as string)[ci] !== ']' || !(cp > op || (cp === op && ci > oi))) return undefined;
  return { openPart: op, open: oi, closePart: cp, close: ci };
}

/** The first character that is not JSON white space at or after (`step` 1) or before (-1) part `p`'s position `i`. */
function nonSpace(parts: readonly string[], p: number, i: number, step: 1 | -1): [number, number] | undefined {
  while (p >= 0 && p < parts.length) {
    const text = parts[p] as string;
    for (; i >= 0 && i < text.length; i += step) if (!isSpace(text.charCodeAt(i))) return [p, i];
    p += step;
    i = step === 1 ? 0 : (parts[p]?.length ?? 0) - 1;
  }
  return undefined;
}

/** Up to `n` characters from part `p`'s position `i` on, across parts. */
function charsFrom(parts: readonly string[], p: number, i: number, n: number): string {
  let out = '';
  for (; p < parts.length && out.length < n; p++, i = 0) out += (parts[p] as string).slice(i, i + n - out.length);
  return out;
}

/** The part and position `n` characters after part `p`'s position `i`. */
function advance(parts: readonly string[], p: number, i: number, n: number): [number, number] {
  i += n;
  while (p < parts.length - 1 && i >= (parts[p] as string).length) i -= (parts[p++] as string).length;
  return [p, i];
}

/** A JSON array whose framing (brackets, commas, strings) does not check out. */
export class MalformedArray extends Error {
  override readonly name = 'MalformedArray';
  readonly code = 'EMALFORMEDARRAY';
}

/**
 * Calls `onElement` with the source text of each element of the JSON array between the region's
 * `[` and `]`, trimmed, and where it sits (part, and `parts[part].slice(start, end).trim()`), slice
 * by slice: the elements are found by scanning for the commas at depth 1 outside strings, and each
 * is then parsed on its own, so a 32 MiB batch never costs one long JSON.parse. Throws
 * TooManyEntries past `maxEntries`, MalformedArray when the framing is wrong (a syntax error
 * inside an element is for JSON.parse of that element).
 *
 * The body is held as parts cut anywhere between two characters (body.ts decodeUtf8Parts), never
 * joined: a 32 MiB array's join held the event loop 30-40 ms in one turn (issue 11). An element
 * that spans parts is given with part -1 and its own text (only that element's characters). A
 * string that crosses a part boundary is followed into the next part, the backslashes that end a
 * part counted for the quote that may start the next.
 */
export async function eachArrayElementInParts(
  parts: readonly string[],
  region: PartsRegion,
  maxEntries: number,
  onElement: (element: string, index: number, part: number, start: number, end: number) => void,
): Promise<void> {
  // One tick per token outside strings (a string is skipped in one indexOf), so a check every
  // 256 ticks still looks at the clock often enough.
  const slicer = new Slicer(SLICE_MS, 256);
  let depth = 0;
  let count = 0;
  // Where the current element starts: a part and a position in it.
  let sp = region.openPart;
  let s = region.open + 1;
  const emit = (ep: number, e: number, last: boolean): void => {
    const spans = sp !== ep;
    const element = (spans ? joinSpan(parts, sp, s, ep, e) : (parts[sp] as string).slice(s, e)).trim();
    if (element === '') {
      if (last && count === 0) return; // []
      throw new MalformedArray(`empty element at position ${positionOf(parts, sp, s)}`);
    }
    if (++count > maxEntries) throw new TooManyEntries(maxEntries);
    if (spans) onElement(element, count - 1, -1, 0, element.length);
    else onElement(element, count - 1, sp, s, e);
  };
  // Inside a string at a part's end: how many backslashes ended it (an odd run escapes a quote
  // that starts the next part).
  let inString = false;
  let carry = 0;
  for (let p = region.openPart; p <= region.closePart; p++) {
    const text = parts[p] as string;
    const limit = p === region.closePart ? region.close : text.length;
    let i = p === region.openPart ? region.open + 1 : 0;
    if (inString) {
      const q = stringEnd(text, i, limit, carry);
      if (q < 0) {
        carry = trailingBackslashes(text, i, limit, carry);
        continue;
      }
      inString = false;
      i = q + 1;
    }
    for (; i < limit; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        const q = stringEnd(text, i + 1, limit, 0);
        if (q < 0) {
          inString = true;
          carry = trailingBackslashes(text, i + 1, limit, 0);
          break;
        }
        i = q;
      } else if (c === 0x5b || c === 0x7b) depth++;
      else if (c === 0x5d || c === 0x7d) {
        if (--depth < 0) throw new MalformedArray(`unbalanced ${String.fromCharCode(c)} at position ${positionOf(parts, p, i)}`);
      } else if (c === 0x2c && depth === 0) {
        emit(p, i, false);
        sp = p;
        s = i + 1;
      }
      const y = slicer.tick();
      if (y) await y;
    }
    const y = slicer.tick();
    if (y) await y;
  }
  if (inString || depth !== 0) throw new MalformedArray('the array ends inside a string or an element');
  emit(region.closePart, region.close, true);
}

/** The characters from part `sp`'s position `s` to part `ep`'s position `e`, across the parts between. */
function joinSpan(parts: readonly string[], sp: number, s: number, ep: number, e: number): string {
  const pieces = [(parts[sp] as string).slice(s)];
  for (let p = sp + 1; p < ep; p++) pieces.push(parts[p] as string);
  pieces.push((parts[ep] as string).slice(0, e));
  return pieces.join('');
}

/** Part `p`'s position `i` as a position in the whole body (for error messages). */
function positionOf(parts: readonly string[], p: number, i: number): number {
  for (let k = 0; k < p; k++) i += (parts[k] as string).length;
  return i;
}

/**
 * The index of the quote that ends a JSON string whose characters in `text` start at `from`,
 * before `limit`, or -1 when it does not end there; found with indexOf (a quote preceded by an
 * odd number of backslashes is escaped), so the bodies, most of a batch's bytes, are skipped at
 * memchr speed instead of a character at a time. `carry`: backslashes just before `from` (the
 * end of the previous part), which count when only backslashes precede the quote here.
 */
function stringEnd(text: string, from: number, limit: number, carry: number): number {
  let j = from - 1;
  for (;;) {
    j = text.indexOf('"', j + 1);
    if (j < 0 || j >= limit) return -1;
    let k = j - 1;
    while (k >= from && text.charCodeAt(k) === 0x5c) k--;
    const run = j - 1 - k + (k < from ? carry : 0);
    if (run % 2 === 0) return j;
  }
}

/** How many backslashes end `text` before `limit`, counted back to `from` and on into `carry` if they reach it. */
function trailingBackslashes(text: string, from: number, limit: number, carry: number): number {
  let k = limit - 1;
  while (k >= from && text.charCodeAt(k) === 0x5c) k--;
  return limit - 1 - k + (k < from ? carry : 0);
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}
