/** Entries per chunk: 8,192 × 12 bytes = 96 KiB of typed arrays, outside the V8 heap. */
const CHUNK = 8192;
const TWO_32 = 4294967296;

interface Chunk {
  /** The offset's low 32 bits. */
  off: Uint32Array;
  /**
   * The offset's bits above 32, made only for a chunk that holds an offset past 4 GiB (a segment
   * larger than that: `--spool-segment-bytes` has no upper bound, and segments written under an
   * earlier setting are read back at start).
   */
  offHi: Uint16Array | undefined;
  len: Uint32Array;
  bytes: Uint32Array;
}

/**
 * A FIFO of (segment, offset, record length, message bytes) for paged-out messages, 12 bytes
 * each in fixed-size typed-array chunks, the segment numbers as runs (a destination's messages
 * follow each other within a segment, so a run spans thousands of them).
 *
 * Issue 14 (RSS with 1,000,000 messages backlogged): the flat `number[]` this replaced cost 32
 * bytes per message in the V8 heap, up to half as much again while it grew (each growth copies
 * the whole array), and sat in the large-object space: 46 MB of a 1,000,000-message backlog's
 * heap. Chunks are allocated and dropped whole, so the queue never copies what it holds. Offsets
 * are 32-bit (a segment is 64 MiB by default), 48-bit only in a chunk that needs it: 12 bytes a
 * message instead of 16 with a 64-bit offset (4 MB of a 1,000,000-message backlog).
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
      this.chunks.push({ off: new Uint32Array(CHUNK), offHi: undefined, len: new Uint32Array(CHUNK), bytes: new Uint32Array(CHUNK) });
      this.fill = 0;
    }
    const c = this.chunks[this.chunks.length - 1] as Chunk;
    c.off[this.fill] = off % TWO_32;
    if (off >= TWO_32) (c.offHi ??= new Uint16Array(CHUNK))[this.fill] = Math.floor(off / TWO_32);
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
    const c = this.chunks[Math.floor(at / CHUNK)] as Chunk;
    const lo = c.off[at % CHUNK] as number;
    return c.offHi === undefined ? lo : lo + (c.offHi[at % CHUNK] as number) * TWO_32;
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
