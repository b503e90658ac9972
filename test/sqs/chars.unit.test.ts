/**
 * scan(): SQS's allowed characters and the UTF-8 byte count in one pass, with its plain-ASCII
 * shortcut (a regex finds the first other character; the loop goes on from there). Checked
 * against the loop alone (the scan before the shortcut, kept here as the reference) and against
 * Buffer.byteLength.
 */
import { scan } from '../../src/sqs/chars.js';
import { mulberry32 } from '../support/prng.js';

/** The scan before the shortcut: every character through the loop. */
function reference(s: string): number {
  const n = s.length;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
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
    if (c < 0xe000 || c >= 0xfffe) return -(i + 1);
    bytes += 3;
  }
  return bytes;
}

describe('scan', () => {
  it('gives what the loop alone gives for every code unit, alone and after an ASCII prefix', () => {
    // One expect over the whole sweep, not one per string: 262,144 `expect` calls cost ~10 s of
    // the matcher's bookkeeping, the comparisons themselves milliseconds. Every string is still
    // compared, and a mismatch is listed with both answers.
    const mismatches: { s: string; scan: number; reference: number }[] = [];
    let compared = 0;
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      for (const s of [ch, `abc${ch}`, `abc${ch}def`, `\t${ch}\u00e9`]) {
        compared++;
        const got = scan(s);
        const want = reference(s);
        if (got !== want) mismatches.push({ s, scan: got, reference: want });
      }
    }
    expect(mismatches).toEqual([]);
    expect(compared).toBe(0x10000 * 4);
  });

  it('counts plain ASCII (tab, newline, CR, DEL included) one byte a character, and an empty string 0', () => {
    expect(scan('')).toBe(0);
    expect(scan('hello\tworld\r\n\u007f')).toBe(14);
    const long = 'x'.repeat(300_000);
    expect(scan(long)).toBe(300_000);
    expect(scan(`${long}\u00e9`)).toBe(300_002);
    expect(scan(`${long}\u0001`)).toBe(-300_001);
  });

  it('matches the loop and Buffer.byteLength on 5,000 random strings, the first non-ASCII character anywhere', () => {
    const random = mulberry32(14);
    /** An integer in [lo, hi]. */
    const int = (lo: number, hi: number): number => lo + Math.floor(random() * (hi - lo + 1));
    const pieces = ['a', ' ', '~', '\t', '\n', '\r', '\u007f', '\u0080', '\u00e9', '\u07ff', '\u0800', '\u20ac', '\ud7ff', '\ue000', '\ufffd', '\ud83d\ude00', '\u{10ffff}', '\u0000', '\u001f', '\ud800', '\udc00', '\ufffe', '\uffff'];
    for (let k = 0; k < 5000; k++) {
      const prefix = 'p'.repeat(int(0, 40));
      let s = prefix;
      const n = int(0, 30);
      for (let i = 0; i < n; i++) s += int(0, 3) === 0 ? (pieces[int(0, pieces.length - 1)] as string) : 'q';
      const r = scan(s);
      expect(r).toBe(reference(s));
      if (r >= 0) expect(r).toBe(Buffer.byteLength(s, 'utf8'));
      // Twice in a row: the shortcut's regex keeps no state from one call to the next.
      expect(scan(s)).toBe(r);
    }
  });
});
