import { chmodSync, constants as FS, fdatasync, ftruncateSync, mkdirSync, openSync, unlink, unlinkSync, writeSync } from 'node:fs';
import type { Logger } from 'pino';
import { type AcceptedAt, type Envelope, type FailureReason, toHeld } from '../delivery/envelope.js';
import type { MessageStore, Pager, StoreInfo } from '../delivery/store.js';
import type { Destination } from '../sqs/resolver.js';
import type { Credentials } from '../sqs/types.js';
import { DeadLetterDir, DeadLettersFull } from './dead-letters.js';
import { checkAt, HEADER_BYTES, readAt, RecordType } from './journal.js';
import { checkSpoolDir, lockSpoolDir, SpoolError, unlockSpoolDir } from './lock.js';
import { PendingWork } from './pending.js';
import { PositionQueue } from './positions.js';
import { type CredentialsFor, recoverSegments } from './recovery.js';
import { type AcceptPayload, type FileOps, SegmentFiles } from './segments.js';

export { checkSpoolDir, SpoolError };
export type { CredentialsFor, FileOps };

export interface SpoolOptions {
  dir: string;
  /** write: each record is written (write(2)) before the ack: survives a daemon crash.
   *  fsync: written and fdatasync'ed before the ack, with group commit: survives power loss. */
  durability: 'write' | 'fsync';
  /** Most bytes of journal on disk; beyond it appends fail (HTTP 503). */
  maxSpoolBytes: number;
  /** A segment is closed and a new one started past this size. */
  segmentBytes: number;
  log: Logger;
  /** Most dead letters kept (--max-dead-letters); past it refused messages stay in the journal. Default: no bound. */
  maxDeadLetters?: number;
  /** Disk space held back for completion marks (file RESERVE); default 1 MiB. */
  reserveBytes?: number;
  /** File operations, replaceable in tests (disk full, I/O errors). */
  fs?: Partial<FileOps>;
}

/**
 * The journal-backed MessageStore. Accepted messages are appended to the active segment
 * before the ack; completion marks follow lazily (losing one at a crash means a redelivery,
 * never a loss). A segment is deleted as soon as every message in it is finished, so disk use
 * follows the backlog. It also pages: the pipeline may drop its copy of a recorded message and
 * read it back later, so a long outage fills the disk, not the heap.
 */
export class Spool implements MessageStore, Pager {
  readonly durable = true;
  readonly deadLetters: DeadLetterDir;
  readonly pager: Pager = this;
  readonly dir: string;

  private readonly opts: SpoolOptions;
  private readonly log: Logger;
  private readonly ops: FileOps;
  /** Dead letters being written (deadLettered), awaited by close(). */
  private readonly deadLettering = new PendingWork();
  /** The segment files: writing, completion marks, deleting finished segments. */
  private readonly files: SegmentFiles;
  private readonly paged = new Map<string, { dest: Destination; q: PositionQueue }>();
  // fsync mode: group commit.
  private pending: Array<{ envs: readonly Envelope[]; resolve: () => void; reject: (e: Error) => void }> = [];
  private syncing = false;
  private closed = false;
  /** The dead-letter store was full at the last attempt (deadLettered logs the change, not each batch). */
  private lettersFull = false;
  private recoveredCount = 0;
  private corruptRecords = 0;
  private credentialsOf = new WeakMap<Destination, Credentials | null>();

  constructor(options: SpoolOptions) {
    this.opts = options;
    this.dir = options.dir;
    this.log = options.log;
    this.ops = {
      writeSync: options.fs?.writeSync ?? ((fd, buf, off, len) => writeSync(fd, buf, off, len)),
      fdatasync: options.fs?.fdatasync ?? ((fd, cb) => fdatasync(fd, cb)),
      ftruncateSync: options.fs?.ftruncateSync ?? ((fd, len) => ftruncateSync(fd, len)),
      unlink: options.fs?.unlink ?? ((path, cb) => unlink(path, cb)),
      unlinkSync: options.fs?.unlinkSync ?? ((path) => unlinkSync(path)),
    };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    lockSpoolDir(this.dir);
    this.deadLetters = new DeadLetterDir(this.dir, options.maxDeadLetters !== undefined ? { maxLetters: options.maxDeadLetters } : {});
    this.files = new SegmentFiles(this.dir, options, this.ops, this.log, (dest) => this.storedCredentials(dest));
  }

  /**
   * Reads the journal left by the previous run and queues every unfinished message for
   * page-in, grouped per destination, in acceptance order. Returns how many per destination.
   * Must run once, before the first append.
   */
  recover(credentialsFor: CredentialsFor, payloadIds?: Set<string>): Array<{ dest: Destination; count: number; bytes: number }> {
    const r = recoverSegments(this.dir, credentialsFor, this.log, payloadIds);
    this.corruptRecords += r.corruptRecords;
    this.recoveredCount += r.recoveredCount;
    for (const [dest, c] of r.credentialsOf) this.credentialsOf.set(dest, c);
    for (const [key, entry] of r.paged) this.paged.set(key, entry);
    this.files.adopt(r.segments, r.lastNum + 1);
    if (this.recoveredCount > 0) this.log.info({ recovered: this.recoveredCount, segments: this.files.segments.size }, 'recovered unfinished messages from the spool');
    return r.tallies;
  }

  append(envs: readonly Envelope[]): void | Promise<void> {
    if (this.closed) throw new SpoolError('ESPOOLWRITE', 'spool is closed');
    if (this.opts.durability === 'write') {
      this.files.writeAccepts(envs);
      return;
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ envs, resolve, reject });
      if (!this.syncing) this.groupCommit();
    });
  }

  delivered(envs: readonly Envelope[]): void {
    this.files.finish(envs);
  }

  /** Resolves once the deletions of finished segments started so far are done (they run off the event loop: SegmentFiles.dropSegment). */
  removed(): Promise<void> {
    return this.files.removed();
  }

  /**
   * Writes the messages' dead letters (in libuv's pool, DeadLetterDir.add), then marks them
   * finished in the journal; resolves when that is done, or when a letter could not be written:
   * then they stay in the journal (not finished) rather than be lost, replayed at the next start.
   * So do they while the store holds --max-dead-letters letters (logged when it fills, and when
   * it has room again: not once per refused batch).
   */
  deadLettered(envs: readonly Envelope[], reason: FailureReason): Promise<void> {
    const kept = this.deadLetters.add(envs, reason, (env) => this.storedCredentials(env.dest)).then(
      () => {
        if (this.lettersFull) {
          this.lettersFull = false;
          this.log.info({ letters: this.deadLetters.count(), max: this.deadLetters.maxLetters }, 'dead-letter store has room again');
        }
        if (!this.closed) this.files.finish(envs);
      },
      (err: unknown) => {
        if (!(err instanceof DeadLettersFull)) {
          this.log.error({ err: (err as Error).message, count: envs.length }, 'could not write dead letters; the messages stay in the spool');
        } else if (!this.lettersFull) {
          this.lettersFull = true;
          this.log.warn({ letters: err.letters, max: err.max }, 'dead-letter store full (--max-dead-letters): messages SQS refuses for good stay in the spool, to be sent again at the next start; replay or purge dead letters');
        }
      },
    );
    return this.deadLettering.track(kept);
  }

  abandon(): void {
    // Nothing to do: unfinished messages are in the journal and come back at the next start.
  }

  pageOut(env: Envelope): void {
    const { spoolSeg, spoolOff, spoolLen } = env;
    if (spoolSeg === undefined || spoolOff === undefined || spoolLen === undefined) throw new Error('pageOut of an envelope the spool has not written');
    this.pagedFor(env.dest).q.push(spoolSeg, spoolOff, spoolLen, env.bytes);
  }

  pageIn(destKey: string, max: number, maxBytes = Number.POSITIVE_INFINITY): { envs: Envelope[]; consumed: number; lostBytes: number } {
    const entry = this.paged.get(destKey);
    if (!entry) return { envs: [], consumed: 0, lostBytes: 0 };
    let consumed = 0;
    let lostBytes = 0;
    const out: Envelope[] = [];
    const { q, dest } = entry;
    let bytes = 0;
    // Consecutive records accepted together (one batch's) share one AcceptedAt, as they did when accepted.
    let accepted: AcceptedAt | undefined;
    while (out.length < max && q.length > 0 && (out.length === 0 || bytes + q.bytes(0) <= maxBytes)) {
      // Read a run of records that sit next to each other in one segment with one pread.
      const seg = q.seg(0);
      const start = q.off(0);
      let end = start + q.len(0);
      bytes += q.bytes(0);
      let n = 1;
      while (n < max - out.length && n < q.length && q.seg(n) === seg && q.off(n) === end && end - start < 4_194_304 && bytes + q.bytes(n) <= maxBytes) {
        end += q.len(n);
        bytes += q.bytes(n);
        n += 1;
      }
      const segment = this.files.segments.get(seg);
      let buf: Buffer | undefined;
      if (segment) {
        segment.readFd ??= openSync(segment.path, FS.O_RDONLY);
        buf = readAt(segment.readFd, start, end - start);
      }
      let rel = 0;
      for (let i = 0; i < n; i++) {
        const len = q.len(0);
        const bytes = q.bytes(0);
        // The record checked and its payload read in place (no record object or Buffer view per record).
        const recLen = buf ? checkAt(buf, rel) : -1;
        const at = rel;
        q.shift();
        consumed += 1;
        rel += len;
        let p: AcceptPayload | undefined;
        if (buf && recLen > 0 && buf[at + 1] === RecordType.Accept) {
          try {
            p = JSON.parse(buf.toString('utf8', at + HEADER_BYTES, at + recLen)) as AcceptPayload;
          } catch {
            p = undefined; // a valid checksum over JSON we did not write
          }
        }
        if (!p) {
          this.corruptRecords += 1;
          lostBytes += bytes;
          this.log.error({ segment: seg, offset: start + rel - len }, 'spooled message unreadable at page-in; skipped');
          this.files.forget(seg);
          continue;
        }
        if (accepted === undefined || accepted.at !== p.t) accepted = { at: p.t };
        const env: Envelope = { id: p.i, dest, message: toHeld(p.m), bytes: p.b, accepted, attempts: 0, spoolSeg: seg, spoolOff: start + rel - len, spoolLen: len };
        if (p.o) env.offload = p.o; // a large message: uploaded (again, same key) before its pointer is sent
        out.push(env);
      }
    }
    if (q.length === 0) this.paged.delete(destKey);
    return { envs: out, consumed, lostBytes };
  }

  info(): StoreInfo {
    return {
      durability: this.opts.durability,
      dir: this.dir,
      spoolBytes: this.files.totalBytes,
      deadLetters: this.deadLetters.count(),
      ...(Number.isFinite(this.deadLetters.maxLetters) ? { deadLettersLimit: this.deadLetters.maxLetters } : {}),
      recovered: this.recoveredCount,
      corruptRecords: this.corruptRecords,
      writable: this.files.writable,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.syncing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
    // Dead letters being written: finished in the journal first, or left in it if they failed.
    await this.deadLettering.settled();
    this.closed = true;
    await this.files.close();
    unlockSpoolDir(this.dir);
  }

  // ---- internals ----

  private storedCredentials(dest: Destination): Credentials | null {
    const known = this.credentialsOf.get(dest);
    if (known !== undefined) return known;
    // Pass-through destinations carry their pair; the daemon's own (chain) is not stored.
    const c = dest.credentials.refreshable ? null : (dest.credentials.get() as Credentials);
    this.credentialsOf.set(dest, c);
    return c;
  }

  private pagedFor(dest: Destination): { dest: Destination; q: PositionQueue } {
    let entry = this.paged.get(dest.key);
    if (!entry) {
      entry = { dest, q: new PositionQueue() };
      this.paged.set(dest.key, entry);
    }
    return entry;
  }

  private groupCommit(): void {
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return;
    this.syncing = true;
    const envs = batch.flatMap((p) => p.envs);
    let start: number;
    try {
      start = this.files.writeAccepts(envs);
    } catch (err) {
      this.syncing = false;
      for (const p of batch) p.reject(err as Error);
      if (this.pending.length > 0) this.groupCommit();
      return;
    }
    const seg = this.files.active;
    this.ops.fdatasync(this.files.fd, (err) => {
      this.syncing = false;
      if (err) {
        this.files.cutBack(seg, start, envs.length);
        if (this.files.writable) this.log.error({ code: err.code }, 'spool fdatasync failed; refusing sends until it works again');
        this.files.writable = false;
        for (const p of batch) p.reject(new SpoolError('ESPOOLWRITE', `spool fdatasync failed (${err.code})`));
      } else {
        for (const p of batch) p.resolve();
      }
      // Everything that arrived meanwhile is the next group.
      if (this.pending.length > 0) this.groupCommit();
    });
  }
}
