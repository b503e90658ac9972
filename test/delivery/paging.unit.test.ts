/**
 * Paging (src/delivery/paging.ts): with a store that pages, at most maxInMemory messages are
 * held in memory, the rest wait in the store per destination and come back in order, fairly
 * between destinations, as memory frees up. Last, the same through a Pipeline.
 */
import { jest } from '@jest/globals';
import { bodyOf, type Envelope } from '../../src/delivery/envelope.js';
import { Paging, type PagingHost, PIPELINE_PAGING } from '../../src/delivery/paging.js';
import { Pipeline } from '../../src/delivery/pipeline.js';
import type { Pager } from '../../src/delivery/store.js';
import type { Destination } from '../../src/sqs/resolver.js';
import { advance, allOk, captureLogger, FakeBatchClient, makeDest, makeEnvelope, msg, RecordingStore, useFakeClock } from '../support/delivery-harness.js';

/** A pipeline stand-in: counts what it holds, records what it was told. */
class Host implements PagingHost {
  held: Envelope[] = [];
  memory = 0;
  isClosing = false;
  lostCalls: Array<{ queue: string; count: number; bytes: number }> = [];
  pagedInCalls = 0;
  inMemory = () => this.memory;
  closing = () => this.isClosing;
  hold = (env: Envelope) => {
    this.held.push(env);
    this.memory += 1;
  };
  lost = (dest: Destination, count: number, bytes: number) => void this.lostCalls.push({ queue: dest.queueName, count, bytes });
  pagedIn = () => void (this.pagedInCalls += 1);
}

const turn = () => new Promise<void>((r) => setImmediate(r));
const bodies = (envs: Envelope[]) => envs.map((e) => bodyOf(e.message));

let store: RecordingStore;
let host: Host;
let logs: ReturnType<typeof captureLogger>;
beforeEach(() => {
  store = new RecordingStore({ paging: true });
  host = new Host();
  logs = captureLogger();
});

/** Offers `count` messages of `dest` to paging, holding those it does not page out. */
function offer(paging: Paging, dest: Destination, prefix: string, count: number): void {
  for (let i = 0; i < count; i++) {
    const env = makeEnvelope(dest, `${prefix}${i}`);
    if (!paging.maybePageOut(env)) host.hold(env);
  }
}

describe('Paging', () => {
  it('without a pager, nothing is paged out', () => {
    const paging = new Paging(new RecordingStore(), 2, logs.log, host);
    offer(paging, makeDest('q'), 'm', 5);
    expect(host.held).toHaveLength(5);
    expect(paging.total).toBe(0);
  });

  it('pages out once memory is full; later messages of that destination wait behind them, others do not', () => {
    const paging = new Paging(store, 3, logs.log, host);
    const q = makeDest('q');
    offer(paging, q, 'q', 5);
    expect(bodies(host.held)).toEqual(['q0', 'q1', 'q2']);
    expect(paging.total).toBe(2);
    host.memory = 0; // memory is free again, but q's older messages wait on disk: q5 goes behind them
    offer(paging, q, 'late', 1);
    offer(paging, makeDest('other'), 'o', 1);
    expect(bodies(host.held)).toEqual(['q0', 'q1', 'q2', 'o0']);
    expect(bodies(store.pagedOut.get(q.key) ?? [])).toEqual(['q3', 'q4', 'late0']);
    expect(paging.total).toBe(3);
  });

  it('reads back only below 75% of the bound, oldest first, up to the bound, on the next turn', async () => {
    const paging = new Paging(store, 4, logs.log, host);
    const q = makeDest('q');
    offer(paging, q, 'm', 10);
    host.memory = 4;
    paging.maybePageIn();
    await turn();
    expect(host.held).toHaveLength(4);
    host.memory = 3.5 as number; // above 75% of 4 (3)
    paging.maybePageIn();
    await turn();
    expect(host.held).toHaveLength(4);
    host.memory = 1;
    paging.maybePageIn();
    expect(host.held).toHaveLength(4); // not synchronously
    await turn();
    expect(bodies(host.held.slice(4))).toEqual(['m4', 'm5', 'm6']);
    expect(host.memory).toBe(4);
    expect(paging.total).toBe(3);
    expect(host.pagedInCalls).toBe(1);
  });

  it('shares the room between destinations and starts the next pass with those served last', async () => {
    const paging = new Paging(store, 10, logs.log, host);
    const [a, b, c] = [makeDest('a'), makeDest('b'), makeDest('c')] as [Destination, Destination, Destination];
    host.memory = 10;
    for (const d of [a, b, c]) offer(paging, d, `${d.queueName}`, 10);
    host.memory = 0;
    paging.maybePageIn();
    await turn();
    const count = (envs: Envelope[]) => Object.fromEntries(['a', 'b', 'c'].map((q) => [q, envs.filter((e) => e.dest.queueName === q).length]));
    expect(count(host.held)).toEqual({ a: 4, b: 3, c: 3 });
    host.held = [];
    host.memory = 0;
    paging.maybePageIn();
    await turn();
    expect(count(host.held)).toEqual({ a: 3, b: 4, c: 3 }); // b first this time: a went to the back
    expect(host.held[0]?.dest.queueName).toBe('b');
  });

  it('asks the store for at most 1,000 messages at a time', async () => {
    const asked: number[] = [];
    const pager = store.pager as Pager;
    const spy: Pager = { pageOut: (e) => pager.pageOut(e), pageIn: (k, max) => (asked.push(max), pager.pageIn(k, max)) };
    const paging = new Paging({ ...store, info: store.info, pager: spy } as never, 5000, logs.log, host);
    host.memory = 5000;
    offer(paging, makeDest('q'), 'm', 2500);
    host.memory = 0;
    paging.maybePageIn();
    await turn();
    expect(asked).toEqual([1000, 1000, 500]);
    expect(host.held).toHaveLength(2500);
    expect(paging.total).toBe(0);
  });

  it('records the store could not read back are reported lost, as is a count the store no longer has', async () => {
    const q = makeDest('q');
    const r = makeDest('r');
    let calls = 0;
    const pager: Pager = {
      pageOut: () => {},
      pageIn: (key) => {
        calls += 1;
        if (key === q.key) return { envs: [makeEnvelope(q, 'ok')], consumed: 3, lostBytes: 42 };
        return { envs: [], consumed: 0 }; // r: the store has nothing (count was stale)
      },
    };
    const paging = new Paging({ pager } as never, 100, logs.log, host);
    paging.restore(q, 3);
    paging.restore(r, 5);
    paging.maybePageIn();
    await turn();
    expect(bodies(host.held)).toEqual(['ok']);
    // r's five are gone from the backlog too (their bytes unknown), or it could never drain.
    expect(host.lostCalls).toEqual([
      { queue: 'q', count: 2, bytes: 42 },
      { queue: 'r', count: 5, bytes: 0 },
    ]);
    expect(paging.total).toBe(0);
    expect(calls).toBe(2);
    paging.maybePageIn();
    await turn();
    expect(calls).toBe(2); // nothing left to read
  });

  it('a store that fails to read is logged and tried again a second later', async () => {
    useFakeClock();
    try {
      let fail = true;
      const q = makeDest('q');
      const pager: Pager = {
        pageOut: () => {},
        pageIn: () => {
          if (fail) throw new Error('EIO (unit)');
          return { envs: [makeEnvelope(q, 'back')], consumed: 1 };
        },
      };
      const paging = new Paging({ pager } as never, 100, logs.log, host);
      paging.restore(q, 1);
      paging.maybePageIn();
      await advance(0);
      expect(logs.find('could not read spooled messages back')).toEqual([expect.objectContaining({ err: 'EIO (unit)', queue: 'q', level: 'error' })]);
      expect(host.held).toEqual([]);
      fail = false;
      await advance(999);
      expect(host.held).toEqual([]);
      await advance(1);
      expect(bodies(host.held)).toEqual(['back']);
    } finally {
      jest.useRealTimers();
    }
  });

  it('reads nothing back while the pipeline is closing', async () => {
    const paging = new Paging(store, 2, logs.log, host);
    offer(paging, makeDest('q'), 'm', 4);
    host.memory = 0;
    host.isClosing = true;
    paging.maybePageIn();
    await turn();
    expect(host.held).toHaveLength(2);
    expect(paging.total).toBe(2);
    // Closing after a read-back was scheduled: it reads nothing either.
    host.isClosing = false;
    paging.maybePageIn();
    host.isClosing = true;
    await turn();
    expect(host.held).toHaveLength(2);
  });
});

describe('a Pipeline with a paging store', () => {
  it('holds at most maxInMemoryMessages and delivers the whole backlog in acceptance order', async () => {
    const client = new FakeBatchClient();
    client.auto = allOk;
    const pipeline = new Pipeline(client.asClient(), store, { lingerMs: 1, maxConcurrency: 1, maxBacklogMessages: 10_000, maxBacklogBytes: 1e9, retryBaseMs: 1, retryMaxMs: 1, maxMessageAgeMs: 0, maxInMemoryMessages: 100 }, logs.log);
    const d = makeDest('q');
    const all = Array.from({ length: 250 }, (_, i) => `m${i}`);
    // Accepted while nothing can leave yet: in one turn, so they are recorded together (a
    // write-mode store's appends of one turn are one write) before the first batch is queued.
    const chunks = Array.from({ length: all.length / 50 }, (_, k) => all.slice(k * 50, k * 50 + 50));
    await Promise.all(chunks.map((c) => pipeline.accept(d, c.map((b) => msg(b)))));
    expect(pipeline.pagedOutMessages).toBe(150);
    expect(pipeline.backlogMessages).toBe(250);
    await pipeline.idle();
    expect(client.bodies().flat()).toEqual(all);
    expect(pipeline.pagedOutMessages).toBe(0);
    expect(store.deliveredIds).toHaveLength(250);
  });

  it('takes over a recovered backlog: counted at once, delivered before what is accepted after it', async () => {
    const client = new FakeBatchClient();
    client.auto = allOk;
    const pipeline = new Pipeline(client.asClient(), store, { lingerMs: 1, maxConcurrency: 2, maxBacklogMessages: 10_000, maxBacklogBytes: 1e9, retryBaseMs: 1, retryMaxMs: 1, maxMessageAgeMs: 0, maxInMemoryMessages: 100 }, logs.log);
    const d = makeDest('q');
    const old = Array.from({ length: 30 }, (_, i) => makeEnvelope(d, `old${i}`));
    store.pagedOut.set(d.key, [...old]); // as a spool recovered them
    const bytes = old.reduce((n, e) => n + e.bytes, 0);
    pipeline.restore([{ dest: d, count: 30, bytes }, { dest: makeDest('empty'), count: 0, bytes: 0 }]);
    expect({ backlog: pipeline.backlogMessages, bytes: pipeline.backlogBytes, paged: pipeline.pagedOutMessages }).toEqual({ backlog: 30, bytes, paged: 30 });
    expect(pipeline.stats('q')?.backlog).toBe(30);
    expect(pipeline.stats('empty')).toBeUndefined();
    await pipeline.accept(d, [msg('new')]); // waits behind the recovered ones
    await pipeline.idle();
    expect(client.bodies().flat()).toEqual([...old.map((e) => bodyOf(e.message)), 'new']);
    expect(pipeline.backlogBytes).toBe(0);
  });
});

describe('in slices (what the pipeline uses: PIPELINE_PAGING)', () => {
  it('asks for at most 100 a step and yields between slices: other callbacks run while a long pass reads back, the order is kept', async () => {
    const asked: number[] = [];
    const pager = store.pager as Pager;
    const spy: Pager = { pageOut: (e) => pager.pageOut(e), pageIn: (k, max) => (asked.push(max), pager.pageIn(k, max)) };
    // sliceMs 0: a turn of the loop after every step, so the test sees the yields whatever the machine's speed.
    const paging = new Paging({ ...store, info: store.info, pager: spy } as never, 5000, logs.log, host, Infinity, { ...PIPELINE_PAGING, sliceMs: 0 });
    host.memory = 5000;
    offer(paging, makeDest('q'), 'm', 2500);
    host.memory = 0;
    paging.maybePageIn();
    await turn();
    expect(host.held.length).toBeGreaterThan(0);
    expect(host.held.length).toBeLessThan(2500); // not all in one task
    for (let i = 0; i < 100 && paging.total > 0; i++) await turn();
    expect(asked.every((n) => n <= PIPELINE_PAGING.chunk)).toBe(true);
    expect(bodies(host.held)).toEqual(Array.from({ length: 2500 }, (_, i) => `m${i}`));
    expect(host.pagedInCalls).toBe(1); // told once, when the pass is done
  });

  it('a pass cut into slices still fills memory up to its bound (not only to the 75 % that starts a pass)', async () => {
    const paging = new Paging(store, 1000, logs.log, host, Infinity, { ...PIPELINE_PAGING, sliceMs: 0 });
    host.memory = 1000;
    offer(paging, makeDest('q'), 'm', 2500);
    host.memory = 0;
    paging.maybePageIn();
    for (let i = 0; i < 100 && host.memory < 1000; i++) await turn();
    await turn();
    expect(host.held).toHaveLength(1000);
    expect(paging.total).toBe(1500);
  });
});
