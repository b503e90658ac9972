/**
 * A large batch is recorded in pieces of at most CHUNK_ENTRIES entries and CHUNK_BYTES bytes,
 * a turn of the event loop between them (issue 14: no request holds the loop more than a few
 * ms; 500-entry pieces held it ~10 ms each on the bench machine), with the semantics a batch
 * always had: results in order, each piece acknowledged only once recorded, and a piece
 * refused after the first leaves the earlier ones accepted and refuses the rest.
 */
import type { Validated } from '../../src/delivery/pipeline.js';
import { CHUNK_BYTES, CHUNK_ENTRIES, chunkEnds, Ingest } from '../../src/ingest/ingest.js';
import type { IngestEntry } from '../../src/ingest/index.js';
import { createLogger } from '../../src/log.js';
import { makeDest } from '../support/delivery-harness.js';
import { withTurns } from '../support/turns.js';

const log = createLogger('silent');
const dest = makeDest('plain');

/** A pipeline stand-in that records each append and lets the test say when it is stored. */
function recordingPipeline(refuseFrom = Infinity) {
  const appends: number[] = [];
  let ids = 0;
  const pipeline = {
    couldEverFit: () => true,
    accept: (_d: unknown, items: readonly Validated[]): Promise<string[]> | false => {
      if (appends.length >= refuseFrom) return false;
      appends.push(items.length);
      return Promise.resolve(items.map(() => `id-${ids++}`));
    },
  };
  return { pipeline, appends };
}

const resolver = { cached: () => undefined, resolveForSend: async () => dest, recheck: async () => dest };
const entries = (n: number, body = (i: number) => `m${i}`): IngestEntry[] => Array.from({ length: n }, (_, i) => ({ input: { body: body(i) } }));

it('chunkEnds: at most CHUNK_ENTRIES entries and CHUNK_BYTES bytes a piece, at least one entry, every entry once', () => {
  expect(chunkEnds([])).toEqual([]);
  expect(chunkEnds(Array.from({ length: CHUNK_ENTRIES }, () => ({ bytes: 1 })))).toEqual([CHUNK_ENTRIES]);
  expect(chunkEnds(Array.from({ length: 2 * CHUNK_ENTRIES + 1 }, () => ({ bytes: 1 })))).toEqual([CHUNK_ENTRIES, 2 * CHUNK_ENTRIES, 2 * CHUNK_ENTRIES + 1]);
  // Bytes: 3 entries of 40 % each: two fit, the third starts a new piece; one entry over the bound is a piece alone.
  const big = Math.floor(CHUNK_BYTES * 0.4);
  expect(chunkEnds([{ bytes: big }, { bytes: big }, { bytes: big }])).toEqual([2, 3]);
  expect(chunkEnds([{ bytes: 1 }, { bytes: CHUNK_BYTES * 2 }, { bytes: 1 }])).toEqual([1, 2, 3]);
});

it('a 1,000-entry batch is appended in pieces of CHUNK_ENTRIES, a turn of the loop between them, results in order', async () => {
  const { pipeline, appends } = recordingPipeline();
  const ingest = new Ingest({ pipeline, resolver, log });
  const { value: results, turns } = await withTurns(() => ingest.send(dest, entries(1000)));
  expect(appends).toEqual(Array.from({ length: 1000 / CHUNK_ENTRIES }, () => CHUNK_ENTRIES));
  expect(turns).toBeGreaterThanOrEqual(1000 / CHUNK_ENTRIES - 1); // other callbacks ran between the pieces
  expect(results.map((r) => (r.ok ? r.id : r.error.code))).toEqual(Array.from({ length: 1000 }, (_, i) => `id-${i}`));
  expect(results.every((r) => r.ok && r.message.body === `m${results.indexOf(r)}`)).toBe(true);
});

it('invalid entries keep their place and are not appended; pieces count valid entries only', async () => {
  const { pipeline, appends } = recordingPipeline();
  const ingest = new Ingest({ pipeline, resolver, log });
  const list = entries(CHUNK_ENTRIES + 10, (i) => (i % 2 === 1 ? '' : `m${i}`)); // every odd one is empty: EmptyBody
  const results = await ingest.send(dest, list);
  expect(appends.reduce((a, b) => a + b, 0)).toBe((CHUNK_ENTRIES + 10) / 2);
  expect(appends.every((n) => n <= CHUNK_ENTRIES)).toBe(true);
  expect(results.map((r, i) => (r.ok ? 'ok' : r.error.code) === (i % 2 === 1 ? 'EmptyBody' : 'ok'))).not.toContain(false);
});

it('a piece refused after the first: the pieces before stay accepted, the rest get the refusal; refused at the first: the whole send is', async () => {
  const later = recordingPipeline(2);
  const results = await new Ingest({ pipeline: later.pipeline, resolver, log }).send(dest, entries(3 * CHUNK_ENTRIES + 5));
  expect(later.appends).toEqual([CHUNK_ENTRIES, CHUNK_ENTRIES]);
  expect(results.slice(0, 2 * CHUNK_ENTRIES).every((r) => r.ok)).toBe(true);
  expect(results.slice(2 * CHUNK_ENTRIES).map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(Array.from({ length: CHUNK_ENTRIES + 5 }, () => 'BacklogFull'));

  const first = recordingPipeline(0);
  await expect(new Ingest({ pipeline: first.pipeline, resolver, log }).send(dest, entries(3 * CHUNK_ENTRIES))).rejects.toMatchObject({ code: 'BacklogFull', status: 503 });
});
