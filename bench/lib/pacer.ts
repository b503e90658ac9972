/**
 * An open loop's clock without spinning (bench/loadgen.ts `pacing: 'sleep'`).
 *
 * Request i is due at `t0Ms + i * intervalMs`. At 2,000 msg/s that is every 0.5 ms, finer than
 * Node's timers (1 ms), so the load generator's default clock spins on `setImmediate` for the
 * whole run: it holds one of this machine's two cores at ~100 % and leaves the server under
 * test, its V8 helper threads, the fake SQS and the generator's own GC threads one core between
 * them. A scheduler trace (`perf sched`, docs/benchmarks.md "Round 6b") of a quick run with the
 * old warm-up showed the servers' main threads runnable but waiting for a core 65-246 ms a
 * second, up to 8-14 ms at a time, while the spinning generator and the servers' V8 compiler
 * threads held the cores.
 *
 * Here a worker thread keeps the time: it sleeps in `Atomics.wait` (a futex with a sub-ms
 * timeout) until a request is due, then wakes the main thread with a message. The main thread
 * sleeps in its event loop (epoll) between requests, so it reads answers the moment they arrive
 * and spends no CPU waiting. The worker wakes `spinMs` early and spins only that last stretch,
 * so requests still leave within tens of µs of their time; what lateness is left is measured
 * (the load generator's "gen lag") and charged to the server, since latency counts from the
 * intended time. A request is never sent early.
 */
import { Worker } from 'node:worker_threads';

export interface PaceOptions {
  intervalMs: number;
  count: number;
  /**
   * How long before a due time the worker stops sleeping and spins. Default: 0.12 ms (a futex
   * sleep here oversleeps ~0.09 ms), but at most a fifth of the interval, so that at high rates
   * (5,000/s: 0.2 ms apart) the clock does not spin most of the time.
   */
  spinMs?: number;
  /**
   * Called on the main thread, in order, for every request that is due (several at once when
   * the main thread was busy), never before its time.
   */
  onDue: (i: number, intendedMs: number) => void;
}

export interface Pacer {
  /**
   * Starts the schedule: request 0 is due at `t0Ms` (the main thread's `performance.now()`).
   * Resolves when `onDue` was called for the last request.
   */
  run(t0Ms: number): Promise<void>;
  stop(): void;
}

// Plain JavaScript: runs as the worker's whole program (eval), so it needs no build step and
// works the same under jest and from dist-bench. cell: [0] stop flag, [1] requests the main
// thread has started, [2] go flag; f64[2] (bytes 16-23): t0.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { offsetMs, intervalMs, count, spinMs, shared } = workerData;
const cell = new Int32Array(shared, 0, 4);
const f64 = new Float64Array(shared);
const now = () => Number(process.hrtime.bigint()) / 1e6 - offsetMs;
parentPort.postMessage(-1);
while (Atomics.load(cell, 2) === 0 && Atomics.load(cell, 0) === 0) Atomics.wait(cell, 2, 0, 50);
const t0Ms = f64[2];
let i = 0;
while (i < count && Atomics.load(cell, 0) === 0) {
  i = Math.max(i, Atomics.load(cell, 1));
  if (i >= count) break;
  const due = t0Ms + i * intervalMs;
  let left = due - now();
  while (left > spinMs) {
    if (Atomics.wait(cell, 0, 0, left - spinMs) !== 'timed-out') break;
    left = due - now();
  }
  if (Atomics.load(cell, 0) !== 0) break;
  while (now() < due) {}
  parentPort.postMessage(i);
  i += 1;
}
`;

/**
 * Starts the clock's worker and resolves once it runs (tens of ms: a schedule that began before
 * would start with a burst of late requests).
 */
export async function startPacer(o: PaceOptions): Promise<Pacer> {
  const shared = new SharedArrayBuffer(24);
  const cell = new Int32Array(shared, 0, 4);
  const f64 = new Float64Array(shared);
  // Both threads read CLOCK_MONOTONIC (hrtime); this maps it onto the main thread's performance.now().
  // The first calls of either clock are slow (~1 ms: lazy loading), so read both a few times and
  // keep the pair read closest together.
  let offsetMs = NaN;
  let best = Infinity;
  for (let k = 0; k < 8; k++) {
    const before = performance.now();
    const hr = Number(process.hrtime.bigint()) / 1e6;
    const after = performance.now();
    if (after - before < best) {
      best = after - before;
      offsetMs = hr - (before + after) / 2;
    }
  }
  const worker = new Worker(WORKER, { eval: true, workerData: { offsetMs, intervalMs: o.intervalMs, count: o.count, spinMs: o.spinMs ?? Math.min(0.12, o.intervalMs / 5), shared } });
  worker.unref();
  let started = 0;
  let t0Ms = NaN;
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const done = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  let onReady!: () => void;
  const ready = new Promise<void>((res) => (onReady = res));
  // Set by stop(): what the worker posted before it saw the flag may still be queued here, and
  // none of it may reach onDue after stop() returned.
  let stopped = false;
  const stop = (): void => {
    stopped = true;
    Atomics.store(cell, 0, 1);
    Atomics.notify(cell, 0);
    Atomics.notify(cell, 2);
    void worker.terminate();
  };
  worker.on('message', (due: number) => {
    if (due < 0) {
      onReady();
      return;
    }
    if (stopped) return;
    const now = performance.now();
    // Up to the one the worker found due (its clock and this one agree to within µs), and any
    // that fell due since.
    while (started < o.count && (started <= due || t0Ms + started * o.intervalMs <= now)) {
      const intended = t0Ms + started * o.intervalMs;
      // The two clocks' mapping can be off by a µs or two: never send before the intended time.
      while (performance.now() < intended);
      o.onDue(started, intended);
      started += 1;
    }
    Atomics.store(cell, 1, started);
    if (started >= o.count) {
      stop();
      resolve();
    }
  });
  worker.on('error', (err) => {
    stop();
    reject(err);
  });
  await Promise.race([ready, done]);
  return {
    run: (t0: number): Promise<void> => {
      t0Ms = t0;
      f64[2] = t0;
      Atomics.store(cell, 2, 1);
      Atomics.notify(cell, 2);
      return done;
    },
    stop,
  };
}
