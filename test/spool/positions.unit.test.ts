/**
 * The paged-out positions queue (src/spool/positions.ts) against a plain array of tuples: seeded
 * random pushes and shifts, across chunk boundaries (8,192 entries), segment changes, emptying
 * and refilling, offsets past 2^32 and the largest record lengths.
 */
import { PositionQueue } from '../../src/spool/positions.js';
import { mulberry32 as rng } from '../support/prng.js';

type Entry = [seg: number, off: number, len: number, bytes: number];

function same(q: PositionQueue, model: Entry[], probes: number[]): void {
  expect(q.length).toBe(model.length);
  for (const i of probes) {
    if (i < 0 || i >= model.length) continue;
    const [seg, off, len, bytes] = model[i] as Entry;
    expect([q.seg(i), q.off(i), q.len(i), q.bytes(i)]).toEqual([seg, off, len, bytes]);
  }
}

test.each([1, 2, 3])('behaves as a FIFO of tuples (seed %i)', (seed) => {
  const rand = rng(seed);
  const q = new PositionQueue();
  const model: Entry[] = [];
  let seg = 1;
  let off = 0;
  for (let step = 0; step < 60_000; step++) {
    if (rand() < 0.58) {
      if (rand() < 0.002) {
        seg += 1 + Math.floor(rand() * 3);
        off = rand() < 0.1 ? 2 ** 32 + Math.floor(rand() * 1000) : 0;
      }
      const len = 40 + Math.floor(rand() * 2_000_000);
      const bytes = Math.floor(len / 2);
      q.push(seg, off, len, bytes);
      model.push([seg, off, len, bytes]);
      off += len;
    } else {
      q.shift();
      model.shift();
    }
    if (step % 997 === 0) same(q, model, [0, 1, 2, Math.floor(model.length / 2), model.length - 1]);
  }
  same(q, model, model.map((_, i) => i));
  while (model.length > 0) {
    expect(q.seg(0)).toBe((model[0] as Entry)[0]);
    q.shift();
    model.shift();
  }
  expect(q.length).toBe(0);
  q.shift(); // on an empty queue: nothing happens
  expect(q.length).toBe(0);
  q.push(7, 3, 2, 1);
  same(q, [[7, 3, 2, 1]], [0]);
});

test('a run of one segment spans chunk boundaries; a new segment after emptying starts a new run', () => {
  const q = new PositionQueue();
  for (let i = 0; i < 20_000; i++) q.push(5, i * 10, 10, 4);
  q.push(6, 0, 10, 4);
  for (let i = 0; i < 19_999; i++) q.shift();
  expect([q.length, q.seg(0), q.off(0), q.seg(1), q.off(1)]).toEqual([2, 5, 199_990, 6, 0]);
  q.shift();
  q.shift();
  q.push(5, 123, 10, 4);
  expect([q.length, q.seg(0), q.off(0)]).toEqual([1, 5, 123]);
});
