/**
 * The outage hold (src/delivery/outage.ts, issue 14): while SQS fails every request, batches wait
 * behind one probe at a time instead of each failing and retrying on its own schedule; the first
 * answer sends everything again at the in-flight limit's pace. Fake timers, Math.random pinned to
 * 1 (each backoff its full value), and an SQS client the test answers.
 */
import { jest } from '@jest/globals';
import { OUTAGE_AFTER_MS, OUTAGE_AT_ONCE_FAULTS, outageSignal, PROBE_MAX_MS } from '../../src/delivery/outage.js';
import { Pipeline, type PipelineOptions } from '../../src/delivery/pipeline.js';
import type { BatchOutcome } from '../../src/delivery/sender.js';
import { SqsError } from '../../src/sqs/errors.js';
import type { SendMessageBatchRequestEntry } from '../../src/sqs/types.js';
import { advance, allOk, captureLogger, FakeBatchClient, flush, makeDest, makeEnvelope, msg, RecordingStore, useFakeClock } from '../support/delivery-harness.js';

const OPTIONS: PipelineOptions = { lingerMs: 10, maxConcurrency: 8, maxBacklogMessages: 100_000, maxBacklogBytes: 64 * 1_048_576, retryBaseMs: 100, retryMaxMs: 20_000, maxMessageAgeMs: 0 };
const down = (): Error => new SqsError('ServiceUnavailable', 'Service is unavailable', 503);

let client: FakeBatchClient;
let store: RecordingStore;
let logs: ReturnType<typeof captureLogger>;

function pipeline(options: Partial<PipelineOptions> = {}): Pipeline {
  return new Pipeline(client.asClient(), store, { ...OPTIONS, ...options }, logs.log);
}

beforeEach(() => {
  useFakeClock();
  jest.spyOn(Math, 'random').mockReturnValue(1);
  client = new FakeBatchClient();
  store = new RecordingStore();
  logs = captureLogger();
});
afterEach(() => {
  jest.restoreAllMocks();
  jest.useRealTimers();
});

/** Accepts `n` messages `prefix0..` on `queue` (FIFO: `groups` groups, round robin). */
async function accept(p: Pipeline, queue: string, n: number, prefix: string, groups = 0): Promise<void> {
  const d = makeDest(queue);
  const items = Array.from({ length: n }, (_, i) => msg(`${prefix}${i}`, groups > 0 ? { groupId: `g${i % groups}` } : {}));
  await p.accept(d, items);
  await flush();
}

/** Runs the clock until the pipeline holds its batches (SQS answering `down` to everything). */
async function untilHeld(p: Pipeline): Promise<void> {
  for (let t = 0; t < 10_000 && p.outage.snapshot().state !== 'outage-probe'; t += 50) await advance(50);
  expect(p.outage.snapshot().state).toBe('outage-probe');
}

describe('outageSignal', () => {
  const env = makeEnvelope(makeDest('q'), 'a');
  const outcome = (o: Partial<BatchOutcome>): BatchOutcome => ({ delivered: [], failed: [], md5Mismatch: [], ...o });
  it('a transient failure of the request, or of every entry, is a fault; anything SQS took or refused for good is an answer', () => {
    const transient = new SqsError('ServiceUnavailable', 'x', 503);
    const network = new SqsError('NetworkError', 'x', 0);
    const throttledReq = new SqsError('RequestThrottled', 'x', 403);
    const denied = new SqsError('AccessDenied', 'x', 403);
    expect(outageSignal(outcome({ requestError: transient, failed: [{ env, error: transient }] }))).toBe('fault');
    expect(outageSignal(outcome({ requestError: network, failed: [{ env, error: network }] }))).toBe('fault');
    expect(outageSignal(outcome({ requestError: throttledReq, failed: [{ env, error: throttledReq }] }))).toBe('fault');
    expect(outageSignal(outcome({ failed: [{ env, error: new SqsError('InternalError', 'x', 500) }] }))).toBe('fault');
    expect(outageSignal(outcome({ requestError: denied, failed: [{ env, error: denied }] }))).toBe('answer');
    expect(outageSignal(outcome({ delivered: [env], failed: [{ env, error: transient }] }))).toBe('answer');
    expect(outageSignal(outcome({ failed: [{ env, error: transient }, { env, error: denied }] }))).toBe('answer');
    expect(outageSignal(outcome({ requestError: new SqsError('UnexpectedError', 'bug', 0, undefined, 'retry'), failed: [] }))).toBe('answer');
    // Failover: another upstream is healthy and may take the next batch.
    expect(outageSignal(outcome({ requestError: transient, failed: [{ env, error: transient }], elsewhere: true }))).toBe('neutral');
  });
});

describe('while SQS fails every request', () => {
  it('after a second of faults only one probe at a time goes, with a doubling wait capped at PROBE_MAX_MS; the answer sends everything, nothing lost', async () => {
    client.auto = down;
    const p = pipeline();
    await accept(p, 'q', 500, 'm');
    await untilHeld(p);
    const atHold = client.calls.length;
    expect(logs.find('one probe at a time')).toHaveLength(1);

    // Probes answered by hand from now on: exactly one in flight, never two.
    client.auto = undefined;
    const gaps: number[] = [];
    let last = Date.now();
    for (let i = 0; i < 12; i++) {
      for (let t = 0; t < 10 && client.pending.length === 0; t++) await advance(PROBE_MAX_MS / 10);
      expect(client.pending).toHaveLength(1);
      const probe = client.pending[0]!;
      gaps.push(probe.at - last);
      last = probe.at;
      await advance(PROBE_MAX_MS); // nothing else goes while the probe is out
      expect(client.pending).toHaveLength(1);
      probe.answer(down());
      last = Date.now();
      await flush();
    }
    expect(client.calls.length - atHold).toBe(12);
    expect(gaps.slice(0, 6)).toEqual([100, 200, 400, 800, 1600, 3200]);
    expect(Math.max(...gaps)).toBe(PROBE_MAX_MS);
    expect(p.outage.snapshot()).toMatchObject({ state: 'outage-probe', probesFailed: 12, heldDestinations: 1 });

    // SQS is back: the probe's answer releases every held batch, at the in-flight limit (8) at once.
    for (let t = 0; t < 10 && client.pending.length === 0; t++) await advance(PROBE_MAX_MS / 10);
    client.pending[0]!.answer(allOk(client.pending[0]!.entries));
    await flush();
    expect(client.pending.length).toBe(8);
    expect(p.outage.snapshot().state).toBe('delivering');
    client.auto = allOk;
    for (const c of client.pending) c.answer(allOk(c.entries));
    await advance(100);
    expect(p.backlogMessages).toBe(0);
    expect(new Set(store.deliveredIds).size).toBe(500);
    expect(p.totals).toMatchObject({ accepted: 500, sent: 500, deadLettered: 0 });
  });

  it('probeNow() (a failover upstream is healthy again) sends the next probe at once, never a second one beside it', async () => {
    client.auto = down;
    const p = pipeline();
    await accept(p, 'q', 50, 'm');
    await untilHeld(p);
    client.auto = undefined;
    // Let three probes fail: the next wait is 800 ms.
    for (let i = 0; i < 3; i++) {
      for (let t = 0; t < 10 && client.pending.length === 0; t++) await advance(PROBE_MAX_MS / 10);
      client.pending[0]!.answer(down());
      await flush();
    }
    expect(client.pending).toHaveLength(0);
    const before = client.calls.length;
    p.outage.probeNow();
    await flush();
    expect(client.calls.length - before).toBe(1); // at once, no time passed
    p.outage.probeNow(); // one in flight: nothing more
    await flush();
    expect(client.pending).toHaveLength(1);
    client.auto = allOk;
    client.pending[0]!.answer(allOk(client.pending[0]!.entries));
    await advance(100);
    expect(p.outage.snapshot().state).toBe('delivering');
    expect(new Set(store.deliveredIds).size).toBe(50);
    p.outage.probeNow(); // not holding: nothing
    await flush();
    expect(client.pending).toHaveLength(0);
  });

  it('FIFO: the held groups go in order after the outage, each message once delivered', async () => {
    client.auto = down;
    const p = pipeline();
    await accept(p, 'q.fifo', 90, 'f', 3);
    await untilHeld(p);
    await advance(60_000);
    const during = client.calls.length;
    await advance(60_000);
    expect(client.calls.length - during).toBeLessThanOrEqual(Math.ceil(60_000 / PROBE_MAX_MS) + 1);
    const delivered: string[] = [];
    client.auto = (entries) => {
      delivered.push(...entries.map((e: SendMessageBatchRequestEntry) => `${e.MessageGroupId}:${e.MessageBody}`));
      return allOk(entries);
    };
    await advance(PROBE_MAX_MS + 100);
    expect(p.backlogMessages).toBe(0);
    expect(delivered).toHaveLength(90);
    for (const g of ['g0', 'g1', 'g2']) {
      const want = Array.from({ length: 90 }, (_, i) => i).filter((i) => `g${i % 3}` === g).map((i) => `${g}:f${i}`);
      expect(delivered.filter((x) => x.startsWith(`${g}:`))).toEqual(want);
    }
  });

  it('a probe that SQS refuses for good ends the hold: that message is dead-lettered, the rest are sent', async () => {
    client.auto = down;
    const p = pipeline();
    await accept(p, 'q', 30, 'm');
    await untilHeld(p);
    client.auto = (entries) => (entries.some((e) => e.MessageBody === 'm0') ? new SqsError('AccessDenied', 'no', 403) : allOk(entries));
    await advance(PROBE_MAX_MS);
    await advance(100);
    expect(p.outage.snapshot().state).toBe('delivering');
    expect(p.totals.deadLettered).toBeGreaterThan(0);
    expect(p.totals.sent + p.totals.deadLettered).toBe(30);
    expect(store.dead.every((d) => d.reason.code === 'AccessDenied')).toBe(true);
  });

  it('a few faults among answers, or faults for less than a second, do not hold anything', async () => {
    let n = 0;
    client.auto = (entries) => (n++ % 3 === 2 ? allOk(entries) : down());
    const p = pipeline();
    for (let i = 0; i < 20; i++) {
      await accept(p, 'q', 20, `r${i}-`);
      await advance(200);
    }
    expect(p.outage.snapshot()).toMatchObject({ state: 'delivering', outagesTotal: 0 });
    client.auto = down;
    await accept(p, 'q', 20, 'late');
    await advance(OUTAGE_AFTER_MS - 200);
    expect(p.outage.snapshot().state).toBe('delivering');
  });

  it(`${OUTAGE_AT_ONCE_FAULTS} faults in a row hold at once, before a second has passed: an outage's first moments cost no storm of retries`, async () => {
    client.auto = undefined;
    const p = pipeline({ maxConcurrency: 64 });
    await accept(p, 'q', 640, 'm'); // 64 batches in flight at once
    expect(client.pending).toHaveLength(64);
    for (const c of client.pending.slice(0, OUTAGE_AT_ONCE_FAULTS - 1)) c.answer(down());
    await flush();
    expect(p.outage.snapshot().state).toBe('delivering');
    client.pending[0]!.answer(down());
    await flush();
    expect(p.outage.snapshot()).toMatchObject({ state: 'outage-probe', outagesTotal: 1 });
    // The rest come back failing too; in the next 900 ms only probes go (50-100, then 100-200 ms... apart), not each batch's retries.
    client.auto = down;
    for (const c of client.pending) c.answer(down());
    const before = client.calls.length;
    await advance(900);
    expect(client.calls.length - before).toBeLessThanOrEqual(4);
    // SQS answers: everything goes.
    client.auto = allOk;
    await advance(PROBE_MAX_MS + 100);
    expect(p.backlogMessages).toBe(0);
    expect(new Set(store.deliveredIds).size).toBe(640);
  });

  it('shutdown during the hold: close() keeps probing for its grace period, then leaves the rest to the store', async () => {
    client.auto = down;
    const p = pipeline();
    await accept(p, 'q', 50, 'm');
    await untilHeld(p);
    const before = client.calls.length;
    const closing = p.close(3000);
    await advance(3000);
    const { remaining } = await closing;
    expect(remaining).toBe(50);
    const after = client.calls.length;
    expect(after - before).toBeGreaterThanOrEqual(1); // probes (100, 200, 400, 800, 1600 ms apart)
    expect(after - before).toBeLessThanOrEqual(5);
    await advance(60_000);
    expect(client.calls.length).toBe(after);
    expect(store.abandoned).toHaveLength(50);
  });
});

describe('--max-message-age-ms during the hold', () => {
  it('messages held past it are dead-lettered at the next failed probe, not only the probe\'s own', async () => {
    client.auto = down;
    const p = pipeline({ maxMessageAgeMs: 20_000 });
    await accept(p, 'q', 300, 'm');
    await untilHeld(p);
    await advance(20_000 + PROBE_MAX_MS + 100);
    expect(p.totals.deadLettered).toBe(300);
    expect(store.dead.every((d) => d.reason.code === 'MaxAgeExceeded' && d.reason.message.includes('ServiceUnavailable'))).toBe(true);
    expect(p.backlogMessages).toBe(0);
    expect(logs.find('past --max-message-age-ms').length).toBeGreaterThanOrEqual(1);
  });
});
