import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Destination } from '../sqs/resolver.js';
import type { Envelope } from './envelope.js';
import type { MessageStore } from './store.js';

/** What the paging bookkeeping needs of the pipeline that owns it. */
export interface PagingHost {
  /** Messages held in memory: in batchers, in flight or backing off. */
  inMemory(): number;
  /** Their message bytes, as SQS counts them (needed with a byte bound). */
  inMemoryBytes?(): number;
  /** The pipeline is closing: nothing more is read back. */
  closing(): boolean;
  /** Takes a message read back from the store into memory. */
  hold(env: Envelope): void;
  /** `count` messages of `dest` the store could not read back (damaged). */
  lost(dest: Destination, count: number, bytes: number): void;
  /** A page-in pass has finished (the backlog may be empty now). */
  pagedIn(): void;
}

/** How a page-in pass is cut up. */
export interface PagingSlices {
  /** Most records asked of the store per destination per step. Default 1,000. */
  chunk: number;
  /** A pass yields to the event loop (setImmediate) and goes on after this long, ms. Default: never. */
  sliceMs: number;
}

/**
 * What the pipeline uses: 100 records a step (reading 1,000 back held the loop ~50 ms on the
 * 2026-12-01 bench machine) and a turn of the loop every 2 ms (issue 14: no stall over 5 ms).
 */
export const PIPELINE_PAGING: PagingSlices = { chunk: 100, sliceMs: 2 };

/**
 * The pipeline's paging bookkeeping: with a store that has a pager, at most `maxInMemory`
 * messages and `maxInMemoryBytes` message bytes are held in memory; the rest are paged out to the
 * store, counted here per destination, and read back in order as memory allows. The byte bound
 * is what keeps a backlog of large messages within a V8 heap limit (--max-in-memory-bytes).
 */
export class Paging {
  /** Per destination, messages paged out to the store (in order: they go first). */
  private readonly paged = new Map<string, { dest: Destination; count: number }>();
  private pagedTotal = 0;
  private pageInScheduled = false;

  constructor(
    private readonly store: MessageStore,
    private readonly maxInMemory: number,
    private readonly log: Logger,
    private readonly host: PagingHost,
    /** Message bytes held in memory at most (--max-in-memory-bytes). */
    private readonly maxInMemoryBytes = Number.POSITIVE_INFINITY,
    private readonly slices: PagingSlices = { chunk: 1000, sliceMs: Infinity },
  ) {}

  private memoryBytes(): number {
    return this.host.inMemoryBytes?.() ?? 0;
  }

  /**
   * Would `bytes` more pass the byte bound? Never while nothing is in memory: a page-in is
   * started only when held messages finish, so a message paged out then would wait for nothing.
   */
  private overBytes(bytes: number): boolean {
    return this.host.inMemory() > 0 && this.memoryBytes() + bytes > this.maxInMemoryBytes;
  }

  /** Messages waiting in the store rather than in memory. */
  get total(): number {
    return this.pagedTotal;
  }

  /** Counts `count` messages of `dest` as paged out: recovered by a spool at start, they stay in the store. */
  restore(dest: Destination, count: number): void {
    const entry = this.paged.get(dest.key);
    if (entry) entry.count += count;
    else this.paged.set(dest.key, { dest, count });
    this.pagedTotal += count;
  }

  /** Pages `env` out when it must wait in the store; false: the pipeline holds it in memory. */
  maybePageOut(env: Envelope): boolean {
    const pager = this.store.pager;
    if (pager && (this.host.inMemory() >= this.maxInMemory || this.overBytes(env.bytes) || this.paged.has(env.dest.key))) {
      // Memory is full, or older messages of this destination wait on disk: this one waits
      // behind them (order per destination, hence per FIFO group, is kept).
      pager.pageOut(env);
      const entry = this.paged.get(env.dest.key);
      if (entry) entry.count += 1;
      else this.paged.set(env.dest.key, { dest: env.dest, count: 1 });
      this.pagedTotal += 1;
      return true;
    }
    return false;
  }

  maybePageIn(): void {
    if (this.pagedTotal === 0 || this.pageInScheduled || this.host.closing()) return;
    if (this.host.inMemory() > this.maxInMemory * 0.75 || this.memoryBytes() > this.maxInMemoryBytes * 0.75) return;
    this.pageInScheduled = true;
    setImmediate(() => {
      this.pageInScheduled = false;
      this.pageIn();
    });
  }

  /**
   * Reads paged-out messages back, a chunk per destination in turn, up to the memory bound, for
   * at most `slices.sliceMs` at a time: then it yields (setImmediate) and goes on, so reading
   * thousands of records back does not hold the event loop.
   */
  private pageIn(): void {
    const pager = this.store.pager;
    if (!pager || this.host.closing()) return;
    const started = performance.now();
    let room = this.maxInMemory - this.host.inMemory();
    let first = true;
    while (room > 0 && this.pagedTotal > 0 && this.memoryBytes() < this.maxInMemoryBytes) {
      if (!first && performance.now() - started >= this.slices.sliceMs) {
        // The rest of this pass after a turn of the loop (not through maybePageIn's 75 % check:
        // the pass fills memory up to its bound, as one uninterrupted pass would). A pass that
        // maybePageIn scheduled meanwhile is that turn: it reads on from here.
        if (!this.pageInScheduled) {
          this.pageInScheduled = true;
          setImmediate(() => {
            this.pageInScheduled = false;
            this.pageIn();
          });
        }
        return;
      }
      first = false;
      let progressed = false;
      // An equal share each, and served destinations to the back of the line: one queue's long
      // backlog must not hold back the (paged) messages of the others until it has drained.
      const share = Math.max(1, Math.floor(room / this.paged.size));
      const served: string[] = [];
      for (const [key, entry] of this.paged) {
        if (room <= 0) break;
        const byteRoom = this.maxInMemoryBytes - this.memoryBytes();
        if (byteRoom <= 0) break;
        served.push(key);
        const want = Math.min(room, share, this.slices.chunk, entry.count);
        let envs: Envelope[] = [];
        let consumed = 0;
        let lostBytes: number | undefined;
        try {
          ({ envs, consumed, lostBytes } = pager.pageIn(key, want, byteRoom));
        } catch (err) {
          this.log.error({ err: (err as Error).message, queue: entry.dest.queueName }, 'could not read spooled messages back; will retry');
          setTimeout(() => this.maybePageIn(), 1000).unref();
          return;
        }
        if (consumed === 0) consumed = entry.count; // the store has none left: our count was stale
        entry.count -= consumed;
        this.pagedTotal -= consumed;
        if (consumed > envs.length) {
          // Damaged records the store could not read back: no longer in the backlog.
          this.host.lost(entry.dest, consumed - envs.length, lostBytes ?? 0);
        }
        if (entry.count <= 0) this.paged.delete(key);
        for (const env of envs) this.host.hold(env);
        room -= envs.length;
        progressed = true;
        if (performance.now() - started >= this.slices.sliceMs) break; // the rest after a turn (above)
      }
      for (const key of served) {
        const entry = this.paged.get(key);
        if (entry) {
          this.paged.delete(key);
          this.paged.set(key, entry);
        }
      }
      if (!progressed) break;
    }
    this.host.pagedIn();
  }
}
