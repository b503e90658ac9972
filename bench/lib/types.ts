import type { LoadResult, LoadSpec } from './load-spec.js';
import type { HeapSummary } from '../heap-summary.js';
import type { ProfileSummary } from './profile.js';

/** What the fake SQS holds of one run, compared with what the server acknowledged. */
export interface Delivery {
  /** Messages the server acknowledged. */
  acked: number;
  /** Distinct messages of this run the fake SQS stored. */
  delivered: number;
  /** Acknowledged but never stored: lost. Must be 0. */
  missing: number;
  /** Extra copies stored (at-least-once: allowed, but counted). */
  duplicates: number;
  /** Stored but never acknowledged to the client (e.g. the client gave up waiting). */
  unacked: number;
  /** Date.now() of the first and last stored message of this run. */
  firstAt: number;
  lastAt: number;
  ok: boolean;
}

export interface SqsUse {
  /** SendMessageBatch + SendMessage requests the fake received during the run. */
  sendRequests: number;
  entries: number;
  entriesPerRequest: number;
  requestsPerMessage: number;
  /** What SQS bills: each 64 KiB of a request's messages is one request (the fake counts them). */
  billedRequests?: number;
  billedRequestsPerMessage?: number;
}

export interface BacklogFigures {
  messages: number;
  /** VmRSS with every message waiting (upstream down), after the ingest settled. */
  rssBytes: number;
  /**
   * Where that RSS is (issue 14's memory goal): anonymous memory (V8 heap, Buffers, malloc) and
   * file pages (node's own binary, mostly); from /proc/<pid>/status at the same moment.
   */
  rssAnonBytes?: number;
  rssFileBytes?: number;
  /** V8 heap spaces at that moment (prom-client's nodejs_heap_space_size_*_bytes): used and total per space. */
  heapSpaces?: Record<string, { usedBytes: number; totalBytes: number }>;
  /**
   * With `--backlog-watch <s>`: the same readings again while the backlog keeps waiting (upstream
   * still down), at the given seconds after the first one: whether V8 gives the heap back by
   * itself once the ingest has stopped, and what keeps allocating meanwhile (GC count between readings).
   */
  overTime?: BacklogReading[];
  /** Bytes the spool directory takes on disk (allocated blocks), 0 without a spool. */
  diskBytes: number;
  /** How long ingesting the backlog took, and at what rate. */
  ingestMs: number;
  /** From the upstream coming back to the last message stored. */
  drainMs: number;
  drainPerSec: number;
  /** From the first to the last message stored (excludes waiting out retry backoff). */
  steadyDrainPerSec: number;
}

/** One reading of the daemon's memory while the backlog waits (see BacklogFigures.overTime). */
export interface BacklogReading {
  /** Seconds after the first reading. */
  atS: number;
  rssBytes: number;
  rssAnonBytes: number;
  rssFileBytes: number;
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
  /** Garbage collections (all kinds) since the previous reading. */
  gcCount: number;
  heapSpaces?: Record<string, { usedBytes: number; totalBytes: number }>;
}

/** From the daemon's own /metrics (prom-client default metrics), over the run. */
export interface RuntimeFigures {
  /** GC time by kind (major, minor, incremental, weakcb), ms. */
  gcMs: Record<string, number>;
  gcCount: number;
  /** GC pauses longer than 100 ms. */
  gcOver100ms: number;
  /** Event-loop delay over the run (perf_hooks.monitorEventLoopDelay), ms. */
  eventLoopLagMaxMs: number;
  eventLoopLagP99Ms: number;
  /** At the end of the run (for the backlog: with the backlog held). */
  heapUsedBytes: number;
  heapTotalBytes: number;
  externalBytes: number;
}

/** The daemon's event-loop turns longer than `minGapMs` during a run, and what they were made of (bench/lib/turn-probe.ts). */
export interface TurnsFigures {
  minGapMs: number;
  count: number;
  lateMs: number;
  /** Of lateMs: the main thread runnable with no core (the machine's other processes, or the daemon's own other threads). */
  waitingMs: number;
  /** Of lateMs: garbage collections overlapping the turns. */
  gcMs: number;
  longestMs: number;
  /**
   * The largest own part of one turn: the turn less the time its main thread waited for a core
   * (what the daemon itself held the loop, its garbage collections included: they collect its own
   * garbage; the waiting is read from schedstat at the probe's ticks, so this is within about a
   * millisecond). Issue 14's "no single request holds the event loop more than 5 ms", apart from
   * the machine's share. Absent in results written before it was measured (2026-12-06).
   */
  longestOwnMs?: number;
}

export interface RunRecord {
  id: string;
  /** `bare node:http`, `Koa`, `SDK app`, `daemon`. */
  system: string;
  /** Durability mode of the daemon. */
  mode?: string;
  /** Processes pinned with taskset during the run (absent in results written before issue 14: pinned then unless --no-pin). */
  pinned?: boolean;
  /** `open 2000/s`, `closed c=10`, `sustained`, `batch x100`, `backlog`. */
  scenario: string;
  load: Omit<LoadSpec, 'origin' | 'auth'>;
  result?: Omit<LoadResult, 'ackedBits'>;
  wallMs: number;
  /** CPU of the server process during the run (until delivery completed, for the daemon). */
  serverCpuMs: number;
  /** Server CPU per message: per delivered message for the daemon and the SDK app, per request for the floors. */
  cpuUsPerMsg: number;
  /** The same split into user and system (kernel) time. */
  cpuUserSysUsPerMsg?: [number, number];
  /** CPU per message of a second process the server sends through (the daemon behind an SDK app). */
  behindCpuUsPerMsg?: number;
  /** CPU use of the load generator and of the fake SQS over the run, % of one core. */
  loadgenCpuPct: number;
  fakeCpuPct: number;
  /**
   * CPU used by processes that are not part of the benchmark during the run, % of one core
   * (from /proc/stat): the noise indicator. Should be near 0 for numbers worth publishing.
   */
  otherCpuPct: number;
  /** CPU stolen by the hypervisor during the run, % of one core. */
  stealPct: number;
  /** Share of the run during which some task on the machine waited for I/O (PSI `some`), %. */
  ioStallPct?: number;
  /** Acknowledged messages per second over the sending span. */
  ackedPerSec: number;
  /** Messages stored in the fake per second, from the first intended send to the last one stored. */
  deliveredPerSec?: number;
  delivery?: Delivery;
  sqs?: SqsUse;
  rssPeakBytes: number;
  backlog?: BacklogFigures;
  runtime?: RuntimeFigures;
  /** With --turn-probe: the daemon's late event-loop turns during the run (bench/lib/turns-summary.ts). */
  turns?: TurnsFigures;
  /** How many times the run was made (noisy attempts are repeated, the quietest is kept). */
  attempts?: number;
  /** Other processes' CPU (% of a core) in the discarded attempts. */
  noisyAttemptsOtherCpuPct?: number[];
  /** CLOCK_MONOTONIC µs at the start and end of the run (to cut it out of a CPU profile). */
  monoUs?: [number, number];
  error?: string;
}

export interface Machine {
  nproc: number;
  cpuModel: string;
  memTotalGiB: number;
  kernel: string;
  node: string;
  versions: Record<string, string>;
  loadAvgStart: number[];
  loadAvgEnd?: number[];
  /** A fixed CPU-bound workload on the server's core, ms, at the start and the end (lower = faster machine). */
  calibrationMs?: number[];
  pinning: string;
  daemonDir: string;
  daemonCommit: string;
  /** Non-default flags given to every daemon (experiments); empty for the published numbers. */
  daemonExtraArgs?: string[];
}

export interface BenchReport {
  startedAt: string;
  quick: boolean;
  command: string;
  machine: Machine;
  durabilityModes: string[];
  /** The mode targets are judged on: the daemon's default when it was run. */
  defaultMode: string;
  /** The daemon's own default durability mode (from --help). */
  daemonDefaultMode: string;
  settings: Record<string, unknown>;
  runs: RunRecord[];
  heap?: { scenario: string; file: string; rssBytes: number; runtime?: RuntimeFigures; summary: HeapSummary };
  profiles?: Array<{ id: string; scenario: string; file: string; summary: ProfileSummary }>;
  /** Each open-loop warm-up (bench/lib/warmup.ts): the server's CPU per request and p99 per 1-s chunk. */
  warmups?: Array<{ label: string; steady: boolean; chunks: Array<{ cpuUsPerReq: number; p99Ms: number }> }>;
  failures: string[];
  durationMs?: number;
}
