import { chmodSync, closeSync, constants as FS, fdatasync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Envelope, FailureReason } from '../delivery/envelope.js';
import type { MessageStore, Pager, StoreInfo } from '../delivery/store.js';
import type { CredentialSource } from '../sqs/credentials.js';
import type { Destination } from '../sqs/resolver.js';
import type { Credentials, OutgoingMessage, QueueLimits } from '../sqs/types.js';
import { DeadLetterDir } from './dead-letters.js';
import { encodeRecord, readAt, readSegment, RecordType, recordAt, scanBuffer } from './journal.js';
import { checkSpoolDir, lockSpoolDir, SpoolError, unlockSpoolDir } from './lock.js';
import { PositionQueue } from './positions.js';

export { checkSpoolDir, SpoolError };

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
  /** File operations, replaceable in tests (disk full, I/O errors). */
  fs?: Partial<FileOps>;
}

export interface FileOps {
  writeSync(fd: number, buf: Buffer, offset: number, length: number): number;
  fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void): void;
  ftruncateSync(fd: number, length: number): void;
}

/** Rebuilds a destination's credentials from a journal record: the pair (pass-through) or the daemon's (null). */
export type CredentialsFor = (stored: Credentials | null) => CredentialSource | undefined;


interface Segment {
  readonly num: number;
  readonly path: string;
  bytes: number;
  /** Accepted records in it not yet finished. */
  live: number;
  /** It holds completion marks of messages recorded in other segments (see carryForward). */
  foreign?: boolean;
  /** Accept records were written into it (in this run). */
  accepts?: boolean;
  readFd?: number;
}

interface DestPayload {
  k: number;
  q: string;
  u: string;
  l: QueueLimits;
  c: Credentials | null;
}

interface AcceptPayload {
  i: string;
  k: number;
  t: number;
  b: number;
  m: OutgoingMessage;
}

const SEGMENT = /^seg-(\d{10})\.log$/;
const segName = (n: number) => `seg-${String(n).padStart(10, '0')}.log`;

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
  private readonly segments = new Map<number, Segment>();
  private active!: Segment;
  private fd = -1;
  /** Destination numbers written in the active segment. */
  private destNums = new Map<string, number>();
  private totalBytes = 0;
  private doneIds: string[] = [];
  /** Segment of each id in doneIds (-1: unknown). */
  private doneSegs: number[] = [];
  private doneTimer: NodeJS.Timeout | undefined;
  private readonly paged = new Map<string, { dest: Destination; q: PositionQueue }>();
  // fsync mode: group commit.
  private pending: Array<{ envs: readonly Envelope[]; resolve: () => void; reject: (e: Error) => void }> = [];
  private syncing = false;
  private closed = false;
  private writable = true;
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
    };
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, 0o700);
    lockSpoolDir(this.dir);
    this.deadLetters = new DeadLetterDir(this.dir);
  }

  /**
   * Reads the journal left by the previous run and queues every unfinished message for
   * page-in, grouped per destination, in acceptance order. Returns how many per destination.
   * Must run once, before the first append.
   */
  recover(credentialsFor: CredentialsFor): Array<{ dest: Destination; count: number; bytes: number }> {
    const nums = readdirSync(this.dir)
      .map((n) => SEGMENT.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    // Pass 1: which messages are finished, and which marks are held by a segment other than
    // the message's own (to carry forward if their holder is deleted below).
    const done = new Set<string>();
    const foreign: Array<{ id: string; src: number; holder: number }> = [];
    for (const num of nums) {
      const buf = readSegment(join(this.dir, segName(num)));
      const scan = scanBuffer(buf, (r) => {
        if (r.type !== RecordType.Done) return;
        try {
          const marks = JSON.parse(r.payload.toString('utf8')) as { i: string[]; s?: number[] };
          marks.i.forEach((id, k) => {
            done.add(id);
            const src = marks.s?.[k];
            if (src !== undefined && src !== num) foreign.push({ id, src, holder: num });
          });
        } catch {
          // A record with a valid CRC but bad JSON cannot come from us; skip it.
        }
      });
      if (scan.corruptRegions > 0) {
        this.corruptRecords += scan.corruptRegions;
        this.log.error({ segment: segName(num), corruptBytes: scan.corruptBytes, regions: scan.corruptRegions }, 'spool segment damaged (torn write or corruption); recovered the valid records around it');
      }
    }
    // Pass 2: unfinished accepted messages, queued for page-in.
    const byKey = new Map<string, Destination>();
    const recovered = new Map<string, { dest: Destination; count: number; bytes: number }>();
    const unrecoverable: string[] = [];
    for (const num of nums) {
      const path = join(this.dir, segName(num));
      const buf = readSegment(path);
      const seg: Segment = { num, path, bytes: buf.length, live: 0 };
      const dests = new Map<number, Destination | null>();
      scanBuffer(buf, (r) => {
        if (r.type === RecordType.Dest) {
          try {
            const d = JSON.parse(r.payload.toString('utf8')) as DestPayload;
            const source = credentialsFor(d.c);
            if (!source) {
              dests.set(d.k, null);
              return;
            }
            const key = `${source.key}\0${d.q}`;
            let dest = byKey.get(key);
            if (!dest) {
              dest = Object.freeze({ key, queueName: d.q, queueUrl: d.u, limits: d.l, credentials: source });
              byKey.set(key, dest);
              this.credentialsOf.set(dest, d.c);
            }
            dests.set(d.k, dest);
          } catch {
            /* see above */
          }
          return;
        }
        if (r.type !== RecordType.Accept) return;
        const id = acceptId(r.payload);
        if (id === undefined || done.has(id)) return;
        const k = numField(r.payload, '"k":');
        const dest = k === undefined ? undefined : dests.get(k);
        if (!dest) {
          unrecoverable.push(id);
          seg.live += 1; // never finished in this run: keeps its segment (and the message) on disk
          return;
        }
        this.pagedFor(dest).q.push(num, r.offset, r.length);
        const tally = recovered.get(dest.key);
        const bytes = numField(r.payload, '"b":') ?? 0;
        if (tally) {
          tally.count += 1;
          tally.bytes += bytes;
        } else recovered.set(dest.key, { dest, count: 1, bytes });
        seg.live += 1;
        this.recoveredCount += 1;
      });
      this.segments.set(num, seg);
      this.totalBytes += seg.bytes;
    }
    if (unrecoverable.length > 0) {
      this.log.error({ count: unrecoverable.length, msgIds: unrecoverable.slice(0, 20) }, 'spooled messages whose credentials are not available in this mode (sent with --credentials chain, now pass-through?) stay in the spool');
    }
    for (const seg of [...this.segments.values()]) if (seg.live === 0) this.dropSegment(seg);
    this.openSegment((nums.at(-1) ?? 0) + 1);
    // Marks whose holder was just deleted but whose message's segment stays: keep them.
    for (const m of foreign) {
      if (this.segments.has(m.src) && !this.segments.has(m.holder)) {
        this.doneIds.push(m.id);
        this.doneSegs.push(m.src);
      }
    }
    this.flushDone();
    if (this.recoveredCount > 0) this.log.info({ recovered: this.recoveredCount, segments: this.segments.size }, 'recovered unfinished messages from the spool');
    return [...recovered.values()];
  }

  append(envs: readonly Envelope[]): void | Promise<void> {
    if (this.closed) throw new SpoolError('ESPOOLWRITE', 'spool is closed');
    if (this.opts.durability === 'write') {
      this.writeAccepts(envs);
      return;
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ envs, resolve, reject });
      if (!this.syncing) this.groupCommit();
    });
  }

  delivered(envs: readonly Envelope[]): void {
    this.finish(envs);
  }

  deadLettered(envs: readonly Envelope[], reason: FailureReason): void {
    try {
      this.deadLetters.add(envs, reason, (env) => this.storedCredentials(env.dest));
    } catch (err) {
      // Keep them in the journal (not finished) rather than lose them: replayed at next start.
      this.log.error({ err: (err as Error).message, count: envs.length }, 'could not write dead letters; the messages stay in the spool');
      return;
    }
    this.finish(envs);
  }

  abandon(): void {
    // Nothing to do: unfinished messages are in the journal and come back at the next start.
  }

  pageOut(env: Envelope): void {
    const pos = env.pos;
    if (!pos) throw new Error('pageOut of an envelope the spool has not written');
    this.pagedFor(env.dest).q.push(pos.seg, pos.off, pos.len);
  }

  pageIn(destKey: string, max: number): { envs: Envelope[]; consumed: number } {
    const entry = this.paged.get(destKey);
    if (!entry) return { envs: [], consumed: 0 };
    let consumed = 0;
    const out: Envelope[] = [];
    const { q, dest } = entry;
    while (out.length < max && q.length > 0) {
      // Read a run of records that sit next to each other in one segment with one pread.
      const seg = q.seg(0);
      const start = q.off(0);
      let end = start + q.len(0);
      let n = 1;
      while (n < max - out.length && n < q.length && q.seg(n) === seg && q.off(n) === end && end - start < 4_194_304) {
        end += q.len(n);
        n += 1;
      }
      const segment = this.segments.get(seg);
      let buf: Buffer | undefined;
      if (segment) {
        segment.readFd ??= openSync(segment.path, FS.O_RDONLY);
        buf = readAt(segment.readFd, start, end - start);
      }
      let rel = 0;
      for (let i = 0; i < n; i++) {
        const len = q.len(0);
        const rec = buf ? recordAt(buf, rel) : null;
        q.shift();
        consumed += 1;
        rel += len;
        if (!rec || rec.type !== RecordType.Accept) {
          this.corruptRecords += 1;
          this.log.error({ segment: seg, offset: start + rel - len }, 'spooled message unreadable at page-in; skipped');
          if (segment) segment.live -= 1;
          continue;
        }
        const p = JSON.parse(rec.payload.toString('utf8')) as AcceptPayload;
        out.push({ id: p.i, dest, message: p.m, bytes: p.b, acceptedAt: p.t, attempts: 0, pos: { seg, off: start + rel - len, len } });
      }
    }
    if (q.length === 0) this.paged.delete(destKey);
    return { envs: out, consumed };
  }

  info(): StoreInfo {
    return {
      durability: this.opts.durability,
      dir: this.dir,
      spoolBytes: this.totalBytes,
      deadLetters: this.deadLetters.count(),
      recovered: this.recoveredCount,
      corruptRecords: this.corruptRecords,
      writable: this.writable,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    while (this.syncing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 5));
    this.closed = true;
    // A flush may rotate and delete a finished segment, carrying its marks forward: flush those too.
    for (let i = 0; i < 3 && this.doneIds.length > 0; i++) this.flushDone();
    if (this.doneTimer) clearTimeout(this.doneTimer);
    for (const s of this.segments.values()) if (s.readFd !== undefined) closeSync(s.readFd);
    if (this.fd >= 0) {
      await new Promise<void>((resolve) => this.ops.fdatasync(this.fd, () => resolve()));
      closeSync(this.fd);
      this.fd = -1;
    }
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
      start = this.writeAccepts(envs);
    } catch (err) {
      this.syncing = false;
      for (const p of batch) p.reject(err as Error);
      if (this.pending.length > 0) this.groupCommit();
      return;
    }
    const seg = this.active;
    this.ops.fdatasync(this.fd, (err) => {
      this.syncing = false;
      if (err) {
        this.cutBack(seg, start, envs.length);
        this.writable = false;
        this.log.error({ code: err.code }, 'spool fdatasync failed; refusing sends until it works again');
        for (const p of batch) p.reject(new SpoolError('ESPOOLWRITE', `spool fdatasync failed (${err.code})`));
      } else {
        for (const p of batch) p.resolve();
      }
      // Everything that arrived meanwhile is the next group.
      if (this.pending.length > 0) this.groupCommit();
    });
  }

  /**
   * Undoes a group whose fdatasync failed: its senders get 503, so its records must not come
   * back at the next start. Completion marks written meanwhile go too (a redelivery after a
   * crash at worst). No rotation happens while a group waits for its sync, so `seg` is active.
   */
  private cutBack(seg: Segment, start: number, count: number): void {
    seg.live -= count;
    if (seg !== this.active) return;
    try {
      this.ops.ftruncateSync(this.fd, start);
    } catch {
      return;
    }
    this.totalBytes -= seg.bytes - start;
    seg.bytes = start;
    this.destNums.clear();
  }

  /** Writes accept records (and the destination records they need) at the end of the active segment; returns where they start. */
  private writeAccepts(envs: readonly Envelope[]): number {
    if (this.active.bytes >= this.opts.segmentBytes) {
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
    const frames: Buffer[] = [];
    const offsets: number[] = new Array(envs.length);
    let size = 0;
    for (let i = 0; i < envs.length; i++) {
      const env = envs[i] as Envelope;
      let k = this.destNums.get(env.dest.key);
      if (k === undefined) {
        k = this.destNums.size + 1;
        this.destNums.set(env.dest.key, k);
        const d: DestPayload = { k, q: env.dest.queueName, u: env.dest.queueUrl, l: env.dest.limits, c: this.storedCredentials(env.dest) };
        const f = encodeRecord(RecordType.Dest, JSON.stringify(d));
        frames.push(f);
        size += f.length;
      }
      const a: AcceptPayload = { i: env.id, k, t: env.acceptedAt, b: env.bytes, m: env.message };
      const f = encodeRecord(RecordType.Accept, JSON.stringify(a));
      offsets[i] = size;
      frames.push(f);
      size += f.length;
    }
    if (this.totalBytes + size > this.opts.maxSpoolBytes) {
      // The destination records written into destNums were not written: forget them.
      this.forgetUnwrittenDests(frames.length - envs.length);
      if (this.active.live <= 0 && this.active.bytes > 0) {
        // Everything in the active segment is finished (only its bytes count): a new segment frees them.
        this.rotate();
        return this.writeAccepts(envs);
      }
      throw new SpoolError('ESPOOLFULL', `spool is full (${this.totalBytes} of ${this.opts.maxSpoolBytes} bytes, --max-spool-bytes)`);
    }
    const buf = frames.length === 1 ? (frames[0] as Buffer) : Buffer.concat(frames, size);
    this.writeAll(buf);
    const base = this.active.bytes;
    for (let i = 0; i < envs.length; i++) {
      const env = envs[i] as Envelope;
      const off = base + (offsets[i] as number);
      const len = (i + 1 < envs.length ? (offsets[i + 1] as number) : size) - (offsets[i] as number);
      // The next envelope's offset may include a Dest frame before it: trim to the accept record.
      env.pos = { seg: this.active.num, off, len: acceptLength(buf, offsets[i] as number) ?? len };
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

  /** write(2) all of `buf`; on failure cut the file back so no torn record stays behind. */
  private writeAll(buf: Buffer): void {
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
      if (this.writable) this.log.error({ code, dir: this.dir }, 'cannot write the spool; refusing sends with 503 until it works again');
      this.writable = false;
      throw new SpoolError('ESPOOLWRITE', `cannot write the spool (${code})`);
    }
    if (!this.writable) this.log.info({ dir: this.dir }, 'spool writable again');
    this.writable = true;
  }

  private finish(envs: readonly Envelope[]): void {
    for (const env of envs) {
      this.doneIds.push(env.id);
      this.doneSegs.push(env.pos?.seg ?? -1);
      const seg = env.pos ? this.segments.get(env.pos.seg) : undefined;
      if (seg) {
        seg.live -= 1;
        if (seg.live <= 0 && seg !== this.active) this.dropSegment(seg);
      }
    }
    if (this.doneIds.length >= 2000) this.flushDone();
    else this.doneTimer ??= setTimeout(() => this.flushDone(), 20);
  }

  /** Completion marks: lazily, in one record per batch of ids. Losing them costs a redelivery, not a message. */
  private flushDone(): void {
    if (this.doneTimer) clearTimeout(this.doneTimer);
    this.doneTimer = undefined;
    if (this.doneIds.length === 0 || this.fd < 0) return;
    const ids = this.doneIds;
    const segs = this.doneSegs;
    this.doneIds = [];
    this.doneSegs = [];
    // In fsync mode a group commit may be between write and fdatasync: appending is still safe
    // (records are self-delimiting and positions were assigned before this write).
    // `s` names each message's own segment, so marks can be carried forward (carryForward).
    const buf = encodeRecord(RecordType.Done, JSON.stringify({ i: ids, s: segs }));
    try {
      this.writeAll(buf);
      this.active.bytes += buf.length;
      this.totalBytes += buf.length;
      if (!this.active.foreign) for (const sg of segs) if (sg !== this.active.num) this.active.foreign = true;
    } catch {
      // Already logged. Keep the marks for the next write: dropping them would redeliver these
      // messages after the next start, even a clean one.
      this.doneIds = ids.concat(this.doneIds);
      this.doneSegs = segs.concat(this.doneSegs);
      if (!this.closed) this.doneTimer ??= setTimeout(() => this.flushDone(), 1000);
    }
    // A full, finished segment gives way to a fresh one (and is deleted), so disk use follows
    // the backlog even when nothing new arrives. Only one that held accepts: a fresh segment
    // holding only carried-forward marks must not set off a chain of rotations.
    if (!this.closed && this.active.accepts && this.active.live <= 0 && this.active.bytes >= this.opts.segmentBytes) this.rotate();
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
    this.active = { num, path, bytes, live: 0 };
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
    let buf: Buffer;
    try {
      buf = readSegment(seg.path);
    } catch {
      return; // unreadable: at worst those messages are sent again after a restart
    }
    scanBuffer(buf, (r) => {
      if (r.type !== RecordType.Done) return;
      let marks: { i: string[]; s?: number[] };
      try {
        marks = JSON.parse(r.payload.toString('utf8')) as { i: string[]; s?: number[] };
      } catch {
        return;
      }
      marks.i.forEach((id, k) => {
        const src = marks.s?.[k] ?? -1;
        if (src !== seg.num && this.segments.has(src)) {
          this.doneIds.push(id);
          this.doneSegs.push(src);
        }
      });
    });
    if (this.doneIds.length > 0) this.doneTimer ??= setTimeout(() => this.flushDone(), 20);
  }

  private dropSegment(seg: Segment): void {
    if (seg.foreign) this.carryForward(seg);
    if (seg.readFd !== undefined) closeSync(seg.readFd);
    this.segments.delete(seg.num);
    this.totalBytes -= seg.bytes;
    try {
      unlinkSync(seg.path);
    } catch (err) {
      this.log.warn({ segment: seg.path, code: (err as NodeJS.ErrnoException).code }, 'could not delete a finished spool segment');
    }
  }
}

/** Length of the Accept record at `off` in `buf` (header + payload). */
function acceptLength(buf: Buffer, off: number): number | undefined {
  if (off + 10 > buf.length) return undefined;
  return 10 + buf.readUInt32LE(off + 2);
}

// The accept payload starts with {"i":"<id>","k":<n>, (JSON.stringify keeps key order):
// read both without parsing the message body.
function acceptId(payload: Buffer): string | undefined {
  if (payload[0] !== 0x7b || payload[2] !== 0x69) return undefined;
  const end = payload.indexOf(0x22, 6);
  return end > 6 ? payload.toString('latin1', 6, end) : undefined;
}

/** Reads a small non-negative integer field (`"k":` or `"b":`) from the head of an accept payload. */
function numField(payload: Buffer, field: string): number | undefined {
  const k = payload.indexOf(field);
  if (k < 0) return undefined;
  let n = 0;
  let i = k + field.length;
  for (; i < payload.length; i++) {
    const c = payload[i] as number;
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  return i > k + field.length ? n : undefined;
}
