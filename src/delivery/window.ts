import type { FailureReason } from './envelope.js';

/** A slot's state (`state` column); MessageTracker names them. */
export const SPOOLED = 0;
export const IN_FLIGHT = 1;
export const DELIVERED = 2;
export const DEAD_LETTERED = 3;

/** `idPrefix` of a slot whose id is kept as a string (`oddId`), found through a Map. */
const NO_PREFIX = 0xffff;
/** Distinct id prefixes told apart (one per daemon run whose messages are still in the spool). */
const MAX_PREFIXES = 64;
/** Base-36 digits of an id's counter that a double holds exactly (36^10 < 2^53). */
const MAX_SEQ_DIGITS = 10;
const MIN_CAPACITY = 64;

/**
 * The message window's storage: a ring of slots, oldest first, and a hash index from message id
 * to slot, all in typed arrays (struct of arrays), so a message in the window is no object at all
 * (issue 14: during a burst the window's entries live ~60 ms, long enough to survive two young
 * collections, and every object per entry was promoted to the old generation).
 *
 * An id is kept as numbers where it can be: the daemon's ids are `<prefix>-<counter in base 36>`
 * (newMessageId), so a slot holds the prefix's number in a small table and the counter as a double;
 * any other id (an older format replayed from the spool, too many prefixes) is kept as a string, in
 * a Map. SQS's MessageId, a lowercase UUID, is kept as four 32-bit words (else as a string).
 * Strings that stay strings are the queue's name and the owner's key (shared by every message of a
 * destination: no copy per message), FIFO sequence numbers and errors.
 *
 * Capacity grows by doubling (copying the ring in order) and never shrinks; the caller bounds it.
 */
export class WindowSlots {
  /** Slots allocated; a power of two. */
  capacity: number;
  /** The oldest entry's slot. */
  head = 0;
  /** Entries in the ring: slots head … head + count - 1 (mod capacity). */
  count = 0;
  /** Did the last findOrAdd() add a slot? */
  added = false;

  // Columns, indexed by slot. Replaced when the ring grows: read them through `this` each time.
  state: Uint8Array;
  /** 1 while the message is waited for (MessageTracker's waiters): never evicted then. */
  waited: Uint8Array;
  attempts: Uint32Array;
  acceptedAt: Float64Array;
  /** NaN until delivered or dead-lettered. */
  finishedAt: Float64Array;
  queue: string[];
  /** The credentials' key (may hold a secret: compared, never shown). */
  owner: string[];
  /** FIFO queues' SequenceNumber, once delivered. */
  sequenceNumber: (string | undefined)[];
  error: (FailureReason | undefined)[];
  private idPrefix: Uint16Array;
  private idSeq: Float64Array;
  private oddId: (string | undefined)[];
  /** 0: none; 1: a UUID in `uuid` (4 words a slot); 2: a string in `messageIdString`. */
  private messageIdKind: Uint8Array;
  private uuid: Uint32Array;
  private messageIdString: (string | undefined)[];

  /** slot + 1 of ids kept as numbers, 0 if empty; linear probing, at most half full. */
  private index: Int32Array;
  private readonly odd = new Map<string, number>();
  private readonly prefixes: string[] = [];
  private lastPrefix = 0;
  /** The prefix number key() found (NO_PREFIX when it returned -1). */
  private keyPrefix = NO_PREFIX;

  constructor(expected: number) {
    let cap = MIN_CAPACITY;
    while (cap < expected && cap < 1024) cap *= 2;
    this.capacity = cap;
    this.state = new Uint8Array(cap);
    this.waited = new Uint8Array(cap);
    this.attempts = new Uint32Array(cap);
    this.acceptedAt = new Float64Array(cap);
    this.finishedAt = new Float64Array(cap);
    this.queue = new Array<string>(cap).fill('');
    this.owner = new Array<string>(cap).fill('');
    this.sequenceNumber = new Array<string | undefined>(cap).fill(undefined);
    this.error = new Array<FailureReason | undefined>(cap).fill(undefined);
    this.idPrefix = new Uint16Array(cap);
    this.idSeq = new Float64Array(cap);
    this.oddId = new Array<string | undefined>(cap).fill(undefined);
    this.messageIdKind = new Uint8Array(cap);
    this.uuid = new Uint32Array(cap * 4);
    this.messageIdString = new Array<string | undefined>(cap).fill(undefined);
    this.index = new Int32Array(cap * 2);
  }

  /** The slot holding `id`, or -1. */
  find(id: string): number {
    const seq = this.key(id, false);
    return seq < 0 ? (this.odd.get(id) ?? -1) : this.findKey(this.keyPrefix, seq);
  }

  /**
   * The slot holding `id`, or a new one at the back (the caller fills its columns; `added` says
   * which). Never evicts: the caller trims.
   */
  findOrAdd(id: string): number {
    const seq = this.key(id, true);
    const prefix = this.keyPrefix;
    let slot = seq < 0 ? (this.odd.get(id) ?? -1) : this.findKey(prefix, seq);
    this.added = slot < 0;
    if (slot >= 0) return slot;
    if (this.count === this.capacity) this.grow();
    slot = (this.head + this.count) & (this.capacity - 1);
    this.count += 1;
    this.idPrefix[slot] = seq < 0 ? NO_PREFIX : prefix;
    if (seq < 0) {
      this.oddId[slot] = id;
      this.odd.set(id, slot);
    } else {
      this.idSeq[slot] = seq;
      this.insert(slot);
    }
    return slot;
  }

  /** Forgets the oldest entry. */
  evictOldest(): void {
    const slot = this.head;
    this.unindex(slot);
    this.oddId[slot] = undefined;
    this.forget(slot);
    this.head = (slot + 1) & (this.capacity - 1);
    this.count -= 1;
  }

  /** Moves the oldest entry to the back, with its id and every column. */
  moveOldestToBack(): void {
    if (this.count === this.capacity) this.grow();
    const from = this.head;
    const mask = this.capacity - 1;
    const to = (from + this.count) & mask;
    this.state[to] = this.state[from] as number;
    this.waited[to] = this.waited[from] as number;
    this.attempts[to] = this.attempts[from] as number;
    this.acceptedAt[to] = this.acceptedAt[from] as number;
    this.finishedAt[to] = this.finishedAt[from] as number;
    this.queue[to] = this.queue[from] as string;
    this.owner[to] = this.owner[from] as string;
    this.sequenceNumber[to] = this.sequenceNumber[from];
    this.error[to] = this.error[from];
    this.messageIdKind[to] = this.messageIdKind[from] as number;
    this.uuid.copyWithin(to * 4, from * 4, from * 4 + 4);
    this.messageIdString[to] = this.messageIdString[from];
    const prefix = this.idPrefix[from] as number;
    this.idPrefix[to] = prefix;
    this.idSeq[to] = this.idSeq[from] as number;
    if (prefix === NO_PREFIX) {
      const id = this.oddId[from] as string;
      this.oddId[to] = id;
      this.oddId[from] = undefined;
      this.odd.set(id, to);
    } else {
      this.index[this.position(from)] = to + 1;
    }
    this.forget(from);
    this.head = (from + 1) & mask;
  }

  /** A freed slot keeps no string alive (nor an owner's key). */
  private forget(slot: number): void {
    this.clear(slot);
    this.waited[slot] = 0;
    this.queue[slot] = '';
    this.owner[slot] = '';
  }

  /** Resets the columns a message's life sets after it is accepted: no end, no SQS ids, no error. */
  clear(slot: number): void {
    this.finishedAt[slot] = NaN;
    this.sequenceNumber[slot] = undefined;
    this.error[slot] = undefined;
    this.messageIdKind[slot] = 0;
    this.messageIdString[slot] = undefined;
  }

  setMessageId(slot: number, messageId: string): void {
    if (parseUuid(messageId, this.uuid, slot * 4)) {
      this.messageIdKind[slot] = 1;
      this.messageIdString[slot] = undefined;
    } else {
      this.messageIdKind[slot] = 2;
      this.messageIdString[slot] = messageId;
    }
  }

  messageId(slot: number): string | undefined {
    const kind = this.messageIdKind[slot];
    if (kind === 1) return formatUuid(this.uuid, slot * 4);
    return kind === 2 ? this.messageIdString[slot] : undefined;
  }

  /**
   * The counter of an id `<prefix>-<base 36>` whose prefix is in the table (or was added to it,
   * with `add`), its number in keyPrefix; -1 when the id is kept as a string. Only one spelling
   * of a counter is accepted (lowercase, no leading zero), so two ids never share a key.
   */
  private key(id: string, add: boolean): number {
    const dash = id.lastIndexOf('-');
    const end = id.length;
    if (dash <= 0 || end - dash - 1 < 1 || end - dash - 1 > MAX_SEQ_DIGITS || id.charCodeAt(dash + 1) === 48) return -1;
    let seq = 0;
    for (let i = dash + 1; i < end; i++) {
      const c = id.charCodeAt(i);
      if (c >= 48 && c <= 57) seq = seq * 36 + (c - 48);
      else if (c >= 97 && c <= 122) seq = seq * 36 + (c - 87);
      else return -1;
    }
    const prefixes = this.prefixes;
    let p = this.lastPrefix;
    const last = prefixes[p];
    if (last === undefined || last.length !== dash || !id.startsWith(last)) {
      p = -1;
      for (let i = 0; i < prefixes.length; i++) {
        const s = prefixes[i] as string;
        if (s.length === dash && id.startsWith(s)) {
          p = i;
          break;
        }
      }
      if (p < 0) {
        if (!add || prefixes.length >= MAX_PREFIXES) return -1;
        p = prefixes.push(id.slice(0, dash)) - 1;
      }
      this.lastPrefix = p;
    }
    this.keyPrefix = p;
    return seq;
  }

  private findKey(prefix: number, seq: number): number {
    const index = this.index;
    const mask = index.length - 1;
    for (let i = hash(prefix, seq) & mask; ; i = (i + 1) & mask) {
      const v = index[i] as number;
      if (v === 0) return -1;
      if (this.idSeq[v - 1] === seq && this.idPrefix[v - 1] === prefix) return v - 1;
    }
  }

  /** Where in the index `slot` (an id kept as numbers) is. */
  private position(slot: number): number {
    const index = this.index;
    const mask = index.length - 1;
    let i = hash(this.idPrefix[slot] as number, this.idSeq[slot] as number) & mask;
    while (index[i] !== slot + 1) i = (i + 1) & mask;
    return i;
  }

  private insert(slot: number): void {
    const index = this.index;
    const mask = index.length - 1;
    let i = hash(this.idPrefix[slot] as number, this.idSeq[slot] as number) & mask;
    while (index[i] !== 0) i = (i + 1) & mask;
    index[i] = slot + 1;
  }

  /** Removes `slot`'s id from the index or the Map. */
  private unindex(slot: number): void {
    if (this.idPrefix[slot] === NO_PREFIX) {
      this.odd.delete(this.oddId[slot] as string);
      return;
    }
    // Linear probing's deletion without tombstones: each entry after the hole that may move back
    // into it (its home position not cyclically between the hole and itself) does.
    const index = this.index;
    const mask = index.length - 1;
    let hole = this.position(slot);
    for (let j = (hole + 1) & mask; ; j = (j + 1) & mask) {
      const v = index[j] as number;
      if (v === 0) break;
      const home = hash(this.idPrefix[v - 1] as number, this.idSeq[v - 1] as number) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        index[hole] = v;
        hole = j;
      }
    }
    index[hole] = 0;
  }

  /**
   * Twice the slots, the ring copied in order from slot 0, the index rebuilt. Only called with the
   * ring full (findOrAdd), so its order is slots head … capacity - 1, then 0 … head - 1: each
   * column is copied as those two runs (memcpy for a typed array, slice and concat for the others),
   * not an element at a time through one helper for every column's kind, which held the event
   * loop 6-12 ms growing to 16,384 slots (the default window's) and 50-97 ms to 131,072 (issue 11).
   */
  private grow(): void {
    const old = this.capacity;
    const cap = old * 2;
    const h = this.head;
    const typed = <T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(src: T, make: new (n: number) => T, width = 1): T => {
      const dst = new make(cap * width);
      dst.set(src.subarray(h * width, old * width));
      dst.set(src.subarray(0, h * width), (old - h) * width);
      return dst;
    };
    const plain = <T>(src: T[], fill: T): T[] => src.slice(h, old).concat(src.slice(0, h), new Array<T>(old).fill(fill));
    this.state = typed(this.state, Uint8Array);
    this.waited = typed(this.waited, Uint8Array);
    this.attempts = typed(this.attempts, Uint32Array);
    this.acceptedAt = typed(this.acceptedAt, Float64Array);
    this.finishedAt = typed(this.finishedAt, Float64Array);
    this.queue = plain(this.queue, '');
    this.owner = plain(this.owner, '');
    this.sequenceNumber = plain(this.sequenceNumber, undefined);
    this.error = plain(this.error, undefined);
    this.idPrefix = typed(this.idPrefix, Uint16Array);
    this.idSeq = typed(this.idSeq, Float64Array);
    this.oddId = plain(this.oddId, undefined);
    this.messageIdKind = typed(this.messageIdKind, Uint8Array);
    this.messageIdString = plain(this.messageIdString, undefined);
    this.uuid = typed(this.uuid, Uint32Array, 4);
    this.capacity = cap;
    this.head = 0;
    this.index = new Int32Array(cap * 2);
    for (let s = 0; s < this.count; s++) {
      if (this.idPrefix[s] === NO_PREFIX) this.odd.set(this.oddId[s] as string, s);
      else this.insert(s);
    }
  }
}

/** A 32-bit hash of an id kept as numbers (murmur3's finaliser over the counter and the prefix). */
function hash(prefix: number, seq: number): number {
  const lo = seq >>> 0;
  const hi = (seq - lo) / 4_294_967_296;
  let h = Math.imul(lo, 0x9e3779b1) ^ Math.imul((hi | 0) + (prefix << 21), 0x85ebca6b);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** A lowercase UUID (8-4-4-4-12 hex digits) into 4 words at `out[at]`; false (out untouched) if `s` is not one. */
export function parseUuid(s: string, out: Uint32Array, at: number): boolean {
  if (s.length !== 36) return false;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23 ? c !== 45 : !((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  let w = 0;
  let n = 0;
  let k = at;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (c === 45) continue;
    w = (w << 4) | (c <= 57 ? c - 48 : c - 87);
    if (++n === 8) {
      out[k++] = w >>> 0;
      w = 0;
      n = 0;
    }
  }
  return true;
}

export function formatUuid(words: Uint32Array, at: number): string {
  const a = hex8(words[at] as number);
  const b = hex8(words[at + 1] as number);
  const c = hex8(words[at + 2] as number);
  const d = hex8(words[at + 3] as number);
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
}

function hex8(w: number): string {
  return w.toString(16).padStart(8, '0');
}
