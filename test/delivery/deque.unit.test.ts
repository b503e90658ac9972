import { Deque } from '../../src/delivery/deque.js';

describe('Deque', () => {
  it('is first in, first out', () => {
    const d = new Deque<number>();
    expect(d.length).toBe(0);
    expect(d.peek()).toBeUndefined();
    expect(d.shift()).toBeUndefined();
    for (let i = 0; i < 5; i++) d.push(i);
    expect(d.length).toBe(5);
    expect(d.peek()).toBe(0);
    expect([d.shift(), d.shift()]).toEqual([0, 1]);
    expect([...d]).toEqual([2, 3, 4]);
    expect(d.length).toBe(3);
  });

  it('a queue that fills and drains over and over keeps one buffer once grown (issue 11: no copy per cycle); a larger burst\'s buffer shrinks back', () => {
    const d = new Deque<number>();
    const buffer = () => (d as unknown as { items: unknown[] }).items;
    const cycle = (n: number) => {
      for (let i = 0; i < n; i++) d.push(i);
      for (let i = 0; i < n / 2; i++) {
        // at a steady length too
        d.push(-1);
        if (d.shift() !== i) throw new Error(`out of order at ${i}`);
      }
      for (let i = n / 2; i < n; i++) if (d.shift() !== i) throw new Error(`out of order at ${i}`);
      for (let i = 0; i < n / 2; i++) if (d.shift() !== -1) throw new Error('lost a late push');
      expect(d.length).toBe(0);
    };
    cycle(10_000);
    const grown = buffer();
    for (let n = 0; n < 3; n++) {
      cycle(10_000);
      expect(buffer()).toBe(grown);
    }
    // 100,000 at once: drained, the buffer is back to at most 16,384 slots.
    cycle(100_000);
    expect(buffer().length).toBeGreaterThan(0);
    expect(buffer().length).toBeLessThanOrEqual(16_384);
  });

  it('unshiftAll puts items back in front in their order, in the freed space or by reallocating', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 6; i++) d.push(i);
    const a = d.shift() as number;
    const b = d.shift() as number;
    d.unshiftAll([a, b]); // fits in the two freed slots
    expect([...d]).toEqual([0, 1, 2, 3, 4, 5]);
    d.unshiftAll([-3, -2, -1]); // does not fit: reallocates
    expect([...d]).toEqual([-3, -2, -1, 0, 1, 2, 3, 4, 5]);
    d.unshiftAll([]);
    expect(d.length).toBe(9);
    expect(d.shift()).toBe(-3);
  });

  it('stays correct across compaction with interleaved pushes, shifts and unshifts (checked against an array)', () => {
    const d = new Deque<number>();
    const model: number[] = [];
    let x = 0;
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const mismatches: string[] = [];
    for (let step = 0; step < 20_000 && mismatches.length === 0; step++) {
      const r = rnd();
      if (r < 0.5) {
        d.push(x);
        model.push(x++);
      } else if (r < 0.9) {
        const got = d.shift();
        const want = model.shift();
        if (got !== want) mismatches.push(`step ${step}: shift ${got} != ${want}`);
      } else {
        const back: number[] = [];
        const n = Math.floor(rnd() * 4);
        for (let i = 0; i < n && model.length > 0; i++) {
          back.push(model.shift() as number);
          d.shift();
        }
        d.unshiftAll(back);
        model.unshift(...back);
      }
      if (d.length !== model.length || d.peek() !== model[0]) mismatches.push(`step ${step}: length ${d.length}/${model.length}, head ${d.peek()}/${model[0]}`);
    }
    expect(mismatches).toEqual([]);
    expect(x).toBeGreaterThan(9000);
    expect([...d]).toEqual(model);
  });

  it('a long-lived queue does not keep shifted items alive', () => {
    const d = new Deque<{ n: number }>();
    for (let i = 0; i < 5000; i++) d.push({ n: i });
    for (let i = 0; i < 4990; i++) d.shift();
    const internal = (d as unknown as { items: unknown[]; head: number });
    // Its buffer holds the 10 items left and nothing else.
    expect(internal.items.filter((x) => x !== undefined)).toHaveLength(10);
    expect(d.length).toBe(10);
    expect(d.peek()).toEqual({ n: 4990 });
  });
});
