/**
 * A FIFO of (segment, offset, length) triples in one flat array: 24 bytes per paged-out
 * message instead of an object, so a backlog of a million costs ~24 MB of heap.
 */
export class PositionQueue {
  private data: number[] = [];
  private head = 0;

  get length(): number {
    return (this.data.length - this.head) / 3;
  }

  push(seg: number, off: number, len: number): void {
    this.data.push(seg, off, len);
  }

  seg(i: number): number {
    return this.data[this.head + i * 3] as number;
  }

  off(i: number): number {
    return this.data[this.head + i * 3 + 1] as number;
  }

  len(i: number): number {
    return this.data[this.head + i * 3 + 2] as number;
  }

  shift(): void {
    this.head += 3;
    if (this.head >= 3 * 4096 && this.head * 2 >= this.data.length) {
      this.data = this.data.slice(this.head);
      this.head = 0;
    }
  }
}
