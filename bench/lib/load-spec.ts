import type { Percentiles } from './stats.js';

/** One load run, as bench/run.ts asks bench/loadgen.ts for it. */
export interface LoadSpec {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** e.g. /queues/bench-rate-2000 */
  path: string;
  /** `AKID:secret` for Basic auth; none for the baselines that need none. */
  auth?: string;
  /**
   * open: requests leave on a fixed schedule (`rate` per second for `durationMs`) whatever the
   * server does, and latency is counted from each request's intended send time.
   * closed: `concurrency` requests in flight, each sent when the previous one ends, until
   * `total` messages (or `durationMs`) are done; latency counted from the actual send.
   */
  mode: 'open' | 'closed';
  /** open: requests per second. */
  rate?: number;
  /** open: length of the schedule; closed: stop starting requests after this (if `total` is unset). */
  durationMs?: number;
  /** closed: messages to send (rounded up to whole requests). */
  total?: number;
  /** closed: requests in flight. */
  concurrency?: number;
  /** Keep-alive connections to the server. */
  connections: number;
  /** Messages per request: 1 = a form-encoded `message_body` (the 2009 API); more = a JSON array. */
  perRequest: number;
  /**
   * Send through the SQS API door instead of the REST route: each request is an AWS JSON 1.0
   * `SendMessage` to this queue URL (`POST /`, hand-built, no SDK in the load generator, so the
   * daemon's cost of the door is measured alone). Needs `perRequest` 1.
   */
  sqsQueueUrl?: string;
  /** Run tag: bodies are `<tag>-<seq>-...` (see bodies.ts). */
  tag: string;
  bodyBytes: number;
  /**
   * Open loop only: one extra request, a JSON array of `entries` messages, sent `atMs` after the
   * schedule's start on a connection of its own (what one client's large batch does to everyone
   * else's latency). Its messages follow the schedule's in the run's sequence numbers, so they are
   * verified with the rest; its latency is reported apart (`LoadResult.burst`), not in `latency`.
   */
  burst?: { atMs: number; entries: number };
  /**
   * Open loop only: how the generator keeps time. `spin` (the default): `setImmediate` spinning
   * between requests, one core busy. `sleep`: a worker thread's clock, the main thread asleep
   * between requests (lib/pacer.ts). docs/benchmarks.md "Round 6b" compares them.
   */
  pacing?: 'sleep' | 'spin';
  /** After the last request was started, how long to wait for answers before giving up on them. */
  drainTimeoutMs: number;
}

export interface LoadResult {
  requests: number;
  /** Messages in the requests that were sent. */
  messages: number;
  /** Messages the server acknowledged (2xx, and for lists: entries with an id). */
  acked: number;
  /** Which sequence numbers were acknowledged (BitSet base64, `messages` bits). */
  ackedBits: string;
  /** Count per HTTP status; `error:<code>` for requests that got no answer. */
  statuses: Record<string, number>;
  /** Date.now() when the first request was due. */
  startWallMs: number;
  /** From the first intended send to the last answer. */
  elapsedMs: number;
  /** From the first to the last request started (open loop: the schedule length). */
  sendSpanMs: number;
  /** Latency per request, ms: open loop from the intended send time, closed loop from the send. */
  latency: Percentiles;
  /** Latency per request from the moment it was actually handed to the client library. */
  service: Percentiles;
  /** Open loop: how late the generator itself started requests (its own scheduling delay), ms. */
  sendLag: Percentiles;
  /** The `burst` request: its status, latency from its intended time, and entries acknowledged. */
  burst?: { entries: number; status: string; latencyMs: number; acked: number; sentAtMs: number };
  /** CPU the load generator used during the run, ms. */
  cpuMs: number;
}
