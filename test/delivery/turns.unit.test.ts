/**
 * Delivery work in slices of the event loop (src/delivery/turns.ts, issue 11): work runs at once
 * while the window has time left, waits in order for a later turn past it, and a turn runs no more
 * of it than its slice allows, so requests read in between are not held behind it.
 */
import { jest } from '@jest/globals';
import { performance } from 'node:perf_hooks';
import { Pipeline, type PipelineOptions } from '../../src/delivery/pipeline.js';
import { DeliveryTurns } from '../../src/delivery/turns.js';
import { allOk, captureLogger, FakeBatchClient, makeDest, msg, RecordingStore } from '../support/delivery-harness.js';

/** Holds the thread for `ms` of wall time (what a piece of delivery work does to the loop). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('DeliveryTurns', () => {
  it('runs work at once while the window has time left; past it, in order, in a later turn', async () => {
    // A clock moved by hand: a descheduled test thread must not spend the window before work 3.
    let now = 0;
    const turns = new DeliveryTurns(5, setImmediate, () => now);
    const ran: number[] = [];
    turns.run(() => ran.push(1));
    turns.run(() => ran.push(2));
    expect(ran).toEqual([1, 2]); // cheap work: nothing waits
    turns.run(() => {
      ran.push(3);
      now += 6; // work that takes longer than the window
    });
    turns.run(() => ran.push(4));
    turns.run(() => ran.push(5));
    expect(ran).toEqual([1, 2, 3]);
    expect(turns.pending).toBe(2);
    expect(turns.spent()).toBe(true);
    await nextTurn();
    expect(ran).toEqual([1, 2, 3, 4, 5]);
    expect(turns.pending).toBe(0);
    expect(turns.spent()).toBe(false); // the window closed with nothing left: the next work starts a new one
  });

  it('work that throws in a later turn surfaces, and the work behind it still runs in a later turn', () => {
    const due: Array<() => void> = [];
    const turns = new DeliveryTurns(1, (fn) => due.push(fn)); // the check phases, run by hand
    const ran: string[] = [];
    turns.run(() => spin(1.5));
    turns.run(() => {
      throw new Error('bug');
    });
    turns.run(() => ran.push('after'));
    expect(turns.pending).toBe(2);
    expect(due.length).toBe(1);
    expect(() => (due.shift() as () => void)()).toThrow('bug'); // uncaught in the daemon, as before
    expect(ran).toEqual([]);
    expect(due.length).toBe(1); // the rest is not stranded: another turn is asked for
    (due.shift() as () => void)();
    expect(ran).toEqual(['after']);
    expect(turns.pending).toBe(0);
    expect(due.length).toBe(0);
    expect(turns.spent()).toBe(false);
  });

  it('a turn runs at most its slice of waiting work; the rest waits for the next turns, in order', async () => {
    let now = 0;
    const turns = new DeliveryTurns(1, setImmediate, () => now);
    let turn = 0;
    let ticking = true;
    const tick = (): void => {
      turn += 1;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const ranIn: number[] = [];
    const order: number[] = [];
    turns.run(() => (now += 1.5)); // spends the window: everything after it waits
    for (let i = 0; i < 30; i++) {
      turns.run(() => {
        order.push(i);
        ranIn.push(turn);
        now += 0.3;
      });
    }
    expect(order).toEqual([]);
    while (turns.pending > 0) await nextTurn();
    ticking = false;
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const perTurn = new Map<number, number>();
    for (const t of ranIn) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    // 0.3 ms each in a 1 ms slice, time read before each: 4 a turn (at 0, 0.3, 0.6, 0.9 ms), so 30 take 8 turns.
    expect([...perTurn.values()]).toEqual([4, 4, 4, 4, 4, 4, 4, 2]);
  });
});

describe('the pipeline takes SQS answers in by slices', () => {
  const OPTIONS: PipelineOptions = { lingerMs: 1, maxConcurrency: 256, maxBacklogMessages: 1_000_000, maxBacklogBytes: 1 << 30, retryBaseMs: 10, retryMaxMs: 20, maxMessageAgeMs: 0 };
  afterEach(() => jest.useRealTimers());

  it('64 answers that arrive together do not hold the loop: another task runs after the first few', async () => {
    const client = new FakeBatchClient();
    let done = 0;
    // Each answer taken in costs the loop 0.3 ms (what a SendMessageBatch answer, its marks and the next batch cost on a slow machine).
    const p = new Pipeline(client.asClient(), new RecordingStore(), OPTIONS, captureLogger().log, undefined, {
      batchDone: () => {
        done += 1;
        spin(0.3);
      },
    });
    const d = makeDest('q');
    for (let i = 0; i < 100; i++) await p.accept(d, Array.from({ length: 10 }, (_, k) => msg(`m${i}-${k}`)));
    while (client.pending.length < 64) await nextTurn();
    const pending = client.pending;
    expect(pending.length).toBe(64);
    let doneWhenOtherRan = -1;
    setImmediate(() => (doneWhenOtherRan = done)); // another request's work, due in the next check phase
    for (const c of pending) c.answer(allOk(c.entries)); // all 64 answers in one task, as from one poll phase
    while (doneWhenOtherRan < 0) await nextTurn();
    // Without slices all 64 were taken in (64 x 0.3 ms = 19 ms) before anything else could run.
    expect(doneWhenOtherRan).toBeGreaterThanOrEqual(1);
    expect(doneWhenOtherRan).toBeLessThanOrEqual(8);
    client.auto = allOk;
    for (const c of client.pending) c.answer(allOk(c.entries));
    await p.idle();
    expect(p.totals.sent).toBe(1000);
    await p.close(100);
  });
});
