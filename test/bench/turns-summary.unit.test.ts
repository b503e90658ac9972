/**
 * bench/lib/turns-summary.ts: a bench run's share of the daemon's late turns (--turn-probe).
 */
import { inProbe, type ProbeFile, turnsIn } from '../../bench/lib/turns-summary.js';

const probe: ProbeFile = {
  minGapMs: 4,
  t0Epoch: 1_000_000,
  wallMs: 10_000,
  threadCpuMs: {},
  // [at, gap, waiting, gc]: two turns before the run, three in it, one after
  all: [
    [100, 50, 10, 0],
    [1_999, 6, 0, 0],
    [2_000, 20, 10, 5],
    [2_500, 10, 2, 0],
    [3_000, 8, 8, 0],
    [3_001, 30, 0, 30],
  ],
  longest: [],
};

test("sums the turns that began in the run's window, and only those", () => {
  expect(turnsIn(probe, 1_002_000, 1_000)).toEqual({ minGapMs: 4, count: 3, lateMs: 38, waitingMs: 20, gcMs: 5, longestMs: 20, longestOwnMs: 10 });
});

test("the longest own part is one turn's less its waiting (its GC counted), not the longest turn's", () => {
  const own: ProbeFile = { ...probe, all: [[2_000, 20, 15, 3], [2_100, 9, 1, 0], [2_200, 12, 2, 7]] };
  expect(turnsIn(own, 1_002_000, 1_000)).toMatchObject({ longestMs: 20, longestOwnMs: 10 });
});

test('falls back to the 200 longest when the file has no full list (older probe files)', () => {
  const old: ProbeFile = { ...probe, all: undefined, longest: [{ at: 2_100, gapMs: 12, waitMs: 3, gcMs: 1 }] };
  expect(turnsIn(old, 1_002_000, 1_000)).toMatchObject({ count: 1, lateMs: 12, waitingMs: 3, gcMs: 1 });
});

test("knows a run of another daemon: outside the probe's life", () => {
  expect(inProbe(probe, 1_005_000)).toBe(true);
  expect(inProbe(probe, 999_000)).toBe(false);
  expect(inProbe(probe, 1_011_000)).toBe(false);
});
