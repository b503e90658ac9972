import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { DaemonError } from '../errors.js';

/**
 * One bound on the request-body bytes held in memory by all requests together
 * (`--max-inflight-body-bytes`). Every reader of a body (body.ts readBody and readHead,
 * large-body.ts readRawBody: the REST send routes, the SQS API door, the UI's forms, raw uploads
 * of large messages) takes what it is about to hold from the request's lease before holding it:
 * the declared Content-Length at once, or chunk by chunk for a body of unknown length. What does
 * not fit is refused at once with 503 TooManyBodyBytes + Retry-After, naming the option; nothing
 * waits for room, so a caller over the bound never stalls the others, and nothing of a refused
 * body is kept. A request gives back everything it took when its response closes (sent, or the
 * client gone): until then its body, the text decoded from it and the entries parsed from it
 * are alive.
 *
 * Why: with V8 heap limits in the systemd unit (issue 14's RSS goal), many large bodies at once
 * (each up to --max-request-bytes, and each costing a few times its size while it is decoded and
 * parsed) would otherwise run the daemon out of heap, a crash instead of a refusal.
 */
export class BodyBudget {
  private used = 0;
  private refusing = false;

  constructor(
    /** Bytes, all requests together. */
    readonly limit: number,
    private readonly log?: Logger,
  ) {}

  /** Bytes held by requests now. */
  get inFlight(): number {
    return this.used;
  }

  /** Ties `req` to this budget until `res` closes; its body readers find the lease with bodyLease(req). */
  admit(req: IncomingMessage, res: ServerResponse): void {
    const lease = new BodyLease(this);
    // Kept on the request and the response themselves, released by one shared listener: no
    // WeakMap entry (an ephemeron every scavenge must process) and no closure or once-wrapper
    // per request (issue 14). 'close' is emitted once per response.
    (req as Leased)[LEASE] = lease;
    (res as Leased)[LEASE] = lease;
    res.on('close', releaseLease);
  }

  /** @internal BodyLease's side: false (and nothing taken) when `n` more bytes would pass the limit. */
  tryTake(n: number): boolean {
    if (this.used + n > this.limit) {
      if (!this.refusing) {
        this.refusing = true;
        this.log?.warn({ inFlightBodyBytes: this.used, maxInflightBodyBytes: this.limit }, 'request bodies at --max-inflight-body-bytes; answering new ones 503 TooManyBodyBytes');
      }
      return false;
    }
    this.used += n;
    return true;
  }

  /** @internal */
  give(n: number): void {
    this.used -= n;
    if (this.refusing && this.used <= this.limit / 2) {
      this.refusing = false;
      this.log?.info({ inFlightBodyBytes: this.used, maxInflightBodyBytes: this.limit }, 'request bodies below --max-inflight-body-bytes again');
    }
  }
}

/** What one request holds of the budget. */
export class BodyLease {
  private held = 0;
  private released = false;

  constructor(private readonly budget: BodyBudget) {}

  /** Bytes this request holds. */
  get bytes(): number {
    return this.held;
  }

  /**
   * Makes sure this request holds at least `total` bytes (what its readers hold or are about to
   * hold, all together); throws 503 TooManyBodyBytes when the rest does not fit in the budget.
   */
  ensure(total: number): void {
    if (total <= this.held) return;
    if (this.released) throw new DaemonError('BodyReadError', 'the request was already answered (or its client gone) when its body was read');
    const more = total - this.held;
    if (!this.budget.tryTake(more)) {
      throw new DaemonError(
        'TooManyBodyBytes',
        `request bodies being read at once would pass --max-inflight-body-bytes (${this.budget.limit} bytes; ${this.budget.inFlight} in use, this request needs ${total}); retry shortly`,
      );
    }
    this.held = total;
  }

  /** Gives back everything (once). */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.budget.give(this.held);
    this.held = 0;
  }
}

const LEASE = Symbol('sqs-accelerator.bodyLease');
type Leased = { [LEASE]?: BodyLease };

function releaseLease(this: ServerResponse): void {
  (this as Leased)[LEASE]?.release();
}

/** The lease of a request admitted by a BodyBudget; undefined for one that was not (a test's bare app). */
export function bodyLease(req: IncomingMessage): BodyLease | undefined {
  return (req as Leased)[LEASE];
}
