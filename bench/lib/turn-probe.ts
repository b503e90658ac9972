/**
 * What a late event-loop turn of the daemon was made of (issues 11 and 14): a preload for the
 * daemon's node, never part of the daemon itself.
 *
 *   node dist-bench/bench/run.js ... --daemon-node-args "--import <repo>/dist-bench/bench/lib/turn-probe.js"
 *   TURN_PROBE_OUT=<file.json> (through --daemon-env / the environment); TURN_PROBE_MS=<gap> (default 4)
 *
 * A 1 ms timer notes each time it fires how far the main thread got: the wall time since its last
 * firing, and from Linux's /proc/thread-self/schedstat (read at open: the main thread's) how much
 * of that the thread ran on a CPU and how much it waited, runnable, for one (the machine's other
 * processes had the cores). A gap longer than TURN_PROBE_MS is kept with both parts and the
 * garbage collections that overlap it (a PerformanceObserver's `gc` entries, matched at exit). What
 * is left of a gap beyond running and waiting is time asleep in the poll (at most ~1 ms, the
 * timer's own period). On exit the gaps, longest first, go to TURN_PROBE_OUT as JSON.
 *
 * A hypervisor's steal is not in schedstat: a vCPU taken away while the thread ran counts as
 * running. The bench's own line says the run's steal %. The waiting time is exact (the kernel
 * adds it when the thread gets a CPU, before it can read it); the running time of a thread that
 * reads its own schedstat lags by up to one scheduler tick (4 ms at HZ=250), so `cpuMs` of one
 * gap is rough and only its sums mean much: bench/turns.js prints waiting and GC time.
 *
 *   node dist-bench/bench/turns.js <probe.json> <bench-result.json> [run-id-part]
 */
import { closeSync, openSync, readFileSync, readdirSync, readSync, writeFileSync } from 'node:fs';
import { PerformanceObserver, performance } from 'node:perf_hooks';

interface Gap {
  /** ms since the probe started, when the late tick was due (the previous firing). */
  at: number;
  gapMs: number;
  cpuMs: number;
  waitMs: number;
  gcMs?: number;
  gcKinds?: string;
}

const out = process.env.TURN_PROBE_OUT;
const minGap = Number(process.env.TURN_PROBE_MS ?? 4);
const MAX_GAPS = 20_000;
const MAX_GC = 200_000;

if (out !== undefined && out !== '') {
  const fd = openSync('/proc/thread-self/schedstat', 'r');
  const buf = Buffer.alloc(96);
  const read = (): [number, number] => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    const s = buf.toString('latin1', 0, n);
    const a = s.indexOf(' ');
    const b = s.indexOf(' ', a + 1);
    return [Number(s.slice(0, a)) / 1e6, Number(s.slice(a + 1, b)) / 1e6];
  };
  const t0 = performance.now();
  /** CLOCK_MONOTONIC µs at t0: the clock of a --cpu-prof profile's timestamps, to find what ran in a gap. */
  const t0Mono = Number(process.hrtime.bigint() / 1000n);
  let last = t0;
  let [lastRun, lastWait] = read();
  let ticks = 0;
  let sumRun = 0;
  let sumWait = 0;
  const gaps: Gap[] = [];
  const gcs: { start: number; ms: number; kind: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (gcs.length < MAX_GC) gcs.push({ start: e.startTime, ms: e.duration, kind: (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? 0 });
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const timer = setInterval(() => {
    const now = performance.now();
    const [run, wait] = read();
    ticks++;
    const gap = now - last;
    if (gap > minGap && gaps.length < MAX_GAPS) {
      gaps.push({ at: last - t0, gapMs: gap, cpuMs: run - lastRun, waitMs: wait - lastWait });
      sumRun += run - lastRun;
      sumWait += wait - lastWait;
    }
    last = now;
    lastRun = run;
    lastWait = wait;
  }, 1);
  timer.unref();
  /** CPU ms each of the process's threads used so far, by thread name (Linux names: node, V8Worker, libuv-worker, ...). */
  const threads = (): Record<string, number> => {
    const byName: Record<string, number> = {};
    const tick = 100; // USER_HZ on Linux
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'latin1');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        const name = readFileSync(`/proc/self/task/${tid}/comm`, 'latin1').trim() + (tid === String(process.pid) ? ' (main)' : '');
        byName[name] = (byName[name] ?? 0) + ((Number(f[11]) + Number(f[12])) * 1000) / tick;
      } catch {
        // the thread ended meanwhile
      }
    }
    return byName;
  };
  process.on('exit', () => {
    clearInterval(timer);
    obs.disconnect();
    closeSync(fd);
    // gc kinds: 1 minor (scavenge), 2 major, 4 incremental, 8 weak callbacks (perf_hooks constants)
    const names: Record<number, string> = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
    for (const g of gaps) {
      const from = g.at + t0;
      const to = from + g.gapMs;
      let ms = 0;
      const kinds: string[] = [];
      for (const c of gcs) {
        const o = Math.min(to, c.start + c.ms) - Math.max(from, c.start);
        if (o > 0) {
          ms += o;
          kinds.push(`${names[c.kind] ?? c.kind} ${c.ms.toFixed(1)}`);
        }
      }
      g.gcMs = ms;
      g.gcKinds = kinds.join(', ');
    }
    gaps.sort((x, y) => y.gapMs - x.gapMs);
    const r = (x: number): number => Math.round(x * 100) / 100;
    writeFileSync(out, `${JSON.stringify({
      minGapMs: minGap,
      /** Date.now() of `at` 0, to place the gaps in a run (the run's startWallMs in the bench's JSON). */
      t0Epoch: r(performance.timeOrigin + t0),
      t0Mono,
      wallMs: r(performance.now() - t0),
      ticks,
      gapsOverMin: gaps.length,
      gapsCpuMs: r(sumRun),
      gapsWaitMs: r(sumWait),
      threadCpuMs: threads(),
      gc: { count: gcs.length, ms: r(gcs.reduce((s, c) => s + c.ms, 0)), maxMs: r(gcs.reduce((m, c) => Math.max(m, c.ms), 0)), over4Ms: gcs.filter((c) => c.ms > 4).length },
      longest: gaps.slice(0, 200).map((g) => ({ ...g, at: r(g.at), gapMs: r(g.gapMs), cpuMs: r(g.cpuMs), waitMs: r(g.waitMs), gcMs: r(g.gcMs ?? 0) })),
      /** Every gap kept (at most MAX_GAPS), longest first: [at, gapMs, waitMs, gcMs], for a run's sums (bench/lib/turns-summary.ts). */
      all: gaps.map((g) => [r(g.at), r(g.gapMs), r(g.waitMs), r(g.gcMs ?? 0)]),
    }, null, 1)}\n`);
  });
}
