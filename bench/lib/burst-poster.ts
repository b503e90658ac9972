/**
 * The mid-run batch's client (bench/loadgen.ts, `LoadSpec.burst`), on a thread of its own.
 *
 * The batch is another caller's request: a 10,000-entry JSON array of ~2.2 MB, and an answer with
 * an id per entry. Sent from the load generator's own thread, its write, its answer's read and the
 * parse of 10,000 ids ran on the thread that keeps the trickle's schedule, and whatever lateness
 * that caused was charged to the daemon as trickle latency. Here the batch is built, sent and its
 * answer read by a worker thread with its own event loop, as a second client process would; the
 * generator's thread only starts it and collects the outcome. On the 2-core bench machine this
 * measured neutral (the generator's lateness, p99 2-6 ms with the batch in, is the machine's: the
 * thread competes for the same cores; docs/benchmarks.md, "Fourteenth sitting"); it is kept because
 * the batch is not the trickle's client.
 *
 * Protocol: workerData { burst: { origin, path, headers, tag, first, entries, bodyBytes, timeoutMs } }; the
 * worker builds the body and posts { ready: true }; the main thread posts { dueHrMs } (when to
 * send, CLOCK_MONOTONIC ms from `process.hrtime`, which both threads read); the worker posts
 * { status, latencyMs (from dueHrMs to the end of the answer), sentHrMs, acked: number[] | 'all' }
 * and exits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { Client } from 'undici';
import { messageBody } from './bodies.js';

export interface BurstJob {
  origin: string;
  path: string;
  headers: Record<string, string>;
  tag: string;
  first: number;
  entries: number;
  bodyBytes: number;
  timeoutMs: number;
}

export interface BurstOutcome {
  status: string;
  latencyMs: number;
  sentHrMs: number;
  /** Indexes (0-based within the batch) of the entries acknowledged, or 'all'. */
  acked: number[] | 'all';
}

/** CLOCK_MONOTONIC in ms: the same clock in every thread of the process. */
export const hrMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Which entries of a list's answer were acknowledged: all (`accepted` equals the count, or no `results`), or those with an id. */
export function ackedOf(text: string, n: number): number[] | 'all' {
  const answer = JSON.parse(text) as { accepted?: number; results?: Array<{ id?: string }> };
  if (answer.accepted === n || answer.results === undefined) return 'all';
  const got: number[] = [];
  answer.results.forEach((r, k) => {
    if (r.id !== undefined) got.push(k);
  });
  return got;
}

async function main(job: BurstJob): Promise<void> {
  const port = parentPort;
  if (!port) return;
  const list: string[] = new Array(job.entries);
  for (let k = 0; k < job.entries; k++) list[k] = messageBody(job.tag, job.first + k, job.bodyBytes);
  // Encoded once, before the clock: the send itself converts nothing.
  const body = Buffer.from(JSON.stringify(list));
  const client = new Client(job.origin, { keepAliveTimeout: 60_000 });
  const due = await new Promise<number>((resolve) => {
    port.once('message', (m: { dueHrMs: number }) => resolve(m.dueHrMs));
    port.postMessage({ ready: true });
  });
  await new Promise<void>((resolve) => {
    const spin = (): void => (hrMs() >= due ? resolve() : void setImmediate(spin));
    setTimeout(spin, Math.max(0, due - hrMs() - 2));
  });
  const sentHrMs = hrMs();
  let outcome: BurstOutcome;
  try {
    const res = await client.request({ path: job.path, method: 'POST', headers: job.headers, body, headersTimeout: job.timeoutMs, bodyTimeout: job.timeoutMs });
    const text = await res.body.text();
    const latencyMs = hrMs() - due;
    const ok = res.statusCode >= 200 && res.statusCode < 300;
    outcome = { status: String(res.statusCode), latencyMs, sentHrMs, acked: ok ? ackedOf(text, job.entries) : [] };
  } catch (err) {
    outcome = { status: `error:${(err as { code?: string }).code ?? (err as Error).name}`, latencyMs: NaN, sentHrMs, acked: [] };
  }
  await client.close();
  port.postMessage(outcome);
}

// Only as the burst's worker (the load generator passes { burst: job }); importing it does nothing.
const data = workerData as { burst?: BurstJob } | null;
if (parentPort && data?.burst) void main(data.burst);
