import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { CredentialSource } from '../sqs/credentials.js';
import { type Destination, makeDestination } from '../sqs/resolver.js';
import type { Credentials } from '../sqs/types.js';
import { readSegment, RecordType, scanBuffer } from './journal.js';
import { PositionQueue } from './positions.js';
import { type DestPayload, type ForeignMarks, type Segment, SEGMENT, segName } from './segments.js';

/** Rebuilds a destination's credentials from a journal record: the pair (pass-through) or the daemon's (null). */
export type CredentialsFor = (stored: Credentials | null) => CredentialSource | undefined;

/** What the Spool takes over from the journal the previous run left. */
export interface Recovered {
  /** Every segment found, oldest first; `live` counts its unfinished messages (0: to delete). */
  segments: Segment[];
  /** Number of the newest segment found (0: none). */
  lastNum: number;
  /** Per destination key, the positions of its unfinished messages in acceptance order, for page-in. */
  paged: Map<string, { dest: Destination; q: PositionQueue }>;
  /** Per destination, how many unfinished messages and their bytes (what recover() returns). */
  tallies: Array<{ dest: Destination; count: number; bytes: number }>;
  /** The stored credentials each rebuilt destination came from (written again in its Dest records). */
  credentialsOf: Map<Destination, Credentials | null>;
  /** Unfinished messages found (those without usable credentials not included). */
  recoveredCount: number;
  /** Damaged regions found (torn or corrupt records). */
  corruptRecords: number;
}

/**
 * Reads every segment in `dir` and finds the unfinished messages, grouped per destination, in
 * acceptance order. Reads only: deleting finished segments is for the Spool that adopts them.
 * `payloadIds` (the large-message payload files found): the ids of unfinished messages are taken
 * out of it, so what is left belongs to finished messages (or to none: a crash before the accept).
 */
export function recoverSegments(dir: string, credentialsFor: CredentialsFor, log: Logger, payloadIds?: Set<string>): Recovered {
  let corruptRecords = 0;
  let recoveredCount = 0;
  const segments = new Map<number, Segment>();
  const paged = new Map<string, { dest: Destination; q: PositionQueue }>();
  const credentialsOf = new Map<Destination, Credentials | null>();
  const pagedFor = (dest: Destination): { dest: Destination; q: PositionQueue } => {
    let entry = paged.get(dest.key);
    if (!entry) {
      entry = { dest, q: new PositionQueue() };
      paged.set(dest.key, entry);
    }
    return entry;
  };
  const nums = readdirSync(dir)
    .map((n) => SEGMENT.exec(n))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
  // Pass 1: which messages are finished, and which marks are held by a segment other than
  // the message's own (to carry forward if their holder is deleted below).
  const done = new Set<string>();
  const holders = new Set<number>();
  /**
   * Per segment, where each of its mark records naming other segments' messages sits (whole
   * record, header included, as the write path records them): when the segment is deleted later
   * in this run, carryForward reads those records alone, not all of a file of up to 64 MiB on the
   * event loop (issue 11). Every segment scanned gets a list, empty if it holds none.
   */
  const foreignMarksOf = new Map<number, ForeignMarks[]>();
  for (const num of nums) {
    const buf = readSegment(join(dir, segName(num)));
    const positions: ForeignMarks[] = [];
    foreignMarksOf.set(num, positions);
    const scan = scanBuffer(buf, (r) => {
      if (r.type !== RecordType.Done) return;
      try {
        const marks = JSON.parse(r.payload.toString('utf8')) as { i: string[]; s?: number[] };
        let others: number[] | undefined;
        marks.i.forEach((id, k) => {
          done.add(id);
          const src = marks.s?.[k];
          if (src !== undefined && src !== num) {
            holders.add(num);
            others ??= [];
            if (!others.includes(src)) others.push(src);
          }
        });
        if (others !== undefined) positions.push({ offset: r.offset, length: r.length, segments: others });
      } catch {
        // A record with a valid CRC but bad JSON cannot come from us; skip it.
      }
    });
    if (scan.corruptRegions > 0) {
      corruptRecords += scan.corruptRegions;
      log.error({ segment: segName(num), corruptBytes: scan.corruptBytes, regions: scan.corruptRegions }, 'spool segment damaged (torn write or corruption); recovered the valid records around it');
    }
  }
  // Pass 2: unfinished accepted messages, queued for page-in.
  const byKey = new Map<string, Destination>();
  const recovered = new Map<string, { dest: Destination; count: number; bytes: number }>();
  const unrecoverable: string[] = [];
  for (const num of nums) {
    const path = join(dir, segName(num));
    const buf = readSegment(path);
    // A segment holding marks of other segments' messages must carry them forward when it is
    // deleted later in this run, like one written in this run: from the records pass 1 found.
    const seg: Segment = { num, path, bytes: buf.length, live: 0, foreign: holders.has(num), foreignMarks: foreignMarksOf.get(num) ?? [] };
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
            dest = makeDestination(key, d.q, d.u, d.l, source);
            byKey.set(key, dest);
            credentialsOf.set(dest, d.c);
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
      payloadIds?.delete(id); // its payload file is still needed (a large message not yet sent)
      const k = numField(r.payload, '"k":');
      const dest = k === undefined ? undefined : dests.get(k);
      if (!dest) {
        unrecoverable.push(id);
        seg.live += 1; // never finished in this run: keeps its segment (and the message) on disk
        return;
      }
      const bytes = numField(r.payload, '"b":') ?? 0;
      pagedFor(dest).q.push(num, r.offset, r.length, bytes);
      const tally = recovered.get(dest.key);
      if (tally) {
        tally.count += 1;
        tally.bytes += bytes;
      } else recovered.set(dest.key, { dest, count: 1, bytes });
      seg.live += 1;
      recoveredCount += 1;
    });
    segments.set(num, seg);
  }
  if (unrecoverable.length > 0) {
    log.error({ count: unrecoverable.length, msgIds: unrecoverable.slice(0, 20) }, 'spooled messages whose credentials are not available in this mode (sent with --credentials chain, now pass-through?) stay in the spool');
  }
  return { segments: [...segments.values()], lastNum: nums.at(-1) ?? 0, paged, tallies: [...recovered.values()], credentialsOf, recoveredCount, corruptRecords };
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
