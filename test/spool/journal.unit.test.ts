/**
 * The journal framing: records round-trip, and damage (a torn tail, a flipped byte, garbage)
 * is reported while every valid record around it is still found.
 */
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRecord, HEADER_BYTES, MAGIC, readAt, readSegment, type ReadRecord, recordAt, RecordType, scanBuffer, writeRecordAt } from '../../src/spool/journal.js';
import { removeDir, tempDir } from '../support/spool-harness.js';

const payloads = [
  '{"i":"a-1","k":1}',
  JSON.stringify({ i: 'b-2', m: { body: 'héllo 🐙 wörld', attributes: { x: { DataType: 'String', StringValue: '§§§' } } } }),
  '',
  JSON.stringify({ i: 'c-3', m: { body: 'x'.repeat(70_000) } }),
  '{"i":["d","e"]}',
];
const types: RecordType[] = [RecordType.Dest, RecordType.Accept, RecordType.Done, RecordType.Accept, RecordType.Done];

function journal(): { buf: Buffer; offsets: number[] } {
  const frames = payloads.map((p, i) => encodeRecord(types[i] as RecordType, p));
  const offsets: number[] = [];
  let off = 0;
  for (const f of frames) {
    offsets.push(off);
    off += f.length;
  }
  return { buf: Buffer.concat(frames), offsets };
}

function scan(buf: Buffer): { records: ReadRecord[]; result: ReturnType<typeof scanBuffer> } {
  const records: ReadRecord[] = [];
  const result = scanBuffer(buf, (r) => records.push({ ...r, payload: Buffer.from(r.payload) }));
  return { records, result };
}

it('encodes the header as documented and round-trips every record in order', () => {
  const one = encodeRecord(RecordType.Accept, 'héllo');
  expect(one[0]).toBe(MAGIC);
  expect(one[1]).toBe(RecordType.Accept);
  expect(one.readUInt32LE(2)).toBe(Buffer.byteLength('héllo'));
  expect(one.length).toBe(HEADER_BYTES + 6);

  const { buf, offsets } = journal();
  const { records, result } = scan(buf);
  expect(records.map((r) => r.payload.toString('utf8'))).toEqual(payloads);
  expect(records.map((r) => r.type)).toEqual(types);
  expect(records.map((r) => r.offset)).toEqual(offsets);
  expect(result).toEqual({ corruptBytes: 0, corruptRegions: 0, validEnd: buf.length });
  // recordAt reads one record at a known offset (page-in), and refuses a wrong offset.
  expect(recordAt(buf, offsets[1] as number)?.payload.toString('utf8')).toBe(payloads[1]);
  expect(recordAt(buf, (offsets[1] as number) + 1)).toBeNull();
});

it('writeRecordAt writes encodeRecord\'s bytes into a shared buffer, one record after another', () => {
  // Non-ASCII, a 70,000-character payload, an empty one, and lone surrogates (written as U+FFFD by
  // both, and counted so by Buffer.byteLength): the CRC over the string must match the bytes'.
  const all = [...payloads, 'lone \ud800 high, lone \udc00 low', '\udfff'];
  const kinds = all.map((_, i) => (types[i % types.length] as RecordType));
  const expected = Buffer.concat(all.map((p, i) => encodeRecord(kinds[i] as RecordType, p)));
  const buf = Buffer.alloc(expected.length + 3, 0xee);
  let off = 3;
  for (let i = 0; i < all.length; i++) off = writeRecordAt(buf, off, kinds[i] as RecordType, all[i] as string, Buffer.byteLength(all[i] as string));
  expect(off).toBe(buf.length);
  expect(buf.subarray(3).equals(expected)).toBe(true);
  expect(buf.subarray(0, 3).equals(Buffer.alloc(3, 0xee))).toBe(true); // nothing written before `off`
  // The reader checks each CRC over the bytes: the CRC taken over the string matches them.
  expect(scan(buf.subarray(3)).result).toEqual({ corruptBytes: 0, corruptRegions: 0, validEnd: expected.length });
});

it('an empty buffer is a valid empty journal', () => {
  expect(scan(Buffer.alloc(0)).result).toEqual({ corruptBytes: 0, corruptRegions: 0, validEnd: 0 });
});

it('a torn tail (crash mid-record) loses only the last record and is reported', () => {
  const { buf, offsets } = journal();
  const last = offsets.at(-1) as number;
  for (const cut of [last + 1, last + HEADER_BYTES - 1, last + HEADER_BYTES + 3, buf.length - 1]) {
    const { records, result } = scan(buf.subarray(0, cut));
    expect(records.map((r) => r.payload.toString('utf8'))).toEqual(payloads.slice(0, -1));
    expect(result.validEnd).toBe(last);
    expect(result.corruptRegions).toBe(1);
    expect(result.corruptBytes).toBe(cut - last);
  }
});

it('a flipped byte in the middle costs that record only: the scan resynchronises on the next valid one', () => {
  const { buf, offsets } = journal();
  // In the payload of record 1, in its length field, in its type, in its CRC, in its magic.
  for (const at of [(offsets[1] as number) + HEADER_BYTES + 5, (offsets[1] as number) + 3, (offsets[1] as number) + 1, (offsets[1] as number) + 7, offsets[1] as number]) {
    const bad = Buffer.from(buf);
    bad[at] = (bad[at] as number) ^ 0x10;
    const { records, result } = scan(bad);
    expect(records.map((r) => r.payload.toString('utf8'))).toEqual([payloads[0], ...payloads.slice(2)]);
    expect(records.map((r) => r.offset)).toEqual([offsets[0], ...offsets.slice(2)]);
    expect(result.corruptRegions).toBe(1);
    expect(result.corruptBytes).toBe((offsets[2] as number) - (offsets[1] as number));
    expect(result.validEnd).toBe(buf.length);
  }
});

it('a big record with a flipped byte does not hide the records after it, even with magic bytes inside its payload', () => {
  // A whole frame inside a body: JSON escapes its type byte (0x01-0x03), so it can never
  // pass for a record when the scan resynchronises inside the damaged payload.
  const inner = encodeRecord(RecordType.Accept, '{"i":"nested"}');
  const big = encodeRecord(RecordType.Accept, JSON.stringify({ i: 'big', m: { body: `${'\u00a7'.repeat(1000)}${inner.toString('latin1')}` } }));
  const after = encodeRecord(RecordType.Done, '{"i":["big"]}');
  const bad = Buffer.concat([big, after]);
  bad[HEADER_BYTES + 20] = (bad[HEADER_BYTES + 20] as number) ^ 0xff;
  const { records, result } = scan(bad);
  expect(records.map((r) => r.payload.toString('utf8'))).toEqual(['{"i":["big"]}']);
  expect(result.corruptRegions).toBeGreaterThanOrEqual(1);
  expect(result.validEnd).toBe(bad.length);
});

it('garbage only: nothing found, all of it reported, no exception', () => {
  const garbage = Buffer.alloc(100_000);
  let x = 12345;
  for (let i = 0; i < garbage.length; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    garbage[i] = x & 0xff;
  }
  for (let i = 0; i < garbage.length; i += 97) garbage[i] = MAGIC; // many false starts
  const { records, result } = scan(garbage);
  expect(records).toEqual([]);
  expect(result.corruptBytes).toBe(garbage.length);
  expect(result.corruptRegions).toBeGreaterThanOrEqual(1);
  expect(result.validEnd).toBe(0);
  // A valid record after the garbage is still found.
  const tail = encodeRecord(RecordType.Accept, '{"i":"after-garbage"}');
  const mixed = scan(Buffer.concat([garbage, tail]));
  expect(mixed.records.map((r) => r.payload.toString('utf8'))).toEqual(['{"i":"after-garbage"}']);
  expect(mixed.result.corruptBytes).toBe(garbage.length);
});

it('readSegment and readAt read what was written', () => {
  const dir = tempDir('journal');
  try {
    const { buf, offsets } = journal();
    const path = join(dir, 'seg');
    writeFileSync(path, buf);
    expect(readSegment(path).equals(buf)).toBe(true);
    const fd = openSync(path, 'r');
    try {
      const len = (offsets[2] as number) - (offsets[1] as number);
      const rec = recordAt(readAt(fd, offsets[1] as number, len), 0);
      expect(rec?.payload.toString('utf8')).toBe(payloads[1]);
      // Past the end: short read, not an exception.
      expect(readAt(fd, buf.length - 3, 10).length).toBe(3);
    } finally {
      closeSync(fd);
    }
  } finally {
    removeDir(dir);
  }
});
