/**
 * The load generator: a process of its own (pinned away from the server under test), driven
 * over IPC by bench/run.ts. Many keep-alive connections through one undici Pool per origin.
 *
 * Open loop: request i is due at t0 + i/rate. By default (`pacing: 'spin'`) the generator
 * sleeps with timers while the next request is more than 2 ms away and spins on setImmediate
 * closer to it (one core at ~100 % from 500 msg/s up), so requests leave within a few µs of
 * their time. `pacing: 'sleep'`: a worker thread keeps the time (lib/pacer.ts) and the main
 * thread sleeps in its event loop between requests (~30-60 % of a core), which leaves a core to
 * the server but makes the generator itself late when the server and the fake SQS keep both
 * cores busy (docs/benchmarks.md "Round 6b").
 * Latency is counted from the intended time, so a server that stalls is charged for every
 * request that queued behind the stall (no coordinated omission), and so is the generator's
 * own lateness (its "gen lag").
 */
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { Pool } from 'undici';
import { BitSet, messageBody } from './lib/bodies.js';
import { ackedOf, type BurstJob, type BurstOutcome, hrMs } from './lib/burst-poster.js';
import type { LoadResult, LoadSpec } from './lib/load-spec.js';
import { serve } from './lib/serve.js';
import { type Pacer, startPacer } from './lib/pacer.js';
import { percentiles } from './lib/stats.js';

const pools = new Map<string, Pool>();

function poolFor(origin: string, connections: number): Pool {
  const key = `${origin} ${connections}`;
  let pool = pools.get(key);
  if (!pool) {
    pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000 });
    pools.set(key, pool);
  }
  return pool;
}

async function closePools(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((p) => p.destroy()));
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const per = spec.perRequest;
  const open = spec.mode === 'open';
  const nReq = open ? Math.round(((spec.rate ?? 0) * (spec.durationMs ?? 0)) / 1000) : Math.ceil((spec.total ?? 0) / per);
  if (!(nReq > 0)) throw new Error(`empty run: ${JSON.stringify(spec)}`);
  const burstEntries = spec.burst ? spec.burst.entries : 0;
  if (burstEntries > 0 && !open) throw new Error('burst needs an open-loop run');
  if (burstEntries > 0 && spec.sqsQueueUrl !== undefined) throw new Error('burst goes to the REST route, not the SQS API door');
  const nMsg = nReq * per + burstEntries;
  const pool = poolFor(spec.origin, spec.connections);
  const sqs = spec.sqsQueueUrl;
  if (sqs !== undefined && per !== 1) throw new Error('sqsQueueUrl needs perRequest 1');
  const headers: Record<string, string> = sqs !== undefined
    ? { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }
    : { 'content-type': per === 1 ? 'application/x-www-form-urlencoded' : 'application/json' };
  if (spec.auth && sqs === undefined) headers.authorization = `Basic ${Buffer.from(spec.auth).toString('base64')}`;
  const path = sqs !== undefined ? '/' : spec.path;

  const latency = new Float64Array(nReq).fill(NaN);
  const service = new Float64Array(nReq).fill(NaN);
  const lag = new Float64Array(nReq).fill(NaN);
  const acked = new BitSet(nMsg);
  let ackedCount = 0;
  const statuses: Record<string, number> = {};
  const count = (key: string): void => {
    statuses[key] = (statuses[key] ?? 0) + 1;
  };

  let outstanding = 0;
  let lastDone = 0;
  let onIdle: (() => void) | undefined;

  /** Marks entries first..first+n-1 acknowledged (all, or those of `which`, 0-based in the list); returns how many. */
  const markAcked = (which: number[] | 'all', first: number, n: number): number => {
    if (which === 'all') for (let k = 0; k < n; k++) acked.set(first + k);
    else for (const k of which) acked.set(first + k);
    const got = which === 'all' ? n : which.length;
    ackedCount += got;
    return got;
  };
  /** A list's answer: every entry acknowledged, or those with an id in `results`. Returns how many. */
  const ackList = (text: string, first: number, n: number): number => markAcked(ackedOf(text, n), first, n);

  const bodyOf = (i: number): string => {
    if (sqs !== undefined) return JSON.stringify({ QueueUrl: sqs, MessageBody: messageBody(spec.tag, i, spec.bodyBytes) });
    if (per === 1) return `message_body=${messageBody(spec.tag, i, spec.bodyBytes)}`;
    const list: string[] = new Array(per);
    for (let k = 0; k < per; k++) list[k] = messageBody(spec.tag, i * per + k, spec.bodyBytes);
    return JSON.stringify(list);
  };

  const send = (i: number, intended: number): Promise<void> => {
    const body = bodyOf(i);
    const sentAt = performance.now();
    lag[i] = sentAt - intended;
    outstanding += 1;
    return pool
      .request({ path, method: 'POST', headers, body })
      .then(async (res) => {
        const text = await res.body.text();
        const done = performance.now();
        count(String(res.statusCode));
        if (res.statusCode < 200 || res.statusCode >= 300) return;
        latency[i] = done - intended;
        service[i] = done - sentAt;
        if (per === 1) {
          acked.set(i);
          ackedCount += 1;
          return;
        }
        ackList(text, i * per, per);
      })
      .catch((err: unknown) => {
        count(`error:${(err as { code?: string }).code ?? (err as Error).name}`);
      })
      .finally(() => {
        outstanding -= 1;
        lastDone = performance.now();
        if (outstanding === 0 && onIdle) onIdle();
      });
  };

  // The burst is another caller's: its body is built, sent and its answer read on a thread of its
  // own (lib/burst-poster.ts), so that none of it delays this thread's schedule (the trickle's).
  const burstFirst = nReq * per;
  let burst: LoadResult['burst'];
  let burstWorker: Worker | undefined;
  let burstDone: Promise<void> = Promise.resolve();
  if (burstEntries > 0) {
    const job: BurstJob = { origin: spec.origin, path, headers: { ...headers, 'content-type': 'application/json' }, tag: spec.tag, first: burstFirst, entries: burstEntries, bodyBytes: spec.bodyBytes, timeoutMs: spec.drainTimeoutMs };
    const w = new Worker(new URL('./lib/burst-poster.js', import.meta.url), { workerData: { burst: job } });
    burstWorker = w;
    await new Promise<void>((resolve, reject) => {
      w.once('message', () => resolve());
      w.once('error', reject);
    });
  }
  const startBurst = (t0: number, atMs: number): void => {
    const w = burstWorker as Worker;
    // The main thread's performance.now() onto the clock both threads read.
    const hrOffset = hrMs() - performance.now();
    burstDone = new Promise<void>((resolve) => {
      w.once('message', (o: BurstOutcome) => {
        const got = markAcked(o.acked, burstFirst, burstEntries);
        burst = { entries: burstEntries, status: o.status, latencyMs: o.latencyMs, acked: got, sentAtMs: o.sentHrMs - hrOffset - t0 };
        resolve();
      });
      w.once('error', (err) => {
        burst = { entries: burstEntries, status: `error:${err.name}`, latencyMs: NaN, acked: 0, sentAtMs: NaN };
        resolve();
      });
    });
    w.postMessage({ dueHrMs: t0 + atMs + hrOffset });
  };

  const interval = 1000 / (spec.rate ?? 1);
  let pacer: Pacer | undefined;
  if (open && spec.pacing === 'sleep') {
    pacer = await startPacer({
      intervalMs: interval,
      count: nReq,
      onDue: (i, intended) => {
        void send(i, intended);
        started = i + 1;
      },
    });
  }
  const cpu0 = process.cpuUsage();
  const t0 = performance.now() + 5;
  const startWallMs = Date.now() + 5;
  let started = 0;
  let lastStart = t0;

  if (open && burstWorker && spec.burst) startBurst(t0, spec.burst.atMs);
  if (pacer) {
    await pacer.run(t0);
    lastStart = performance.now();
  } else if (open) {
    await new Promise<void>((resolve) => {
      const tick = (): void => {
        const now = performance.now();
        while (started < nReq && t0 + started * interval <= now) {
          void send(started, t0 + started * interval);
          started += 1;
        }
        if (started >= nReq) {
          lastStart = performance.now();
          resolve();
          return;
        }
        const wait = t0 + started * interval - performance.now();
        if (wait > 2) setTimeout(tick, wait - 1.5);
        else setImmediate(tick);
      };
      setTimeout(tick, 4);
    });
  } else {
    while (performance.now() < t0) await new Promise((r) => setImmediate(r));
    const deadline = spec.durationMs === undefined ? Infinity : t0 + spec.durationMs;
    const worker = async (): Promise<void> => {
      while (started < nReq && performance.now() < deadline) {
        const i = started++;
        await send(i, performance.now());
      }
    };
    await Promise.all(Array.from({ length: spec.concurrency ?? 1 }, worker));
    lastStart = performance.now();
  }

  if (outstanding > 0) {
    const drained = new Promise<void>((resolve) => {
      onIdle = resolve;
    });
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), spec.drainTimeoutMs);
    });
    if ((await Promise.race([drained, timedOut])) === 'timeout') {
      // Give up on the stragglers: destroying the pool fails them (counted as errors).
      await closePools();
      await drained;
    }
    clearTimeout(timer);
  }
  if (burstWorker) {
    await burstDone;
    await burstWorker.terminate();
  }
  const cpu = process.cpuUsage(cpu0);
  const msgs = started * per + burstEntries;
  return {
    requests: started,
    messages: msgs,
    acked: ackedCount,
    ackedBits: acked.toBase64(),
    statuses,
    startWallMs,
    elapsedMs: Math.max(lastDone, lastStart) - t0,
    sendSpanMs: lastStart - t0,
    latency: percentiles(latency.subarray(0, started)),
    service: percentiles(service.subarray(0, started)),
    sendLag: percentiles(lag.subarray(0, started)),
    cpuMs: (cpu.user + cpu.system) / 1000,
    ...(burst ? { burst } : {}),
  };
}

serve({
  run: (args) => run(args as unknown as LoadSpec),
  closePools: () => closePools(),
});
