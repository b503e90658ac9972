/** Entries per chunk: 8,192 × 16 bytes = 128 KiB of typed arrays, outside the V8 heap. */
const CHUNK = 8192;

interface Chunk {
  off: Float64Array;
  len: Uint32Array;
  bytes: Uint32Array;
}

/**
 * A FIFO of (segment, offset, record length, message bytes) for paged-out messages, 16 bytes
 * each in fixed-size typed-array chunks, the segment numbers as runs (a destination's messages
 * follow each other within a segment, so a run spans thousands of them).
 *
 * Issue 14 (RSS with 1,000,000 messages backlogged): the flat `number[]` this replaced cost 32
 * bytes per message in the V8 heap, up to half as much again while it grew (each growth copies
 * the whole array), and sat in the large-object space: 46 MB of a 1,000,000-message backlog's
 * heap. Chunks are allocated and dropped whole, so the queue never copies what it holds.
 */
export class PositionQueue {
  private chunks: Chunk[] = [];
  /** Index of the first entry in chunks[0]; entries before it are consumed. */
  private head = 0;
  /** Entries pushed into the last chunk. */
  private fill = CHUNK;
  private count = 0;
  /**
   * Segment runs, oldest first, as pairs (entries of the run, segment number); the first run's
   * count is what is left of it. Never empty while entries are.
   */
  private runs: number[] = [];
  private runHead = 0;

  get length(): number {
    return this.count;
  }

  push(seg: number, off: number, len: number, bytes: number): void {
    if (this.fill === CHUNK) {
      this.chunks.push({ off: new Float64Array(CHUNK), len: new Uint32Array(CHUNK), bytes: new Uint32Array(CHUNK) });
      this.fill = 0;
    }
    const c = this.chunks[this.chunks.length - 1] as Chunk;
    c.off[this.fill] = off;
    c.len[this.fill] = len;
    c.bytes[this.fill] = bytes;
    this.fill += 1;
    this.count += 1;
    const r = this.runs.length;
    if (r > this.runHead && this.runs[r - 1] === seg) this.runs[r - 2] = (this.runs[r - 2] as number) + 1;
    else this.runs.push(1, seg);
  }

  /** Segment of entry `i` (0 = the oldest). */
  seg(i: number): number {
    let r = this.runHead;
    let left = i;
    while (left >= (this.runs[r] as number)) {
      left -= this.runs[r] as number;
      r += 2;
    }
    return this.runs[r + 1] as number;
  }

  off(i: number): number {
    const at = this.head + i;
    return (this.chunks[Math.floor(at / CHUNK)] as Chunk).off[at % CHUNK] as number;
  }

  len(i: number): number {
    const at = this.head + i;
    return (this.chunks[Math.floor(at / CHUNK)] as Chunk).len[at % CHUNK] as number;
  }

  /** Size of the message as SQS counts it (for the backlog's byte count). */
  bytes(i: number): number {
    const at = this.head + i;
    return (this.chunks[Math.floor(at / CHUNK)] as Chunk).bytes[at % CHUNK] as number;
  }

  /** Drops the oldest entry. */
  shift(): void {
    if (this.count === 0) return;
    this.count -= 1;
    this.head += 1;
    if (this.head === CHUNK || this.count === 0) {
      this.chunks.shift();
      this.head = 0;
      if (this.chunks.length === 0) this.fill = CHUNK;
    }
    const left = (this.runs[this.runHead] as number) - 1;
    if (left > 0) this.runs[this.runHead] = left;
    else this.runHead += 2;
    if (this.runHead >= 64 && this.runHead * 2 >= this.runs.length) {
      this.runs = this.runs.slice(this.runHead);
      this.runHead = 0;
    }
  }
}
