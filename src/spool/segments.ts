import { closeSync, constants as FS, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type Envelope, messageOf } from '../delivery/envelope.js';
import type { Destination } from '../sqs/resolver.js';
import type { Credentials, OutgoingMessage, QueueLimits } from '../sqs/types.js';
import type { OffloadedPayload } from '../ingest/offload.js';
import { checkAt, encodeRecord, HEADER_BYTES, readAt, readSegment, RecordType, scanBuffer, writeRecordAt } from './journal.js';
import { SpoolError } from './lock.js';
import { PendingMarks } from './marks.js';
import { PendingWork } from './pending.js';
import { DEFAULT_RESERVE_BYTES, DiskReserve } from './reserve.js';

export interface FileOps {
  writeSync(fd: number, buf: Buffer, offset: number, length: number): number;
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  ftruncateSync(fd: number, length: number): void;
  /** Deletes a finished segment off the event loop (dropSegment). */
  unlink(path: string, cb: (err: NodeJS.ErrnoException | null) => void): void;
  unlinkSync(path: string): void;
}

/** One journal file, `seg-<num>.log`. */
export interface Segment {
  readonly num: number;
  readonly path: string;
  bytes: number;
  /** Accepted records in it not yet finished. */
  live: number;
  /** It holds completion marks of messages recorded in other segments (see carryForward). */
  foreign?: boolean;
  /**
   * The completion-mark records in it that name messages of other segments: where each sits
   * (the whole record, header included) and which other segments it names (carryForward reads
   * only those whose segments are still on disk). Kept by the write path for a segment this run
   * started, and listed by recovery (recoverSegments) for one adopted at start. Undefined for a
   * file that already held records when this run opened it for writing (openSegment):
   * carryForward then reads all of it.
   */
  foreignMarks?: ForeignMarks[];
  /** Accept records were written into it (in this run). */
  accepts?: boolean;
  readFd?: number;
}

/** A completion-mark record holding marks of messages in other segments (Segment.foreignMarks). */
export interface ForeignMarks {
  offset: number;
  length: number;
  /** The other segments whose messages it marks. */
  segments: number[];
}

/** Payload of a Dest record: destination number `k` within its segment, queue, URL, limits, credentials. */
export interface DestPayload {
  k: number;
  q: string;
  u: string;
  l: QueueLimits;
  c: Credentials | null;
}

/** Payload of an Accept record. Keep `i` and `k` first: recovery reads them without parsing (acceptId). */
export interface AcceptPayload {
  i: string;
  k: number;
  t: number;
  b: number;
  /** A large message: its payload (bucket, key, bytes) is in the spool's payload file of `i`, `m` is its pointer. */
  o?: OffloadedPayload;
  m: OutgoingMessage;
}

const NO_MESSAGE: OutgoingMessage = { body: '' };
/** The journal's `m` of a message held as its body alone, set in place for each: the same `{"body":…}` JSON as the message object it was made from. */
const BODY_ONLY: OutgoingMessage = { body: '' };
/** The payload of a plain message's Accept record, reused by every write (writeAccepts). `t` starts as a fraction so its field is a double from the first. */
const PLAIN: AcceptPayload = { i: '', k: 0, t: 0.5, b: 0, m: NO_MESSAGE };

export const SEGMENT = /^seg-(\d{10})\.log$/;
export const segName = (n: number) => `seg-${String(n).padStart(10, '0')}.log`;

/**
 * The spool's segment files: accept records are appended to the active segment, completion
 * marks follow lazily, and a segment is deleted as soon as every message in it is finished.
 * Owned by the Spool, which decides when to write (group commit) and reads records back.
 */
export class SegmentFiles {
  readonly segments = new Map<number, Segment>();
  active!: Segment;
  fd = -1;
  /** Destination numbers written in the active segment. */
  private destNums = new Map<string, number>();
  totalBytes = 0;
  private readonly done = new PendingMarks();
  private doneTimer: NodeJS.Timeout | undefined;
  /**
   * False when accept records cannot be written (disk full, unwritable): sends get 503. Only
   * accept writes change it, so small completion marks that still fit on a nearly full disk
   * do not flip it back and forth (and log a line per refused request).
   */
  writable = true;
  /** Completion marks could not be written: they wait in memory (done) and are retried. */
  private marksFailing = false;
  private closed = false;
  private readonly reserve: DiskReserve;

  constructor(
    private readonly dir: string,
    private readonly opts: { readonly segmentBytes: number; readonly maxSpoolBytes: number; readonly reserveBytes?: number },
    private readonly ops: FileOps,
    private readonly log: Logger,
    /** What a Dest record stores for a destination's credentials (the Spool knows). */
    private readonly storedCredentials: (dest: Destination) => Credentials | null,
  ) {
    this.reserve = new DiskReserve(dir, opts.reserveBytes ?? DEFAULT_RESERVE_BYTES, ops, log);
  }

  /**
   * Takes over the segments found at start, deletes those with nothing unfinished (carrying the
   * marks they hold for segments that stay, as any deletion does: carryForward, from the mark
   * records recovery listed), starts segment `next` and writes those marks into it.
   */
  adopt(segments: readonly Segment[], next: number): void {
    for (const seg of segments) {
      this.segments.set(seg.num, seg);
      this.totalBytes += seg.bytes;
    }
    for (const seg of [...this.segments.values()]) if (seg.live === 0) this.dropSegment(seg);
    this.reserve.ensure();
    this.openSegment(next);
    this.flushDone();
  }

  /** Deletions of finished segments under way (dropSegment). */
  private readonly removals = new PendingWork();

  /** Writes the completion marks still waiting and closes every file. */
  async close(): Promise<void> {
    this.closed = true;
    // Closed: flushDone no longer rotates. Marks whose write fails are kept for another try.
    for (let i = 0; i < 3 && this.done.length > 0; i++) this.flushDone();
    if (this.doneTimer) clearTimeout(this.doneTimer);
    for (const s of this.segments.values()) if (s.readFd !== undefined) closeSync(s.readFd);
    if (this.fd >= 0) {
      await new Promise<void>((resolve) => this.ops.fdatasync(this.fd, () => resolve()));
      closeSync(this.fd);
      this.fd = -1;
    }
    await this.removed();
  }

  /**
   * Undoes a group whose fdatasync failed: its senders get 503, so its records must not come
   * back at the next start. Completion marks written meanwhile go too (a redelivery after a
   * crash at worst). No rotation happens while a group waits for its sync, so `seg` is active.
   */
  cutBack(seg: Segment, start: number, count: number): void {
    seg.live -= count;
    if (seg !== this.active) return;
    try {
      this.ops.ftruncateSync(this.fd, start);
    } catch {
      return;
    }
    this.totalBytes -= seg.bytes - start;
    seg.bytes = start;
    if (seg.foreignMarks) seg.foreignMarks = seg.foreignMarks.filter((m) => m.offset < start);
    this.destNums.clear();
  }

  /** Writes accept records (and the destination records they need) at the end of the active segment; returns where they start. */
  writeAccepts(envs: readonly Envelope[]): number {
    if (this.active.bytes >= this.opts.segmentBytes) this.rotateForWrite();
    // The records' payloads first (a Dest record before the first message of each destination
    // new to this segment), then one buffer for all of them, each written into it at its place
    // (writeRecordAt): no Buffer per record, no copy to join them. Sized for one record per
    // message (a Dest record grows them): not `[]`, whose first push makes room for 17 (issue 14).
    const payloads: string[] = new Array(envs.length);
    /** Each record's payload length, negative for a Dest record: where each message's record sits follows from them. */
    const lengths: number[] = new Array(envs.length);
    let dests = 0;
    let n = 0;
    let size = 0;
    for (let i = 0; i < envs.length; i++) {
      const env = envs[i] as Envelope;
      let k = this.destNums.get(env.dest.key);
      if (k === undefined) {
        k = this.destNums.size + 1;
        this.destNums.set(env.dest.key, k);
        const d: DestPayload = { k, q: env.dest.queueName, u: env.dest.queueUrl, l: env.dest.limits, c: this.storedCredentials(env.dest) };
        const p = JSON.stringify(d);
        const len = Buffer.byteLength(p, 'utf8');
        payloads[n] = p;
        lengths[n++] = -len; // a Dest record (accept records' lengths are kept positive)
        size += HEADER_BYTES + len;
        dests += 1;
      }
      let p: string;
      if (env.offload === undefined) {
        // One payload object for every plain message, its fields set in place: not an object
        // and a heap number (`t`) per message (issue 11: ~80 of the write's ~375 bytes of garbage
        // a message). Same JSON, same key order (`i` and `k` first: recovery reads them raw).
        const a = PLAIN;
        a.i = env.id;
        a.k = k;
        a.t = env.accepted.at;
        a.b = env.bytes;
        const m = env.message;
        if (typeof m === 'string') {
          BODY_ONLY.body = m; // held as its body alone (envelope.ts HeldMessage): written as before
          a.m = BODY_ONLY;
        } else a.m = m;
        p = JSON.stringify(a);
        a.m = NO_MESSAGE; // the last message is not kept alive by it
        BODY_ONLY.body = '';
      } else {
        const a: AcceptPayload = { i: env.id, k, t: env.accepted.at, b: env.bytes, o: { bucket: env.offload.bucket, key: env.offload.key, bytes: env.offload.bytes }, m: messageOf(env.message) };
        p = JSON.stringify(a);
      }
      const len = Buffer.byteLength(p, 'utf8');
      payloads[n] = p;
      lengths[n++] = len;
      size += HEADER_BYTES + len;
    }
    if (this.totalBytes + size > this.opts.maxSpoolBytes) {
      // The destination records written into destNums were not written: forget them.
      this.forgetUnwrittenDests(dests);
      if (this.active.live <= 0 && this.active.bytes > 0) {
        // Everything in the active segment is finished (only its bytes count): a new segment frees them.
        this.rotateForWrite();
        return this.writeAccepts(envs);
      }
      throw new SpoolError('ESPOOLFULL', `spool is full (${this.totalBytes} of ${this.opts.maxSpoolBytes} bytes, --max-spool-bytes)`);
    }
    const buf = Buffer.allocUnsafe(size);
    let off = 0;
    for (let j = 0; j < n; j++) {
      const len = lengths[j] as number;
      off = len < 0 ? writeRecordAt(buf, off, RecordType.Dest, payloads[j] as string, -len) : writeRecordAt(buf, off, RecordType.Accept, payloads[j] as string, len);
    }
    this.writeAll(buf, 'accepts');
    const base = this.active.bytes;
    const seg = this.active.num;
    let at = base;
    for (let j = 0, i = 0; j < n; j++) {
      const len = lengths[j] as number;
      if (len < 0) {
        at += HEADER_BYTES - len;
        continue;
      }
      const env = envs[i++] as Envelope;
      env.spoolSeg = seg;
      env.spoolOff = at;
      env.spoolLen = HEADER_BYTES + len;
      at += HEADER_BYTES + len;
    }
    this.active.bytes += size;
    this.active.live += envs.length;
    this.active.accepts = true;
    this.totalBytes += size;
    return base;
  }

  private forgetUnwrittenDests(count: number): void {
    if (count <= 0) return;
    const keys = [...this.destNums.keys()];
    for (const k of keys.slice(keys.length - count)) this.destNums.delete(k);
  }

  /**
   * write(2) all of `buf`; on failure cut the file back so no torn record stays behind. Logs
   * once when writing stops working and once when it works again, never per attempt.
   */
  private writeAll(buf: Buffer, what: 'accepts' | 'marks'): void {
    let written = 0;
    try {
      while (written < buf.length) written += this.ops.writeSync(this.fd, buf, written, buf.length - written);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      try {
        this.ops.ftruncateSync(this.fd, this.active.bytes);
      } catch {
        // The torn bytes stay (the next start's scan skips them): count them, or every later
        // record's recorded position would be off by that much and unreadable at page-in.
        this.active.bytes += written;
        this.totalBytes += written;
      }
      this.destNums.clear(); // the Dest records may be gone: write them again next time
      if (what === 'accepts') {
        if (this.writable) this.log.error({ code, dir: this.dir }, 'cannot write the spool; refusing sends with 503 until it works again');
        this.writable = false;
      } else {
        if (!this.marksFailing) this.log.warn({ code, dir: this.dir }, 'cannot write completion marks to the spool; keeping them in memory and retrying');
        this.marksFailing = true;
      }
      throw new SpoolError('ESPOOLWRITE', `cannot write the spool (${code})`, code);
    }
    if (what === 'accepts') {
      if (!this.writable) this.log.info({ dir: this.dir }, 'spool writable again');
      this.writable = true;
    } else {
      if (this.marksFailing) this.log.info({ dir: this.dir, reserve: this.reserve.holding }, 'completion marks written to the spool again');
      this.marksFailing = false;
    }
  }

  finish(envs: readonly Envelope[]): void {
    for (const env of envs) {
      this.done.push(env.id, env.spoolSeg ?? -1);
      const seg = env.spoolSeg !== undefined ? this.segments.get(env.spoolSeg) : undefined;
      if (seg) {
        seg.live -= 1;
        if (seg.live <= 0 && seg !== this.active) this.dropSegment(seg);
      }
    }
    if (this.done.length >= 2000) this.flushDone();
    else this.doneTimer ??= setTimeout(() => this.flushDone(), 20);
  }

  /** Completion marks: lazily, in one record per batch of ids. Losing them costs a redelivery, not a message. */
  private flushDone(): void {
    if (this.doneTimer) clearTimeout(this.doneTimer);
    this.doneTimer = undefined;
    if (this.fd < 0) return;
    this.releaseFinishedActive();
    this.done.prune((sg) => this.segments.has(sg));
    if (this.done.length > 0) this.writeDone();
    // Room again for accepts: hold space back for the marks of the next full disk.
    if (this.writable && !this.marksFailing && !this.closed) this.reserve.ensure();
  }

  private writeDone(): void {
    const taken = this.done.take();
    const { ids, segs } = taken;
    // In fsync mode a group commit may be between write and fdatasync: appending is still safe
    // (records are self-delimiting and positions were assigned before this write).
    // `s` names each message's own segment, so marks can be carried forward (carryForward).
    const buf = encodeRecord(RecordType.Done, JSON.stringify({ i: ids, s: segs }));
    try {
      try {
        this.writeAll(buf, 'marks');
      } catch (err) {
        // Disk full: free the space held back for exactly this, and try once more.
        if ((err as SpoolError).errno !== 'ENOSPC' || !this.reserve.release()) throw err;
        this.writeAll(buf, 'marks');
      }
      const others = otherSegments(segs, this.active.num);
      if (others.length > 0) {
        this.active.foreign = true;
        this.active.foreignMarks?.push({ offset: this.active.bytes, length: buf.length, segments: others });
      }
      this.active.bytes += buf.length;
      this.totalBytes += buf.length;
    } catch {
      // Already logged. Keep the marks for the next write: dropping them would redeliver these
      // messages after the next start, even a clean one. They are bounded by the messages in
      // segments still on disk (prune drops the rest).
      this.done.putBack(taken);
      if (!this.closed) this.doneTimer ??= setTimeout(() => this.flushDone(), 1000);
    }
  }

  /**
   * A finished active segment gives way to a fresh one (and is deleted), so disk use follows
   * the backlog even when nothing new arrives: when it is full, and at once when the disk is
   * (writes failing), since deleting it is then what frees the space. Only one that held
   * accepts: a fresh segment holding only carried-forward marks must not set off a chain of
   * rotations.
   */
  private releaseFinishedActive(): void {
    if (this.closed || !this.active.accepts || this.active.live > 0) return;
    if (this.active.bytes < this.opts.segmentBytes && this.writable && !this.marksFailing) return;
    try {
      this.rotate();
    } catch (err) {
      // Cannot open a new segment (even an empty file needs an inode): keep this one, retry later.
      this.log.debug({ code: (err as NodeJS.ErrnoException).code }, 'could not start a new spool segment; keeping the finished one');
      this.doneTimer ??= setTimeout(() => this.flushDone(), 1000);
    }
  }

  /** Starts a new segment before writing accepts; a failure refuses the send as a spool write error. */
  private rotateForWrite(): void {
    try {
      this.rotate();
    } catch (err) {
      // Disk full, too many open files...: refuse (503) and say so in /readyz until a write works.
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      if (this.writable) this.log.error({ code, dir: this.dir }, 'cannot start a new spool segment; refusing sends with 503 until it works again');
      this.writable = false;
      throw new SpoolError('ESPOOLWRITE', `cannot start a new spool segment (${code})`);
    }
  }

  /** A paged-out record could not be read back: it no longer holds its segment on disk. */
  forget(segNum: number): void {
    const seg = this.segments.get(segNum);
    if (!seg) return;
    seg.live -= 1;
    if (seg.live <= 0 && seg !== this.active) this.dropSegment(seg);
  }

  private rotate(): void {
    const old = this.active;
    this.openSegment(old.num + 1);
    if (old.live <= 0) this.dropSegment(old);
  }

  private openSegment(num: number): void {
    const path = join(this.dir, segName(num));
    // Open before closing: if the open fails, the current segment stays usable (and this.fd
    // never names a closed descriptor that the process may reuse for another file).
    const fd = openSync(path, FS.O_WRONLY | FS.O_CREAT | FS.O_APPEND, 0o600);
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = fd;
    const bytes = fstatSync(this.fd).size;
    // A new file: every mark record in it is this run's, so carryForward can go by foreignMarks.
    this.active = bytes === 0 ? { num, path, bytes, live: 0, foreignMarks: [] } : { num, path, bytes, live: 0 };
    this.segments.set(num, this.active);
    this.totalBytes += bytes;
    this.destNums = new Map();
  }

  /**
   * A completion mark lives in the segment that was active when its message finished, often a
   * newer one than the message's own. Deleting that newer segment (all of its own messages done)
   * while the message's segment lives on would bring the message back at the next start. So the
   * marks it holds for segments still on disk are written again into the active one first.
   */
  private carryForward(seg: Segment): void {
    const carry = (payload: Buffer): void => {
      let marks: { i: string[]; s?: number[] };
      try {
        marks = JSON.parse(payload.toString('utf8')) as { i: string[]; s?: number[] };
      } catch {
        return;
      }
      marks.i.forEach((id, k) => {
        const src = marks.s?.[k] ?? -1;
        if (src !== seg.num && this.segments.has(src)) {
          this.done.push(id, src);
        }
      });
    };
    if (seg.foreignMarks !== undefined) {
      // Only the mark records that name a segment still on disk, read where they are: reading and
      // checking all of a 64 MiB segment here held the event loop 70-400 ms each time a segment
      // was deleted at high rates (issue 11, bench/own-turns.ts). Usually there are none: the
      // segments its marks name were deleted before it.
      const wanted = seg.foreignMarks.filter((m) => m.segments.some((n) => this.segments.has(n)));
      if (wanted.length === 0) return;
      let fd: number | undefined;
      try {
        fd = seg.readFd ?? openSync(seg.path, FS.O_RDONLY);
        for (const m of wanted) {
          const buf = readAt(fd, m.offset, m.length);
          const n = checkAt(buf, 0);
          if (n > 0 && buf[1] === RecordType.Done) carry(buf.subarray(HEADER_BYTES, n));
        }
      } catch {
        // unreadable: at worst those messages are sent again after a restart
      } finally {
        if (fd !== undefined && fd !== seg.readFd) closeSync(fd);
      }
    } else {
      let buf: Buffer;
      try {
        buf = readSegment(seg.path);
      } catch {
        return; // unreadable: at worst those messages are sent again after a restart
      }
      scanBuffer(buf, (r) => {
        if (r.type === RecordType.Done) carry(r.payload);
      });
    }
    if (this.done.length > 0) this.doneTimer ??= setTimeout(() => this.flushDone(), 20);
  }

  /**
   * Deletes a segment with nothing unfinished in it. The file is unlinked in libuv's pool, not on
   * the event loop: freeing a 64 MiB segment's blocks took 12-13 ms once it was written back (ext4
   * mounted with `discard`, the bench machine's), a turn of the loop every segment at high rates
   * (issue 11). Nothing in it is needed any more, so a crash before the unlink is done leaves only a
   * finished segment, which the next start deletes (adopt). While writes fail (a full disk), it is
   * unlinked at once as before: the space it frees is what the next write needs.
   */
  private dropSegment(seg: Segment): void {
    if (seg.foreign) this.carryForward(seg);
    if (seg.readFd !== undefined) closeSync(seg.readFd);
    this.segments.delete(seg.num);
    this.totalBytes -= seg.bytes;
    if (!this.writable || this.marksFailing) {
      try {
        this.ops.unlinkSync(seg.path);
      } catch (err) {
        this.log.warn({ segment: seg.path, code: (err as NodeJS.ErrnoException).code }, 'could not delete a finished spool segment');
      }
      return;
    }
    this.removals.track(
      new Promise<void>((resolve) =>
        this.ops.unlink(seg.path, (err) => {
          if (err) this.log.warn({ segment: seg.path, code: err.code }, 'could not delete a finished spool segment');
          resolve();
        }),
      ),
    );
  }

  /** Resolves once the deletions of finished segments started so far are done (close; tests). */
  removed(): Promise<void> {
    return this.removals.settled();
  }
}

/** The segments other than `own` that `segs` names, each once (a mark record's: usually none or one). */
function otherSegments(segs: readonly number[], own: number): number[] {
  const out: number[] = [];
  for (const sg of segs) if (sg !== own && !out.includes(sg)) out.push(sg);
  return out;
}
