import { closeSync, openSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { FileOps } from './segments.js';

/** Default size of the reserve: about 50,000 completion marks. */
export const DEFAULT_RESERVE_BYTES = 1_048_576;
const RETRY_MS = 5000;

/**
 * Disk space held back for completion marks. On a full disk, accepts are refused (503) but
 * the marks of messages SQS took must still be written, or a restart sends them all again.
 * So the spool keeps a file `RESERVE` of zeros beside its segments; when a mark cannot be
 * written for lack of space, the file is deleted and the write tried again in the space it
 * freed. It is made again, when there is room for it, once sends are accepted again.
 */
export class DiskReserve {
  private readonly path: string;
  private held = false;
  private triedAt = -Infinity;

  constructor(
    dir: string,
    private readonly bytes: number,
    private readonly ops: FileOps,
    private readonly log: Logger,
  ) {
    this.path = join(dir, 'RESERVE');
  }

  get holding(): boolean {
    return this.held;
  }

  /** Makes the reserve if it is missing and the disk has room for it (tried at most every 5 s). */
  ensure(): void {
    if (this.held || this.bytes <= 0) return;
    const now = Date.now();
    if (now - this.triedAt < RETRY_MS) return;
    this.triedAt = now;
    try {
      if (statSync(this.path).size >= this.bytes) {
        this.held = true; // left by the previous run
        return;
      }
    } catch {
      /* not there yet */
    }
    try {
      const fs = statfsSync(this.path.slice(0, -'RESERVE'.length));
      // Never be the one that fills the disk: leave as much again free for everyone else.
      if (fs.bavail * fs.bsize < 2 * this.bytes) return;
    } catch {
      /* statfs unavailable: just try */
    }
    let fd = -1;
    try {
      fd = openSync(this.path, 'w', 0o600);
      const zeros = Buffer.alloc(Math.min(65_536, this.bytes));
      let left = this.bytes;
      while (left > 0) left -= this.ops.writeSync(fd, zeros, 0, Math.min(zeros.length, left));
      this.held = true;
    } catch {
      this.remove();
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  /** Frees the reserve for the completion marks; false if there was none to free. */
  release(): boolean {
    if (!this.held) return false;
    this.held = false;
    this.triedAt = Date.now();
    this.remove();
    this.log.warn({ bytes: this.bytes, file: this.path }, 'spool disk full: freed the space reserved for completion marks');
    return true;
  }

  private remove(): void {
    try {
      unlinkSync(this.path);
    } catch {
      /* already gone */
    }
  }
}
