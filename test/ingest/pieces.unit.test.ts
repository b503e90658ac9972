/**
 * A large batch is read, validated and recorded a piece at a time (Ingest.sendBatch, issue 11's
 * event-loop goal): a 10,000-entry batch decoded whole kept 10,000 parsed entries, their
 * validated copies and their results alive from the parse to the 202, and each young collection
 * copied them (scavenges up to 18 ms in bench/abuse.ts). The semantics are Ingest.send's:
 * results in order, invalid entries refused alone, 413 BatchTooLarge with nothing recorded when
 * the valid entries could never fit, a refused first append refuses the request, a later one the
 * rest of it.
 */
import type { Validated } from '../../src/delivery/pipeline.js';
import { CHUNK_ENTRIES, Ingest } from '../../src/ingest/ingest.js';
import { batchResultsOf, DETAILED_ERRORS, type EntrySource, type IngestEntry } from '../../src/ingest/index.js';
import { ENTRY_SLACK_BYTES, PIECE_CHARS, pieceEnd } from '../../src/ingest/pieces.js';
import { frameSendSliced } from '../../src/http/decode.js';
import { batchReplyJson } from '../../src/http/routes/send-batch.js';
import { createLogger } from '../../src/log.js';
import { makeDest } from '../support/delivery-harness.js';

const log = createLogger('silent');
const dest = makeDest('plain');
const resolver = { cached: () => undefined, resolveForSend: async () => dest, recheck: async () => dest };

/** A source of `n` entries (`body(i)` each; '' is an EmptyBody refusal) that logs each read. */
function source(n: number, events: string[], body = (i: number) => `m${i}`): EntrySource {
  return {
    count: n,
    read(from, to) {
      events.push(`read ${from}-${to}`);
      return Array.from({ length: to - from }, (_, k): IngestEntry => ({ input: { body: body(from + k) } }));
    },
  };
}

/** A pipeline stand-in that logs each append; refuses appends from the `refuseFrom`-th on; fits at most `fitMessages`. */
function pipeline(events: string[], options: { refuseFrom?: number; fitMessages?: number } = {}) {
  let appends = 0;
  let ids = 0;
  return {
    couldEverFit: (count: number) => count <= (options.fitMessages ?? Infinity),
    accept: (_d: unknown, items: readonly Validated[]): Promise<string[]> | false => {
      if (appends++ >= (options.refuseFrom ?? Infinity)) return false;
      events.push(`append ${items.length}`);
      return Promise.resolve(items.map(() => `id-${ids++}`));
    },
  };
}

const codes = (r: { count: number; id(i: number): string | undefined; error(i: number): { code: string } | undefined }) =>
  Array.from({ length: r.count }, (_, i) => r.error(i)?.code ?? r.id(i));

it('reads a piece, records it, then reads the next: one piece of decoded entries alive at a time, results in order', async () => {
  const events: string[] = [];
  const results = await new Ingest({ pipeline: pipeline(events), resolver, log }).sendBatch(dest, source(1000, events));
  const piece: string[] = [];
  for (let from = 0; from < 1000; from += CHUNK_ENTRIES) piece.push(`read ${from}-${from + CHUNK_ENTRIES}`, `append ${CHUNK_ENTRIES}`);
  expect(events).toEqual(piece);
  expect(results.count).toBe(1000);
  expect(results.accepted).toBe(1000);
  expect(codes(results)).toEqual(Array.from({ length: 1000 }, (_, i) => `id-${i}`));
});

it('when one message\'s bound cannot prove that the batch fits, a first pass counts the valid entries only, and records nothing if they could never fit', async () => {
  // Room for 150 messages, ever: 300 entries of which 200 are invalid fit, 300 valid ones never.
  const events: string[] = [];
  const mixed = await new Ingest({ pipeline: pipeline(events, { fitMessages: 150 }), resolver, log }).sendBatch(dest, source(300, events, (i) => (i % 3 === 0 ? `m${i}` : '')));
  expect(events.slice(0, 3)).toEqual(['read 0-100', 'read 100-200', 'read 200-300']); // the first pass
  expect(events.slice(3)).toEqual(['read 0-100', 'append 34', 'read 100-200', 'append 33', 'read 200-300', 'append 33']);
  expect(mixed.accepted).toBe(100);
  expect(codes(mixed).slice(0, 4)).toEqual(['id-0', 'EmptyBody', 'EmptyBody', 'id-1']);

  const never: string[] = [];
  await expect(new Ingest({ pipeline: pipeline(never, { fitMessages: 150 }), resolver, log }).sendBatch(dest, source(300, never))).rejects.toMatchObject({ code: 'BatchTooLarge', status: 413 });
  expect(never.filter((e) => e.startsWith('append'))).toEqual([]);
  // --max-spool-bytes counts too: 300 messages of 3-4 bytes against a spool of 500 bytes.
  const spool: string[] = [];
  await expect(new Ingest({ pipeline: pipeline(spool), resolver, log, maxSpoolBytes: 500 }).sendBatch(dest, source(300, spool))).rejects.toMatchObject({ code: 'BatchTooLarge' });
  expect(spool.filter((e) => e.startsWith('append'))).toEqual([]);
});

it('an append refused after the first: what was recorded stays accepted, the valid rest get the refusal, the invalid rest their own error; refused at the first: the whole request is', async () => {
  const events: string[] = [];
  const body = (i: number) => (i % 10 === 9 ? '' : `m${i}`);
  const results = await new Ingest({ pipeline: pipeline(events, { refuseFrom: 2 }), resolver, log }).sendBatch(dest, source(350, events, body));
  expect(events.filter((e) => e.startsWith('append'))).toEqual(['append 90', 'append 90']);
  expect(results.accepted).toBe(180);
  const got = codes(results);
  expect(got).toEqual(Array.from({ length: 350 }, (_, i) => (i % 10 === 9 ? 'EmptyBody' : i < 200 ? expect.stringMatching(/^id-/) : 'BacklogFull')));

  // Nothing accepted yet when the first append is refused, though invalid entries came before it.
  const first: string[] = [];
  await expect(new Ingest({ pipeline: pipeline(first, { refuseFrom: 0 }), resolver, log }).sendBatch(dest, source(300, first, (i) => (i < 150 ? '' : `m${i}`)))).rejects.toMatchObject({ code: 'BacklogFull', status: 503 });
});

it('an entry over a queue limit that may have been raised re-reads the queue\'s settings once per request, first pass included', async () => {
  const small = { ...makeDest('small'), limits: { fifo: false, contentBasedDedup: false, maxMessageBytes: 4 } };
  let rechecks = 0;
  const raising = { ...resolver, recheck: async () => ((rechecks += 1), (small.limits.maxMessageBytes = 1_048_576), small) };
  const events: string[] = [];
  const results = await new Ingest({ pipeline: pipeline(events, { fitMessages: 1000 }), resolver: raising, log, maxMessageBytes: 1_048_576 }).sendBatch(small, source(300, events, (i) => `long-${i}`));
  expect(rechecks).toBe(1);
  expect(results.accepted).toBe(300);
});

it('reads fewer entries a piece when their text passes PIECE_CHARS (at least one), when the source knows each entry\'s', async () => {
  // 3,300-character entries: 39 of them fit in PIECE_CHARS; one of 200,000 is a piece alone.
  const sizes = Array.from({ length: 300 }, (_, i) => (i === 150 ? 200_000 : 3_300));
  const events: string[] = [];
  const sized: EntrySource = { ...source(300, events, (i) => `m${i}`), chars: (i) => sizes[i] as number };
  const results = await new Ingest({ pipeline: pipeline([]), resolver, log }).sendBatch(dest, sized);
  expect(results.accepted).toBe(300);
  const pieces = events.map((e) => e.slice(5).split('-').map(Number) as [number, number]);
  // Contiguous, every entry once, each within PIECE_CHARS or a single entry.
  expect(pieces[0]?.[0]).toBe(0);
  expect(pieces.at(-1)?.[1]).toBe(300);
  for (let k = 1; k < pieces.length; k++) expect(pieces[k]?.[0]).toBe(pieces[k - 1]?.[1]);
  for (const [from, to] of pieces) {
    const chars = sizes.slice(from, to).reduce((a, b) => a + b, 0);
    expect(to - from === 1 || chars <= PIECE_CHARS).toBe(true);
  }
  expect(pieces).toContainEqual([150, 151]);
  expect(pieceEnd(sized, 0)).toBe(Math.floor(PIECE_CHARS / 3_300));
  // Small entries, or a source that does not know their text: CHUNK_ENTRIES a piece, as before.
  expect(pieceEnd({ ...sized, chars: () => 100 }, 0)).toBe(CHUNK_ENTRIES);
  expect(pieceEnd(source(300, []), 0)).toBe(CHUNK_ENTRIES);
});

/** A batch's answer (batchReplyJson), parsed. */
type Reply = { accepted: number; rejected: number; rejectedByCode?: Record<string, number>; results: Array<{ id: string } | { error: { code: string; message?: string } }> };

it('refusals past the first DETAILED_ERRORS keep no message and share one error per code, and the answer is the same as when every error was kept', async () => {
  // 10 valid entries among 1,000: 990 EmptyBody refusals.
  const body = (i: number) => (i % 100 === 0 ? `m${i}` : '');
  const results = await new Ingest({ pipeline: pipeline([]), resolver, log }).sendBatch(dest, source(1000, [], body));
  expect(results.accepted).toBe(10);
  const refused = Array.from({ length: 1000 }, (_, i) => results.error(i)).filter((e) => e !== undefined);
  expect(refused).toHaveLength(990);
  expect(refused.slice(0, DETAILED_ERRORS).every((e) => typeof e.message === 'string' && e.message.length > 0)).toBe(true);
  const brief = refused.slice(DETAILED_ERRORS);
  expect(brief.every((e) => e.message === undefined && e.code === 'EmptyBody' && e.status === 400)).toBe(true);
  expect(new Set(brief).size).toBe(1); // one object for all 890

  // The answer: the first DETAILED_ERRORS rejected entries (by position) with their message, the rest by code.
  const reply = JSON.parse(await batchReplyJson('q', results, false)) as Reply;
  const errors = reply.results.filter((r): r is { error: { code: string; message?: string } } => 'error' in r);
  expect(errors.slice(0, DETAILED_ERRORS).every((r) => typeof r.error.message === 'string')).toBe(true);
  expect(errors.slice(DETAILED_ERRORS).every((r) => r.error.message === undefined)).toBe(true);
  expect(reply).toMatchObject({ accepted: 10, rejected: 990, rejectedByCode: { EmptyBody: 990 } });
  // The whole-batch path's results (Ingest.send) answered through batchResultsOf: the same rule.
  const entries: IngestEntry[] = Array.from({ length: 1000 }, (_, i) => ({ input: { body: body(i) } }));
  const whole = JSON.parse(await batchReplyJson('q', batchResultsOf(await new Ingest({ pipeline: pipeline([]), resolver, log }).send(dest, entries)), false)) as Reply;
  expect(whole.results.map((r) => ('error' in r ? r.error : 'id'))).toEqual(reply.results.map((r) => ('error' in r ? r.error : 'id')));
});

describe('single messages waiting for their append go before the next piece (issue 11)', () => {
  /** `pipeline()` whose appendsWaiting is `waiting()`; `onAppend` runs at each append. */
  const withWaiting = (events: string[], waiting: () => number, onAppend: () => void = () => {}) => {
    const p = pipeline(events);
    return {
      ...p,
      get appendsWaiting() {
        return waiting();
      },
      accept: (d: unknown, items: readonly Validated[]) => {
        onAppend();
        return p.accept(d, items);
      },
    };
  };

  it('a single message read while a piece was recorded is written before the next piece is read and validated', async () => {
    const events: string[] = [];
    let waiting = 0;
    // After the first piece's append, a single message arrives in a later turn (as a request read
    // in the poll phase would) and its write is scheduled for the turn after (the coalescer's flush).
    let first = true;
    const arrive = () => {
      if (!first) return;
      first = false;
      setImmediate(() => {
        waiting = 1;
        setImmediate(() => {
          events.push('single written');
          waiting = 0;
        });
      });
    };
    await new Ingest({ pipeline: withWaiting(events, () => waiting, arrive), resolver, log }).sendBatch(dest, source(300, events));
    expect(events).toEqual(['read 0-100', 'append 100', 'single written', 'read 100-200', 'append 100', 'read 200-300', 'append 100']);
  });

  it('takes at most one turn more a piece, however many keep waiting; none when nobody waits', async () => {
    const turnsBetweenReads = async (waiting: number): Promise<number[]> => {
      const events: string[] = [];
      let turns = 0;
      let ticking = true;
      const tick = () => {
        turns += 1;
        if (ticking) setImmediate(tick);
      };
      setImmediate(tick);
      const at: number[] = [];
      const src = source(500, events);
      const counted: EntrySource = { count: src.count, read: (from, to) => (at.push(turns), src.read(from, to)) };
      const results = await new Ingest({ pipeline: withWaiting(events, () => waiting), resolver, log }).sendBatch(dest, counted);
      ticking = false;
      expect(results.accepted).toBe(500);
      return at.slice(1).map((t, i) => t - (at[i] as number));
    };
    expect(await turnsBetweenReads(0)).toEqual([1, 1, 1, 1]);
    expect(await turnsBetweenReads(3)).toEqual([2, 2, 2, 2]);
  });
});

describe('a batch whose wire text bounds its bytes needs no first pass (issue 11)', () => {
  /** source() that knows its text: `chars` UTF-16 code units in all. */
  const withText = (s: EntrySource, chars: number): EntrySource => ({ ...s, textChars: chars, read: s.read.bind(s) });

  it('the bound proves it fits: each piece is read once; it does not: the first pass still counts, and 413 with nothing recorded', async () => {
    // 300 entries against a spool of 1,000,000 bytes: one message's bound (300 MiB) cannot prove
    // that they fit, their text (300 × ~4 characters) can.
    const events: string[] = [];
    const src = source(300, events);
    const ok = await new Ingest({ pipeline: pipeline(events), resolver, log, maxSpoolBytes: 1_000_000 }).sendBatch(dest, withText(src, 1200));
    expect(events).toEqual(['read 0-100', 'append 100', 'read 100-200', 'append 100', 'read 200-300', 'append 100']);
    expect(ok.accepted).toBe(300);

    // Text too long for the bound to prove anything: the first pass decides (the messages fit).
    const long: string[] = [];
    await new Ingest({ pipeline: pipeline(long), resolver, log, maxSpoolBytes: 1_000_000 }).sendBatch(dest, withText(source(300, long), 400_000));
    expect(long.slice(0, 3)).toEqual(['read 0-100', 'read 100-200', 'read 200-300']);

    // A batch that can never fit is refused as before, whatever its text says.
    const never: string[] = [];
    await expect(new Ingest({ pipeline: pipeline(never), resolver, log, maxSpoolBytes: 500 }).sendBatch(dest, withText(source(300, never), 1200))).rejects.toMatchObject({ code: 'BatchTooLarge' });
    expect(never.filter((e) => e.startsWith('append'))).toEqual([]);
  });

  it('the bound holds for entries that count more than their text: trace attributes, shorthand attributes, long numbers', async () => {
    const tracestate = `k=${'v'.repeat(510)}`;
    const trace = { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tracestate };
    const numbers = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`n${i}`, 1e20]));
    const lines = [
      JSON.stringify({ body: 'x' }),
      '"y"',
      JSON.stringify({ body: 'é', attributes: numbers }),
      JSON.stringify({ body: '\u{1f600}', attributes: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`s${i}`, 'v'])) }),
      '{"body":"\\u00e9\\n"}',
    ];
    const text = lines.join('\n');
    const framed = await frameSendSliced('application/x-ndjson', text, 100);
    if (!('source' in framed)) throw new Error('not framed');
    let bytes = 0;
    let count = 0;
    const counting = {
      couldEverFit: () => true,
      accept: (_d: unknown, items: readonly Validated[]) => {
        for (const it of items) bytes += it.bytes;
        count += items.length;
        return Promise.resolve(items.map((_, i) => `id-${i}`));
      },
    };
    const results = await new Ingest({ pipeline: counting, resolver, log }).sendBatch(dest, framed.source, { trace });
    expect(results.accepted).toBe(lines.length);
    expect(count).toBe(lines.length);
    expect(framed.source.textChars).toBe(text.length);
    // What pieces.ts bounds them by, with its slack per entry: the trace attributes alone are
    // ~600 bytes a message, more than 3 bytes a character of `{"body":"x"}`.
    expect(bytes).toBeGreaterThan(3 * text.length);
    expect(bytes).toBeLessThanOrEqual(3 * text.length + lines.length * ENTRY_SLACK_BYTES);
    for (const line of lines) {
      const one = await frameSendSliced('application/x-ndjson', line, 1);
      if (!('source' in one)) throw new Error('not framed');
      let b = 0;
      await new Ingest({ pipeline: { ...counting, accept: (_d: unknown, items: readonly Validated[]) => ((b = items[0]!.bytes), Promise.resolve(['id'])) }, resolver, log }).sendBatch(dest, one.source, { trace });
      expect(b).toBeLessThanOrEqual(3 * line.length + ENTRY_SLACK_BYTES);
    }
  });
});
