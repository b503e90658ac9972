import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';

/**
 * Journal framing. A segment file is a sequence of records:
 *
 *   magic 0xA7 | type u8 | length u32 LE | crc32 u32 LE (of type + payload) | payload (JSON, UTF-8)
 *
 * A torn write (crash mid-record) or flipped bits fail the length or CRC check; the reader
 * reports the damage and resynchronises on the next magic byte whose record checks out, so one
 * bad record does not hide the valid ones after it.
 */
export const MAGIC = 0xa7;
export const HEADER_BYTES = 10;
/** Largest payload we ever write (a 1 MiB message, JSON-escaped, plus fields). */
export const MAX_PAYLOAD_BYTES = 8 * 1_048_576;

export const RecordType = {
  /** A destination (queue + credentials) used by later records of the same segment. */
  Dest: 1,
  /** An accepted message. */
  Accept: 2,
  /** Messages finished (delivered or dead-lettered). */
  Done: 3,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

/** One record in a Buffer of its own (writeRecordAt for many records in one buffer). */
export function encodeRecord(type: RecordType, payload: string): Buffer {
  const len = Buffer.byteLength(payload, 'utf8');
  const buf = Buffer.allocUnsafe(HEADER_BYTES + len);
  writeRecordAt(buf, 0, type, payload, len);
  return buf;
}

/** The CRC-32 of each record type's byte alone: a record's CRC goes on from it over the payload. */
const TYPE_CRC: readonly number[] = [0, crc32(Buffer.of(RecordType.Dest)), crc32(Buffer.of(RecordType.Accept)), crc32(Buffer.of(RecordType.Done))];

/**
 * Writes one record at `off` of `buf` (which has HEADER_BYTES + `len` bytes of room there, `len`
 * being `Buffer.byteLength(payload)`) and returns the offset just past it, so many records share
 * one buffer and one write without a Buffer each and a copy to join them (issue 11: a
 * 10,000-entry batch's journal records were ~600 bytes of garbage a message). The CRC is taken
 * over the payload string, which zlib.crc32 encodes as UTF-8 exactly as `buf.write` does (lone
 * surrogates included: both write U+FFFD for them, as Buffer.byteLength counts).
 */
export function writeRecordAt(buf: Buffer, off: number, type: RecordType, payload: string, len: number): number {
  buf[off] = MAGIC;
  buf[off + 1] = type;
  buf.writeUInt32LE(len, off + 2);
  if (buf.write(payload, off + HEADER_BYTES, len, 'utf8') !== len) throw new Error(`journal record payload is not ${len} bytes of UTF-8`);
  buf.writeUInt32LE(crc32(payload, TYPE_CRC[type] as number), off + 6);
  return off + HEADER_BYTES + len;
}

export interface ReadRecord {
  type: RecordType;
  offset: number;
  length: number;
  payload: Buffer;
}

export interface ScanResult {
  /** Bytes of damaged data skipped. */
  corruptBytes: number;
  /** Number of damaged regions found. */
  corruptRegions: number;
  /** Offset just past the last valid record. */
  validEnd: number;
}

/** The length (header + payload) of the valid record at `off` of `buf`, else -1 (page-in reads the payload in place from it). */
export function checkAt(buf: Buffer, off: number): number {
  if (off + HEADER_BYTES > buf.length || buf[off] !== MAGIC) return -1;
  const type = buf[off + 1] as number;
  if (type < RecordType.Dest || type > RecordType.Done) return -1;
  const len = buf.readUInt32LE(off + 2);
  if (len > MAX_PAYLOAD_BYTES || off + HEADER_BYTES + len > buf.length) return -1;
  const expected = buf.readUInt32LE(off + 6);
  // The type byte's CRC from the table (the same value as crc32 of that byte): no Buffer for it per record.
  const actual = crc32(buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + len), TYPE_CRC[type] as number);
  return actual === expected ? HEADER_BYTES + len : -1;
}

/** Walks every valid record of a buffer in order. */
export function scanBuffer(buf: Buffer, onRecord: (r: ReadRecord) => void): ScanResult {
  let off = 0;
  let corruptBytes = 0;
  let corruptRegions = 0;
  let validEnd = 0;
  while (off < buf.length) {
    const n = checkAt(buf, off);
    if (n > 0) {
      onRecord({ type: buf[off + 1] as RecordType, offset: off, length: n, payload: buf.subarray(off + HEADER_BYTES, off + n) });
      off += n;
      validEnd = off;
      continue;
    }
    // Damage: find the next offset where a valid record starts.
    corruptRegions += 1;
    let next = off + 1;
    while (next < buf.length) {
      next = buf.indexOf(MAGIC, next);
      if (next < 0) {
        next = buf.length;
        break;
      }
      if (checkAt(buf, next) > 0) break;
      next += 1;
    }
    corruptBytes += next - off;
    off = next;
  }
  return { corruptBytes, corruptRegions, validEnd };
}

/** Reads a whole segment file. Segments are bounded (--spool-segment-bytes), so this is fine. */
export function readSegment(path: string): Buffer {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** Reads `length` bytes at `offset` of an open file. */
export function readAt(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Parses a record at the start of `buf` (page-in); null if it does not check out. */
export function recordAt(buf: Buffer, off: number): ReadRecord | null {
  const n = checkAt(buf, off);
  if (n < 0) return null;
  return { type: buf[off + 1] as RecordType, offset: off, length: n, payload: buf.subarray(off + HEADER_BYTES, off + n) };
}
