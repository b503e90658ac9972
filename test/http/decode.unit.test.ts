import { decodeUtf8Parts } from '../../src/http/body.js';
import { frameSendSliced, parseSend, parseSendSliced, type ParsedEntry, WHOLE_PARSE_CHARS } from '../../src/http/decode.js';
import { SLICE_PARENT_MIN_CHARS } from '../../src/ingest/slices.js';

const inputs = (entries: ParsedEntry[]) => entries.map((e) => ('input' in e ? e.input : e.error));

/** The DaemonError (status, code) parseSend throws for this body. */
function refusal(mime: string, text: string): { status: number; code: string; message: string } {
  try {
    parseSend(mime, text);
  } catch (err) {
    const e = err as { status: number; code: string; message: string; name: string };
    expect(e.name).toBe('DaemonError');
    return { status: e.status, code: e.code, message: e.message };
  }
  throw new Error('expected parseSend to throw');
}

describe('parseSend: form (the 2009 API)', () => {
  it('reads message_body and the optional fields, attributes as attr.<name>', () => {
    const p = parseSend('application/x-www-form-urlencoded', 'message_body=hello+w%C3%B6rld&delay_seconds=5&group_id=g1&deduplication_id=d1&attr.kind=created&attr.n=3&_csrf=tok&submit=Send');
    expect(p.batch).toBe(false);
    expect(inputs(p.entries)).toEqual([{ body: 'hello wörld', delaySeconds: '5', groupId: 'g1', deduplicationId: 'd1', attributes: { kind: 'created', n: '3' } }]);
  });
  it('accepts the SQS-style field names too', () => {
    const p = parseSend('application/x-www-form-urlencoded', 'message_body=x&message_group_id=g&message_deduplication_id=d');
    expect(inputs(p.entries)).toEqual([{ body: 'x', groupId: 'g', deduplicationId: 'd' }]);
  });
  it('keeps an empty message_body (validation rejects it) and refuses a missing one', () => {
    expect(inputs(parseSend('application/x-www-form-urlencoded', 'message_body=').entries)).toEqual([{ body: '' }]);
    expect(refusal('application/x-www-form-urlencoded', 'body=hello')).toMatchObject({ status: 400, code: 'MissingBody' });
    expect(refusal('application/x-www-form-urlencoded', '')).toMatchObject({ status: 400, code: 'MissingBody' });
  });
  it('ignores a bare "attr." field', () => {
    expect(inputs(parseSend('application/x-www-form-urlencoded', 'message_body=x&attr.=y').entries)).toEqual([{ body: 'x' }]);
  });
});

describe('parseSend: JSON', () => {
  it('reads one object with every field', () => {
    const msg = { body: 'b', attributes: { a: { DataType: 'Number', StringValue: '1' } }, delaySeconds: 3, groupId: 'g', deduplicationId: 'd' };
    const p = parseSend('application/json', JSON.stringify(msg));
    expect(p.batch).toBe(false);
    expect(inputs(p.entries)).toEqual([msg]);
  });
  it('accepts message_body as a synonym and a bare string as a message', () => {
    expect(inputs(parseSend('application/json', '{"message_body":"m"}').entries)).toEqual([{ body: 'm' }]);
    expect(inputs(parseSend('application/json', '"just text"').entries)).toEqual([{ body: 'just text' }]);
    // `body` first, message_body when body is null; the other fields read the same either way.
    expect(inputs(parseSend('application/json', '{"body":"b","message_body":"m"}').entries)).toEqual([{ body: 'b' }]);
    expect(inputs(parseSend('application/json', '{"body":null,"message_body":"m","groupId":"g"}').entries)).toEqual([{ body: 'm', groupId: 'g' }]);
    expect(inputs(parseSend('application/json', '{"groupId":"g","body":"b","awsTraceHeader":null}').entries)).toEqual([{ body: 'b', groupId: 'g', awsTraceHeader: null }]);
    expect(inputs(parseSend('application/json', '[{"__proto__":{"body":"x"}}]').entries)).toEqual([expect.objectContaining({ code: 'UnknownField' })]);
  });
  it('reads arrays and {"messages": [...]} as batches, a bad entry reported on its own', () => {
    const p = parseSend('application/json', JSON.stringify([{ body: 'a' }, 'b', 42, null, [1], { body: 'c', extra: 1 }]));
    expect(p.batch).toBe(true);
    const out = inputs(p.entries);
    expect(out[0]).toEqual({ body: 'a' });
    expect(out[1]).toEqual({ body: 'b' });
    expect(out[2]).toMatchObject({ code: 'InvalidEntry' });
    expect(out[3]).toMatchObject({ code: 'InvalidEntry' });
    expect(out[4]).toMatchObject({ code: 'InvalidEntry' });
    expect(out[5]).toMatchObject({ code: 'UnknownField' });
    expect((out[5] as { message: string }).message).toContain('"extra"');
    const wrapped = parseSend('application/json', '{"messages":[{"body":"x"},"y"]}');
    expect(wrapped.batch).toBe(true);
    expect(inputs(wrapped.entries)).toEqual([{ body: 'x' }, { body: 'y' }]);
    expect(parseSend('application/json', '[]')).toEqual({ batch: true, entries: [] });
  });
  it.each([
    ['{"body": "x"', 'MalformedJson'],
    ['', 'MalformedJson'],
    ['{body: 1}', 'MalformedJson'],
    ['null', 'InvalidEntry'],
    ['12', 'InvalidEntry'],
    ['true', 'InvalidEntry'],
    ['{"body":"x","Body":"y"}', 'UnknownField'],
    ['{"MessageBody":"x"}', 'UnknownField'],
  ])('refuses %j with 400 %s', (text, code) => {
    expect(refusal('application/json', text)).toMatchObject({ status: 400, code });
  });
  it('caps what it echoes from a huge unknown field name', () => {
    const r = refusal('application/json', JSON.stringify({ ['x'.repeat(10_000)]: 1 }));
    expect(r.message.length).toBeLessThan(300);
  });
  it('does not let __proto__ or constructor slip through as fields', () => {
    expect(refusal('application/json', '{"body":"x","__proto__":{"polluted":1}}')).toMatchObject({ code: 'UnknownField' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(refusal('application/json', '{"body":"x","constructor":1}')).toMatchObject({ code: 'UnknownField' });
  });
});

describe('parseSend: NDJSON', () => {
  it('reads one message per line, skipping blank lines, CRLF tolerated, bad lines reported with their number', () => {
    const text = '{"body":"a"}\r\n\n"b"\n{oops\n{"body":"c","delaySeconds":2}\n   \n[1]';
    const p = parseSend('application/x-ndjson', text);
    expect(p.batch).toBe(true);
    const out = inputs(p.entries);
    expect(out).toHaveLength(5);
    expect(out[0]).toEqual({ body: 'a' });
    expect(out[1]).toEqual({ body: 'b' });
    expect(out[2]).toMatchObject({ code: 'MalformedJson' });
    expect((out[2] as { message: string }).message).toContain('line 4');
    expect(out[3]).toEqual({ body: 'c', delaySeconds: 2 });
    expect(out[4]).toMatchObject({ code: 'InvalidEntry' });
  });
  it.each(['application/jsonl', 'application/jsonlines'])('accepts %s too', (mime) => {
    expect(inputs(parseSend(mime, '"x"\n"y"\n').entries)).toEqual([{ body: 'x' }, { body: 'y' }]);
  });
  it('reads application/json-seq (RFC 7464: each record starts with RS, may span lines)', () => {
    const text = '\x1e{"body":"a"}\n\x1e"b"\n\x1e{\n  "body": "c",\n  "groupId": "g"\n}\n';
    expect(inputs(parseSend('application/json-seq', text).entries)).toEqual([{ body: 'a' }, { body: 'b' }, { body: 'c', groupId: 'g' }]);
  });
  it('an empty body is an empty batch', () => {
    expect(parseSend('application/x-ndjson', '')).toEqual({ batch: true, entries: [] });
  });
});

describe('parseSend: raw bodies', () => {
  it.each(['text/plain', 'application/xml', 'application/octet-stream', ''])('%j: the body is the message, untouched', (mime) => {
    const text = '  {"not": "parsed"}\n<xml/>  ';
    expect(parseSend(mime, text)).toEqual({ batch: false, entries: [{ input: { body: text } }] });
  });
  it('refuses multipart with 415', () => {
    expect(refusal('multipart/form-data', '--x\r\n')).toMatchObject({ status: 415, code: 'UnsupportedMediaType' });
    expect(refusal('multipart/mixed', '')).toMatchObject({ status: 415 });
  });
});

describe('parseSendSliced: one JSON.parse for ordinary batches, the splitter for large ones', () => {
  const batch = (n: number, filler: number) => JSON.stringify(Array.from({ length: n }, (_, i) => (i % 7 === 3 ? `s${i},"]` : { body: `m${i} [x] {"q":"\\"${'z'.repeat(filler)}` })));

  it('finds the same entries on both sides of WHOLE_PARSE_CHARS, plain arrays and {"messages": [...]}', async () => {
    const small = batch(100, 10);
    const large = batch(3000, 100);
    expect(small.length).toBeLessThanOrEqual(WHOLE_PARSE_CHARS);
    expect(large.length).toBeGreaterThan(WHOLE_PARSE_CHARS);
    for (const text of [small, large, `{"messages": ${large}}`]) {
      const got = await parseSendSliced('application/json', text, 10_000);
      expect(got).toEqual(parseSend('application/json', text));
      expect(got.entries.length).toBe(text === small ? 100 : 3000);
    }
  });

  it('refuses more than maxEntries with TooManyEntries on both sides, and malformed JSON as MalformedJson', async () => {
    for (const text of [batch(101, 10), batch(3000, 100), `{"messages": ${batch(3000, 100)}, "other": 1}`]) {
      await expect(parseSendSliced('application/json', text, 100)).rejects.toMatchObject({ name: 'DaemonError', code: 'TooManyEntries', status: 413 });
    }
    for (const text of ['[{"body":"a"},]', `${batch(3000, 100).slice(0, -1)},]`, `[${'"x",'.repeat(70_000)}"unterminated]`]) {
      await expect(parseSendSliced('application/json', text, 100_000)).rejects.toMatchObject({ code: 'MalformedJson', status: 400 });
    }
  });
});

describe('parseSendSliced: plain {"body":...} records of a large batch (bodies kept as slices of its text)', () => {
  // Lines the shortcut takes and lines it must leave to JSON.parse: escapes, white space, other
  // fields, a raw control character (invalid JSON: that line's error), a string entry, CRLF.
  const odd = ['{"body":"a\\"b\\\\c\\u00e9"}', '{ "body":"spaced"}', '{"body":"x","groupId":"g"}', '{"body":"tab\there"}', '"just a string"', '{"body":"crlf"}\r', '{"body":""}', '{"body":"é ✓ \ud83d\ude00 €"}', '{"body":"\ud800 lone"}'];
  const lines = (n: number) => Array.from({ length: n }, (_, i) => (i % 10 === 7 ? (odd[(i / 10) % odd.length | 0] as string) : JSON.stringify({ body: `plain-${i}-${'b'.repeat(100)}` })));

  it('gives the entries JSON.parse gives, line by line, above and below SLICE_PARENT_MIN_CHARS, NDJSON and JSON arrays', async () => {
    for (const n of [200, 2000]) {
      const ls = lines(n);
      const ndjson = ls.join('\n');
      expect(ndjson.length > SLICE_PARENT_MIN_CHARS).toBe(n === 2000);
      const got = await parseSendSliced('application/x-ndjson', ndjson, 10_000);
      expect(got.entries).toEqual(parseSend('application/x-ndjson', ndjson).entries);
      expect(got.entries[7]).toMatchObject({ input: { body: 'a"b\\cé' } });
      expect(got.entries[37]).toMatchObject({ error: { code: 'MalformedJson', message: expect.stringContaining('line 38 ') } });
      const array = `[${ls.filter((l) => !l.includes('\t') && !l.endsWith('\r')).join(',')}]`;
      if (array.length > WHOLE_PARSE_CHARS) expect(await parseSendSliced('application/json', array, 10_000)).toEqual(parseSend('application/json', array));
    }
  });

  it('gives the same entries, line numbers included, for the body decoded in parts (decodeUtf8Parts), as for it in one text', async () => {
    const ls = lines(6000);
    for (const trailing of ['', '\n', '\n\n \n']) {
      // Through UTF-8 and back, as a request body comes (the lone surrogate line becomes U+FFFD).
      const text = Buffer.from(`\n${ls.join('\n')}${trailing}`).toString('utf8');
      const parts = await decodeUtf8Parts(Buffer.from(text), 0x0a);
      expect(parts.length).toBeGreaterThan(2);
      expect(parts.join('')).toBe(text);
      const got = await parseSendSliced('application/x-ndjson', parts, 10_000);
      expect(got.entries).toEqual(parseSend('application/x-ndjson', text).entries);
      // ls[37] (a raw tab: invalid JSON) is on line 39, after the leading blank line.
      expect(got.entries[37]).toMatchObject({ error: { code: 'MalformedJson', message: expect.stringContaining('line 39 ') } });
    }
    // JSON text sequences (RS before each record) the same way.
    const seq = Buffer.from(ls.filter((l) => !l.endsWith('\r')).map((l) => `\x1e${l}\n`).join('')).toString('utf8');
    const seqParts = await decodeUtf8Parts(Buffer.from(seq), 0x1e);
    expect(seqParts.length).toBeGreaterThan(2);
    expect((await parseSendSliced('application/json-seq', seqParts, 10_000)).entries).toEqual(parseSend('application/json-seq', seq).entries);
    // The entry limit counts across parts.
    await expect(parseSendSliced('application/x-ndjson', await decodeUtf8Parts(Buffer.from(ls.join('\n')), 0x0a), 5999)).rejects.toMatchObject({ code: 'TooManyEntries', status: 413 });
  });

  it('tells each framed entry\'s length (EntrySource.chars: pieces are bounded by it), NDJSON and JSON arrays', async () => {
    const ls = lines(3000).filter((l) => !l.includes('\t') && !l.endsWith('\r'));
    for (const [mime, text] of [['application/x-ndjson', ls.join('\n')], ['application/json', `[${ls.join(',')}]`]] as const) {
      const framed = await frameSendSliced(mime, await decodeUtf8Parts(Buffer.from(text), mime === 'application/json' ? 'character' : 0x0a), 10_000);
      if (!('source' in framed)) throw new Error('not framed');
      // An element a cut falls in is its own (trimmed) text; every other record is where it sits.
      expect(Array.from({ length: framed.source.count }, (_, i) => framed.source.chars?.(i))).toEqual(ls.map((l) => l.length));
    }
  });

  it('gives the same entries for a JSON array decoded in parts cut anywhere, and never joins its parts', async () => {
    const ls = lines(6000).filter((l) => !l.includes('\t') && !l.endsWith('\r'));
    // Through UTF-8 and back, as a request body comes (the lone surrogate becomes U+FFFD).
    for (const sent of [`[${ls.join(',')}]`, ` {"messages": [\n${ls.join(',\n')}\n] }\n`]) {
      const text = Buffer.from(sent).toString('utf8');
      const parts = await decodeUtf8Parts(Buffer.from(text), 'character');
      expect(parts.length).toBeGreaterThan(2);
      expect(parts.join('')).toBe(text);
      // A join of the parts would be one copy of the whole body in one turn (issue 11).
      Object.defineProperty(parts, 'join', {
        value: () => {
          throw new Error('joined');
        },
      });
      const got = await parseSendSliced('application/json', parts, 10_000);
      expect(got.entries).toEqual(parseSend('application/json', text).entries);
      expect(got.entries.length).toBe(ls.length);
    }
    // Refusals as for one text: the entry limit, broken framing, an element that is not JSON.
    const array = `[${ls.join(',')}]`;
    await expect(parseSendSliced('application/json', await decodeUtf8Parts(Buffer.from(array), 'character'), ls.length - 1)).rejects.toMatchObject({ code: 'TooManyEntries', status: 413 });
    for (const bad of [`${array.slice(0, -1)},]`, `[${ls.map((l, i) => (i === 3000 ? '{"body":x}' : l)).join(',')}]`, `[${'"x",'.repeat(70_000)}"unterminated]`]) {
      await expect(parseSendSliced('application/json', await decodeUtf8Parts(Buffer.from(bad), 'character'), 100_000)).rejects.toMatchObject({ code: 'MalformedJson', status: 400 });
    }
  });
});
