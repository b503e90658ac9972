/**
 * A run's share of the daemon's late event-loop turns, from bench/lib/turn-probe.ts's file
 * (`npm run bench -- --turn-probe`, bench/turns.ts): how many turns longer than the probe's
 * minimum fell in the run's window, how long they were in all, how much of that the main
 * thread waited, runnable, for a core and spent in garbage collection, and the longest part of one
 * turn that was not waiting (the daemon's own, its GC included).
 */
import type { TurnsFigures } from './types.js';

export interface ProbeFile {
  minGapMs: number;
  t0Epoch: number;
  wallMs: number;
  threadCpuMs: Record<string, number>;
  /** [at ms since t0, gap ms, waiting ms, GC ms] */
  all?: Array<[number, number, number, number]>;
  longest: Array<{ at: number; gapMs: number; waitMs: number; gcMs: number; gcKinds?: string }>;
}

/** Does the window [startWallMs, +elapsedMs] fall inside the probe's life (its daemon's run)? */
export function inProbe(probe: ProbeFile, startWallMs: number): boolean {
  const from = startWallMs - probe.t0Epoch;
  return from >= 0 && from <= probe.wallMs;
}

/** The late turns that began inside the window, summed. */
export function turnsIn(probe: ProbeFile, startWallMs: number, elapsedMs: number): TurnsFigures {
  const from = startWallMs - probe.t0Epoch;
  const to = from + elapsedMs;
  const gaps = probe.all ?? probe.longest.map((g) => [g.at, g.gapMs, g.waitMs, g.gcMs] as [number, number, number, number]);
  let count = 0;
  let lateMs = 0;
  let waitingMs = 0;
  let gcMs = 0;
  let longestMs = 0;
  let longestOwnMs = 0;
  for (const [at, gap, wait, gc] of gaps) {
    if (at < from || at > to) continue;
    count += 1;
    lateMs += gap;
    waitingMs += wait;
    gcMs += gc;
    longestMs = Math.max(longestMs, gap);
    longestOwnMs = Math.max(longestOwnMs, gap - wait);
  }
  return { minGapMs: probe.minGapMs, count, lateMs, waitingMs, gcMs, longestMs, longestOwnMs };
}

/** `x` ms as a share of the turns' time, e.g. `42 %` (– when there were none). */
export function shareOfLate(t: TurnsFigures, x: number): string {
  return t.lateMs > 0 ? `${((100 * x) / t.lateMs).toFixed(0)} %` : '–';
}
