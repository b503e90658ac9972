import { randomUUID } from 'node:crypto';
import { formatUuid, parseUuid, WindowSlots } from '../../src/delivery/window.js';
import { mulberry32 } from '../support/prng.js';

/** Adds `id` at the back; its acceptedAt column records `tag` so a test can tell entries apart. */
function add(w: WindowSlots, id: string, tag: number): number {
  const slot = w.findOrAdd(id);
  w.acceptedAt[slot] = tag;
  return slot;
}

/** The ids in the ring, oldest first, told by their tags (slot order from head). */
function tags(w: WindowSlots): number[] {
  return Array.from({ length: w.count }, (_, i) => w.acceptedAt[(w.head + i) & (w.capacity - 1)] as number);
}

describe('WindowSlots', () => {
  it('grows past its first capacity, keeping every entry findable and in order', () => {
    const w = new WindowSlots(10);
    const first = w.capacity;
    const ids = Array.from({ length: first * 5 + 3 }, (_, i) => `lqz1abc123-${(i + 1).toString(36)}`);
    ids.forEach((id, i) => add(w, id, i));
    expect(w.capacity).toBeGreaterThanOrEqual(first * 8);
    expect(w.count).toBe(ids.length);
    expect(ids.every((id, i) => w.acceptedAt[w.find(id)] === i)).toBe(true);
    expect(tags(w)).toEqual(ids.map((_, i) => i));
    expect(w.find('lqz1abc123-0')).toBe(-1);
    expect(w.find(`lqz1abc123-${(ids.length + 1).toString(36)}`)).toBe(-1);
  });

  it('wraps around: evicting from the head and adding at the back many times over the same slots', () => {
    const w = new WindowSlots(100);
    const cap = w.capacity;
    for (let i = 0; i < cap * 20; i++) {
      add(w, `p-${(i + 1).toString(36)}`, i);
      if (w.count > 100) w.evictOldest();
    }
    expect(w.capacity).toBe(cap); // never needed more: the same slots reused
    expect(w.count).toBe(100);
    expect(w.head).not.toBe(0);
    const last = cap * 20;
    for (let i = 0; i < last; i++) expect(w.find(`p-${(i + 1).toString(36)}`) >= 0).toBe(i >= last - 100);
    expect(tags(w)).toEqual(Array.from({ length: 100 }, (_, i) => last - 100 + i));
  });

  it('grows while wrapped, copying the ring in order from its head', () => {
    const w = new WindowSlots(10);
    const cap = w.capacity;
    for (let i = 0; i < cap; i++) add(w, `p-${(i + 1).toString(36)}`, i);
    for (let i = 0; i < cap / 2; i++) w.evictOldest();
    for (let i = cap; i < cap * 2; i++) add(w, `p-${(i + 1).toString(36)}`, i); // wraps, then grows
    expect(w.capacity).toBe(cap * 2);
    expect(tags(w)).toEqual(Array.from({ length: cap * 1.5 }, (_, i) => cap / 2 + i));
    for (let i = 0; i < cap * 2; i++) expect(w.find(`p-${(i + 1).toString(36)}`) >= 0).toBe(i >= cap / 2);
  });

  it('keeps every column of every entry through a grow while wrapped, and gives the new slots empty columns', () => {
    const w = new WindowSlots(10);
    const cap = w.capacity;
    const uuids = Array.from({ length: cap * 2 }, () => randomUUID());
    const fill = (i: number): void => {
      const slot = w.findOrAdd(i % 5 === 4 ? `odd id ${i}` : `p-${(i + 1).toString(36)}`);
      w.state[slot] = i % 4;
      w.waited[slot] = i % 2;
      w.attempts[slot] = i * 3;
      w.acceptedAt[slot] = 1e12 + i;
      w.finishedAt[slot] = i % 3 === 0 ? NaN : 2e12 + i;
      w.queue[slot] = `q${i}`;
      w.owner[slot] = `k${i}`;
      w.sequenceNumber[slot] = i % 3 === 1 ? `${10n ** 19n + BigInt(i)}` : undefined;
      w.error[slot] = i % 7 === 0 ? { code: 'E', message: `m${i}` } : undefined;
      if (i % 6 !== 5) w.setMessageId(slot, i % 6 === 2 ? `not-a-uuid-${i}` : (uuids[i] as string));
    };
    const check = (i: number): void => {
      const slot = w.find(i % 5 === 4 ? `odd id ${i}` : `p-${(i + 1).toString(36)}`);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect([w.state[slot], w.waited[slot], w.attempts[slot], w.acceptedAt[slot], w.queue[slot], w.owner[slot]]).toEqual([i % 4, i % 2, i * 3, 1e12 + i, `q${i}`, `k${i}`]);
      expect(w.finishedAt[slot]).toBe(i % 3 === 0 ? NaN : 2e12 + i);
      expect(w.sequenceNumber[slot]).toBe(i % 3 === 1 ? `${10n ** 19n + BigInt(i)}` : undefined);
      expect(w.error[slot]).toEqual(i % 7 === 0 ? { code: 'E', message: `m${i}` } : undefined);
      expect(w.messageId(slot)).toBe(i % 6 === 5 ? undefined : i % 6 === 2 ? `not-a-uuid-${i}` : uuids[i]);
    };
    for (let i = 0; i < cap; i++) fill(i);
    for (let i = 0; i < cap / 4; i++) w.evictOldest();
    for (let i = cap; i < cap + cap / 4; i++) fill(i); // full and wrapped: the head is not slot 0
    expect(w.head).toBe(cap / 4);
    fill(cap + cap / 4); // grows
    expect(w.capacity).toBe(cap * 2);
    expect(w.head).toBe(0);
    for (let i = cap / 4; i <= cap + cap / 4; i++) check(i);
    // The slots past the ring: nothing in them.
    for (let s = w.count; s < w.capacity; s++) {
      expect([w.queue[s], w.owner[s], w.sequenceNumber[s], w.error[s], w.messageId(s), w.state[s], w.attempts[s]]).toEqual(['', '', undefined, undefined, undefined, 0, 0]);
    }
  });

  it('moves the oldest to the back with its id and columns, growing when full', () => {
    const w = new WindowSlots(10);
    const cap = w.capacity;
    for (let i = 0; i < cap; i++) add(w, i === 0 ? 'an odd id' : `p-${i.toString(36)}`, i);
    const s = w.find('an odd id');
    w.state[s] = 2;
    w.waited[s] = 1;
    w.owner[s] = 'owner';
    w.setMessageId(s, '0f8fad5b-d9cb-469f-a165-70867728950e');
    w.moveOldestToBack(); // full: grows first
    expect(w.capacity).toBe(cap * 2);
    const t = w.find('an odd id');
    expect(t).not.toBe(s);
    expect([w.state[t], w.waited[t], w.owner[t], w.messageId(t), w.acceptedAt[t]]).toEqual([2, 1, 'owner', '0f8fad5b-d9cb-469f-a165-70867728950e', 0]);
    expect(tags(w)).toEqual([...Array.from({ length: cap - 1 }, (_, i) => i + 1), 0]);
    w.moveOldestToBack(); // an id kept as numbers, this time
    expect(w.acceptedAt[w.find('p-1')]).toBe(1);
    expect(tags(w).slice(-2)).toEqual([0, 1]);
  });

  it('keeps ids it cannot hold as numbers as strings: other formats, non-canonical counters, too many prefixes', () => {
    const w = new WindowSlots(10);
    const odd = [randomUUID(), 'no-dash-Upper', 'p-01', 'p-0', '-1', 'p-', 'p-abcdefghijk', 'x'];
    odd.forEach((id, i) => add(w, id, i));
    add(w, 'p-1', 100); // 'p-01' is another id
    for (let k = 0; k < 70; k++) add(w, `run${k}-1`, 200 + k); // past the prefix table's 64
    odd.forEach((id, i) => expect(w.acceptedAt[w.find(id)]).toBe(i));
    expect(w.acceptedAt[w.find('p-1')]).toBe(100);
    for (let k = 0; k < 70; k++) expect(w.acceptedAt[w.find(`run${k}-1`)]).toBe(200 + k);
    expect(w.find('p-2')).toBe(-1);
    expect(w.find('run69-2')).toBe(-1);
    while (w.count > 0) w.evictOldest();
    expect([...odd, 'p-1', 'run0-1', 'run69-1'].map((id) => w.find(id))).toEqual(Array(odd.length + 3).fill(-1));
  });

  it('matches a model under random adds, re-adds, evictions and moves', () => {
    for (const seed of [1, 2, 3]) {
      const rnd = mulberry32(seed);
      const w = new WindowSlots(16);
      const model: string[] = []; // oldest first
      const tagOf = new Map<string, number>();
      const prefixes = ['lqz1abc123', 'older9', 'x-y'];
      const idOf = (n: number): string => (n % 17 === 0 ? `odd-${n}-Z` : `${prefixes[n % 3]}-${n.toString(36)}`);
      let next = 1;
      for (let step = 0; step < 8_000; step++) {
        const r = rnd();
        if (r < 0.5 || model.length === 0) {
          const id = idOf(next++);
          add(w, id, step);
          model.push(id);
          tagOf.set(id, step);
        } else if (r < 0.6) {
          const id = model[Math.floor(rnd() * model.length)] as string;
          const slot = w.findOrAdd(id); // known: keeps its place
          expect(w.added).toBe(false);
          expect(w.acceptedAt[slot]).toBe(tagOf.get(id));
        } else if (r < (model.length > 3000 ? 0.95 : model.length < 50 ? 0.7 : 0.9)) {
          w.evictOldest();
          tagOf.delete(model.shift() as string);
        } else {
          w.moveOldestToBack();
          model.push(model.shift() as string);
        }
        if (step % 97 === 0) {
          // Plain comparisons, one expect a check: thousands of expect() calls would be slow.
          const ring = tags(w);
          const wrong = model.filter((id, i) => w.acceptedAt[w.find(id)] !== tagOf.get(id) || ring[i] !== tagOf.get(id));
          for (let n = Math.max(1, next - 300); n < next + 5; n++) if (!tagOf.has(idOf(n)) && w.find(idOf(n)) !== -1) wrong.push(`found ${idOf(n)}`);
          expect([seed, step, w.count, wrong]).toEqual([seed, step, model.length, []]);
        }
      }
    }
  });
});

describe('parseUuid / formatUuid', () => {
  it('round-trips lowercase UUIDs and refuses anything else', () => {
    const words = new Uint32Array(8);
    for (const u of [randomUUID(), '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff']) {
      expect(parseUuid(u, words, 4)).toBe(true);
      expect(formatUuid(words, 4)).toBe(u);
    }
    const before = [...words];
    for (const bad of [randomUUID().toUpperCase(), `${randomUUID()}0`, randomUUID().replace(/-/g, '_'), 'g'.repeat(36), '']) expect(parseUuid(bad, words, 4)).toBe(false);
    expect([...words]).toEqual(before);
  });

  it('a message id that is not a lowercase UUID is kept as it was given', () => {
    const w = new WindowSlots(10);
    const s = w.findOrAdd('p-1');
    expect(w.messageId(s)).toBeUndefined();
    for (const m of ['0F8FAD5B-D9CB-469F-A165-70867728950E', 'not-a-uuid', '']) {
      w.setMessageId(s, m);
      expect(w.messageId(s)).toBe(m);
    }
  });
});
