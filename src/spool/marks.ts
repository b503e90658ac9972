/**
 * Completion marks waiting to be written: message ids with the segment each message was
 * recorded in (-1: unknown), so a mark can be carried forward and dropped once its message's
 * segment is gone. Held in memory while the disk refuses them; bounded by the messages in
 * segments still on disk.
 */
export class PendingMarks {
  private ids: string[] = [];
  private segs: number[] = [];

  get length(): number {
    return this.ids.length;
  }

  push(id: string, seg: number): void {
    this.ids.push(id);
    this.segs.push(seg);
  }

  /** Takes every waiting mark out. */
  take(): { ids: string[]; segs: number[] } {
    const taken = { ids: this.ids, segs: this.segs };
    this.ids = [];
    this.segs = [];
    return taken;
  }

  /** Puts marks whose write failed back, ahead of those that arrived meanwhile. */
  putBack(taken: { ids: string[]; segs: number[] }): void {
    this.ids = taken.ids.concat(this.ids);
    this.segs = taken.segs.concat(this.segs);
  }

  /** Drops the marks of messages whose segment is no longer on disk: they are of no use. */
  prune(onDisk: (seg: number) => boolean): void {
    let w = 0;
    for (let r = 0; r < this.ids.length; r++) {
      const sg = this.segs[r] as number;
      if (sg !== -1 && !onDisk(sg)) continue;
      this.ids[w] = this.ids[r] as string;
      this.segs[w] = sg;
      w += 1;
    }
    this.ids.length = w;
    this.segs.length = w;
  }
}
