/**
 * A FIFO of (segment, offset, record length, message bytes) in one flat array: 32 bytes per
 * paged-out message instead of an object, so a backlog of a million costs ~32 MB of heap.
 */
export class PositionQueue {
  private data: number[] = [];
  private head = 0;

  get length(): number {
    return (this.data.length - this.head) / 4;
  }

  push(seg: number, off: number, len: number, bytes: number): void {
    this.data.push(seg, off, len, bytes);
  }

  seg(i: number): number {
    return this.data[this.head + i * 4] as number;
  }

  off(i: number): number {
    return this.data[this.head + i * 4 + 1] as number;
  }

  len(i: number): number {
    return this.data[this.head + i * 4 + 2] as number;
  }

  /** Size of the message as SQS counts it (for the backlog's byte count). */
  bytes(i: number): number {
    return this.data[this.head + i * 4 + 3] as number;
  }

  shift(): void {
    this.head += 4;
    if (this.head >= 4 * 4096 && this.head * 2 >= this.data.length) {
      this.data = this.data.slice(this.head);
      this.head = 0;
    }
  }
}
