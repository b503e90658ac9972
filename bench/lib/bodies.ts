/**
 * Message bodies: unique, about 200 bytes, and self-describing, so the fake SQS can tell
 * exactly which messages of a run arrived: `<tag>-<seq, 10 digits>-<filler>`.
 */
const FILLER = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'.repeat(40);

export function messageBody(tag: string, seq: number, bytes: number): string {
  const head = `${tag}-${String(seq).padStart(10, '0')}-`;
  return head + FILLER.slice(0, Math.max(0, bytes - head.length));
}

/**
 * The entries of the abuse bench's 10,000-entry batch (bench/abuser.ts), as JSON lines: join them
 * with '\n' for NDJSON or wrap them in `[...]` with ',' for a JSON array. The same body for every
 * tool that measures a large batch (abuse, alloc --batches, held, batch-live), so their numbers
 * describe the same request.
 */
export function abuseBatchLines(entries = 10_000): string[] {
  return Array.from({ length: entries }, (_, i) => JSON.stringify({ body: `abuse-${i}-${'b'.repeat(100)}` }));
}

/** The sequence number of a body of run `tag`, or -1 when the body belongs to another run. */
export function seqOf(tag: string, body: string): number {
  if (!body.startsWith(tag) || body.charCodeAt(tag.length) !== 45 /* - */) return -1;
  const n = Number(body.slice(tag.length + 1, tag.length + 11));
  return Number.isInteger(n) ? n : -1;
}

/** A fixed-size bit set, shipped between processes as base64. */
export class BitSet {
  readonly bits: Uint8Array;
  constructor(readonly size: number, from?: string) {
    this.bits = from ? new Uint8Array(Buffer.from(from, 'base64')) : new Uint8Array(Math.ceil(size / 8));
  }
  set(i: number): void {
    this.bits[i >> 3]! |= 1 << (i & 7);
  }
  has(i: number): boolean {
    return (this.bits[i >> 3]! & (1 << (i & 7))) !== 0;
  }
  count(): number {
    let n = 0;
    for (let i = 0; i < this.size; i++) if (this.has(i)) n++;
    return n;
  }
  toBase64(): string {
    return Buffer.from(this.bits.buffer, this.bits.byteOffset, this.bits.byteLength).toString('base64');
  }
}
