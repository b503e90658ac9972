import { setFlagsFromString } from 'node:v8';

/**
 * V8 settings the daemon runs with however it is started (the systemd unit, the npm bin, a
 * shell), set by the command line's `main` before it loads the daemon.
 *
 * `--no-allocation-site-pretenuring` (issue 14: RSS after a 1,000,000-message burst). V8 watches
 * how many objects of each object or array literal in the code survive their first young-generation
 * collections; past 85 % it allocates that literal's later objects straight in the old generation.
 * The daemon's first 10,000 accepted messages are held in memory (--max-in-memory-messages), so
 * the literals they were made from survive at 100 % (V8 does not say which: 21-22 sites in
 * test/v8-flags.test.ts's burst) and are
 * "tenured" for the life of the process, although every later message is paged out at once and
 * dies young. Each such object, born old and dead within a millisecond, then keeps its young
 * children (message, body, ...) alive through every scavenge until the next full collection
 * (old objects are roots for a scavenge). Which literals tenure depends on when the early
 * collections fall, so a run landed in one of two modes: in the ingest burst reproduced in one
 * process, 440 or 230 bytes a message promoted; with this flag 230 in every run. In the daemon
 * behind HTTP the RSS right after a 1,000,000-message burst did not move beyond noise (the old
 * generation still reaches V8's limit); CPU was unchanged within noise (docs/benchmarks.md,
 * "Fifth sitting (2026-12-02): the peak after a burst"). It is kept as the removal of a GC
 * pathology, not as the fix of that RSS.
 * An operator who wants V8's default passes `--allocation-site-pretenuring` to node: that wins.
 */
export const DAEMON_V8_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];

/** The flags of DAEMON_V8_FLAGS that node's own command line does not set otherwise; sets them and returns them. */
export function applyDaemonV8Flags(execArgv: readonly string[] = process.execArgv): string[] {
  const applied: string[] = [];
  for (const flag of DAEMON_V8_FLAGS) {
    const name = flag.replace(/^--(no-)?/, '').replace(/_/g, '-');
    const given = execArgv.some((a) => a.replace(/_/g, '-').replace(/=.*$/, '').replace(/^--(no-)?/, '') === name);
    if (given) continue;
    setFlagsFromString(flag);
    applied.push(flag);
  }
  return applied;
}
