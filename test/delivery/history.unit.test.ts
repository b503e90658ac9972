import { History, ratesOf } from '../../src/delivery/history.js';
import type { PipelineTotals, QueueStats } from '../../src/delivery/stats.js';

function source() {
  const totals: PipelineTotals = { accepted: 0, sent: 0, retried: 0, deadLettered: 0, md5Mismatch: 0, requests: 0, requestErrors: 0 };
  const stats = new Map<string, QueueStats>();
  return { totals, backlogMessages: 0, allStats: () => stats, stats };
}

describe('History', () => {
  it('samples the counters and backlog, in total and per queue, and gives per-second rates', () => {
    const s = source();
    const h = new History(s, { intervalMs: 10_000, windowMs: 60_000 });
    s.stats.set('orders', { accepted: 0, sent: 0, retried: 0, deadLettered: 0, md5Mismatch: 0, backlog: 0, inFlight: 0 });
    h.sample(1_000_000);
    s.totals.accepted = 50;
    s.totals.sent = 40;
    s.backlogMessages = 10;
    (s.stats.get('orders') as QueueStats).accepted = 20;
    h.sample(1_010_000);
    expect(h.daemon().map((x) => [x.accepted, x.backlog])).toEqual([[0, 0], [50, 10]]);
    expect(ratesOf(h.daemon(), 'accepted')).toEqual([[1_010_000, 5]]);
    expect(ratesOf(h.daemon(), 'sent')).toEqual([[1_010_000, 4]]);
    expect(ratesOf(h.queue('orders'), 'accepted')).toEqual([[1_010_000, 2]]);
    expect(h.queue('unknown')).toEqual([]);
  });

  it('keeps only the window, and at most maxQueues series (counting the rest as dropped)', () => {
    const s = source();
    const h = new History(s, { windowMs: 30_000, maxQueues: 2 });
    for (const name of ['a', 'b', 'c']) s.stats.set(name, { accepted: 0, sent: 0, retried: 0, deadLettered: 0, md5Mismatch: 0, backlog: 0, inFlight: 0 });
    for (let t = 0; t <= 100_000; t += 10_000) h.sample(t);
    expect(h.daemon().map((x) => x.at)).toEqual([70_000, 80_000, 90_000, 100_000]);
    expect([h.queue('a').length, h.queue('b').length, h.queue('c').length]).toEqual([4, 4, 0]);
    expect(h.dropped).toBe(11);
  });

  it('records SQS counts per queue URL at most once per gap, bounded the same way', () => {
    const h = new History(source(), { minSqsGapMs: 2_000, maxQueues: 1 });
    h.recordSqs('u1', { visible: 3 }, 10_000);
    h.recordSqs('u1', { visible: 4 }, 11_000); // too soon: skipped
    h.recordSqs('u1', { visible: 5, inFlight: 1 }, 12_500);
    h.recordSqs('u2', { visible: 9 }, 12_500); // over the bound
    expect(h.sqsCounts('u1')).toEqual([{ at: 10_000, visible: 3 }, { at: 12_500, visible: 5, inFlight: 1 }]);
    expect(h.sqsCounts('u2')).toEqual([]);
  });

  it('a counter that goes backwards (never expected) gives a rate of 0, not a negative one', () => {
    expect(ratesOf([{ at: 0, accepted: 5, sent: 0, retried: 0, deadLettered: 0, backlog: 0 }, { at: 1000, accepted: 2, sent: 0, retried: 0, deadLettered: 0, backlog: 0 }], 'accepted')).toEqual([[1000, 0]]);
  });
});
