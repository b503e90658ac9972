import type { Destination } from '../sqs/resolver.js';

/** Per queue name, what this daemon did (summed over credentials). */
export interface QueueStats {
  accepted: number;
  sent: number;
  retried: number;
  deadLettered: number;
  md5Mismatch: number;
  backlog: number;
  inFlight: number;
}

/** What the pipeline did since start, all queues together (metrics, status page). */
export interface PipelineTotals {
  accepted: number;
  sent: number;
  retried: number;
  deadLettered: number;
  md5Mismatch: number;
  requests: number;
  requestErrors: number;
}

interface Entry {
  /** The destination's credentials key: whose counters these are (a Map key only: may hold a secret). */
  owner: string;
  queue: string;
  stats: QueueStats;
  usedAt: number;
}

const empty = (): QueueStats => ({ accepted: 0, sent: 0, retried: 0, deadLettered: 0, md5Mismatch: 0, backlog: 0, inFlight: 0 });

function add(into: QueueStats, s: QueueStats): void {
  into.accepted += s.accepted;
  into.sent += s.sent;
  into.retried += s.retried;
  into.deadLettered += s.deadLettered;
  into.md5Mismatch += s.md5Mismatch;
  into.backlog += s.backlog;
  into.inFlight += s.inFlight;
}

/**
 * The pipeline's counters: per destination (queue + credentials), summed per queue name on
 * demand, and in total. A destination's counters go once it is idle (nothing waiting or in
 * flight, unused for the idle time), so a caller cycling through key pairs or queue names
 * cannot grow them for ever; totals are kept.
 */
export class PipelineStats {
  readonly totals: PipelineTotals = { accepted: 0, sent: 0, retried: 0, deadLettered: 0, md5Mismatch: 0, requests: 0, requestErrors: 0 };
  private readonly byDest = new Map<string, Entry>();
  private readonly byName = new Map<string, Set<Entry>>();

  /** A queue's counters, over every credential that used it; undefined if none did lately. */
  get(queueName: string): QueueStats | undefined {
    const entries = this.byName.get(queueName);
    if (!entries) return undefined;
    const sum = empty();
    for (const e of entries) add(sum, e.stats);
    return sum;
  }

  /** Counters per queue name; with `owner` (a credentials key) only what those credentials sent. */
  all(owner?: string): Map<string, QueueStats> {
    const out = new Map<string, QueueStats>();
    for (const [name, entries] of this.byName) {
      let sum: QueueStats | undefined;
      for (const e of entries) {
        if (owner !== undefined && e.owner !== owner) continue;
        sum ??= empty();
        add(sum, e.stats);
      }
      if (sum) out.set(name, sum);
    }
    return out;
  }

  /** Destinations with counters. */
  get size(): number {
    return this.byDest.size;
  }

  /** The counters of a destination, made on first use. */
  statsFor(dest: Destination, now = Date.now()): QueueStats {
    let e = this.byDest.get(dest.key);
    if (!e) {
      e = { owner: dest.credentials.key, queue: dest.queueName, stats: empty(), usedAt: now };
      this.byDest.set(dest.key, e);
      let set = this.byName.get(dest.queueName);
      if (!set) {
        set = new Set();
        this.byName.set(dest.queueName, set);
      }
      set.add(e);
    }
    e.usedAt = now;
    return e.stats;
  }

  /** Forgets the counters of destinations with nothing waiting or in flight, unused since `before`. */
  sweep(before: number): number {
    let n = 0;
    for (const [key, e] of this.byDest) {
      if (e.usedAt >= before || e.stats.backlog > 0 || e.stats.inFlight > 0) continue;
      this.byDest.delete(key);
      const set = this.byName.get(e.queue);
      set?.delete(e);
      if (set?.size === 0) this.byName.delete(e.queue);
      n += 1;
    }
    return n;
  }
}
