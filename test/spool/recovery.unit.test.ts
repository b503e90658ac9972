/**
 * recoverSegments (src/spool/recovery.ts) on journals written record by record: which messages
 * are unfinished, per destination and in order, where they are, and which completion marks
 * must be written again.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeRecord, readSegment, recordAt, RecordType } from '../../src/spool/journal.js';
import { type CredentialsFor, recoverSegments } from '../../src/spool/recovery.js';
import { segName } from '../../src/spool/segments.js';
import { staticCredentials } from '../../src/sqs/credentials.js';
import type { Credentials } from '../../src/sqs/types.js';
import { captureLogger } from '../support/delivery-harness.js';

const ALICE: Credentials = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice/secret' };
const BOB: Credentials = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob/secret' };
const LIMITS = { fifo: false, maxMessageBytes: 1_048_576, contentBasedDedup: false };
const passThrough: CredentialsFor = (stored) => (stored ? staticCredentials(stored) : undefined);

const dest = (k: number, q: string, c: Credentials | null = ALICE) => encodeRecord(RecordType.Dest, JSON.stringify({ k, q, u: `http://sqs.local/1/${q}`, l: LIMITS, c }));
const accept = (i: string, k: number, body = i, t = 1000) => encodeRecord(RecordType.Accept, JSON.stringify({ i, k, t, b: Buffer.byteLength(body), m: { body } }));
const done = (ids: string[], segs?: number[]) => encodeRecord(RecordType.Done, JSON.stringify(segs ? { i: ids, s: segs } : { i: ids }));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-recovery-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function segment(num: number, ...records: Buffer[]): void {
  writeFileSync(join(dir, segName(num)), Buffer.concat(records));
}

function recover(credentialsFor: CredentialsFor = passThrough) {
  const logs = captureLogger();
  return { r: recoverSegments(dir, credentialsFor, logs.log), logs };
}

/** The unfinished messages' ids per queue name, read back through the positions recovery gives. */
function idsAt(r: ReturnType<typeof recover>['r']): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const { dest: d, q } of r.paged.values()) {
    const ids: string[] = [];
    for (let i = 0; i < q.length; i++) {
      const buf = readSegment(join(dir, segName(q.seg(i))));
      const rec = recordAt(buf, q.off(i));
      expect(rec).toMatchObject({ type: RecordType.Accept, length: q.len(i) });
      const payload = JSON.parse(rec!.payload.toString('utf8')) as { i: string; b: number };
      expect(q.bytes(i)).toBe(payload.b);
      ids.push(payload.i);
    }
    out[d.queueName] = ids;
  }
  return out;
}

describe('recoverSegments', () => {
  it('an empty directory: nothing to recover', () => {
    const { r } = recover();
    expect(r).toMatchObject({ segments: [], lastNum: 0, tallies: [], recoveredCount: 0, corruptRecords: 0 });
  });

  it('finds the unfinished messages per destination, in order across segments, at positions that read back', () => {
    segment(1, dest(1, 'a'), accept('a1', 1), dest(2, 'b'), accept('b1', 2, 'bee'), accept('a2', 1));
    // Destination numbers are per segment: k=1 is b here.
    segment(2, dest(1, 'b'), accept('b2', 1), dest(2, 'a'), accept('a3', 2), done(['a2'], [1]));
    const { r } = recover();
    expect(idsAt(r)).toEqual({ a: ['a1', 'a3'], b: ['b1', 'b2'] });
    expect(r.tallies.map((t) => [t.dest.queueName, t.count, t.bytes])).toEqual([
      ['a', 2, 4],
      ['b', 2, 5],
    ]);
    expect(r.recoveredCount).toBe(4);
    expect(r.lastNum).toBe(2);
    expect(r.segments.map((s) => [s.num, s.live])).toEqual([
      [1, 2],
      [2, 2],
    ]);
    // One Destination per (credentials, queue), rebuilt with the stored pair.
    const a = r.tallies[0]!.dest;
    expect(a).toMatchObject({ queueName: 'a', queueUrl: 'http://sqs.local/1/a', limits: LIMITS });
    expect(a.credentials.get()).toEqual(ALICE);
    expect(r.credentialsOf.get(a)).toEqual(ALICE);
    expect(Object.isFrozen(a.limits)).toBe(true); // the resolver updates a destination's URL and settings in place, replacing limits whole
  });

  it('the same queue under two credential pairs is two destinations', () => {
    segment(1, dest(1, 'q', ALICE), dest(2, 'q', BOB), accept('x', 1), accept('y', 2));
    const { r } = recover();
    expect(r.tallies.map((t) => [t.dest.queueName, (t.dest.credentials.get() as Credentials).accessKeyId, t.count])).toEqual([
      ['q', 'AKIDALICE', 1],
      ['q', 'AKIDBOB', 1],
    ]);
  });

  it('a segment whose messages are all finished has live 0 (to delete); ids finished in a later segment count', () => {
    segment(1, dest(1, 'q'), accept('m1', 1), accept('m2', 1));
    segment(2, done(['m1', 'm2'], [1, 1]));
    const { r } = recover();
    expect(r.segments.map((s) => [s.num, s.live])).toEqual([
      [1, 0],
      [2, 0],
    ]);
    expect(r.tallies).toEqual([]);
  });

  it('messages whose credentials this mode cannot rebuild stay on disk, are not recovered, and are logged by id', () => {
    segment(1, dest(1, 'chain-q', null), accept('c1', 1), dest(2, 'q'), accept('p1', 2));
    const { r, logs } = recover();
    expect(idsAt(r)).toEqual({ q: ['p1'] });
    expect(r.recoveredCount).toBe(1);
    expect(r.segments[0]?.live).toBe(2); // c1 keeps its segment
    expect(logs.find('credentials are not available')).toEqual([expect.objectContaining({ count: 1, msgIds: ['c1'], level: 'error' })]);
  });

  it('damaged regions are counted and logged; the records around them are recovered', () => {
    const torn = accept('torn', 1).subarray(0, 15);
    const flipped = Buffer.from(accept('flipped', 1));
    flipped.writeUInt8(flipped.readUInt8(flipped.length - 3) ^ 0xff, flipped.length - 3);
    segment(1, dest(1, 'q'), accept('before', 1), flipped, accept('after', 1), torn);
    const { r, logs } = recover();
    expect(idsAt(r)).toEqual({ q: ['before', 'after'] });
    expect(r.corruptRecords).toBe(2);
    expect(logs.find('spool segment damaged')).toEqual([expect.objectContaining({ segment: segName(1), regions: 2, level: 'error' })]);
  });

  it('a record with a valid checksum but JSON we never wrote is skipped, not fatal', () => {
    segment(1, encodeRecord(RecordType.Done, 'not json'), encodeRecord(RecordType.Dest, '{'), dest(1, 'q'), accept('m', 1));
    const { r } = recover();
    expect(idsAt(r)).toEqual({ q: ['m'] });
    expect(r.corruptRecords).toBe(0);
  });

  it('reads only seg-<10 digits>.log files, in numeric order', () => {
    segment(10, dest(1, 'q'), accept('ten', 1));
    segment(9, dest(1, 'q'), accept('nine', 1));
    writeFileSync(join(dir, 'seg-1.log'), accept('bad name', 1));
    writeFileSync(join(dir, `${segName(11)}.tmp`), accept('tmp', 1));
    const { r } = recover();
    expect(idsAt(r)).toEqual({ q: ['nine', 'ten'] });
    expect(r.lastNum).toBe(10);
  });

  it('a segment deleted at start holding marks of a segment that stays says so, with where those marks are (adopt carries them)', () => {
    segment(1, dest(1, 'q'), accept('live', 1), accept('done-held-by-2', 1), accept('done-held-by-3', 1));
    segment(2, dest(1, 'q'), accept('two', 1), done(['done-held-by-2', 'two'], [1, 2])); // nothing left in 2: deleted
    segment(3, dest(1, 'q'), accept('three', 1), done(['done-held-by-3'], [1])); // 'three' is live: 3 stays
    const { r } = recover();
    expect(idsAt(r)).toEqual({ q: ['live', 'three'] });
    expect(r.segments.map((s) => [s.num, s.live, s.foreign, s.foreignMarks?.map((m) => m.segments)])).toEqual([
      [1, 1, false, []],
      [2, 0, true, [[1]]],
      [3, 1, true, [[1]]],
    ]);
  });

  it("lists where each mark record naming other segments' messages sits, whole, and the segments it names, so deleting it later reads those alone", () => {
    const own = done(['three'], [3]);
    const torn = done(['torn'], [1]).subarray(0, 12);
    const first = done(['a', 'b', 'c', 'three-too'], [1, 2, 1, 3]);
    const second = done(['d'], [2]);
    const old = done(['e']); // an older journal's marks, without segment numbers: not carried
    segment(1, dest(1, 'q'), accept('a', 1), accept('c', 1), accept('live1', 1));
    segment(2, dest(1, 'q'), accept('b', 1), accept('d', 1), accept('live2', 1));
    segment(3, dest(1, 'q'), accept('three', 1), accept('three-too', 1), accept('live3', 1), own, torn, first, old, second);
    const { r } = recover();
    const start = readSegment(join(dir, segName(3))).indexOf(first);
    expect(start).toBeGreaterThan(0);
    expect(r.corruptRecords).toBe(1);
    expect(r.segments.map((s) => [s.num, s.foreign, s.foreignMarks])).toEqual([
      [1, false, []],
      [2, false, []],
      [
        3,
        true,
        [
          { offset: start, length: first.length, segments: [1, 2] },
          { offset: start + first.length + old.length, length: second.length, segments: [2] },
        ],
      ],
    ]);
  });

  it('marks without segment numbers (older journals) finish their messages; those naming a segment that is gone are listed (adopt skips them)', () => {
    segment(2, dest(1, 'q'), accept('x', 1), done(['from-gone-segment'], [1]), done(['x']));
    const { r } = recover();
    expect(r.tallies).toEqual([]);
    expect(r.segments.map((s) => s.foreignMarks?.map((m) => m.segments))).toEqual([[[1]]]);
  });
});
