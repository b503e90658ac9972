/**
 * The sliced splitters behind large batches (issue 11, item 2): a 100,000-line NDJSON request
 * stalled every other client for 0.5 s. They must find the same entries JSON.parse would, stop
 * at the entry limit before doing the rest, and let the event loop turn while they work.
 */
import { performance } from 'node:perf_hooks';
import { arrayRegionInParts, eachArrayElementInParts, eachRecordAt, eachRecordInParts, Frames, type PartsRegion, SLICE_PARENT_MIN_CHARS } from '../../src/ingest/slices.js';

/** The splitter over one text (a body in one part). */
const arrayRegion = (text: string): PartsRegion | undefined => arrayRegionInParts([text]);
const eachArrayElement = (text: string, region: PartsRegion, max: number, on: (element: string) => void) => eachArrayElementInParts([text], region, max, (element) => on(element));

/** Each record's trimmed text and number, from where eachRecordAt says it sits. */
const eachRecord = (text: string, sep: string, max: number, on: (record: string, recordNo: number) => void) =>
  eachRecordAt(text, sep, max, (n, start, end) => on(text.slice(start, end).trim(), n));

async function elements(text: string, max = 1000): Promise<unknown[]> {
  const region = arrayRegion(text);
  if (!region) throw new Error('no region');
  const out: unknown[] = [];
  await eachArrayElement(text, region, max, (e) => out.push(JSON.parse(e)));
  return out;
}

it('splits a JSON array as JSON.parse would, strings with commas, brackets and escapes included', async () => {
  const value = [{ body: 'a,b' }, 'x]y', { body: '{"nested":[1,2]}', attributes: { k: { DataType: 'String', StringValue: 'q\\"",[' } } }, [1, [2, 3]], 'é\u2028', 7, null, 'ends in a backslash \\', '\\\\",\\', { body: '\\' }];
  expect(await elements(JSON.stringify(value))).toEqual(value);
  expect(await elements(` \n${JSON.stringify(value, null, 2)}\n `)).toEqual(value);
  expect(await elements(JSON.stringify({ messages: value }))).toEqual(value);
  expect(await elements('[]')).toEqual([]);
  expect(arrayRegion('{"messages": [1], "other": 2}')).toBeUndefined();
  expect(arrayRegion('{"body": "x"}')).toBeUndefined();
  expect(arrayRegion('[1, 2')).toBeUndefined();
});

it('refuses broken framing and stops at the entry limit before the rest', async () => {
  for (const bad of ['[1,,2]', '[1,]', '[1,"x]', '[1,{]', '[1,}]']) {
    await expect(elements(bad)).rejects.toMatchObject({ code: 'EMALFORMEDARRAY' });
  }
  let seen = 0;
  const big = `[${Array.from({ length: 100_000 }, () => '{"body":"x"}').join(',')}]`;
  await expect(eachArrayElement(big, arrayRegion(big)!, 10, () => (seen += 1))).rejects.toMatchObject({ code: 'ETOOMANYENTRIES', limit: 10 });
  expect(seen).toBe(10);
  seen = 0;
  const lines = Array.from({ length: 100_000 }, () => 'x').join('\n');
  await expect(eachRecord(lines, '\n', 25, () => (seen += 1))).rejects.toMatchObject({ code: 'ETOOMANYENTRIES' });
  expect(seen).toBe(25);
});

it('numbers NDJSON records by line, empty lines skipped', async () => {
  const got: Array<[string, number]> = [];
  await eachRecord('a\n\n b \r\n\nc', '\n', 10, (r, n) => got.push([r, n]));
  expect(got).toEqual([['a', 1], ['b', 3], ['c', 5]]);
  // White space beyond ASCII's (trim()'s): a line of it is empty, around a record it is trimmed.
  const wide: Array<[string, number]> = [];
  await eachRecord('\u00a0\n\ufeff \u2028\n\u00a0{"x":1}\u3000\n\t\n{', '\n', 10, (r, n) => wide.push([r, n]));
  expect(wide).toEqual([['{"x":1}', 3], ['{', 5]]);
  const at: Array<[number, number, number]> = [];
  await eachRecordAt(' a\n\u00a0\nb', '\n', 10, (n, start, end) => at.push([n, start, end]));
  expect(at).toEqual([[1, 0, 2], [3, 5, 6]]);
});

it('lets the event loop turn while it splits a large batch', async () => {
  // Each entry's callback holds the loop 10 µs of wall time, so a split takes ~100 ms however fast
  // the machine is (counting turns of a split of cheap entries depended on the machine's speed:
  // a fast one finished 200,000 entries in under four 2 ms slices).
  const busy = () => {
    const until = performance.now() + 0.01;
    while (performance.now() < until);
  };
  const text = `[${Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ body: `message ${i}, with [brackets] and "quotes"` })).join(',')}]`;
  const lines = Array.from({ length: 10_000 }, (_, i) => JSON.stringify({ body: `line ${i}` })).join('\n');
  for (const run of [() => eachArrayElement(text, arrayRegion(text)!, 1_000_000, busy), () => eachRecord(lines, '\n', 1_000_000, busy)]) {
    let turns = 0;
    let longest = 0;
    let last = performance.now();
    let stop = false;
    const spin = () => {
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
      turns += 1;
      if (!stop) setImmediate(spin);
    };
    setImmediate(spin);
    await run();
    stop = true;
    // A synchronous split would finish before the first turn; a sliced one turns every few ms.
    expect(turns).toBeGreaterThan(10);
    // Its slices: 2 ms and the entries until the clock is read (every 64 or 256, 0.6-2.6 ms here),
    // with room for a descheduled moment on a shared machine.
    expect(longest).toBeLessThan(60);
  }
});

describe('Frames.plainBody', () => {
  /** `records` framed in a text padded past SLICE_PARENT_MIN_CHARS (or not), each record's plainBody. */
  function bodies(records: string[], pad = SLICE_PARENT_MIN_CHARS): (string | undefined)[] {
    const frames = new Frames();
    let text = '';
    for (const r of records) {
      frames.push(text.length, text.length + r.length, frames.count + 1);
      text += `${r}\n`;
    }
    text += ' '.repeat(Math.max(0, pad - text.length));
    return records.map((_, i) => frames.plainBody(text, i));
  }

  it('is the body of a record that is {"body":"..."} with nothing to unescape, and undefined for anything else', () => {
    const plain = ['{"body":"hello, world: [x] {y}"}', '{"body":""}', '{"body":"é ✓ \ud83d\ude00"}', `{"body":"${'b'.repeat(300)}"}`];
    expect(bodies(plain)).toEqual(plain.map((r) => (JSON.parse(r) as { body: string }).body));
    const other = ['{"body":"a\\"b"}', '{"body":"a\\\\b"}', '{"body":"a\\nb"}', '{"body":"tab\there"}', '{"body":"nul\u0000"}', '{ "body":"x"}', '{"body": "x"}', '{"body":"x" }', ' {"body":"x"}', '{"body":"x"}\r', '{"body":"x","groupId":"g"}', '{"groupId":"g","body":"x"}', '{"body":"x"', '"x"', '{"message_body":"x"}', '{"body":"x"}}'];
    expect(bodies(other)).toEqual(other.map(() => undefined));
  });

  it('is undefined in a text shorter than SLICE_PARENT_MIN_CHARS (a young string itself: nothing gained)', () => {
    expect(bodies(['{"body":"x"}'], SLICE_PARENT_MIN_CHARS - 100)).toEqual([undefined]);
    expect(bodies(['{"body":"x"}'], SLICE_PARENT_MIN_CHARS)).toEqual(['x']);
  });
});

describe('eachRecordInParts', () => {
  /** `text` cut into parts just after separators, at the given separator indexes. */
  const cut = (text: string, sep: string, at: number[]): string[] => {
    const out: string[] = [];
    let from = 0;
    for (const k of at) {
      const i = text.indexOf(sep, k);
      if (i < 0) break;
      out.push(text.slice(from, i + 1));
      from = i + 1;
    }
    out.push(text.slice(from));
    return out.filter((p, i, all) => p !== '' || i === all.length - 1);
  };
  const whole = async (text: string, sep: string, max = 1000): Promise<Array<[number, string]>> => {
    const got: Array<[number, string]> = [];
    await eachRecord(text, sep, max, (r, n) => got.push([n, r]));
    return got;
  };
  const inParts = async (parts: string[], sep: string, max = 1000): Promise<Array<[number, string]>> => {
    const got: Array<[number, string]> = [];
    await eachRecordInParts(parts, sep, max, (n, p, start, end) => got.push([n, (parts[p] as string).slice(start, end).trim()]));
    return got;
  };

  it('finds the records, with their numbers, that eachRecordAt finds in the parts joined, at every cut', async () => {
    for (const text of ['a\nb\n\nc', 'a\nb\n', '\n\na\r\n \nb\n\n', 'x', '', 'a\n\u00a0\nb\n']) {
      for (let k = 0; k <= text.length; k++) {
        for (const at of [[k], [0, k], [k, k + 2]]) {
          const parts = cut(text, '\n', at);
          expect(parts.join('')).toBe(text);
          expect(await inParts(parts, '\n')).toEqual(await whole(text, '\n'));
        }
      }
    }
    const seq = '\x1e{"a":1}\n\x1e{"b":2}\n\x1e3';
    for (let k = 0; k <= seq.length; k++) expect(await inParts(cut(seq, '\x1e', [k]), '\x1e')).toEqual(await whole(seq, '\x1e'));
  });

  it('counts the entry limit across parts, and refuses a part that does not end at a separator', async () => {
    await expect(eachRecordInParts(['a\nb\n', 'c\nd'], '\n', 3, () => {})).rejects.toMatchObject({ code: 'ETOOMANYENTRIES' });
    await expect(eachRecordInParts(['a\nb', 'c'], '\n', 10, () => {})).rejects.toThrow('does not end at a separator');
  });

  it('keeps which part each record is in, in Frames', () => {
    const f = new Frames();
    for (let i = 0; i < 300; i++) f.push(i, i + 1, i + 1, i < 100 ? 0 : i < 250 ? 1 : 2);
    expect([f.partOf(0), f.partOf(99), f.partOf(100), f.partOf(249), f.partOf(250), f.partOf(299)]).toEqual([0, 0, 1, 1, 2, 2]);
    const one = new Frames();
    one.push(0, 1, 1);
    expect(one.partOf(0)).toBe(0);
  });
});

describe('eachArrayElementInParts (a JSON array decoded in parts cut anywhere)', () => {
  /** `text` cut at the given positions (between two code units). */
  const cutAt = (text: string, at: number[]): string[] => {
    const out: string[] = [];
    let from = 0;
    for (const k of [...new Set(at)].sort((a, b) => a - b)) {
      if (k <= from || k >= text.length) continue;
      out.push(text.slice(from, k));
      from = k;
    }
    out.push(text.slice(from));
    return out;
  };
  /** The elements found in `parts`, each as the text the frame names (a part's slice, or the spanning element's own). */
  const inParts = async (parts: string[], max = 1000): Promise<{ elements: unknown[]; spanning: number }> => {
    const region = arrayRegionInParts(parts);
    if (!region) throw new Error('no region');
    const elements: unknown[] = [];
    let spanning = 0;
    await eachArrayElementInParts(parts, region, max, (element, _index, part, start, end) => {
      if (part < 0) spanning += 1;
      else expect((parts[part] as string).slice(start, end).trim()).toBe(element);
      elements.push(JSON.parse(element));
    });
    return { elements, spanning };
  };

  // Backslash runs of every parity next to quotes, commas and brackets in strings, nesting, white space.
  const value = [{ body: 'a,b' }, 'x]y', { body: '{"nested":[1,2]}', attributes: { k: { DataType: 'String', StringValue: 'q\\"",[' } } }, [1, [2, 3]], 'é\u2028', 7, null, 'ends in a backslash \\', '\\\\",\\', { body: '\\' }, '\\\\\\"'];
  const texts = [JSON.stringify(value), ` \n${JSON.stringify(value, null, 1)}\n `, JSON.stringify({ messages: value }), ` { "messages" :\n[ 1 , "\\\\" ] } `, '[]', ' [ ] ', '["\\""]'];

  it('finds the elements JSON.parse finds, at every cut and every pair of cuts', async () => {
    for (const text of texts) {
      const want = (JSON.parse(text) as { messages?: unknown[] }).messages ?? JSON.parse(text);
      for (let k = 0; k <= text.length; k++) {
        expect((await inParts(cutAt(text, [k]))).elements).toEqual(want);
        for (const d of [1, 2, 3, 7]) expect((await inParts(cutAt(text, [k, k + d]))).elements).toEqual(want);
      }
      // Every code unit a part of its own.
      expect((await inParts(text.split(''))).elements).toEqual(want);
    }
  });

  it('gives an element inside one part as where it sits, and joins only the elements a cut falls in', async () => {
    const text = JSON.stringify(Array.from({ length: 50 }, (_, i) => ({ body: `m${i}` })));
    const parts = cutAt(text, [100, 300, 301, 600]);
    const { elements, spanning } = await inParts(parts);
    expect(elements).toHaveLength(50);
    // Four cuts, two of them next to each other inside one element: at most four elements joined.
    expect(spanning).toBeGreaterThan(0);
    expect(spanning).toBeLessThanOrEqual(4);
  });

  it('finds the region across parts, and none where the one-text arrayRegion finds none', () => {
    expect(arrayRegionInParts([' ', '', '\n [1', ',2]', ' ', ''])).toEqual({ openPart: 2, open: 2, closePart: 3, close: 2 });
    expect(arrayRegionInParts(['{"mess', 'ages": ', '[1]', '}'])).toEqual({ openPart: 2, open: 0, closePart: 2, close: 2 });
    expect(arrayRegionInParts(['{"messages": [1', '] ', '}  '])).toEqual({ openPart: 0, open: 13, closePart: 1, close: 0 });
    for (const bad of ['{"messages": [1], "other": 2}', '{"body": "x"}', '[1, 2', '[', ' ', '', '{"messages":[}', 'x[1]']) {
      expect(arrayRegion(bad)).toBeUndefined();
      for (let k = 0; k <= bad.length; k++) expect(arrayRegionInParts(cutAt(bad, [k]))).toBeUndefined();
    }
  });

  it('refuses broken framing at every cut, and counts the entry limit across parts', async () => {
    for (const bad of ['[1,,2]', '[1,]', '[1,"x]', '[1,{]', '[1,}]', '["a\\"]', '["\\\\\\"]']) {
      for (let k = 0; k <= bad.length; k++) await expect(inParts(cutAt(bad, [k]))).rejects.toMatchObject({ code: 'EMALFORMEDARRAY' });
    }
    const big = `[${Array.from({ length: 1000 }, () => '{"body":"x"}').join(',')}]`;
    let seen = 0;
    const parts = cutAt(big, [1000, 5000, 9000]);
    await expect(eachArrayElementInParts(parts, arrayRegionInParts(parts)!, 400, () => (seen += 1))).rejects.toMatchObject({ code: 'ETOOMANYENTRIES', limit: 400 });
    expect(seen).toBe(400);
  });
});
