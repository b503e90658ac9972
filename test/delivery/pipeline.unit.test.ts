/**
 * The Pipeline on its own, with fake timers and an SQS client the test answers by hand:
 * when batches leave (count, bytes, linger, idle queue, free send slot), FIFO groups,
 * back-pressure and close. Retries: pipeline-retry.unit.test.ts. The same behaviour through
 * a real daemon and HTTP: end-to-end.test.ts.
 */
import { createHash } from 'node:crypto';
import { bodyOf } from '../../src/delivery/envelope.js';
import { jest } from '@jest/globals';
import { Pipeline, type PipelineOptions } from '../../src/delivery/pipeline.js';
import { SqsError } from '../../src/sqs/errors.js';
import { advance, allOk, captureLogger, FakeBatchClient, flush, makeDest, msg, RecordingStore, useFakeClock } from '../support/delivery-harness.js';

const OPTIONS: PipelineOptions = { lingerMs: 50, maxConcurrency: 8, maxBacklogMessages: 10_000, maxBacklogBytes: 64 * 1_048_576, retryBaseMs: 100, retryMaxMs: 1000, maxMessageAgeMs: 0 };

let client: FakeBatchClient;
let store: RecordingStore;

function pipeline(options: Partial<PipelineOptions> = {}): Pipeline {
  return new Pipeline(client.asClient(), store, { ...OPTIONS, ...options }, captureLogger().log);
}

const range = (prefix: string, count: number, from = 0) => Array.from({ length: count }, (_, i) => `${prefix}${from + i}`);

beforeEach(() => {
  useFakeClock();
  client = new FakeBatchClient();
  store = new RecordingStore();
});
afterEach(() => {
  jest.useRealTimers();
});

describe('when a batch leaves', () => {
  it('an idle queue sends a lone message at once, whatever the linger', async () => {
    const p = pipeline({ lingerMs: 10_000 });
    await p.accept(makeDest('q'), [msg('alone')]);
    await flush();
    expect(client.bodies()).toEqual([['alone']]);
  });

  it('messages accepted in the same turn share one batch', async () => {
    const p = pipeline();
    const d = makeDest('q');
    for (const b of ['a', 'b', 'c']) void p.accept(d, [msg(b)]);
    await flush();
    expect(client.bodies()).toEqual([['a', 'b', 'c']]);
  });

  it('by count: 10 entries leave at once while another batch is in flight; the 11th waits for the linger', async () => {
    const p = pipeline({ lingerMs: 1000 });
    const d = makeDest('q');
    await p.accept(d, [msg('first')]);
    await flush();
    await p.accept(d, range('m', 11).map((b) => msg(b)));
    await flush();
    expect(client.bodies()).toEqual([['first'], range('m', 10)]);
    await advance(999);
    expect(client.calls).toHaveLength(2);
    await advance(1);
    expect(client.bodies()[2]).toEqual(['m10']);
    expect(client.pending).toHaveLength(3); // none of them waited for another to come back
  });

  it('by bytes: entries that reach 1 MiB leave at once, and a batch never holds more than 1 MiB', async () => {
    const p = pipeline({ lingerMs: 1000 });
    const d = makeDest('q');
    await p.accept(d, [msg('first')]);
    await flush();
    // 2 x 500,000 bytes stay under 1 MiB: they linger.
    await p.accept(d, [msg('half-1', {}, 500_000), msg('half-2', {}, 500_000)]);
    await flush();
    expect(client.calls).toHaveLength(1);
    // A third makes 1.5 MB waiting: a batch leaves now, with the two that fit in 1 MiB.
    await p.accept(d, [msg('half-3', {}, 500_000)]);
    await flush();
    expect(client.bodies()).toEqual([['first'], ['half-1', 'half-2']]);
    await advance(1000);
    expect(client.bodies()[2]).toEqual(['half-3']);
  });

  it('linger: while a batch is in flight, a partial batch waits lingerMs, then goes without waiting for the first', async () => {
    const p = pipeline({ lingerMs: 50 });
    const d = makeDest('q');
    await p.accept(d, [msg('first')]);
    await flush();
    await p.accept(d, [msg('b')]);
    await advance(30);
    await p.accept(d, [msg('c')]); // joins b: the timer is b's, not restarted
    await advance(19);
    expect(client.calls).toHaveLength(1);
    await advance(1);
    expect(client.bodies()).toEqual([['first'], ['b', 'c']]);
    expect(client.pending).toHaveLength(2);
  });

  it('after a full batch leaves, what remains lingers afresh instead of leaving with the old timer', async () => {
    const p = pipeline({ lingerMs: 300 });
    const d = makeDest('q');
    await p.accept(d, [msg('first')]);
    await flush();
    await p.accept(d, range('m', 3).map((b) => msg(b))); // would leave at 300
    await advance(150);
    await p.accept(d, range('m', 10, 3).map((b) => msg(b))); // 13 waiting: 10 leave, 3 linger until 450
    await flush();
    expect(client.bodies()[1]).toEqual(range('m', 10));
    await advance(299);
    expect(client.calls).toHaveLength(2);
    await advance(1);
    expect(client.bodies()[2]).toEqual(range('m', 3, 10));
  });

  it('after a full batch leaves with nothing behind it, the next entries linger from their own first, not with the old timer', async () => {
    const p = pipeline({ lingerMs: 300 });
    const d = makeDest('q');
    await p.accept(d, [msg('first')]);
    await flush();
    await p.accept(d, range('m', 3).map((b) => msg(b))); // its linger would end at 300
    await advance(150);
    await p.accept(d, range('m', 7, 3).map((b) => msg(b))); // 10 waiting: they leave, nothing remains
    await flush();
    expect(client.bodies()[1]).toEqual(range('m', 10));
    await advance(50);
    await p.accept(d, [msg('next')]); // at 200: lingers until 500
    await advance(299);
    expect(client.calls).toHaveLength(2); // the old timer (due at 300) is gone
    await advance(1);
    expect(client.bodies()[2]).toEqual(['next']);
  });

  it('at most maxConcurrency requests in flight, all queues together; waiting batches fill meanwhile', async () => {
    const p = pipeline({ maxConcurrency: 1, lingerMs: 1 });
    const q1 = makeDest('q1');
    const q2 = makeDest('q2');
    await p.accept(q1, [msg('first')]);
    await flush();
    for (let i = 0; i < 12; i++) {
      await p.accept(q1, [msg(`a${i}`)]);
      await p.accept(q2, [msg(`b${i}`)]);
      await advance(5); // far past the 1 ms linger: no slot, no send
    }
    expect(client.calls).toHaveLength(1);
    expect(p.inFlightRequests).toBe(1);
    for (let i = 1; i <= 4; i++) {
      client.calls[i - 1]?.answer(allOk(client.calls[i - 1]?.entries ?? []));
      await flush();
      expect(client.calls).toHaveLength(i + 1);
      expect(client.pending).toHaveLength(1);
    }
    // Full batches, the queues taking turns (q2 was ready first: it was idle, q1 lingered).
    expect(client.bodies().slice(1)).toEqual([range('b', 10), range('a', 10), ['b10', 'b11'], ['a10', 'a11']]);
  });
});

describe('FIFO queues', () => {
  it("one batch per message group in flight: the group's next message waits for it, other groups go", async () => {
    const p = pipeline({ lingerMs: 10 });
    const d = makeDest('q.fifo');
    await p.accept(d, [msg('g1:1', { groupId: 'g1' }), msg('g1:2', { groupId: 'g1' }), msg('g2:1', { groupId: 'g2' })]);
    await flush();
    expect(client.bodies()).toEqual([['g1:1', 'g2:1']]); // one entry per group per batch (the default)
    await advance(1000);
    expect(client.calls).toHaveLength(1); // g1:2 waits however long g1's batch is out
    await p.accept(d, [msg('g1:3', { groupId: 'g1' }), msg('g3:1', { groupId: 'g3' })]); // g1 still blocked
    await advance(10);
    expect(client.bodies()[1]).toEqual(['g3:1']);
    client.calls[0]?.answer(allOk(client.calls[0].entries));
    await flush();
    expect(client.calls).toHaveLength(2); // g3's batch is still out: g1:2 lingers like any partial batch
    await advance(10);
    expect(client.bodies()[2]).toEqual(['g1:2']);
    await advance(1000);
    expect(client.calls).toHaveLength(3); // and g1:3 waits for g1:2
  });

  it('with fifoMaxPerGroup 10 a batch fills from one group, and still only one of its batches is in flight', async () => {
    const p = pipeline({ fifoMaxPerGroup: 10, lingerMs: 10 });
    const d = makeDest('q.fifo');
    await p.accept(d, range('m', 15).map((b) => msg(b, { groupId: 'only' })));
    await flush();
    await advance(1000);
    expect(client.bodies()).toEqual([range('m', 10)]);
    client.calls[0]?.answer(allOk(client.calls[0].entries));
    await flush();
    expect(client.bodies()[1]).toEqual(range('m', 5, 10));
  });

  it('gives each FIFO message an explicit deduplication id: the sender\'s, else SQS\'s content hash when the queue deduplicates by content, else its own stable id', async () => {
    const p = pipeline();
    const ids = await p.accept(makeDest('q.fifo'), [msg('x', { groupId: 'g' }), msg('y', { groupId: 'h', dedupId: 'given' })]);
    await p.accept(makeDest('c.fifo', { contentBasedDedup: true }), [msg('z', { groupId: 'g' })]);
    await flush();
    const dedup = client.calls.map((c) => c.entries.map((e) => e.MessageDeduplicationId));
    // Explicit even with content-based deduplication (issue 10): the SHA-256 of the body, as SQS computes it.
    expect(dedup).toEqual([[(ids as string[])[0], 'given'], [createHash('sha256').update('z', 'utf8').digest('hex')]]);
  });
});

describe('back-pressure', () => {
  it('accept() returns false past maxBacklogMessages and accepts nothing of that request', async () => {
    const p = pipeline({ maxBacklogMessages: 5 });
    const d = makeDest('q');
    expect(await p.accept(d, [msg('1'), msg('2'), msg('3')])).toHaveLength(3);
    expect(p.accept(d, [msg('4'), msg('5'), msg('6')])).toBe(false);
    expect(p.backlogMessages).toBe(3);
    expect(store.appended).toHaveLength(3);
    expect(await p.accept(d, [msg('4'), msg('5')])).toHaveLength(2);
    expect(p.accept(d, [msg('6')])).toBe(false);
    expect(p.hasRoom(1, 0)).toBe(false);
    await flush();
    client.calls[0]?.answer(allOk(client.calls[0].entries));
    await flush();
    expect(p.backlogMessages).toBe(0);
    expect(await p.accept(d, [msg('6')])).toHaveLength(1);
  });

  it('accept() returns false past maxBacklogBytes', async () => {
    const p = pipeline({ maxBacklogBytes: 1000 });
    const d = makeDest('q');
    expect(await p.accept(d, [msg('a', {}, 600)])).toHaveLength(1);
    expect(p.accept(d, [msg('b', {}, 401)])).toBe(false);
    expect(await p.accept(d, [msg('c', {}, 400)])).toHaveLength(1);
    expect(p.backlogBytes).toBe(1000);
  });

  it('acknowledges only once the store has recorded; a store that fails leaves nothing queued or counted', async () => {
    const p = pipeline();
    const d = makeDest('q');
    store.appendMode = 'async';
    let ids: string[] | undefined;
    void (p.accept(d, [msg('slow')]) as Promise<string[]>).then((x) => (ids = x));
    await flush();
    expect(ids).toBeUndefined();
    expect(client.calls).toHaveLength(0); // not sent before it is recorded
    store.pendingAppends[0]?.resolve();
    await flush();
    expect(ids).toHaveLength(1);
    expect(client.bodies()).toEqual([['slow']]);

    const rejected = p.accept(d, [msg('lost')]) as Promise<string[]>;
    store.pendingAppends[1]?.reject(new Error('fsync failed (unit)'));
    await expect(rejected).rejects.toThrow('fsync failed');
    store.appendMode = 'throw';
    await expect(p.accept(d, [msg('also lost')])).rejects.toMatchObject({ code: 'ESPOOLWRITE' });
    await flush();
    expect(client.bodies()).toEqual([['slow']]);
    expect(p.backlogMessages).toBe(1);
    expect(p.totals.accepted).toBe(1);
    expect(p.stats('q')).toMatchObject({ accepted: 1, backlog: 1 });
  });
});

describe('close', () => {
  it('sends lingering batches at once and resolves as soon as they are delivered, before the grace period', async () => {
    const p = pipeline({ lingerMs: 10_000 });
    const d = makeDest('q');
    await p.accept(d, [msg('first')]);
    await flush();
    await p.accept(d, [msg('a'), msg('b')]);
    await flush();
    expect(client.calls).toHaveLength(1);
    const t0 = Date.now();
    let result: { remaining: number } | undefined;
    void p.close(5000).then((r) => (result = r));
    await flush();
    expect(client.bodies()).toEqual([['first'], ['a', 'b']]);
    expect(p.accept(d, [msg('late')])).toBe(false);
    for (const c of client.calls) c.answer(allOk(c.entries));
    await flush();
    expect(result).toEqual({ remaining: 0 });
    expect(Date.now() - t0).toBe(0);
    expect(store.deliveredIds).toHaveLength(3);
  });

  it('with SQS stuck, gives up after the grace period, reports what is left, leaves it to the store and sends nothing more', async () => {
    const p = pipeline({ maxConcurrency: 1 });
    const d = makeDest('q');
    await p.accept(d, [msg('stuck')]);
    await flush();
    await p.accept(d, range('w', 5).map((b) => msg(b)));
    let result: { remaining: number } | undefined;
    void p.close(300).then((r) => (result = r));
    await advance(299);
    expect(result).toBeUndefined();
    await advance(1);
    expect(result).toEqual({ remaining: 6 });
    // The five that never left are handed over; the one in flight the store still holds.
    expect(store.abandoned.map((e) => bodyOf(e.message))).toEqual(range('w', 5));
    // The stuck request fails late: it is not retried, nothing else is sent.
    client.calls[0]?.answer(new SqsError('NetworkError', 'socket hang up', 0, undefined, 'retry'));
    await advance(60_000);
    expect(client.calls).toHaveLength(1);
    expect(p.totals.retried).toBe(0);
  });

  it('cancels pending retries', async () => {
    const p = pipeline({ retryBaseMs: 1000, retryMaxMs: 1000 });
    await p.accept(makeDest('q'), [msg('x')]);
    await flush();
    client.calls[0]?.answer({ Failed: [{ Id: '0', Code: 'InternalError', SenderFault: false }] });
    await flush();
    expect(p.totals.retried).toBe(1);
    let result: { remaining: number } | undefined;
    void p.close(100).then((r) => (result = r));
    await advance(100);
    expect(result).toEqual({ remaining: 1 });
    expect(jest.getTimerCount()).toBe(0); // nothing left to keep the process alive
    await advance(10_000);
    expect(client.calls).toHaveLength(1);
  });

  it('idle() resolves once nothing is waiting or in flight', async () => {
    const p = pipeline();
    await p.idle(); // nothing accepted: at once
    await p.accept(makeDest('q'), [msg('x')]);
    let idle = false;
    void p.idle().then(() => (idle = true));
    await flush();
    expect(idle).toBe(false);
    client.calls[0]?.answer(allOk(client.calls[0].entries));
    await flush();
    expect(idle).toBe(true);
  });
});
