/**
 * FIFO over a ring buffer with O(1) push and shift and bulk unshift. The buffer's capacity is a
 * power of two; it doubles when full and, above SHRINK_ABOVE slots, halves when a quarter used,
 * copying the items in order each time. A queue that fills and drains over and over (a batcher
 * fed one 10,000-entry batch after another) allocates nothing once its buffer has grown, up to
 * SHRINK_ABOVE slots (128 KiB; the default --max-in-memory-messages, 10,000, fits; a drained
 * batcher is dropped with its buffer when idle, Pipeline.sweep): the array-backed
 * deque it replaces copied what was left on each compaction (`slice`) and again as pushes grew
 * the exact-size copy, up to ~80 KB a copy for 10,000 envelopes, in the young generation where
 * each scavenge copies it once more (issue 11: what a batch costs the young collections).
 */
export class Deque<T> {
  private items: (T | undefined)[] = EMPTY as (T | undefined)[];
  /** Index of the first item; capacity - 1 as a mask (capacity is items.length, a power of two, or 0). */
  private head = 0;
  private count = 0;

  get length(): number {
    return this.count;
  }

  push(item: T): void {
    if (this.count === this.items.length) this.resize(Math.max(MIN_CAPACITY, this.items.length * 2));
    this.items[(this.head + this.count) & (this.items.length - 1)] = item;
    this.count += 1;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.count -= 1;
    if (this.items.length > SHRINK_ABOVE && this.count * 4 <= this.items.length) this.resize(this.items.length / 2);
    return item;
  }

  /** Puts `items` back at the front, keeping their order. */
  unshiftAll(items: readonly T[]): void {
    if (items.length === 0) return;
    let cap = this.items.length;
    if (this.count + items.length > cap) {
      cap = Math.max(MIN_CAPACITY, cap);
      while (cap < this.count + items.length) cap *= 2;
      this.resize(cap);
    }
    const mask = cap - 1;
    this.head = (this.head - items.length + cap) & mask;
    for (let i = 0; i < items.length; i++) this.items[(this.head + i) & mask] = items[i];
    this.count += items.length;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    const mask = this.items.length - 1;
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) & mask] as T;
  }

  /** A buffer of `capacity` (a power of two, at least count) with the items in order from slot 0. */
  private resize(capacity: number): void {
    const next = new Array<T | undefined>(capacity);
    const mask = this.items.length - 1;
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & mask];
    this.items = next;
    this.head = 0;
  }
}

const EMPTY: unknown[] = [];
const MIN_CAPACITY = 8;
/** Slots a drained buffer keeps: 16,384 (128 KiB); a larger one halves as it drains. */
const SHRINK_ABOVE = 16_384;
