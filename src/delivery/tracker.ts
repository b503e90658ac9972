import { Deque } from './deque.js';
import type { Envelope, FailureReason } from './envelope.js';

/** Where a recent message is. */
export type MessageState =
  /** Accepted, waiting in the daemon (in the spool; with --durability memory, in memory only). */
  | 'spooled'
  /** In a SendMessageBatch request right now. */
  | 'in-flight'
  /** SQS accepted it: its MessageId (and SequenceNumber on FIFO queues) are known. */
  | 'delivered'
  /** SQS refused it for good: in the dead-letter store with the reason. */
  | 'dead-lettered';

/** What GET /messages/:id tells. Never the body, never credentials. */
export interface MessageStatus {
  id: string;
  queue: string;
  state: MessageState;
  acceptedAt: number;
  attempts: number;
  /** SQS's MessageId, once delivered. */
  messageId?: string;
  /** SQS's SequenceNumber (FIFO queues), once delivered. */
  sequenceNumber?: string;
  /** The last error: why it is being retried, or why it was dead-lettered. */
  error?: { code: string; message: string };
  finishedAt?: number;
}

/**
 * One tracked message. A class with every field set in the constructor, so all of them share one
 * shape and no field is ever deleted (a `delete` turns an object into a slow dictionary).
 */
class Tracked {
  attempts = 0;
  messageId: string | undefined = undefined;
  sequenceNumber: string | undefined = undefined;
  error: { code: string; message: string } | undefined = undefined;
  finishedAt: number | undefined = undefined;

  constructor(
    readonly id: string,
    readonly queue: string,
    public state: MessageState,
    readonly acceptedAt: number,
    /** Which credentials sent it (a Map key that may hold a secret: compared, never shown). */
    readonly owner: string,
  ) {}
}

type Waiter = (statuses: MessageStatus[]) => void;

/**
 * The recent messages' states, in memory: at most `max` (the oldest forgotten first), so memory
 * stays bounded whatever the traffic. Waiters (POST ...?wait=1) are told when every message they
 * wait for is delivered or dead-lettered; a message waited for is never forgotten before that.
 */
export class MessageTracker {
  private readonly recent = new Map<string, Tracked>();
  /**
   * The ids of `recent`, oldest first. Not `recent.keys().next()`: a Map used as a FIFO makes
   * every keys() iterator step over the entries deleted since the table's last rehash, which
   * cost ~12 µs per message with a 10,000 window (a third of the CPU of a batch ingest).
   */
  private readonly order = new Deque<string>();
  private readonly waiting = new Map<string, Set<WaitGroup>>();

  constructor(private readonly max: number) {}

  get size(): number {
    return this.recent.size;
  }

  get waiters(): number {
    return this.waiting.size;
  }

  accepted(envs: readonly Envelope[], state: MessageState = 'spooled'): void {
    const recent = this.recent;
    for (const e of envs) {
      // An id seen again (a replayed message) keeps its place in the window, as a Map key keeps
      // its place: only a new key grows the map (one lookup instead of has() then set()).
      const size = recent.size;
      recent.set(e.id, new Tracked(e.id, e.dest.queueName, state, e.acceptedAt, e.dest.credentials.key));
      if (recent.size !== size) this.order.push(e.id);
    }
    this.trim();
  }

  sending(envs: readonly Envelope[]): void {
    for (const e of envs) {
      const t = this.recent.get(e.id);
      if (t) {
        t.state = 'in-flight';
        t.attempts = e.attempts;
      }
    }
  }

  /** Back to waiting after a failed attempt, with the error it will be retried after. */
  retrying(envs: readonly Envelope[]): void {
    for (const e of envs) {
      const t = this.recent.get(e.id);
      if (!t) continue;
      t.state = 'spooled';
      if (e.lastError) t.error = e.lastError;
    }
  }

  delivered(envs: readonly Envelope[]): void {
    const now = Date.now();
    for (const e of envs) {
      const t = this.recent.get(e.id);
      if (!t) continue;
      t.state = 'delivered';
      t.finishedAt = now;
      t.error = undefined;
      if (e.sqsMessageId !== undefined) t.messageId = e.sqsMessageId;
      if (e.sqsSequenceNumber !== undefined) t.sequenceNumber = e.sqsSequenceNumber;
      this.settle(t);
    }
  }

  deadLettered(envs: readonly Envelope[], reason: FailureReason): void {
    const now = Date.now();
    for (const e of envs) {
      const t = this.recent.get(e.id);
      if (!t) continue;
      t.state = 'dead-lettered';
      t.finishedAt = now;
      t.attempts = e.attempts;
      t.error = { code: reason.code, message: reason.message };
      this.settle(t);
    }
  }

  /** A recent message's state; with `owner`, only if sent with those credentials. */
  get(id: string, owner?: string): MessageStatus | undefined {
    const t = this.recent.get(id);
    if (!t || (owner !== undefined && t.owner !== owner)) return undefined;
    return view(t);
  }

  /**
   * Resolves with the statuses of `ids` once each is delivered or dead-lettered, or when
   * `timeoutMs` passes (then with the states so far). Ids not tracked resolve as they are.
   */
  wait(ids: readonly string[], timeoutMs: number): Promise<MessageStatus[]> {
    const group: WaitGroup = { ids, open: 0, done: () => {} };
    const promise = new Promise<MessageStatus[]>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        for (const id of ids) this.unwait(id, group);
        resolve(ids.map((id) => this.statusOf(id)));
      };
      const timer = setTimeout(finish, timeoutMs);
      group.done = finish;
    });
    for (const id of ids) {
      const t = this.recent.get(id);
      if (!t || t.state === 'delivered' || t.state === 'dead-lettered') continue;
      group.open += 1;
      let set = this.waiting.get(id);
      if (!set) this.waiting.set(id, (set = new Set()));
      set.add(group);
    }
    if (group.open === 0) group.done();
    return promise;
  }

  private statusOf(id: string): MessageStatus {
    const t = this.recent.get(id);
    return t ? view(t) : { id, queue: '', state: 'spooled', acceptedAt: 0, attempts: 0 };
  }

  private settle(t: Tracked): void {
    const groups = this.waiting.get(t.id);
    if (!groups) return;
    this.waiting.delete(t.id);
    for (const g of groups) {
      g.open -= 1;
      if (g.open === 0) g.done();
    }
  }

  private unwait(id: string, group: WaitGroup): void {
    const set = this.waiting.get(id);
    if (!set) return;
    set.delete(group);
    if (set.size === 0) this.waiting.delete(id);
  }

  private trim(): void {
    // Oldest first (a Map keeps insertion order). A message still waited for is moved to the back
    // instead: waiters are bounded by the requests waiting, so the window stays bounded too.
    let moved = 0;
    while (this.recent.size > this.max && moved <= this.waiting.size) {
      const oldest = this.order.shift() as string;
      const t = this.recent.get(oldest) as Tracked;
      this.recent.delete(oldest);
      if (this.waiting.has(oldest)) {
        this.recent.set(oldest, t);
        this.order.push(oldest);
        moved += 1;
      }
    }
  }
}

interface WaitGroup {
  ids: readonly string[];
  open: number;
  done: () => void;
}

function view(t: Tracked): MessageStatus {
  const status: MessageStatus = { id: t.id, queue: t.queue, state: t.state, acceptedAt: t.acceptedAt, attempts: t.attempts };
  if (t.messageId !== undefined) status.messageId = t.messageId;
  if (t.sequenceNumber !== undefined) status.sequenceNumber = t.sequenceNumber;
  if (t.error !== undefined) status.error = t.error;
  if (t.finishedAt !== undefined) status.finishedAt = t.finishedAt;
  return status;
}
