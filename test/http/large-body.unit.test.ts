/**
 * The streaming body check of large raw bodies (src/http/large-body.ts) works on bytes, without
 * decoding to strings; it must accept and refuse exactly what a fatal TextDecoder plus SQS's
 * character rules (src/sqs/chars.ts) accept and refuse for the whole body, however the body is
 * cut into chunks. Seeded random bodies (valid text, then bytes corrupted), and the edge cases.
 */
import { BodyChecker } from '../../src/http/large-body.js';
import { invalidCharIndex } from '../../src/sqs/chars.js';
import { mulberry32 as rng } from '../support/prng.js';

/** The reference: decode whole, fatal, then SQS's character check. */
function reference(bytes: Uint8Array): 'ok' | 'InvalidEncoding' | 'InvalidCharacter' {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return 'InvalidEncoding';
  }
  return invalidCharIndex(text) >= 0 ? 'InvalidCharacter' : 'ok';
}

function streamed(bytes: Uint8Array, cuts: number[]): 'ok' | 'InvalidEncoding' | 'InvalidCharacter' {
  const c = new BodyChecker();
  try {
    let from = 0;
    for (const to of [...cuts, bytes.length]) {
      c.check(bytes.subarray(from, to));
      from = to;
    }
    c.end();
    return 'ok';
  } catch (err) {
    return (err as { code: 'InvalidEncoding' | 'InvalidCharacter' }).code;
  }
}

const SAMPLES = ['a', '\t', '\n', '\r', ' ', '~', '\u007f', 'é', 'ß', '\u0800', '\ud7ff', '\ue000', '\ufeff', '\ufffd', '€', '𝄞', '\u{10ffff}', '\u0001', '\ufffe', '\uffff'];

test('edge cases: overlong, surrogates, past U+10FFFF, truncated, U+FFFE/U+FFFF, control characters', () => {
  const cases: Array<[number[], string]> = [
    [[0x41], 'ok'],
    [[0xc0, 0x80], 'InvalidEncoding'], // overlong NUL
    [[0xe0, 0x80, 0x80], 'InvalidEncoding'], // overlong
    [[0xf0, 0x80, 0x80, 0x80], 'InvalidEncoding'], // overlong
    [[0xed, 0xa0, 0x80], 'InvalidEncoding'], // U+D800 encoded
    [[0xf4, 0x90, 0x80, 0x80], 'InvalidEncoding'], // U+110000
    [[0xf8, 0x88, 0x80, 0x80, 0x80], 'InvalidEncoding'],
    [[0xe2, 0x82], 'InvalidEncoding'], // truncated at the end
    [[0x80], 'InvalidEncoding'],
    [[0xef, 0xbf, 0xbe], 'InvalidCharacter'], // U+FFFE
    [[0xef, 0xbf, 0xbf], 'InvalidCharacter'], // U+FFFF
    [[0x00], 'InvalidCharacter'],
    [[0x1f], 'InvalidCharacter'],
    [[0xef, 0xbb, 0xbf, 0x41], 'ok'], // a BOM is a character like any other
  ];
  for (const [bytes, want] of cases) {
    const b = Uint8Array.from(bytes);
    expect({ bytes, ref: reference(b) }).toEqual({ bytes, ref: want });
    for (let cut = 0; cut <= b.length; cut++) expect({ bytes, cut, got: streamed(b, [cut]) }).toEqual({ bytes, cut, got: want });
  }
});

test('2,000 seeded random bodies, cut at random places, are accepted or refused as the whole-body check decides', () => {
  const next = rng(16);
  const verdicts = { ok: 0, InvalidEncoding: 0, InvalidCharacter: 0 };
  for (let n = 0; n < 2000; n++) {
    let text = '';
    const len = 1 + Math.floor(next() * 40);
    for (let i = 0; i < len; i++) text += next() < 0.9 ? (SAMPLES[Math.floor(next() * 17)] as string) : (SAMPLES[Math.floor(next() * SAMPLES.length)] as string);
    const bytes = Buffer.from(text, 'utf8');
    if (next() < 0.4) bytes[Math.floor(next() * bytes.length)] = Math.floor(next() * 256); // corrupt one byte
    const cuts = [...new Set(Array.from({ length: Math.floor(next() * 4) }, () => Math.floor(next() * (bytes.length + 1))))].sort((a, b) => a - b);
    const want = reference(bytes);
    verdicts[want] += 1;
    const got = streamed(bytes, cuts);
    // The streaming check stops at the first problem in byte order: a character SQS refuses before a
    // broken sequence is reported as such; the whole-body reference reports the encoding first.
    const same = got === want || (want === 'InvalidEncoding' && got === 'InvalidCharacter');
    expect({ n, hex: bytes.toString('hex'), cuts, want, got, same }).toEqual({ n, hex: bytes.toString('hex'), cuts, want, got, same: true });
  }
  // The sample reaches every verdict often enough to mean something.
  expect(Math.min(verdicts.ok, verdicts.InvalidEncoding, verdicts.InvalidCharacter)).toBeGreaterThan(100);
});
