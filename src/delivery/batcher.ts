import type { Destination } from '../sqs/resolver.js';
import { Deque } from './deque.js';
import { type Envelope, groupIdOf } from './envelope.js';

/** SendMessageBatch's limits: 10 entries, 1 MiB for all bodies and attributes together. */
export const MAX_BATCH_ENTRIES = 10;
export const MAX_BATCH_BYTES = 1_048_576;

/**
 * The messages waiting for one destination. It only holds and hands out entries; the
 * pipeline decides when to send. Standard queues: one FIFO line. FIFO queues: one line per
 * message group, and a group with a batch in flight (or entries backing off) is blocked,
 * so its messages never overtake each other.
 */
export class Batcher {
  readonly dest: Destination;
  /** Batches of this destination in flight. */
  inFlight = 0;
  /** Linger timer, owned by the pipeline. */
  lingerTimer: NodeJS.Timeout | undefined;
  /** Retries of this destination waiting for their backoff (owned by the pipeline). */
  retrying = 0;
  /** When an entry was last added (ms): idle batchers are dropped. */
  usedAt = 0;

  private readonly fifo: boolean;
  private line = new Deque<Envelope>();
  private readonly groups = new Map<string, GroupLine>();
  private readonly blocked = new Set<string>();
  /** FIFO: groups with entries and not blocked, in the order they became ready. */
  private readonly readyGroups = new Set<string>();
  /** Entries that could go into a batch now, and their bytes. */
  private sendable = 0;
  private sendableBytes = 0;
  /** Entries held here (sendable or waiting for their group). */
  private held = 0;

  /**
   * @param maxPerGroup FIFO: entries of one message group per batch. 1 keeps order even if SQS
   * fails one entry of a batch and accepts a later one of the same group; up to 10 sends a busy
   * group faster but loses that guarantee (whether SQS can do this is not documented).
   */
  constructor(dest: Destination, private readonly maxPerGroup = MAX_BATCH_ENTRIES) {
    this.dest = dest;
    this.fifo = dest.limits.fifo;
  }

  get size(): number {
    return this.held;
  }

  hasSendable(): boolean {
    return this.sendable > 0;
  }

  /** Enough for a full batch: send without lingering. */
  fullBatchReady(): boolean {
    return this.sendable >= MAX_BATCH_ENTRIES || this.sendableBytes >= MAX_BATCH_BYTES;
  }

  add(env: Envelope): void {
    this.held += 1;
    if (!this.fifo) {
      this.line.push(env);
      this.sendable += 1;
      this.sendableBytes += env.bytes;
      return;
    }
    const group = groupIdOf(env.message) ?? '';
    const line = this.groupLine(group);
    line.q.push(env);
    line.bytes += env.bytes;
    if (!this.blocked.has(group)) {
      this.readyGroups.add(group);
      this.sendable += 1;
      this.sendableBytes += env.bytes;
    }
  }

  /** Puts entries back in front of everything else of theirs (after a backoff), in order. */
  requeue(envs: readonly Envelope[]): void {
    if (envs.length === 0) return;
    this.held += envs.length;
    if (!this.fifo) {
      this.line.unshiftAll(envs);
      for (const e of envs) {
        this.sendable += 1;
        this.sendableBytes += e.bytes;
      }
      return;
    }
    const byGroup = new Map<string, Envelope[]>();
    for (const e of envs) {
      const g = groupIdOf(e.message) ?? '';
      let list = byGroup.get(g);
      if (!list) byGroup.set(g, (list = []));
      list.push(e);
    }
    for (const [g, list] of byGroup) {
      const line = this.groupLine(g);
      line.q.unshiftAll(list);
      for (const e of list) line.bytes += e.bytes;
      this.unblock(g);
    }
  }

  /** Takes the next batch: up to 10 entries and 1 MiB; FIFO takes only from unblocked groups and blocks them. */
  takeBatch(): Envelope[] {
    const batch: Envelope[] = [];
    let bytes = 0;
    if (!this.fifo) {
      while (batch.length < MAX_BATCH_ENTRIES) {
        const next = this.line.peek();
        if (next === undefined || (batch.length > 0 && bytes + next.bytes > MAX_BATCH_BYTES)) break;
        this.line.shift();
        batch.push(next);
        bytes += next.bytes;
      }
    } else {
      for (const g of this.readyGroups) {
        if (batch.length >= MAX_BATCH_ENTRIES) break;
        const line = this.groups.get(g) as GroupLine;
        let took = 0;
        while (batch.length < MAX_BATCH_ENTRIES && took < this.maxPerGroup) {
          const next = line.q.peek();
          if (next === undefined || (batch.length > 0 && bytes + next.bytes > MAX_BATCH_BYTES)) break;
          line.q.shift();
          line.bytes -= next.bytes;
          batch.push(next);
          bytes += next.bytes;
          took += 1;
        }
        if (took > 0) {
          this.sendable -= took;
          this.block(g, line);
        }
        if (line.q.length === 0) this.groups.delete(g);
      }
    }
    this.held -= batch.length;
    if (!this.fifo) this.sendable -= batch.length;
    this.sendableBytes -= bytes;
    return batch;
  }

  /**
   * A batch came back. FIFO groups of `batch` are unblocked, except those in `stillHeld`
   * (entries backing off, to be requeued first).
   */
  release(batch: readonly Envelope[], stillHeld: ReadonlySet<string>): void {
    if (!this.fifo) return;
    for (const e of batch) {
      const g = groupIdOf(e.message) ?? '';
      if (!stillHeld.has(g)) this.unblock(g);
    }
  }

  /**
   * Removes and returns the entries accepted before `before` (Date.now() ms), in order: messages
   * past --max-message-age-ms while batches are held in an outage (they are not attempted, so no
   * failed attempt would find them too old). O(entries held).
   */
  expireBefore(before: number): Envelope[] {
    const out: Envelope[] = [];
    if (!this.fifo) {
      const kept = new Deque<Envelope>();
      for (const e of this.line) {
        if (e.accepted.at < before) {
          out.push(e);
          this.sendable -= 1;
          this.sendableBytes -= e.bytes;
        } else kept.push(e);
      }
      if (out.length > 0) this.line = kept;
    } else {
      for (const [g, line] of this.groups) {
        let untouched = true;
        const kept = new Deque<Envelope>();
        for (const e of line.q) {
          if (e.accepted.at >= before) {
            kept.push(e);
            continue;
          }
          untouched = false;
          out.push(e);
          line.bytes -= e.bytes;
          if (this.readyGroups.has(g)) {
            this.sendable -= 1;
            this.sendableBytes -= e.bytes;
          }
        }
        if (untouched) continue;
        line.q = kept;
        if (kept.length === 0) {
          this.groups.delete(g);
          this.readyGroups.delete(g);
        }
      }
    }
    this.held -= out.length;
    return out;
  }

  /** Removes and returns every held entry (shutdown of a memory-only daemon, tests). */
  drainAll(): Envelope[] {
    const out: Envelope[] = [];
    if (!this.fifo) {
      for (let e = this.line.shift(); e !== undefined; e = this.line.shift()) out.push(e);
    } else {
      for (const line of this.groups.values()) for (let e = line.q.shift(); e !== undefined; e = line.q.shift()) out.push(e);
      this.groups.clear();
      this.readyGroups.clear();
    }
    this.held = 0;
    this.sendable = 0;
    this.sendableBytes = 0;
    return out;
  }

  private groupLine(group: string): GroupLine {
    let line = this.groups.get(group);
    if (!line) {
      line = { q: new Deque<Envelope>(), bytes: 0 };
      this.groups.set(group, line);
    }
    return line;
  }

  /** After taking from `group`: its remaining entries stop being sendable until release. */
  private block(group: string, line: GroupLine): void {
    this.blocked.add(group);
    if (this.readyGroups.delete(group)) {
      this.sendable -= line.q.length;
      this.sendableBytes -= line.bytes;
    }
  }

  private unblock(group: string): void {
    this.blocked.delete(group);
    const line = this.groups.get(group);
    if (!line || line.q.length === 0 || this.readyGroups.has(group)) return;
    this.readyGroups.add(group);
    this.sendable += line.q.length;
    this.sendableBytes += line.bytes;
  }
}

interface GroupLine {
  q: Deque<Envelope>;
  bytes: number;
}
