import { Batcher, MAX_BATCH_BYTES, MAX_BATCH_ENTRIES } from '../../src/delivery/batcher.js';
import { bodyOf, type Envelope, groupIdOf } from '../../src/delivery/envelope.js';
import { staticCredentials } from '../../src/sqs/credentials.js';
import type { Destination } from '../../src/sqs/resolver.js';

function dest(fifo: boolean): Destination {
  return {
    key: `k-${fifo}`,
    queueName: fifo ? 'q.fifo' : 'q',
    queueUrl: 'http://x/1/q',
    limits: { fifo, contentBasedDedup: false, maxMessageBytes: 1_048_576 },
    credentials: staticCredentials({ accessKeyId: 'A', secretAccessKey: 'S' }),
  };
}

let n = 0;
function env(d: Destination, body: string, groupId?: string, bytes = body.length): Envelope {
  n += 1;
  const message = groupId === undefined ? { body } : { body, groupId, dedupId: `d${n}` };
  return { id: `m${n}`, dest: d, message, bytes, accepted: { at: 0 }, attempts: 0 };
}

const bodies = (batch: Envelope[]) => batch.map((e) => bodyOf(e.message));
const range = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}${i}`);

describe('Batcher, standard queue', () => {
  it('hands out at most 10 entries per batch, in arrival order', () => {
    const d = dest(false);
    const b = new Batcher(d);
    expect(b.hasSendable()).toBe(false);
    for (const s of range('m', 25)) b.add(env(d, s));
    expect(b.size).toBe(25);
    expect(b.fullBatchReady()).toBe(true);
    const one = b.takeBatch();
    const two = b.takeBatch();
    expect(one).toHaveLength(MAX_BATCH_ENTRIES);
    expect(bodies(one)).toEqual(range('m', 10));
    expect(bodies(two)).toEqual(range('m', 20).slice(10));
    expect(b.fullBatchReady()).toBe(false);
    expect(b.hasSendable()).toBe(true);
    expect(bodies(b.takeBatch())).toEqual(range('m', 25).slice(20));
    expect(b.hasSendable()).toBe(false);
    expect(b.size).toBe(0);
    expect(b.takeBatch()).toEqual([]);
  });

  it('is full at 10 entries or at 1 MiB, whichever comes first', () => {
    const d = dest(false);
    const b = new Batcher(d);
    for (let i = 0; i < 9; i++) b.add(env(d, `s${i}`));
    expect(b.fullBatchReady()).toBe(false);
    b.add(env(d, 's9'));
    expect(b.fullBatchReady()).toBe(true);

    const big = new Batcher(d);
    big.add(env(d, 'a', undefined, 600_000));
    expect(big.fullBatchReady()).toBe(false);
    big.add(env(d, 'b', undefined, MAX_BATCH_BYTES - 600_000));
    expect(big.fullBatchReady()).toBe(true);
  });

  it('never puts more than 1 MiB in a batch, but always sends a lone 1 MiB message', () => {
    const d = dest(false);
    const b = new Batcher(d);
    const sizes = [400_000, 400_000, 400_000, 1_048_576, 10, 1_048_000, 600, 500_000, 500_000, 47_976];
    sizes.forEach((s, i) => b.add(env(d, `b${i}`, undefined, s)));
    const batches: number[][] = [];
    for (let guard = 0; guard < 20 && b.hasSendable(); guard++) {
      const batch = b.takeBatch();
      const total = batch.reduce((a, e) => a + e.bytes, 0);
      expect(total).toBeLessThanOrEqual(MAX_BATCH_BYTES);
      expect(batch.length).toBeGreaterThan(0);
      batches.push(batch.map((e) => e.bytes));
    }
    expect(batches).toEqual([[400_000, 400_000], [400_000], [1_048_576], [10, 1_048_000], [600, 500_000, 500_000, 47_976]]);
  });

  it('requeue puts failed entries back in front, in their order', () => {
    const d = dest(false);
    const b = new Batcher(d);
    for (const s of range('m', 15)) b.add(env(d, s));
    const first = b.takeBatch();
    b.requeue([first[3] as Envelope, first[7] as Envelope]);
    expect(b.size).toBe(7);
    expect(bodies(b.takeBatch())).toEqual(['m3', 'm7', 'm10', 'm11', 'm12', 'm13', 'm14']);
  });

  it('drainAll empties it', () => {
    const d = dest(false);
    const b = new Batcher(d);
    for (const s of range('m', 12)) b.add(env(d, s));
    b.takeBatch();
    expect(bodies(b.drainAll())).toEqual(['m10', 'm11']);
    expect(b.size).toBe(0);
    expect(b.hasSendable()).toBe(false);
  });
});

describe('Batcher, FIFO queue', () => {
  it('blocks a group while its batch is in flight and unblocks it on release', () => {
    const d = dest(true);
    const b = new Batcher(d);
    for (const s of range('a', 15)) b.add(env(d, s, 'A'));
    for (const s of range('b', 3)) b.add(env(d, s, 'B'));
    const one = b.takeBatch();
    expect(bodies(one)).toEqual(range('a', 10));
    // A is blocked: the next batch only has B, even though A has 5 more.
    const two = b.takeBatch();
    expect(bodies(two)).toEqual(range('b', 3));
    expect(b.hasSendable()).toBe(false);
    expect(b.takeBatch()).toEqual([]);
    // New A entries stay blocked too.
    b.add(env(d, 'a15', 'A'));
    expect(b.hasSendable()).toBe(false);
    b.release(one, new Set());
    expect(b.hasSendable()).toBe(true);
    expect(bodies(b.takeBatch())).toEqual(['a10', 'a11', 'a12', 'a13', 'a14', 'a15']);
    expect(b.size).toBe(0);
  });

  it('a group with entries backing off stays blocked until they are requeued, then they go first', () => {
    const d = dest(true);
    const b = new Batcher(d);
    for (const s of range('a', 14)) b.add(env(d, s, 'A'));
    b.add(env(d, 'b0', 'B'));
    const one = b.takeBatch(); // a0..a9
    // a4..a9 failed: they back off; A stays blocked, everything else of A waits behind them.
    const failed = one.slice(4);
    b.release(one, new Set(['A']));
    expect(bodies(b.takeBatch())).toEqual(['b0']);
    expect(b.hasSendable()).toBe(false);
    b.add(env(d, 'a14', 'A'));
    expect(b.hasSendable()).toBe(false);
    b.requeue(failed);
    expect(b.size).toBe(11);
    expect(bodies(b.takeBatch())).toEqual(['a4', 'a5', 'a6', 'a7', 'a8', 'a9', 'a10', 'a11', 'a12', 'a13']);
    expect(b.hasSendable()).toBe(false); // A is in flight again
  });

  it('requeue of entries from several groups keeps each group in order', () => {
    const d = dest(true);
    const b = new Batcher(d);
    for (let i = 0; i < 4; i++) {
      b.add(env(d, `a${i}`, 'A'));
      b.add(env(d, `b${i}`, 'B'));
    }
    const one = b.takeBatch();
    expect(bodies(one)).toEqual(['a0', 'a1', 'a2', 'a3', 'b0', 'b1', 'b2', 'b3']);
    b.add(env(d, 'a4', 'A'));
    b.add(env(d, 'b4', 'B'));
    const failed = one.filter((e) => ['a1', 'a3', 'b2'].includes(bodyOf(e.message)));
    b.release(one, new Set(['A', 'B']));
    b.requeue(failed);
    const two = bodies(b.takeBatch());
    expect(two.filter((s) => s.startsWith('a'))).toEqual(['a1', 'a3', 'a4']);
    expect(two.filter((s) => s.startsWith('b'))).toEqual(['b2', 'b4']);
  });

  it('takes groups round robin: a group that just sent goes to the back', () => {
    const d = dest(true);
    const b = new Batcher(d);
    for (const g of ['A', 'B', 'C']) for (let i = 0; i < 12; i++) b.add(env(d, `${g}${i}`, g));
    const order: string[] = [];
    for (let guard = 0; guard < 10 && b.size > 0; guard++) {
      const batch = b.takeBatch();
      order.push([...new Set(batch.map((e) => groupIdOf(e.message)))].join(''));
      b.release(batch, new Set());
    }
    expect(order).toEqual(['A', 'B', 'C', 'ABC']);
  });

  it('mixes groups in one batch up to 10 entries, one batch in flight per group', () => {
    const d = dest(true);
    const b = new Batcher(d);
    for (let i = 0; i < 3; i++) for (const g of ['A', 'B', 'C', 'D']) b.add(env(d, `${g}${i}`, g));
    const one = b.takeBatch();
    expect(bodies(one)).toEqual(['A0', 'A1', 'A2', 'B0', 'B1', 'B2', 'C0', 'C1', 'C2', 'D0']);
    // D is now blocked with D1, D2 waiting: nothing else may go.
    expect(b.hasSendable()).toBe(false);
    b.release(one, new Set());
    expect(bodies(b.takeBatch())).toEqual(['D1', 'D2']);
  });

  it('keeps to the 1 MiB cap across groups and leaves a group that does not fit ready', () => {
    const d = dest(true);
    const b = new Batcher(d);
    b.add(env(d, 'a0', 'A', 700_000));
    b.add(env(d, 'a1', 'A', 700_000));
    b.add(env(d, 'b0', 'B', 900_000));
    b.add(env(d, 'c0', 'C', 300_000));
    expect(b.fullBatchReady()).toBe(true);
    const one = b.takeBatch();
    expect(bodies(one)).toEqual(['a0', 'c0']); // B's 900 kB does not fit beside a0
    expect(one.reduce((s, e) => s + e.bytes, 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    const two = b.takeBatch();
    expect(bodies(two)).toEqual(['b0']); // A is blocked, B was left ready
    b.release(one, new Set());
    expect(bodies(b.takeBatch())).toEqual(['a1']);
  });

  it('drainAll returns every held entry', () => {
    const d = dest(true);
    const b = new Batcher(d);
    for (const s of range('a', 12)) b.add(env(d, s, 'A'));
    b.takeBatch();
    expect(bodies(b.drainAll())).toEqual(['a10', 'a11']);
    expect(b.size).toBe(0);
  });
});

describe('FIFO entries per group (--fifo-max-per-group)', () => {
  it('with 1, a batch takes one entry from each of up to 10 groups, and the rest of a group waits for release', () => {
    const d = dest(true);
    const b = new Batcher(d, 1);
    for (let i = 0; i < 5; i++) for (const g of ['a', 'b', 'c']) b.add(env(d, `${g}${i}`, g));
    const first = b.takeBatch();
    expect(first.map((e) => bodyOf(e.message))).toEqual(['a0', 'b0', 'c0']);
    expect(b.takeBatch()).toEqual([]); // every group is blocked until its batch comes back
    b.release(first, new Set());
    expect(b.takeBatch().map((e) => bodyOf(e.message))).toEqual(['a1', 'b1', 'c1']);
  });

  it('with 10, one busy group fills a batch in order', () => {
    const d = dest(true);
    const b = new Batcher(d, 10);
    for (let i = 0; i < 12; i++) b.add(env(d, `m${i}`, 'solo'));
    expect(b.takeBatch().map((e) => bodyOf(e.message))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9']);
  });
});

describe('expireBefore (messages held past --max-message-age-ms during an outage)', () => {
  const aged = (d: Destination, body: string, acceptedAt: number, groupId?: string): Envelope => ({ ...env(d, body, groupId), accepted: { at: acceptedAt } });

  it('standard queue: removes the old entries, keeps the rest in order and sendable', () => {
    const d = dest(false);
    const b = new Batcher(d);
    for (const [body, at] of [['a', 5], ['b', 50], ['c', 1], ['d', 60]] as const) b.add(aged(d, body, at));
    expect(bodies(b.expireBefore(10))).toEqual(['a', 'c']);
    expect(b.size).toBe(2);
    expect(b.fullBatchReady()).toBe(false);
    expect(bodies(b.takeBatch())).toEqual(['b', 'd']);
    expect(b.hasSendable()).toBe(false);
    expect(b.expireBefore(100)).toEqual([]);
  });

  it('FIFO queue: per group, blocked groups too; an emptied group is gone, the others keep their order', () => {
    const d = dest(true);
    const b = new Batcher(d, 1);
    b.add(aged(d, 'g1:old', 1, 'g1'));
    b.add(aged(d, 'g1:new', 50, 'g1'));
    b.add(aged(d, 'g2:old', 1, 'g2'));
    b.add(aged(d, 'g3:a', 1, 'g3'));
    b.add(aged(d, 'g3:b', 2, 'g3'));
    b.add(aged(d, 'g3:c', 60, 'g3'));
    const inFlight = b.takeBatch(); // one of each group: g1:old, g2:old, g3:a; all three blocked now
    expect(bodies(inFlight)).toEqual(['g1:old', 'g2:old', 'g3:a']);
    expect(bodies(b.expireBefore(10))).toEqual(['g3:b']);
    b.release(inFlight, new Set());
    expect(b.size).toBe(2);
    expect(bodies(b.takeBatch())).toEqual(['g1:new', 'g3:c']);
    const d2 = dest(true);
    const c = new Batcher(d2, 1);
    c.add(aged(d2, 'x:old', 1, 'x'));
    c.add(aged(d2, 'y:new', 50, 'y'));
    expect(bodies(c.expireBefore(10))).toEqual(['x:old']);
    expect(bodies(c.takeBatch())).toEqual(['y:new']);
    expect(c.hasSendable()).toBe(false);
  });
});
