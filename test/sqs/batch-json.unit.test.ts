/**
 * batchRequestJson (src/sqs/batch-json.ts): the SendMessageBatch body written by hand must be
 * byte for byte what JSON.stringify gives for the same request, for every string an entry can
 * carry: quotes, backslashes, every control character, lone and paired surrogates, U+2028/2029,
 * characters of every UTF-8 length. Entries are built by the sender's own toEntry.
 */
import { createHash, hash } from 'node:crypto';
import { toEntry } from '../../src/delivery/sender.js';
import { batchRequestJson, jsonString } from '../../src/sqs/batch-json.js';
import { SQS_MAX_MESSAGE_BYTES } from '../../src/sqs/quotas.js';
import type { OutgoingMessage, SendMessageBatchRequestEntry } from '../../src/sqs/types.js';
import { makeDest, makeEnvelope } from '../support/delivery-harness.js';
import { mulberry32 as rng } from '../support/prng.js';

/** Code units JSON.stringify treats specially, and ordinary ones of each UTF-8 length. */
const SPECIAL = ['"', '\\', '/', '\u2028', '\u2029', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d\ude00', '\u007f', '\u0080', '\u00e9', '\u4e2d', '\ufeff', '\uffff', 'a', ' '];
for (let c = 0; c < 0x20; c++) SPECIAL.push(String.fromCharCode(c));

function fuzzString(r: () => number, maxLen: number): string {
  const len = Math.floor(r() * maxLen);
  let s = '';
  for (let i = 0; i < len; i++) {
    const pick = r();
    if (pick < 0.5) s += SPECIAL[Math.floor(r() * SPECIAL.length)];
    else if (pick < 0.8) s += String.fromCharCode(0x20 + Math.floor(r() * 0x5f));
    else s += String.fromCharCode(Math.floor(r() * 0x10000)); // any code unit, lone surrogates included
  }
  return s;
}

function fuzzMessage(r: () => number): Omit<OutgoingMessage, 'body'> {
  const m: Omit<OutgoingMessage, 'body'> = {};
  if (r() < 0.4) {
    const attributes: NonNullable<OutgoingMessage['attributes']> = {};
    const n = 1 + Math.floor(r() * 3);
    for (let i = 0; i < n; i++) attributes[fuzzString(r, 8) || 'k'] = r() < 0.5 ? { DataType: 'String', StringValue: fuzzString(r, 20) } : { DataType: 'Binary', BinaryValue: 'AAE=' };
    m.attributes = attributes;
  }
  if (r() < 0.3) m.delaySeconds = Math.floor(r() * 901);
  if (r() < 0.3) m.groupId = fuzzString(r, 12);
  if (r() < 0.3) m.dedupId = fuzzString(r, 12);
  if (r() < 0.2) m.traceHeader = fuzzString(r, 30);
  return m;
}

const reference = (url: string, entries: SendMessageBatchRequestEntry[]): string => JSON.stringify({ QueueUrl: url, Entries: entries });

describe('batchRequestJson', () => {
  const dest = makeDest('q.fifo');

  it('gives JSON.stringify\'s bytes for 600 fuzzed batches (bodies, attributes, ids, trace headers)', () => {
    for (let seed = 1; seed <= 600; seed++) {
      const r = rng(seed);
      const n = 1 + Math.floor(r() * 10);
      const envs = Array.from({ length: n }, () => makeEnvelope(dest, fuzzString(r, 60), { message: fuzzMessage(r) }));
      const entries = envs.map(toEntry);
      const url = seed % 7 === 0 ? fuzzString(r, 20) : dest.queueUrl;
      const got = batchRequestJson(url, entries);
      if (got !== reference(url, entries)) throw new Error(`seed ${seed}: ${JSON.stringify(got)} differs from JSON.stringify`);
      if (seed % 50 === 0) expect(JSON.parse(got)).toEqual({ QueueUrl: url, Entries: entries.map((e) => JSON.parse(JSON.stringify(e)) as unknown) });
    }
  });

  it('escapes each special code unit as JSON.stringify does: lone surrogates as \\udxxx, U+2028 left as it is', () => {
    for (const ch of SPECIAL) {
      const entries = [toEntry(makeEnvelope(dest, `a${ch}b`), 0)];
      expect(batchRequestJson('u', entries)).toBe(reference('u', entries));
    }
    const lone = batchRequestJson('u', [toEntry(makeEnvelope(dest, '\ud800x\u2028'), 0)]);
    expect(lone).toContain('"MessageBody":"\\ud800x\u2028"');
  });

  it('writes every field of a full entry in the sender\'s order, and leaves out a key set to undefined', () => {
    const attributes = { a: { DataType: 'String', StringValue: 'x' } };
    const env = makeEnvelope(dest, 'full', { message: { attributes, delaySeconds: 0, groupId: 'g', dedupId: 'dd', traceHeader: 'Root=1-2-3' } });
    expect(batchRequestJson('u', [toEntry(env, 3)])).toBe(
      '{"QueueUrl":"u","Entries":[{"Id":"3","MessageBody":"full","MessageAttributes":{"a":{"DataType":"String","StringValue":"x"}},"DelaySeconds":0,"MessageGroupId":"g","MessageDeduplicationId":"dd","MessageSystemAttributes":{"AWSTraceHeader":{"DataType":"String","StringValue":"Root=1-2-3"}}}]}',
    );
    const sparse: SendMessageBatchRequestEntry = { Id: '0', MessageBody: 'b', MessageGroupId: undefined };
    expect(batchRequestJson('u', [sparse])).toBe(reference('u', [sparse]));
    expect(batchRequestJson('u', [])).toBe('{"QueueUrl":"u","Entries":[]}');
  });
});

describe('jsonString', () => {
  it('gives JSON.stringify\'s text for every code unit, alone and between others', () => {
    // Every UTF-16 code unit once: the fast path (no escaping) and JSON.stringify's must agree on each.
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      for (const s of [ch, `ab${ch}cd`]) if (jsonString(s) !== JSON.stringify(s)) throw new Error(`U+${c.toString(16)}: ${jsonString(s)} differs from JSON.stringify`);
    }
    for (const s of ['', 'plain', '\ud83d\ude00 pair', '\u2028\u2029', 'caf\u00e9 \u4e2d', 'tab\tnewline\n', 'a"b', 'a\\b']) expect(jsonString(s)).toBe(JSON.stringify(s));
  });

  it('gives JSON.stringify\'s text for fuzzed strings', () => {
    const r = rng(7);
    for (let i = 0; i < 2000; i++) {
      const s = fuzzString(r, 40);
      if (jsonString(s) !== JSON.stringify(s)) throw new Error(`${JSON.stringify(s)}: jsonString differs`);
    }
  });
});

describe('batchRequestJson at the size limits', () => {
  const dest = makeDest('q');
  const big = (n: number, unit: string): string => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);

  it('gives JSON.stringify\'s bytes for bodies of 256 KiB and 1 MiB, plain, escaped and non-ASCII', () => {
    const bodies = [
      big(256 * 1024, 'abcdefgh'),
      big(SQS_MAX_MESSAGE_BYTES, 'x'),
      big(256 * 1024, 'a"b\\c\n\t'), // every few characters escaped: the JSON is longer than the body
      big(SQS_MAX_MESSAGE_BYTES / 4, '\ud83d\ude00'), // 4-byte characters: 1 MiB of UTF-8
      big(SQS_MAX_MESSAGE_BYTES / 3, '\u4e2d'), // 3-byte characters
      `${big(SQS_MAX_MESSAGE_BYTES - 10, 'y')}\ud800`, // a lone surrogate at the end
    ];
    for (const body of bodies) {
      const entries = [toEntry(makeEnvelope(dest, body), 0)];
      const got = batchRequestJson(dest.queueUrl, entries);
      expect(got === reference(dest.queueUrl, entries)).toBe(true);
      expect(hash('sha256', got)).toBe(hash('sha256', reference(dest.queueUrl, entries)));
    }
    // Ten entries of ~100 KiB each: a batch near SendMessageBatch's 1 MiB total.
    const entries = Array.from({ length: 10 }, (_, i) => toEntry(makeEnvelope(dest, big(100 * 1024, i % 2 === 0 ? 'z' : 'q"\u00e9')), i));
    const got = batchRequestJson(dest.queueUrl, entries);
    expect(Buffer.byteLength(got)).toBe(Buffer.byteLength(reference(dest.queueUrl, entries)));
    expect(got === reference(dest.queueUrl, entries)).toBe(true);
  });
});

describe('crypto.hash, as the sender\'s MD5 check and the signer use it', () => {
  it('gives createHash\'s hex digest for fuzzed strings (UTF-8, lone surrogates as U+FFFD)', () => {
    const r = rng(99);
    for (let i = 0; i < 300; i++) {
      const s = fuzzString(r, 80);
      expect(hash('md5', s)).toBe(createHash('md5').update(s, 'utf8').digest('hex'));
      expect(hash('sha256', s)).toBe(createHash('sha256').update(s, 'utf8').digest('hex'));
    }
  });
});
