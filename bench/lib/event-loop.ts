/**
 * The daemon's event-loop figures come from prom-client's `nodejs_eventloop_lag_*`, which read
 * node's `monitorEventLoopDelay` histogram at its 10 ms resolution (`eventLoopMonitoringPrecision`,
 * set explicitly in src/metrics.ts). That histogram records the time between two of its timer's
 * ticks, not how late a tick was: a loop that is never blocked reads ~10 ms, one blocked for 5 ms
 * ~14-15 ms, for 30 ms ~37-40 ms (checked with node 22, docs/benchmarks.md, "Round 6b"). The
 * delay beyond the tick is what a request waiting behind the loop meets, and what issue 14's
 * "event-loop delay max <= 10 ms" means; the raw values stay in the JSON results.
 */
export const EVENT_LOOP_TICK_MS = 10;

/** A `nodejs_eventloop_lag_*` value (ms) as the delay beyond the monitor's own tick (ms, at least 0). */
export function delayBeyondTick(lagMs: number): number;
export function delayBeyondTick(lagMs: number | undefined): number | undefined;
export function delayBeyondTick(lagMs: number | undefined): number | undefined {
  if (lagMs === undefined || !Number.isFinite(lagMs)) return lagMs;
  return Math.max(0, lagMs - EVENT_LOOP_TICK_MS);
}
