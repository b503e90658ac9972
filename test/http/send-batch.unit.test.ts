/**
 * A batch's answer built a slice of entries a turn (batchReplyJson, issue 11): the same bytes as
 * one JSON.stringify of the answer object (the model below, the answer as it was built before),
 * and the loop turns while a 10,000-entry answer is built.
 */
import { DETAILED_ERRORS } from '../../src/ingest/pieces.js';
import type { BatchEntryError, BatchResults } from '../../src/ingest/types.js';
import { batchReplyJson, REPLY_SLICE_ENTRIES } from '../../src/http/routes/send-batch.js';
import { withTurns } from '../support/turns.js';

/** The answer object, as one JSON.stringify would write it. */
function model(queue: string, results: BatchResults, unverified: boolean): string {
  let detailed = 0;
  const byCode: Record<string, number> = {};
  const out: unknown[] = [];
  for (let i = 0; i < results.count; i++) {
    const e = results.error(i);
    if (e === undefined) out.push({ id: results.id(i) });
    else {
      byCode[e.code] = (byCode[e.code] ?? 0) + 1;
      out.push({ error: detailed++ < DETAILED_ERRORS && e.message !== undefined ? { code: e.code, message: e.message } : { code: e.code } });
    }
  }
  const reply = { queue, accepted: results.accepted, rejected: out.length - results.accepted, ...(results.accepted < out.length ? { rejectedByCode: byCode } : {}), results: out };
  return JSON.stringify(unverified ? { ...reply, queueVerified: false } : reply);
}

/** `n` results, entry i refused as `refused(i)` says (an error, with or without a message), else accepted with an id. */
function results(n: number, refused: (i: number) => BatchEntryError | undefined = () => undefined): BatchResults {
  const errors = Array.from({ length: n }, (_, i) => refused(i));
  return {
    count: n,
    accepted: errors.filter((e) => e === undefined).length,
    id: (i) => (errors[i] === undefined ? `lz9k2a1b2c3-${i.toString(36)}` : undefined),
    error: (i) => errors[i],
  };
}

const bad = (i: number): BatchEntryError | undefined =>
  i % 3 === 0 ? { code: 'EmptyBody', status: 400, message: `entry ${i}: the body is empty "quoted" \\ é` } : i % 7 === 0 ? { code: 'InvalidCharacters', status: 400 } : undefined;

it('writes what one JSON.stringify of the answer writes, for every size around a slice and every kind of entry', async () => {
  for (const n of [0, 1, 2, REPLY_SLICE_ENTRIES - 1, REPLY_SLICE_ENTRIES, REPLY_SLICE_ENTRIES + 1, 2 * REPLY_SLICE_ENTRIES + 17]) {
    for (const refused of [undefined, bad, () => ({ code: 'EmptyBody', status: 400, message: 'empty' })]) {
      for (const unverified of [false, true]) {
        const r = results(n, refused);
        expect(await batchReplyJson('orders.fifo', r, unverified)).toBe(model('orders.fifo', r, unverified));
      }
    }
  }
});

it('lets the event loop turn between slices of a 10,000-entry answer', async () => {
  const r = results(10_000, bad);
  const { value, turns } = await withTurns(() => batchReplyJson('q', r, false));
  expect(value).toBe(model('q', r, false));
  // Ten slices: nine turns between them.
  expect(turns).toBeGreaterThanOrEqual(10_000 / REPLY_SLICE_ENTRIES - 1);
});
