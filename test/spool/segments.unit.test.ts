/**
 * SegmentFiles (src/spool/segments.ts) on its own, in a temp directory, with fake timers for the
 * lazy completion marks and replaceable file operations for write failures: what it writes,
 * when it rotates and deletes segments, how it refuses, and that recovery reads back what it
 * left (recoverSegments is the reader of record).
 */
import { jest } from '@jest/globals';
import { existsSync, fdatasync, ftruncateSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlink, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bodyOf, type Envelope, newEnvelopes } from '../../src/delivery/envelope.js';
import { readSegment, RecordType, recordAt, scanBuffer } from '../../src/spool/journal.js';
import { recoverSegments } from '../../src/spool/recovery.js';
import { type FileOps, SEGMENT, SegmentFiles, segName } from '../../src/spool/segments.js';
import { staticCredentials } from '../../src/sqs/credentials.js';
import type { Credentials } from '../../src/sqs/types.js';
import { advance, captureLogger, makeDest, makeEnvelope, useFakeClock } from '../support/delivery-harness.js';

let dir: string;
let logs: ReturnType<typeof captureLogger>;
let ops: FileOps;
beforeEach(() => {
  useFakeClock();
  dir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-segments-'));
  logs = captureLogger();
  ops = { writeSync: (fd, buf, off, len) => writeSync(fd, buf, off, len), fdatasync: (fd, cb) => fdatasync(fd, cb), ftruncateSync: (fd, len) => ftruncateSync(fd, len), unlink: (path, cb) => unlink(path, cb), unlinkSync: (path) => unlinkSync(path) };
});
afterEach(() => {
  jest.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

/** SegmentFiles in `dir`, started at segment 1; `bounds` stays live (tests change maxSpoolBytes). */
function files(opts: { segmentBytes?: number; maxSpoolBytes?: number } = {}, o = { segmentBytes: 1_048_576, maxSpoolBytes: 64 * 1_048_576, ...opts }): SegmentFiles & { bounds: typeof o } {
  const f = new SegmentFiles(dir, o, ops, logs.log, (d) => d.credentials.get() as Credentials);
  f.adopt([], 1);
  return Object.assign(f, { bounds: o });
}

/** Record types and (for accepts and marks) ids, per segment file on disk. */
function onDisk(): Record<number, string[]> {
  const out: Record<number, string[]> = {};
  for (const name of readdirSync(dir).sort()) {
    const m = SEGMENT.exec(name); // not RESERVE, the space held back for completion marks
    if (!m) continue;
    const num = Number(m[1]);
    const list: string[] = [];
    scanBuffer(readSegment(join(dir, name)), (r) => {
      const p = JSON.parse(r.payload.toString('utf8')) as { q?: string; i: string | string[] };
      list.push(r.type === RecordType.Dest ? `dest:${p.q}` : r.type === RecordType.Accept ? `accept:${p.i}` : `done:${(p.i as string[]).join(',')}`);
    });
    out[num] = list;
  }
  return out;
}

const recoveredIds = () => {
  const r = recoverSegments(dir, (c) => (c ? staticCredentials(c) : undefined), captureLogger().log);
  return [...r.paged.values()].flatMap(({ q }) => Array.from({ length: q.length }, (_, i) => {
    const rec = recordAt(readSegment(join(dir, segName(q.seg(i)))), q.off(i));
    return (JSON.parse(rec!.payload.toString('utf8')) as { i: string }).i;
  }));
};

describe('SegmentFiles', () => {
  it('writes a destination record once per segment, then accept records, and gives each envelope its exact position', () => {
    const f = files();
    const q = makeDest('q');
    const [a, b, c] = ['a', 'b', 'c'].map((x) => makeEnvelope(q, x)) as [Envelope, Envelope, Envelope];
    expect(f.writeAccepts([a, b])).toBe(0);
    const start = f.writeAccepts([c]);
    expect(start).toBeGreaterThan(0);
    expect(onDisk()).toEqual({ 1: ['dest:q', `accept:${a.id}`, `accept:${b.id}`, `accept:${c.id}`] });
    const buf = readSegment(join(dir, segName(1)));
    for (const e of [a, b, c]) {
      expect(e.spoolSeg).toBe(1);
      const rec = recordAt(buf, e.spoolOff!);
      expect(rec?.length).toBe(e.spoolLen);
      expect(JSON.parse(rec!.payload.toString('utf8'))).toMatchObject({ i: e.id, m: { body: bodyOf(e.message) }, b: e.bytes });
    }
    expect(c.spoolOff).toBe(start);
    expect(f.totalBytes).toBe(buf.length);
    expect(f.active).toMatchObject({ num: 1, live: 3, bytes: buf.length });
  });

  it('a message held as its body alone is journaled exactly as the {body} object it was made from', () => {
    const f = files();
    const q = makeDest('q');
    const asObject = makeEnvelope(q, 'same body');
    const asString = { ...asObject, message: 'same body' };
    f.writeAccepts([asObject]);
    f.writeAccepts([asString]);
    const buf = readSegment(join(dir, segName(1)));
    const a = recordAt(buf, asObject.spoolOff!)!.payload.toString('utf8');
    const b = recordAt(buf, asString.spoolOff!)!.payload.toString('utf8');
    expect(b).toBe(a);
    expect(JSON.parse(b)).toMatchObject({ m: { body: 'same body' } });
    expect(Object.keys(JSON.parse(b).m)).toEqual(['body']);
  });

  it('records an envelope\'s position in the fields newEnvelopes made for it, as three integers, with no object of its own', () => {
    const f = files();
    const q = makeDest('q');
    const { envs } = newEnvelopes(q, [{ message: { body: 'a' }, bytes: 1 }, { message: { body: 'bb' }, bytes: 2 }], Date.now());
    const keys = envs.map((e) => Object.keys(e));
    for (const e of envs) expect([e.spoolSeg, e.spoolOff, e.spoolLen]).toEqual([undefined, undefined, undefined]);
    f.writeAccepts(envs);
    // No field added by the write (a new property store per message), nor any object-valued one.
    expect(envs.map((e) => Object.keys(e))).toEqual(keys);
    const buf = readSegment(join(dir, segName(1)));
    for (const e of envs) {
      for (const v of [e.spoolSeg, e.spoolOff, e.spoolLen]) expect(Number.isInteger(v)).toBe(true);
      expect(recordAt(buf, e.spoolOff!)?.length).toBe(e.spoolLen);
      expect(Object.entries(e).filter(([k, v]) => typeof v === 'object' && v !== null && k !== 'dest' && k !== 'message' && k !== 'accepted')).toEqual([]);
    }
    expect(envs[1]!.spoolOff).toBe(envs[0]!.spoolOff! + envs[0]!.spoolLen!);
  });

  it('rotates once a segment reaches segmentBytes, writing the destination again in the new one', () => {
    const f = files({ segmentBytes: 100 });
    const q = makeDest('q');
    const a = makeEnvelope(q, 'x'.repeat(120));
    const b = makeEnvelope(q, 'b');
    f.writeAccepts([a]);
    f.writeAccepts([b]);
    expect(onDisk()).toEqual({ 1: ['dest:q', `accept:${a.id}`], 2: ['dest:q', `accept:${b.id}`] });
    expect(b.spoolSeg).toBe(2);
  });

  it('deletes a segment once every message in it is finished, never the active one, and writes the marks still of use 20 ms later', async () => {
    const f = files({ segmentBytes: 400 });
    const q = makeDest('q');
    const a = makeEnvelope(q, 'x'.repeat(400));
    const b = makeEnvelope(q, 'b');
    f.writeAccepts([a]);
    f.writeAccepts([b]);
    const before = f.totalBytes;
    const seg1 = readSegment(join(dir, segName(1))).length;
    f.finish([a]);
    expect(f.totalBytes).toBe(before - seg1);
    await f.removed();
    expect(existsSync(join(dir, segName(1)))).toBe(false);
    f.finish([b]);
    expect(existsSync(join(dir, segName(2)))).toBe(true);
    await advance(19);
    expect(onDisk()[2]).toEqual(['dest:q', `accept:${b.id}`]);
    await advance(1);
    // a's mark is dropped: its segment is gone, so nothing could bring a back.
    expect(onDisk()[2]).toEqual(['dest:q', `accept:${b.id}`, `done:${b.id}`]);
    expect(recoveredIds()).toEqual([]);
  });

  it('refuses past maxSpoolBytes with ESPOOLFULL, still writable, and writes the destination with the next accept that fits', () => {
    const f = files();
    const a = makeEnvelope(makeDest('a'), 'a');
    f.writeAccepts([a]);
    f.bounds.maxSpoolBytes = f.totalBytes + 600; // room for b's destination and a small accept, not 2,000 bytes
    const big = makeEnvelope(makeDest('b'), 'x'.repeat(2000));
    expect(() => f.writeAccepts([big])).toThrow(expect.objectContaining({ code: 'ESPOOLFULL' }));
    expect(f.writable).toBe(true);
    const small = makeEnvelope(makeDest('b'), 'b');
    f.writeAccepts([small]);
    expect(onDisk()[1]).toEqual(['dest:a', `accept:${a.id}`, 'dest:b', `accept:${small.id}`]);
    expect(recoveredIds().sort()).toEqual([a.id, small.id].sort());
  });

  it('when full but everything in the active segment is finished, starts a new segment to free it and writes', async () => {
    const f = files();
    const q = makeDest('q');
    const a = makeEnvelope(q, 'x'.repeat(300));
    f.writeAccepts([a]);
    f.finish([a]);
    f.bounds.maxSpoolBytes = f.totalBytes + 50; // b does not fit beside segment 1, only instead of it
    const b = makeEnvelope(q, 'b');
    f.writeAccepts([b]);
    expect(b.spoolSeg).toBe(2);
    await f.removed();
    expect(existsSync(join(dir, segName(1)))).toBe(false);
  });

  it('deletes a finished segment off the event loop while the spool is writable, and at once while the disk is full', async () => {
    const calls: string[] = [];
    const { unlink: realUnlink, unlinkSync: realUnlinkSync, writeSync: realWrite } = ops;
    ops.unlink = (path, cb) => {
      calls.push(`unlink ${path.slice(-18)}`);
      realUnlink(path, cb);
    };
    ops.unlinkSync = (path) => {
      calls.push(`unlinkSync ${path.slice(-18)}`);
      realUnlinkSync(path);
    };
    const f = files({ segmentBytes: 100 });
    const q = makeDest('q');
    const [a, b, c] = [makeEnvelope(q, 'x'.repeat(100)), makeEnvelope(q, 'y'.repeat(100)), makeEnvelope(q, 'z'.repeat(100))];
    f.writeAccepts([a]); // segment 1
    f.writeAccepts([b]); // segment 2
    f.finish([a]);
    // Handed to libuv's pool: the file is gone once that is done, not necessarily now.
    expect(calls).toEqual([`unlink ${segName(1)}`]);
    await f.removed();
    expect(existsSync(join(dir, segName(1)))).toBe(false);
    // The disk full: writes fail, and the next finished segment's space is needed at once.
    ops.writeSync = () => {
      throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
    };
    expect(() => f.writeAccepts([c])).toThrow(expect.objectContaining({ code: 'ESPOOLWRITE' }));
    expect(f.writable).toBe(false);
    ops.writeSync = realWrite;
    f.finish([b]);
    await advance(20);
    expect(calls.slice(1)).toEqual([`unlinkSync ${segName(2)}`]);
    expect(existsSync(join(dir, segName(2)))).toBe(false);
  });

  it('a failed write is cut back (no torn record), refuses with ESPOOLWRITE and marks the spool unwritable until a write works', () => {
    let fail = false;
    const real = ops.writeSync;
    ops.writeSync = (fd, buf, off, len) => {
      if (!fail) return real(fd, buf, off, len);
      real(fd, buf, off, Math.min(len, 7)); // a torn write, then the disk is full
      throw Object.assign(new Error('no space'), { code: 'ENOSPC' });
    };
    const f = files();
    const q = makeDest('q');
    const a = makeEnvelope(q, 'a');
    f.writeAccepts([a]);
    const size = readSegment(join(dir, segName(1))).length;
    fail = true;
    expect(() => f.writeAccepts([makeEnvelope(makeDest('r'), 'lost')])).toThrow(expect.objectContaining({ code: 'ESPOOLWRITE', message: 'cannot write the spool (ENOSPC)' }));
    expect(f.writable).toBe(false);
    expect(readSegment(join(dir, segName(1))).length).toBe(size);
    expect(logs.find('cannot write the spool')).toHaveLength(1);
    fail = false;
    const b = makeEnvelope(makeDest('r'), 'b');
    f.writeAccepts([b]);
    expect(f.writable).toBe(true);
    expect(logs.find('spool writable again')).toHaveLength(1);
    expect(recoveredIds().sort()).toEqual([a.id, b.id].sort());
  });

  it('cutBack removes a group whose sync failed, so it does not come back at the next start', () => {
    const f = files();
    const q = makeDest('q');
    const a = makeEnvelope(q, 'a');
    f.writeAccepts([a]);
    const r = makeDest('r'); // first written in the group: its destination record goes with it
    const group = [makeEnvelope(r, 'g1'), makeEnvelope(r, 'g2')];
    const start = f.writeAccepts(group);
    f.cutBack(f.active, start, group.length);
    expect(f.active.live).toBe(1);
    const c = makeEnvelope(r, 'c');
    f.writeAccepts([c]);
    expect(onDisk()[1]).toEqual(['dest:q', `accept:${a.id}`, 'dest:r', `accept:${c.id}`]);
    expect(recoveredIds().sort()).toEqual([a.id, c.id].sort());
  });

  it("carries marks forward when their holder is deleted before the message's own segment", async () => {
    const f = files({ segmentBytes: 100 });
    const q = makeDest('q');
    const live = makeEnvelope(q, 'x'.repeat(120));
    const early = makeEnvelope(q, 'early');
    f.writeAccepts([live, early]); // segment 1
    const two = makeEnvelope(q, 'y'.repeat(120));
    f.writeAccepts([two]); // segment 2
    f.finish([early]);
    await advance(20); // early's mark is written into segment 2
    f.writeAccepts([makeEnvelope(q, 'three')]); // segment 3
    f.finish([two]); // segment 2 is deleted: early's mark must not go with it
    await advance(20);
    await f.removed();
    expect(existsSync(join(dir, segName(2)))).toBe(false);
    expect(recoveredIds()).not.toContain(early.id);
    expect(recoveredIds()).toContain(live.id);
  });

  it('carries marks forward by reading only the mark records that name a segment still on disk, not the whole segment', async () => {
    /** Bytes this process has read through read(2) and its kin so far (Linux). */
    const bytesRead = (): number => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
    const f = files({ segmentBytes: 100 });
    const q = makeDest('q');
    const [live, early] = [makeEnvelope(q, 'x'.repeat(120)), makeEnvelope(q, 'early')];
    f.writeAccepts([live, early]); // segment 1
    // Segment 2: four megabytes of accepts, and early's mark (its message in segment 1).
    const big = Array.from({ length: 40 }, (_, i) => makeEnvelope(q, `${i}`.repeat(100_000)));
    f.writeAccepts([big[0] as Envelope]);
    f.bounds.segmentBytes = 64 * 1_048_576;
    f.writeAccepts(big.slice(1));
    f.finish([early]);
    await advance(20);
    // Segment 3, then segment 2 finished and deleted: early's mark must be carried into 3.
    f.bounds.segmentBytes = 100;
    const three = makeEnvelope(q, 'three');
    f.writeAccepts([three]);
    const before = bytesRead();
    f.finish(big);
    const read = bytesRead() - before;
    await advance(20);
    await f.removed();
    expect(existsSync(join(dir, segName(2)))).toBe(false);
    expect(recoveredIds().sort()).toEqual([live.id, three.id].sort());
    // The mark record alone, not the 4 MB segment it was in.
    expect(read).toBeLessThan(64 * 1024);
  });

  it('close() writes the marks still waiting and closes the files', async () => {
    const f = files();
    const a = makeEnvelope(makeDest('q'), 'a');
    f.writeAccepts([a]);
    f.finish([a]);
    await f.close();
    expect(onDisk()[1]).toEqual(['dest:q', `accept:${a.id}`, `done:${a.id}`]);
    expect(f.fd).toBe(-1);
    expect(jest.getTimerCount()).toBe(0);
  });
});
