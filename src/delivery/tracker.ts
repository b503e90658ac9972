import type { Envelope, FailureReason } from './envelope.js';
import { DEAD_LETTERED, DELIVERED, IN_FLIGHT, SPOOLED, WindowSlots } from './window.js';

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

/** The `state` column's values, by number (window.ts). */
const STATES: readonly MessageState[] = ['spooled', 'in-flight', 'delivered', 'dead-lettered'];
const STATE_NUMBER: Readonly<Record<MessageState, number>> = { spooled: SPOOLED, 'in-flight': IN_FLIGHT, delivered: DELIVERED, 'dead-lettered': DEAD_LETTERED };

/**
 * The recent messages' states, in memory: at most `max` (the oldest forgotten first), so memory
 * stays bounded whatever the traffic. Waiters (POST ...?wait=1) are told when every message they
 * wait for is delivered or dead-lettered; a message waited for is never forgotten before that.
 *
 * Stored in typed arrays, no object per message (window.ts): a burst's entries, which live only as
 * long as the window takes to turn over, are no garbage and nothing for the young collections to copy.
 */
export class MessageTracker {
  private readonly slots: WindowSlots;
  private readonly waiting = new Map<string, Set<WaitGroup>>();

  constructor(private readonly max: number) {
    this.slots = new WindowSlots(max + 1);
  }

  get size(): number {
    return this.slots.count;
  }

  get waiters(): number {
    return this.waiting.size;
  }

  accepted(envs: readonly Envelope[], state: MessageState = 'spooled'): void {
    const w = this.slots;
    const n = STATE_NUMBER[state];
    // Moves of waited-for messages to the back, over the whole call (as one trim after the batch
    // would): bounded by the ids waited for, so a window full of them costs each call O(waiters).
    let moved = 0;
    for (const e of envs) {
      // An id seen again (a replayed message) keeps its place in the window, its state reset.
      const slot = w.findOrAdd(e.id);
      w.state[slot] = n;
      w.attempts[slot] = 0;
      w.acceptedAt[slot] = e.accepted.at;
      w.queue[slot] = e.dest.queueName;
      w.owner[slot] = e.dest.credentials.key;
      w.clear(slot);
      // Trimmed as each is added, so the ring holds at most max + 1 whatever the batch's size.
      while (w.count > this.max && moved <= this.waiting.size) {
        if (w.waited[w.head] === 1) {
          w.moveOldestToBack();
          moved += 1;
        } else {
          w.evictOldest();
        }
      }
    }
  }

  sending(envs: readonly Envelope[]): void {
    const w = this.slots;
    for (const e of envs) {
      const slot = w.find(e.id);
      if (slot < 0) continue;
      w.state[slot] = IN_FLIGHT;
      w.attempts[slot] = e.attempts;
    }
  }

  /** Back to waiting after a failed attempt, with the error it will be retried after. */
  retrying(envs: readonly Envelope[]): void {
    const w = this.slots;
    for (const e of envs) {
      const slot = w.find(e.id);
      if (slot < 0) continue;
      w.state[slot] = SPOOLED;
      if (e.lastError) w.error[slot] = e.lastError;
    }
  }

  /** `messageIds[i]`, `sequenceNumbers[i]`: SQS's ids of `envs[i]` (BatchOutcome's). */
  delivered(envs: readonly Envelope[], messageIds?: readonly (string | undefined)[], sequenceNumbers?: readonly (string | undefined)[]): void {
    const w = this.slots;
    const now = Date.now();
    for (let i = 0; i < envs.length; i++) {
      const e = envs[i] as Envelope;
      const slot = w.find(e.id);
      if (slot < 0) continue;
      w.state[slot] = DELIVERED;
      w.finishedAt[slot] = now;
      w.error[slot] = undefined;
      const messageId = messageIds?.[i];
      if (messageId !== undefined) w.setMessageId(slot, messageId);
      const sequenceNumber = sequenceNumbers?.[i];
      if (sequenceNumber !== undefined) w.sequenceNumber[slot] = sequenceNumber;
      if (w.waited[slot] === 1) this.settle(slot, e.id);
    }
  }

  deadLettered(envs: readonly Envelope[], reason: FailureReason): void {
    const w = this.slots;
    const now = Date.now();
    // One copy for the call's messages (the caller's object may change; statuses only read it).
    const error = { code: reason.code, message: reason.message };
    for (const e of envs) {
      const slot = w.find(e.id);
      if (slot < 0) continue;
      w.state[slot] = DEAD_LETTERED;
      w.finishedAt[slot] = now;
      w.attempts[slot] = e.attempts;
      w.error[slot] = error;
      if (w.waited[slot] === 1) this.settle(slot, e.id);
    }
  }

  /** A recent message's state; with `owner`, only if sent with those credentials. */
  get(id: string, owner?: string): MessageStatus | undefined {
    const slot = this.slots.find(id);
    if (slot < 0 || (owner !== undefined && this.slots.owner[slot] !== owner)) return undefined;
    return this.view(slot, id);
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
    const w = this.slots;
    for (const id of ids) {
      const slot = w.find(id);
      if (slot < 0 || w.state[slot] === DELIVERED || w.state[slot] === DEAD_LETTERED) continue;
      group.open += 1;
      let set = this.waiting.get(id);
      if (!set) this.waiting.set(id, (set = new Set()));
      set.add(group);
      w.waited[slot] = 1;
    }
    if (group.open === 0) group.done();
    return promise;
  }

  private statusOf(id: string): MessageStatus {
    const slot = this.slots.find(id);
    return slot >= 0 ? this.view(slot, id) : { id, queue: '', state: 'spooled', acceptedAt: 0, attempts: 0 };
  }

  private settle(slot: number, id: string): void {
    this.slots.waited[slot] = 0;
    const groups = this.waiting.get(id);
    if (!groups) return;
    this.waiting.delete(id);
    for (const g of groups) {
      g.open -= 1;
      if (g.open === 0) g.done();
    }
  }

  private unwait(id: string, group: WaitGroup): void {
    const set = this.waiting.get(id);
    if (!set) return;
    set.delete(group);
    if (set.size > 0) return;
    this.waiting.delete(id);
    const slot = this.slots.find(id);
    if (slot >= 0) this.slots.waited[slot] = 0;
  }

  private view(slot: number, id: string): MessageStatus {
    const w = this.slots;
    const status: MessageStatus = { id, queue: w.queue[slot] as string, state: STATES[w.state[slot] as number] as MessageState, acceptedAt: w.acceptedAt[slot] as number, attempts: w.attempts[slot] as number };
    const messageId = w.messageId(slot);
    if (messageId !== undefined) status.messageId = messageId;
    const sequenceNumber = w.sequenceNumber[slot];
    if (sequenceNumber !== undefined) status.sequenceNumber = sequenceNumber;
    const error = w.error[slot];
    if (error !== undefined) status.error = error;
    const finishedAt = w.finishedAt[slot] as number;
    if (!Number.isNaN(finishedAt)) status.finishedAt = finishedAt;
    return status;
  }
}

interface WaitGroup {
  ids: readonly string[];
  open: number;
  done: () => void;
}
