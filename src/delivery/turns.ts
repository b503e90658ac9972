import { performance } from 'node:perf_hooks';
import { Deque } from './deque.js';

/**
 * How much delivery work (SQS answers taken in, the next batches signed and written) one window
 * of the event loop may do, ms. A window starts with the first such work of a turn and ends in the
 * turn's check phase; so a turn holds at most about twice this of delivery work, however many SQS
 * answers arrived in its poll phase.
 */
export const DELIVERY_SLICE_MS = 1;

/**
 * Delivery work in slices, so it yields to ingest (issue 11): with a backlog of a 10,000-entry
 * batch, the answers of a hundred SendMessageBatch requests can arrive in one poll phase, and
 * taking each in and sending the next batch in its place held the loop 10-20 ms at a time, with
 * every other caller's request waiting behind it.
 *
 * `run(fn)` runs `fn` at once while the current window has time left; past it, `fn` waits (in
 * order) for a later turn's check phase, where the waiting work runs in a window of its own, the
 * rest again in the next turn. Requests read in the poll phase in between are parsed, recorded and
 * answered first. With little to deliver nothing ever waits: a window is only spent by work done
 * inside it.
 *
 * Time is read before each piece of work, so a window is passed by at most one piece and the
 * microtasks it started (a batch's signing and write after the answer that freed its slot).
 */
export class DeliveryTurns {
  private windowStart = 0;
  /** A check-phase callback is due: the window is open until then. */
  private armed = false;
  private readonly waiting = new Deque<() => void>();
  private readonly drainNow = (): void => this.drain();

  constructor(
    private readonly sliceMs = DELIVERY_SLICE_MS,
    /** How a later turn's check phase is asked for (setImmediate; a test may run them by hand). */
    private readonly schedule: (fn: () => void) => void = setImmediate,
    /** The clock windows are measured by, ms (performance.now; a test may move one by hand). */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Work waiting for a later turn. */
  get pending(): number {
    return this.waiting.length;
  }

  /** Opens a window if none is open: work about to be done counts against this turn's slice. */
  begin(): void {
    if (this.armed) return;
    this.armed = true;
    this.windowStart = this.now();
    this.schedule(this.drainNow);
  }

  /** Has the current window no time left (new work would wait)? */
  spent(): boolean {
    return this.armed && this.now() - this.windowStart >= this.sliceMs;
  }

  /** Runs `fn` now if this window has time left and nothing is waiting before it; else queues it for a later turn. */
  run(fn: () => void): void {
    if (!this.armed) this.begin();
    else if (this.waiting.length > 0 || this.now() - this.windowStart >= this.sliceMs) {
      this.waiting.push(fn);
      return;
    }
    fn();
  }

  private drain(): void {
    this.windowStart = this.now();
    while (this.waiting.length > 0) {
      if (this.now() - this.windowStart >= this.sliceMs) {
        this.schedule(this.drainNow); // the rest in the next turn, after its poll phase
        return;
      }
      const fn = this.waiting.shift() as () => void;
      try {
        fn();
      } catch (err) {
        // A bug in the work: it surfaces as before (uncaught), and the rest still runs in later turns.
        if (this.waiting.length > 0) this.schedule(this.drainNow);
        else this.armed = false;
        throw err;
      }
    }
    this.armed = false;
  }
}
