/** What an S3 request did, for the counters: an object written, read, deleted or looked up. */
export type S3Op = 'upload' | 'download' | 'delete' | 'head';

/** Distinct (operation, code) pairs kept; later ones are counted as "(other)". */
const MAX_FAILURE_KEYS = 100;

/**
 * Counters of one S3 client, plain numbers bumped once per object (never per byte chunk), read by
 * /metrics and /status when asked. Failure codes are S3's (NoSuchKey, SlowDown, NetworkError...),
 * bounded in number; nothing here names a bucket, key or credential.
 */
export class S3Stats {
  uploads = 0;
  uploadedBytes = 0;
  downloads = 0;
  /** Bytes of downloaded objects whose body was read to the end. */
  downloadedBytes = 0;
  deletes = 0;
  /** Key `op\u0000code` (code capped at MAX_FAILURE_KEYS distinct pairs, then "(other)"). */
  private readonly failureCounts = new Map<string, number>();

  failed(op: S3Op, code: string): void {
    let key = `${op}\u0000${code}`;
    if (!this.failureCounts.has(key) && this.failureCounts.size >= MAX_FAILURE_KEYS) key = `${op}\u0000(other)`;
    this.failureCounts.set(key, (this.failureCounts.get(key) ?? 0) + 1);
  }

  /** Every failure so far, by operation and code. */
  failures(): Array<{ op: S3Op; code: string; count: number }> {
    return [...this.failureCounts].map(([k, count]) => {
      const [op, code] = k.split('\u0000') as [S3Op, string];
      return { op, code, count };
    });
  }

  failureTotal(): number {
    let n = 0;
    for (const c of this.failureCounts.values()) n += c;
    return n;
  }
}

/** The upload stage's backlog: payloads accepted and not yet in S3. */
export interface UploadBacklog {
  /** Waiting for an upload slot, or for a retry after a failed try. */
  waiting: number;
  /** Being uploaded now. */
  uploading: number;
  /** Bytes of the payloads waiting or uploading. */
  bytes: number;
}
