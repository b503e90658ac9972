/** bench/lib/chart.ts and issue 14's goals (bench/lib/report14.ts), from synthetic reports. */
import { chartSeries, decades, latencyChart } from '../../bench/lib/chart.js';
import { FILED, issue14Goals } from '../../bench/lib/report14.js';
import type { BenchReport, RunRecord } from '../../bench/lib/types.js';

function run(id: string, latency: Partial<Record<'p50' | 'p90' | 'p99' | 'p999' | 'p9999' | 'max', number>>, extra: Partial<RunRecord> = {}): RunRecord {
  const full = { count: 1000, mean: 1, p50: 1, p90: 1, p99: 1, p999: 1, max: 1, ...latency };
  return {
    id,
    system: id.startsWith('daemon') ? 'daemon' : id,
    scenario: 'open 2000/s',
    load: { mode: 'open', rate: Number(/open-(\d+)/.exec(id)?.[1] ?? 0), path: '/', connections: 64, perRequest: 1, tag: 't', bodyBytes: 200, drainTimeoutMs: 1 },
    result: { requests: 1, messages: 1, acked: 1, statuses: {}, startWallMs: 0, elapsedMs: 1, sendSpanMs: 1, latency: full as never, service: full as never, sendLag: full as never, cpuMs: 1 },
    wallMs: 1,
    serverCpuMs: 1,
    cpuUsPerMsg: 100,
    loadgenCpuPct: 0,
    fakeCpuPct: 0,
    otherCpuPct: 0,
    stealPct: 0,
    ackedPerSec: 2000,
    rssPeakBytes: 0,
    pinned: id.endsWith('-pinned'),
    ...extra,
  };
}

function report(runs: RunRecord[]): BenchReport {
  return {
    startedAt: '2026-12-01T16:00:00.000Z',
    quick: true,
    command: 'npm run bench',
    machine: { nproc: 2, cpuModel: 'cpu', memTotalGiB: 1, kernel: 'k', node: 'v22', versions: {}, loadAvgStart: [0], pinning: 'x', daemonDir: '.', daemonCommit: 'abc (clean)' },
    durabilityModes: ['write'],
    defaultMode: 'write',
    daemonDefaultMode: 'write',
    settings: { upstreamLatencyMs: 20 },
    runs,
    failures: [],
  };
}

const decadesOf = { p50: 0.1, p90: 1, p99: 10, p999: 100, p9999: 1000 };

describe('latency chart', () => {
  it('decades cover every value, at least two of them', () => {
    expect(decades([0.3, 120])).toEqual([-1, 3]);
    expect(decades([2, 3])).toEqual([-1, 1]);
    expect(decades([NaN])).toEqual([-1, 1]);
  });

  it('one line per system and layout, pinned dashed, the SDK app at its own rate, a log scale', () => {
    const r = report([
      run('daemon-write-open-2000', decadesOf),
      run('daemon-write-open-2000-pinned', { p50: 0.5, p90: 2, p99: 20, p999: 30, p9999: 40 }),
      run('koa-app-open-2000', { p50: 0.2 }),
      run('bare-open-2000-pinned', { p50: 0.1 }),
      run('sdk-open-500', { p50: 25, p90: 27, p99: 29, p999: 30, p9999: 31 }),
      run('daemon-write-open-5000', { p50: 9 }),
    ]);
    const s = chartSeries(r);
    expect(s.map((x) => `${x.label}${x.pinned ? ' pinned' : ''}`)).toEqual(['daemon (write)', 'daemon (write) pinned', 'Koa floor', 'bare node:http pinned', 'SDK app at 500/s']);
    const svg = latencyChart(r) as string;
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<polyline /g)).toHaveLength(5);
    expect(svg.match(/<polyline [^>]*stroke-dasharray/g)).toHaveLength(2);
    for (const label of ['p50', 'p90', 'p99', 'p99.9', 'p99.99', 'ack latency, ms (log scale)', 'SDK app at 500/s (29)', 'daemon (write), pinned (20)']) expect(svg).toContain(`${label}</text>`);
    // The daemon's values step by ×10: equal vertical steps on a log scale.
    const first = /<polyline points="([^"]+)"/.exec(svg)?.[1]?.split(' ').map((p) => Number(p.split(',')[1])) ?? [];
    expect(first).toHaveLength(5);
    const steps = first.slice(1).map((y, i) => (first[i] as number) - y);
    for (const st of steps) expect(st).toBeCloseTo(steps[0] as number, 0);
    expect(steps[0]).toBeGreaterThan(0);
  });

  it('skips a percentile a run does not have (results from before p99.99) and draws nothing without a 2,000 msg/s run', () => {
    const old = run('daemon-write-open-2000', {});
    delete (old.result?.latency as unknown as Record<string, unknown>).p9999;
    const svg = latencyChart(report([old])) as string;
    expect(/<polyline points="([^"]+)"/.exec(svg)?.[1]?.split(' ')).toHaveLength(4);
    expect(latencyChart(report([run('daemon-write-open-500', {}), run('sdk-open-500', {})]))).toBeUndefined();
  });
});

describe("issue 14's goals", () => {
  it('judges unpinned and pinned runs apart, and the event-loop goal only with the mid-run batch', () => {
    const lag = (max: number): Partial<RunRecord> => ({ runtime: { gcMs: {}, gcCount: 0, gcOver100ms: 0, eventLoopLagMaxMs: max, eventLoopLagP99Ms: 1, heapUsedBytes: 0, heapTotalBytes: 0, externalBytes: 0 } });
    const runs = [run('daemon-write-open-2000', { p99: 0.9, p999: 4 }, lag(8)), run('daemon-write-open-2000-pinned', { p99: 6 }, lag(9))];
    let g = issue14Goals(report(runs));
    expect(g.find((x) => x.goal.startsWith('ack p99 ≤ 1.0 ms'))?.met).toBe(true);
    expect(g.find((x) => x.goal.endsWith('pinned') && x.goal.startsWith('ack p99 ≤ 5 ms'))?.met).toBe(false);
    expect(g.find((x) => x.goal.startsWith('event-loop'))?.met).toBeUndefined();
    g = issue14Goals(report([...runs, run('daemon-write-midbatch', {}, { ...lag(22), mode: 'write' })].map((r) => ({ ...r, mode: 'write' }))));
    expect(g.find((x) => x.goal.startsWith('event-loop'))).toMatchObject({ met: false, measured: expect.stringContaining('with the batch 12.0 ms') });
  });

  it('the event-loop goal is judged on the delay beyond the monitor\'s 10 ms tick, not on the time between ticks', () => {
    const lag = (max: number): Partial<RunRecord> => ({ mode: 'write', runtime: { gcMs: {}, gcCount: 0, gcOver100ms: 0, eventLoopLagMaxMs: max, eventLoopLagP99Ms: 10.2, heapUsedBytes: 0, heapTotalBytes: 0, externalBytes: 0 } });
    const runs = (mid: number): RunRecord[] => [run('daemon-write-open-2000', {}, lag(10.4)), run('daemon-write-midbatch', {}, lag(mid))].map((r) => ({ ...r, mode: 'write' }));
    // 19 ms between two ticks: the loop was held ~9 ms, within the goal.
    expect(issue14Goals(report(runs(19))).find((x) => x.goal.startsWith('event-loop'))).toMatchObject({ met: true, measured: expect.stringContaining('worst 9.000 ms beyond the monitor\'s 10 ms tick') });
    expect(issue14Goals(report(runs(20.5))).find((x) => x.goal.startsWith('event-loop'))?.met).toBe(false);
  });

  it("also judges each machine-bound goal against this sitting's bare floor, moved from the filing day's by the same factor", () => {
    // The bare floor at twice the filing day's tail and CPU, half its saturated rate: a machine twice as slow.
    const bare = [
      { ...run('bare-open-2000', { p99: 2 * FILED.open2000.p99, p999: 2 * FILED.open2000.p999 }), cpuUsPerMsg: 2 * FILED.open2000.cpuUs },
      { ...run('bare-closed-64', {}), cpuUsPerMsg: 2 * FILED.closed.cpuUs, ackedPerSec: FILED.closed.perSec / 2 },
    ];
    const w = (r: RunRecord): RunRecord => ({ ...r, mode: 'write' });
    const daemon = [
      w({ ...run('daemon-write-open-2000', { p99: 1.5, p999: 9 }), cpuUsPerMsg: 200 }),
      w({ ...run('daemon-write-open-5000', { p99: 4.5 }) }),
      w({ ...run('daemon-write-sustained', {}), cpuUsPerMsg: 130, deliveredPerSec: 5_000, load: { ...run('x', {}).load, mode: 'closed' } }),
      w({ ...run('daemon-write-batch', {}), deliveredPerSec: 25_000 }),
    ];
    const g = issue14Goals(report([...bare, ...daemon]));
    const goal = (start: string): (typeof g)[number] | undefined => g.find((x) => x.goal.startsWith(start));
    // Absolute verdicts unchanged; the scaled ones: p99 1.5 <= 2.0 and p99.9 9 <= 10; 4.5 > 4.0 at 5,000/s.
    expect(goal('ack p99 ≤ 1.0 ms')).toMatchObject({ met: false, scaled: { met: true, goal: expect.stringContaining('p99 ≤ 2.000 ms') } });
    expect(goal('ack p99 ≤ 2 ms')).toMatchObject({ met: false, scaled: { met: false } });
    expect(goal('CPU per delivered message ≤ 110 µs')).toMatchObject({ met: false, scaled: { met: true, goal: expect.stringContaining('≤ 220.0 µs') } });
    // 130 µs is within 2 × 70 but the Koa ratio is unknown here (no Koa run): judged on the µs alone.
    expect(goal('CPU per delivered message ≤ 70 µs')).toMatchObject({ met: false, scaled: { met: true } });
    expect(goal('≥ 12,000')).toMatchObject({ met: false, scaled: { met: false, goal: expect.stringContaining('≥ 6,000 msg/s') } });
    expect(goal('≥ 40,000')).toMatchObject({ met: false, scaled: { met: true, goal: expect.stringContaining('≥ 20,000 msg/s') } });
    // Without this sitting's floors nothing is scaled; a pinned floor does not stand in for the unpinned one.
    expect(issue14Goals(report(daemon)).every((x) => x.scaled === undefined)).toBe(true);
    const pinnedOnly = bare.map((r) => ({ ...r, id: `${r.id}-pinned`, pinned: true }));
    expect(issue14Goals(report([...pinnedOnly, ...daemon])).every((x) => x.scaled === undefined)).toBe(true);
  });

  it('RSS with the unit: judged only with the full 1,000,000', () => {
    const backlog = (messages: number, rss: number): RunRecord => ({ ...run('daemon-write-backlog-unit', {}), backlog: { messages, rssBytes: rss, diskBytes: 0, ingestMs: 1, drainMs: 1, drainPerSec: 1, steadyDrainPerSec: 1 } });
    expect(issue14Goals(report([backlog(100_000, 10)]))[0]?.met).toBeUndefined();
    expect(issue14Goals(report([backlog(1_000_000, 140 * 1_048_576)]))[0]?.met).toBe(true);
    expect(issue14Goals(report([backlog(1_000_000, 151 * 1_048_576)]))[0]?.met).toBe(false);
  });

  it('RSS with the unit: judged on the highest reading while the backlog waits, not on the ingest peak', () => {
    const MiB = 1_048_576;
    const at = (atS: number, rss: number) => ({ atS, rssBytes: rss * MiB, rssAnonBytes: 0, rssFileBytes: 0, heapUsedBytes: 0, heapTotalBytes: 0, externalBytes: 0, gcCount: 0 });
    const backlog = (first: number, later: number[], peak: number): RunRecord => ({ ...run('daemon-write-backlog-unit', {}), rssPeakBytes: peak * MiB, backlog: { messages: 1_000_000, rssBytes: first * MiB, overTime: later.map((r, i) => at(10 * (i + 1), r)), diskBytes: 0, ingestMs: 1, drainMs: 1, drainPerSec: 1, steadyDrainPerSec: 1 } });
    expect(issue14Goals(report([backlog(140, [110, 120], 240)]))[0]).toMatchObject({ met: true, measured: expect.stringContaining('140 MB with 1,000,000 (first reading 140, +10 s: 110, +20 s: 120; peak during the ingest and drain 240 MB, not judged)') });
    expect(issue14Goals(report([backlog(140, [110, 151], 160)]))[0]).toMatchObject({ met: false, measured: expect.stringMatching(/^151 MB/) });
    expect(issue14Goals(report([backlog(230, [104], 240)]))[0]?.met).toBe(false);
  });
});
