/**
 * The adaptive in-flight limit (src/delivery/inflight.ts) on its own, and through the pipeline:
 * it starts at 64 (or the ceiling), grows by one per batch back while others wait, never past
 * --max-concurrency, halves once per round trip when SQS throttles (never below the floor), and
 * holds back batches once 64 MiB of messages are in flight.
 */
import { jest } from '@jest/globals';
import { InFlightLimit } from '../../src/delivery/inflight.js';
import { Pipeline, type PipelineOptions } from '../../src/delivery/pipeline.js';
import type { SendMessageBatchRequestEntry, SendMessageBatchResult } from '../../src/sqs/types.js';
import { allOk, captureLogger, FakeBatchClient, flush, makeDest, msg, RecordingStore, throttled, useFakeClock } from '../support/delivery-harness.js';

describe('InFlightLimit', () => {
  it('starts at 64 or the ceiling, floor 8 or the ceiling', () => {
    expect(new InFlightLimit(256).current).toBe(64);
    expect(new InFlightLimit(20).current).toBe(20);
    expect(new InFlightLimit(3)).toMatchObject({ current: 3, min: 3 });
    expect(new InFlightLimit(256).min).toBe(8);
  });

  it('grows by one per batch back while others waited, never past the ceiling; not without waiting batches', () => {
    const l = new InFlightLimit(70);
    for (let i = 0; i < 3; i++) l.done(0, 1, false, false);
    expect(l.current).toBe(64);
    for (let i = 0; i < 100; i++) l.done(0, 1, false, true);
    expect(l.current).toBe(70);
  });

  it('halves on throttling once per round trip: batches sent before the cut do not cut again; not below the floor', () => {
    const l = new InFlightLimit(256);
    l.done(10, 100, true, true);
    expect(l.current).toBe(32);
    for (let i = 0; i < 20; i++) l.done(50 + i, 100 + i, true, true); // all sent before the cut at 100
    expect(l.current).toBe(32);
    l.done(101, 200, true, false); // sent after it: a new signal
    expect(l.current).toBe(16);
    for (let t = 300; t < 1000; t += 100) l.done(t - 1, t, true, true);
    expect(l.current).toBe(8);
  });

  it('allows while under the count and the bytes in flight', () => {
    const l = new InFlightLimit(2, 2, 1, 1000);
    expect(l.allows(0, 0)).toBe(true);
    expect(l.allows(1, 999)).toBe(true);
    expect(l.allows(1, 1000)).toBe(false);
    expect(l.allows(2, 0)).toBe(false);
  });
});

describe('the pipeline with the adaptive limit', () => {
  const OPTIONS: PipelineOptions = { lingerMs: 1, maxConcurrency: 256, maxBacklogMessages: 1_000_000, maxBacklogBytes: 1 << 30, retryBaseMs: 10, retryMaxMs: 20, maxMessageAgeMs: 0 };
  let client: FakeBatchClient;
  beforeEach(() => {
    useFakeClock();
    client = new FakeBatchClient();
  });
  afterEach(() => jest.useRealTimers());

  const pipeline = (o: Partial<PipelineOptions> = {}): Pipeline => new Pipeline(client.asClient(), new RecordingStore(), { ...OPTIONS, ...o }, captureLogger().log);
  const answerAll = async (result: (e: SendMessageBatchRequestEntry[]) => SendMessageBatchResult | Error): Promise<number> => {
    const pending = client.pending;
    for (const c of pending) c.answer(result(c.entries));
    await flush();
    return pending.length;
  };

  it('a backlog raises the requests in flight from 64 towards --max-concurrency, and throttling halves them', async () => {
    const p = pipeline();
    const d = makeDest('q');
    // 4,000 full batches waiting.
    for (let i = 0; i < 4000; i++) await p.accept(d, Array.from({ length: 10 }, (_, k) => msg(`m${i}-${k}`)));
    await flush();
    expect(p.inFlightRequests).toBe(64);
    await answerAll(allOk); // 64 back, each while others waited: +64
    expect(p.concurrency.current).toBe(128);
    expect(p.inFlightRequests).toBe(128);
    await answerAll(allOk);
    expect(p.inFlightRequests).toBe(256);
    await answerAll(allOk);
    expect(p.inFlightRequests).toBe(256); // the ceiling
    jest.setSystemTime(Date.now() + 20);
    await answerAll(() => throttled()); // 256 throttled answers to requests in flight together: one cut
    expect(p.concurrency.current).toBe(128);
    expect(p.inFlightRequests).toBeLessThanOrEqual(128);
  });

  it('holds back batches once the message bytes in flight reach their bound, however high the count limit', async () => {
    const p = pipeline({ maxInFlightBytes: 10 * 1_048_576 });
    const d = makeDest('big');
    const body = 'x'.repeat(1000);
    // 100 messages counted as 1 MiB each (SQS's most): one per batch.
    for (let i = 0; i < 100; i++) await p.accept(d, [msg(`${i}${body}`, {}, 1_048_576)]);
    await flush();
    expect(p.inFlightRequests).toBe(10); // the count limit (64) is not what stops it
    client.pending[0]?.answer(allOk(client.pending[0]?.entries ?? []));
    await flush();
    expect(p.inFlightRequests).toBe(10); // one back, one more out
    expect(client.calls).toHaveLength(11);
  });
});
