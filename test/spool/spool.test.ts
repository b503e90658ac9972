/**
 * The Spool as a MessageStore and Pager, driven directly (no daemon): what goes in comes back
 * after a restart, finished messages do not, segments follow the backlog, bounds and write
 * failures are refused cleanly, group commit shares fdatasyncs, and the directory is locked.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fdatasync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { bodyOf, type Envelope, messageOf } from '../../src/delivery/envelope.js';
import { providerCredentials } from '../../src/sqs/credentials.js';
import type { Destination } from '../../src/sqs/resolver.js';
import { HEADER_BYTES, scanBuffer } from '../../src/spool/journal.js';
import type { Spool } from '../../src/spool/spool.js';
import { CREDS, makeDest, makeEnvelope, openSpool, passThrough, removeDir, tempDir } from '../support/spool-harness.js';

let dir: string;
const open: Spool[] = [];

beforeEach(() => {
  dir = tempDir('spool-unit');
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  removeDir(dir);
});

function spool(options: Parameters<typeof openSpool>[1] = {}): { spool: Spool; logs: ReturnType<typeof openSpool>['logs'] } {
  const s = openSpool(dir, options);
  open.push(s.spool);
  return s;
}

/** Closes `s` and opens a new Spool on the same directory, recovered. */
async function restart(s: Spool, options: Parameters<typeof openSpool>[1] = {}) {
  await s.close();
  const next = spool(options);
  const recovered = next.spool.recover(passThrough);
  // The start deletes finished segments off the event loop: wait for that, as a test of what is on disk must.
  await next.spool.removed();
  return { ...next, recovered };
}

/** Every paged-out envelope of `dest`, read back in order. */
function drain(s: Spool, dest: Destination): Envelope[] {
  const out: Envelope[] = [];
  for (let i = 0; i < 10_000; i++) {
    const { envs, consumed } = s.pageIn(dest.key, 37);
    if (consumed === 0) break;
    out.push(...envs);
  }
  return out;
}

const segments = () => readdirSync(dir).filter((n) => n.startsWith('seg-')).sort();

const fields = (e: Envelope) => ({ id: e.id, message: messageOf(e.message), bytes: e.bytes, acceptedAt: e.accepted.at });

describe('append and recover', () => {
  it('recovers every unfinished message, per destination, in order, with every field', async () => {
    const { spool: s } = spool();
    expect(s.recover(passThrough)).toEqual([]);
    const std = makeDest('orders');
    const fifo = makeDest('orders.fifo', CREDS, { fifo: true, maxMessageBytes: 262_144, contentBasedDedup: false });
    const other = makeDest('orders', { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other' });
    const all: Envelope[] = [];
    for (let i = 0; i < 30; i++) {
      const batch = [
        makeEnvelope(std, { body: `std-${i} héllo 🐙`, attributes: { n: { DataType: 'Number', StringValue: String(i) }, b: { DataType: 'Binary', BinaryValue: 'AAEC' } }, delaySeconds: i % 5 }, 1_700_000_000_000 + i),
        makeEnvelope(fifo, { body: `fifo-${i}`, groupId: `g${i % 3}`, dedupId: `dedup-${i}` }, 1_700_000_000_500 + i),
        makeEnvelope(other, `other-${i}`),
      ];
      const r = s.append(i % 2 === 0 ? batch : [batch[0] as Envelope]);
      if (i % 2 !== 0) s.append(batch.slice(1));
      expect(r).toBeUndefined(); // write mode: synchronous
      all.push(...batch);
    }
    // Finish some: delivered and dead-lettered ones must not come back.
    const delivered = all.filter((_, i) => i % 7 === 0);
    const dead = all.filter((_, i) => i % 11 === 5);
    s.delivered(delivered);
    await s.deadLettered(dead, { code: 'QueueDoesNotExist', message: 'gone' });
    const finished = new Set([...delivered, ...dead].map((e) => e.id));

    const { spool: s2, recovered } = await restart(s);
    expect(recovered.map((r) => r.dest.key).sort()).toEqual([std.key, fifo.key, other.key].sort());
    for (const dest of [std, fifo, other]) {
      const expected = all.filter((e) => e.dest.key === dest.key && !finished.has(e.id));
      const tally = recovered.find((r) => r.dest.key === dest.key);
      expect(tally?.count).toBe(expected.length);
      expect(tally?.bytes).toBe(expected.reduce((n, e) => n + e.bytes, 0));
      expect(tally?.dest).toMatchObject({ queueName: dest.queueName, queueUrl: dest.queueUrl, limits: dest.limits });
      expect(tally?.dest.credentials.get()).toEqual(dest.credentials.get());
      const back = drain(s2, dest);
      expect(back.map(fields)).toEqual(expected.map(fields));
      expect(back.every((e) => e.attempts === 0 && e.spoolSeg !== undefined && e.dest === tally?.dest)).toBe(true);
    }
    expect(s2.info()).toMatchObject({ durability: 'write', recovered: 60 - finished.size + 30, corruptRecords: 0, writable: true, deadLetters: dead.length });
  });

  it('a message with nothing but a body is paged back in as its body string; one with more, as its object', async () => {
    const { spool: s } = spool();
    s.recover(passThrough);
    const dest = makeDest('q');
    const plain = makeEnvelope(dest, { body: 'plain' });
    const full = makeEnvelope(dest, { body: 'full', attributes: { a: { DataType: 'String', StringValue: 'x' } }, delaySeconds: 3 });
    s.append([plain, full]);
    const r = await restart(s);
    const back = drain(r.spool, dest);
    expect(back.map((e) => e.message)).toEqual(['plain', { body: 'full', attributes: { a: { DataType: 'String', StringValue: 'x' } }, delaySeconds: 3 }]);
  });

  it('a recovered message finished in the next run is not recovered again', async () => {
    const { spool: s } = spool();
    s.recover(passThrough);
    const dest = makeDest('q');
    const envs = Array.from({ length: 10 }, (_, i) => makeEnvelope(dest, `m${i}`));
    s.append(envs);
    const r1 = await restart(s);
    const back = drain(r1.spool, dest);
    expect(back).toHaveLength(10);
    r1.spool.delivered(back.slice(0, 4));
    const newer = [makeEnvelope(dest, 'newer')];
    r1.spool.append(newer);
    const r2 = await restart(r1.spool);
    expect(drain(r2.spool, dest).map((e) => bodyOf(e.message))).toEqual(['m4', 'm5', 'm6', 'm7', 'm8', 'm9', 'newer']);
  });

  it('close() writes pending completion marks; an empty spool leaves no segment behind after the next start', async () => {
    const { spool: s } = spool();
    s.recover(passThrough);
    const dest = makeDest('q');
    const envs = Array.from({ length: 5 }, (_, i) => makeEnvelope(dest, `m${i}`));
    s.append(envs);
    s.delivered(envs); // marks are lazy (20 ms timer): close must not lose them
    const r = await restart(s);
    expect(r.recovered).toEqual([]);
    // The old segment (all finished) is gone; only the new active one exists.
    expect(segments()).toEqual(['seg-0000000002.log']);
  });
});

describe('segments', () => {
  it('rotates at segmentBytes and deletes a segment once all its messages are finished', async () => {
    const { spool: s } = spool({ segmentBytes: 65_536 });
    s.recover(passThrough);
    const dest = makeDest('q');
    const envs: Envelope[] = [];
    for (let i = 0; i < 400; i++) {
      const e = makeEnvelope(dest, `${i}:${'x'.repeat(1000)}`);
      s.append([e]);
      envs.push(e);
    }
    const names = segments();
    expect(names.length).toBeGreaterThanOrEqual(6); // ~1.1 KB x 400 / 64 KiB
    for (const n of names.slice(0, -1)) {
      // A segment stops growing at the first append past the limit.
      expect(statSync(join(dir, n)).size).toBeGreaterThanOrEqual(65_536);
      expect(statSync(join(dir, n)).size).toBeLessThan(65_536 + 1200);
    }
    const bySeg = new Map<number, Envelope[]>();
    for (const e of envs) bySeg.set(e.spoolSeg as number, [...(bySeg.get(e.spoolSeg as number) ?? []), e]);
    const [first, second] = [...bySeg.keys()].sort((a, b) => a - b) as [number, number];
    const firstName = `seg-${String(first).padStart(10, '0')}.log`;
    const before = s.info().spoolBytes;
    // All but one message of the first segment: it stays.
    const firstEnvs = bySeg.get(first) as Envelope[];
    s.delivered(firstEnvs.slice(0, -1));
    expect(existsSync(join(dir, firstName))).toBe(true);
    await s.deadLettered(firstEnvs.slice(-1), { code: 'InvalidMessageContents', message: 'no' });
    await s.removed();
    expect(existsSync(join(dir, firstName))).toBe(false);
    expect(s.info().spoolBytes).toBeLessThan(before);
    // The second segment: out of order completion works too.
    const secondEnvs = bySeg.get(second) as Envelope[];
    s.delivered([...secondEnvs].reverse());
    await s.removed();
    expect(existsSync(join(dir, `seg-${String(second).padStart(10, '0')}.log`))).toBe(false);
    // Recovery sees exactly the rest, in order.
    const r = await restart(s, { segmentBytes: 65_536 });
    const rest = envs.filter((e) => e.spoolSeg !== first && e.spoolSeg !== second);
    expect(drain(r.spool, dest).map((e) => e.id)).toEqual(rest.map((e) => e.id));
    expect(r.spool.info().spoolBytes).toBe(segments().reduce((n, f) => n + statSync(join(dir, f)).size, 0));
  });

  it('the active segment, once everything in it is done and it is full, is replaced and deleted', async () => {
    const { spool: s } = spool({ segmentBytes: 65_536 });
    s.recover(passThrough);
    const dest = makeDest('q');
    const envs = Array.from({ length: 70 }, (_, i) => makeEnvelope(dest, `${i}:${'y'.repeat(1000)}`));
    s.append(envs); // one batch: one segment, past its limit
    expect(segments()).toEqual(['seg-0000000001.log']);
    s.delivered(envs);
    await new Promise((r) => setTimeout(r, 50)); // the lazy completion mark
    expect(segments()).toEqual(['seg-0000000002.log']);
  });
});

describe('paging', () => {
  it('pageOut then pageIn returns the same messages, oldest first, across segments, max respected', async () => {
    const { spool: s } = spool({ segmentBytes: 65_536 });
    s.recover(passThrough);
    const a = makeDest('a');
    const b = makeDest('b');
    const envs: Envelope[] = [];
    for (let i = 0; i < 300; i++) {
      const dest = i % 3 === 0 ? b : a;
      const e = makeEnvelope(dest, { body: `${dest.queueName}-${i}-${'z'.repeat(i % 500)}`, attributes: { i: { DataType: 'Number', StringValue: String(i) } } });
      s.append([e]);
      s.pageOut(e);
      envs.push(e);
    }
    expect(s.pageIn('nobody', 10)).toEqual({ envs: [], consumed: 0, lostBytes: 0 });
    const first = s.pageIn(a.key, 5);
    expect(first.consumed).toBe(5);
    expect(first.envs).toHaveLength(5);
    const backA = [...first.envs, ...drain(s, a)];
    const backB = drain(s, b);
    for (const [dest, back] of [[a, backA], [b, backB]] as const) {
      const expected = envs.filter((e) => e.dest === dest);
      expect(back.map(fields)).toEqual(expected.map(fields));
      expect(back.map((e) => [e.spoolSeg, e.spoolOff, e.spoolLen])).toEqual(expected.map((e) => [e.spoolSeg, e.spoolOff, e.spoolLen]));
    }
    // Paged-in envelopes finish like any other: their segments go.
    s.delivered([...backA, ...backB]);
    await new Promise((r) => setTimeout(r, 50));
    expect(segments()).toHaveLength(1);
  });

  it('envelopes paged in keep their accept times, one AcceptedAt shared by consecutive records accepted together (issue 11)', () => {
    const { spool: s } = spool();
    s.recover(passThrough);
    const d = makeDest('q');
    const times = [1000, 1000, 1000, 2000, 2000, 1000];
    const envs = times.map((t, i) => makeEnvelope(d, `m${i}`, t));
    s.append(envs);
    for (const e of envs) s.pageOut(e);
    const back = drain(s, d);
    expect(back.map((e) => e.accepted.at)).toEqual(times);
    const [a, b, c, x, y, z] = back as [Envelope, Envelope, Envelope, Envelope, Envelope, Envelope];
    expect(a.accepted).toBe(b.accepted);
    expect(b.accepted).toBe(c.accepted);
    expect(x.accepted).toBe(y.accepted);
    expect(new Set([a.accepted, x.accepted, z.accepted]).size).toBe(3);
  });

  it('pageOut of an envelope the spool never wrote is a programming error', () => {
    const { spool: s } = spool();
    s.recover(passThrough);
    expect(() => s.pageOut(makeEnvelope(makeDest('q'), 'x'))).toThrow(/not written/);
  });
});

describe('bounds and write failures', () => {
  it('refuses appends past maxSpoolBytes with ESPOOLFULL (writable stays true) and accepts again once space is freed', async () => {
    const { spool: s } = spool({ maxSpoolBytes: 200_000, segmentBytes: 65_536 });
    s.recover(passThrough);
    const dest = makeDest('q');
    const ok: Envelope[] = [];
    let full: unknown;
    for (let i = 0; i < 1000 && full === undefined; i++) {
      const e = makeEnvelope(dest, `${i}:${'f'.repeat(1000)}`);
      try {
        s.append([e]);
        ok.push(e);
      } catch (err) {
        full = err;
      }
    }
    expect(full).toMatchObject({ code: 'ESPOOLFULL' });
    expect(s.info().writable).toBe(true);
    expect(s.info().spoolBytes).toBeLessThanOrEqual(200_000);
    expect(ok.length).toBeGreaterThan(150);
    // Deliver everything: the spool must accept again.
    s.delivered(ok);
    await new Promise((r) => setTimeout(r, 50));
    expect(() => s.append([makeEnvelope(dest, 'after')])).not.toThrow();
  });

  it('with maxSpoolBytes below the segment size, delivering everything frees the spool again', async () => {
    // --max-spool-bytes 1 MiB with the default 64 MiB segments is a valid configuration.
    const { spool: s } = spool({ maxSpoolBytes: 100_000, segmentBytes: 1_048_576 });
    s.recover(passThrough);
    const dest = makeDest('q');
    const ok: Envelope[] = [];
    for (let i = 0; i < 200; i++) {
      const e = makeEnvelope(dest, `${i}:${'f'.repeat(1000)}`);
      try {
        s.append([e]);
        ok.push(e);
      } catch (err) {
        expect(err).toMatchObject({ code: 'ESPOOLFULL' });
        break;
      }
    }
    expect(ok.length).toBeGreaterThan(50);
    expect(ok.length).toBeLessThan(200); // it did fill up: otherwise nothing here is freed "again"
    s.delivered(ok);
    await new Promise((r) => setTimeout(r, 50));
    expect(() => s.append([makeEnvelope(dest, 'after')])).not.toThrow();
  });

  function failingWrites() {
    const state = { mode: 'ok' as 'ok' | 'fail' | 'partial', calls: 0 };
    const enospc = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    const fs = {
      writeSync(fd: number, buf: Buffer, off: number, len: number): number {
        state.calls += 1;
        if (state.mode === 'fail') throw enospc();
        if (state.mode === 'partial') {
          state.mode = 'fail'; // half of it lands, then the disk is full
          return writeSync(fd, buf, off, Math.max(1, Math.floor(len / 2)));
        }
        return writeSync(fd, buf, off, len);
      },
    };
    return { state, fs };
  }

  it.each(['fail', 'partial'] as const)('a write failure (%s) throws ESPOOLWRITE, cuts the file back, and recovery finds every earlier record and nothing torn', async (mode) => {
    const { state, fs } = failingWrites();
    const { spool: s, logs } = spool({ fs });
    s.recover(passThrough);
    const dest = makeDest('q');
    const good = Array.from({ length: 20 }, (_, i) => makeEnvelope(dest, { body: `good-${i}`, attributes: { k: { DataType: 'String', StringValue: 'v' } } }));
    s.append(good.slice(0, 10));
    const sizeBefore = statSync(join(dir, 'seg-0000000001.log')).size;

    state.mode = mode;
    const lost = [makeEnvelope(makeDest('new-queue'), 'refused-1'), makeEnvelope(dest, 'refused-2')];
    let err: unknown;
    try {
      s.append(lost);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'ESPOOLWRITE' });
    expect((err as Error).message).toContain('ENOSPC');
    expect(s.info().writable).toBe(false);
    expect(statSync(join(dir, 'seg-0000000001.log')).size).toBe(sizeBefore);
    expect(logs.find('cannot write the spool')).toHaveLength(1);
    // Still failing: still refused, logged once.
    expect(() => s.append([makeEnvelope(dest, 'refused-3')])).toThrow(expect.objectContaining({ code: 'ESPOOLWRITE' }));
    expect(logs.find('cannot write the spool')).toHaveLength(1);

    state.mode = 'ok';
    const after = [makeEnvelope(makeDest('new-queue'), 'after-1'), ...good.slice(10)];
    s.append(after);
    expect(s.info().writable).toBe(true);
    expect(logs.find('spool writable again')).toHaveLength(1);

    const r = await restart(s);
    expect(r.spool.info().corruptRecords).toBe(0);
    expect(drain(r.spool, dest).map((e) => bodyOf(e.message))).toEqual(good.map((e) => bodyOf(e.message)));
    expect(drain(r.spool, makeDest('new-queue')).map((e) => bodyOf(e.message))).toEqual(['after-1']);
    // And the file itself scans clean.
    for (const n of segments()) expect(scanBuffer(readFileSync(join(dir, n)), () => {}).corruptRegions).toBe(0);
  });

  it('a torn write that cannot be cut back (ftruncate fails too): later records are still found where the spool says', async () => {
    const { state, fs } = failingWrites();
    let truncates = 0;
    const { spool: s } = spool({
      fs: {
        ...fs,
        ftruncateSync() {
          truncates += 1;
          throw Object.assign(new Error('EIO: i/o error, ftruncate'), { code: 'EIO' });
        },
      },
    });
    s.recover(passThrough);
    const dest = makeDest('q');
    s.append([makeEnvelope(dest, 'before')]);
    state.mode = 'partial';
    expect(() => s.append([makeEnvelope(dest, `torn-${'t'.repeat(500)}`)])).toThrow(expect.objectContaining({ code: 'ESPOOLWRITE' }));
    expect(truncates).toBe(1);
    state.mode = 'ok';
    const after = Array.from({ length: 5 }, (_, i) => makeEnvelope(dest, `after-${i}`));
    s.append(after);
    for (const e of after) s.pageOut(e);
    // Read back through the positions the spool recorded: every one must check out.
    expect(drain(s, dest).map((e) => bodyOf(e.message))).toEqual(after.map((e) => bodyOf(e.message)));
    expect(s.info().corruptRecords).toBe(0);
    expect(s.info().spoolBytes).toBe(statSync(join(dir, 'seg-0000000001.log')).size);
    // At the next start the torn bytes are skipped and reported.
    const r = await restart(s);
    expect(drain(r.spool, dest).map((e) => bodyOf(e.message))).toEqual(['before', ...after.map((e) => bodyOf(e.message))]);
    expect(r.spool.info().corruptRecords).toBe(1);
  });

  it('a new segment that cannot be created fails that append only; the spool keeps working once it can', async () => {
    const { spool: s } = spool({ segmentBytes: 65_536 });
    s.recover(passThrough);
    const dest = makeDest('q');
    s.append(Array.from({ length: 70 }, (_, i) => makeEnvelope(dest, `old-${i}-${'x'.repeat(1000)}`))); // past the segment size
    mkdirSync(join(dir, 'seg-0000000002.log')); // the next segment's name is taken (EISDIR)
    expect(() => s.append([makeEnvelope(dest, 'refused')])).toThrow(/EISDIR/);
    expect(s.info().writable).toBe(false); // /readyz says so until a write works
    rmdirSync(join(dir, 'seg-0000000002.log'));
    s.append([makeEnvelope(dest, 'after-1')]);
    expect(s.info().writable).toBe(true);
    s.append([makeEnvelope(dest, 'after-2')]);
    const r = await restart(s, { segmentBytes: 65_536 }); // close() must not throw either
    const bodies = drain(r.spool, dest).map((e) => bodyOf(e.message));
    expect(bodies).toHaveLength(72);
    expect(bodies.slice(-2)).toEqual(['after-1', 'after-2']);
  });

  it('completion marks that could not be written are written with the next ones, not dropped', async () => {
    const { state, fs } = failingWrites();
    const { spool: s } = spool({ fs });
    s.recover(passThrough);
    const dest = makeDest('q');
    const first = Array.from({ length: 5 }, (_, i) => makeEnvelope(dest, `first-${i}`));
    s.append(first);
    s.delivered(first);
    state.mode = 'fail';
    await new Promise((r) => setTimeout(r, 50)); // the lazy mark is due while the disk is full
    state.mode = 'ok';
    const second = [makeEnvelope(dest, 'second')];
    s.append(second);
    const r = await restart(s);
    // A clean stop: nothing delivered comes back (a lost mark would mean a duplicate).
    expect(drain(r.spool, dest).map((e) => bodyOf(e.message))).toEqual(['second']);
  });
});

describe('fsync durability', () => {
  function countingSync(delayMs: number) {
    const state = { calls: 0, fail: false };
    return {
      state,
      fs: {
        fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void) {
          state.calls += 1;
          setTimeout(() => {
            if (state.fail) cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
            else fdatasync(fd, cb);
          }, delayMs);
        },
      },
    };
  }

  it('many concurrent appends share few fdatasyncs (group commit), and resolve only after it', async () => {
    const { state, fs } = countingSync(10);
    const { spool: s } = spool({ durability: 'fsync', fs });
    s.recover(passThrough);
    const dest = makeDest('q');
    let resolved = 0;
    const appends = Array.from({ length: 500 }, (_, i) => {
      const r = s.append([makeEnvelope(dest, `m${i}`)]);
      expect(r).toBeInstanceOf(Promise);
      return (r as Promise<void>).then(() => (resolved += 1));
    });
    expect(resolved).toBe(0);
    await Promise.all(appends);
    // The first append syncs alone; the 499 that arrived meanwhile share the next one.
    expect(state.calls).toBeLessThanOrEqual(3);
    expect(state.calls).toBeGreaterThanOrEqual(1);
    const r = await restart(s, { durability: 'fsync' });
    expect(drain(r.spool, dest)).toHaveLength(500);
  });

  it('an fdatasync error rejects every waiting append with ESPOOLWRITE; the next good sync makes it writable again', async () => {
    const { state, fs } = countingSync(5);
    const { spool: s } = spool({ durability: 'fsync', fs });
    s.recover(passThrough);
    const dest = makeDest('q');
    await s.append([makeEnvelope(dest, 'before')]);
    state.fail = true;
    const results = await Promise.allSettled(Array.from({ length: 50 }, (_, i) => s.append([makeEnvelope(dest, `refused-${i}`)])));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as { code?: string }).code === 'ESPOOLWRITE')).toBe(true);
    expect(s.info().writable).toBe(false);
    state.fail = false;
    await s.append([makeEnvelope(dest, 'after')]);
    expect(s.info().writable).toBe(true);
    // What the senders were told was refused must not be delivered after a restart either.
    const r = await restart(s, { durability: 'fsync' });
    expect(drain(r.spool, dest).map((e) => bodyOf(e.message))).toEqual(['before', 'after']);
  });
});

describe('the directory', () => {
  it('is 0700 (even when it existed with looser modes) and its files are 0600', async () => {
    const { chmodSync, mkdirSync } = await import('node:fs');
    const sub = join(dir, 'spool');
    mkdirSync(sub, { mode: 0o755 });
    chmodSync(sub, 0o755);
    const s = openSpool(sub).spool;
    open.push(s);
    s.recover(passThrough);
    const dest = makeDest('q');
    const envs = [makeEnvelope(dest, 'a'), makeEnvelope(dest, 'b')];
    s.append(envs);
    await s.deadLettered([envs[0] as Envelope], { code: 'AccessDenied', message: 'no' });
    const mode = (p: string) => statSync(p).mode & 0o777;
    expect(mode(sub)).toBe(0o700);
    expect(mode(join(sub, 'dead-letters'))).toBe(0o700);
    const files = readdirSync(sub).filter((n) => n !== 'dead-letters');
    expect(files).toEqual(expect.arrayContaining(['LOCK', 'seg-0000000001.log']));
    for (const f of files) expect([f, mode(join(sub, f))]).toEqual([f, 0o600]);
    const letters = readdirSync(join(sub, 'dead-letters'));
    expect(letters).toHaveLength(1);
    expect(mode(join(sub, 'dead-letters', letters[0] as string))).toBe(0o600);
  });

  it('is locked: a live process holding LOCK is refused, a dead one is taken over, close() releases', async () => {
    // A live child process that "owns" the directory (only its PID matters to the lock).
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const childPid = child.pid as number;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      writeFileSync(join(dir, 'LOCK'), `${childPid}\n`, { mode: 0o600 });
      let err: unknown;
      try {
        openSpool(dir);
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: 'ESPOOLLOCKED' });
      expect((err as Error).message).toContain(String(childPid));
      expect((err as Error).message).toContain(dir);
      expect(lockPid()).toBe(childPid);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // Its owner is gone (kill -9 leaves the file): taken over.
    const s = openSpool(dir).spool;
    expect(lockPid()).toBe(process.pid);
    await s.close();
    expect(existsSync(join(dir, 'LOCK'))).toBe(false);
  });

  it('a LOCK with garbage in it is taken over', async () => {
    writeFileSync(join(dir, 'LOCK'), 'not a pid');
    const s = openSpool(dir).spool;
    open.push(s);
    expect(lockPid()).toBe(process.pid);
  });

  it('a LOCK naming a live PID from another boot, or a reused PID (other start time), is taken over', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const childPid = child.pid as number;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
      // The lock records pid, boot id and start time; the real holder is refused...
      writeFileSync(join(dir, 'LOCK'), `${childPid} ${bootId} ${startTimeOf(childPid)}\n`);
      expect(() => openSpool(dir)).toThrow(/in use by another sqs-accelerator/);
      // ...a lock written before a reboot is not (the PID now belongs to someone else)...
      writeFileSync(join(dir, 'LOCK'), `${childPid} 00000000-0000-0000-0000-000000000000 ${startTimeOf(childPid)}\n`);
      const a = openSpool(dir).spool;
      expect(lockPid()).toBe(process.pid);
      await a.close();
      // ...nor one whose PID was reused by a process started at another time.
      writeFileSync(join(dir, 'LOCK'), `${childPid} ${bootId} 1\n`);
      const b = openSpool(dir).spool;
      expect(lockPid()).toBe(process.pid);
      await b.close();
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });
});

function lockPid(): number {
  return Number.parseInt(readFileSync(join(dir, 'LOCK'), 'utf8'), 10);
}

function startTimeOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] as string;
}

describe('page-in of a damaged record', () => {
  it('skips it, reports its bytes so the backlog byte count stays true, and the rest comes back', async () => {
    const { spool: s } = spool();
    s.recover(passThrough);
    const d = makeDest('orders');
    const envs = ['first', 'second-is-damaged', 'third'].map((b) => makeEnvelope(d, b));
    s.append(envs);
    for (const e of envs) s.pageOut(e);
    // Flip a byte inside the second record's payload.
    const pos = { off: envs[1]?.spoolOff as number };
    const path = join(dir, 'seg-0000000001.log');
    const fd = openSync(path, 'r+');
    writeSync(fd, Buffer.from('X'), 0, 1, pos.off + HEADER_BYTES + 5);
    closeSync(fd);
    const { envs: back, consumed, lostBytes } = s.pageIn(d.key, 10);
    expect(consumed).toBe(3);
    expect(back.map((e) => bodyOf(e.message))).toEqual(['first', 'third']);
    expect(lostBytes).toBe(Buffer.byteLength('second-is-damaged'));
    expect(s.info().corruptRecords).toBe(1);
  });
});

describe('completion marks held by a newer segment', () => {
  it('are carried forward when that segment is deleted, so a delivered message is not sent again after a restart', async () => {
    // segmentBytes 1: every append starts a new segment.
    const { spool: s } = spool({ segmentBytes: 1 });
    s.recover(passThrough);
    const d = makeDest('orders');
    const [m1, m2] = [makeEnvelope(d, 'm1'), makeEnvelope(d, 'm2')];
    s.append([m1, m2]); // segment 1
    const m3 = makeEnvelope(d, 'm3');
    s.append([m3]); // segment 2
    s.delivered([m1]); // its mark is written into segment 2, the active one
    await new Promise((r) => setTimeout(r, 40));
    const m4 = makeEnvelope(d, 'm4');
    s.append([m4]); // segment 3
    s.delivered([m3]); // segment 2 is finished and deleted; segment 1 still holds m2
    await s.removed();
    expect(segments()).toEqual(['seg-0000000001.log', 'seg-0000000003.log']);
    const { spool: next, recovered } = await restart(s, { segmentBytes: 1 });
    expect(recovered.map((r) => r.count)).toEqual([2]);
    expect(drain(next, d).map((e) => bodyOf(e.message))).toEqual(['m2', 'm4']); // not m1
  });

  it('are carried forward by a holder that survived a restart and is deleted later', async () => {
    const { spool: s } = spool({ segmentBytes: 1 });
    s.recover(passThrough);
    const d = makeDest('orders');
    const [m1, m2] = [makeEnvelope(d, 'm1'), makeEnvelope(d, 'm2')];
    s.append([m1, m2]); // segment 1
    s.append([makeEnvelope(d, 'm3')]); // segment 2
    s.delivered([m1]); // m1's mark goes into segment 2, which still holds m3
    await new Promise((r) => setTimeout(r, 40));
    const first = await restart(s, { segmentBytes: 1 });
    const back = drain(first.spool, d);
    expect(back.map((e) => bodyOf(e.message))).toEqual(['m2', 'm3']);
    first.spool.delivered([back[1] as Envelope]); // m3: segment 2 is finished and deleted in this run
    await new Promise((r) => setTimeout(r, 40));
    const second = await restart(first.spool, { segmentBytes: 1 });
    expect(drain(second.spool, d).map((e) => bodyOf(e.message))).toEqual(['m2']); // m1 stays done
  });

  it('are carried forward by a holder adopted at start by reading its mark records, not all of it', async () => {
    /** Bytes this process has read through read(2) and its kin so far (Linux). */
    const bytesRead = (): number => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
    const { spool: s } = spool({ segmentBytes: 1 });
    s.recover(passThrough);
    const d = makeDest('orders');
    const [m1, m2] = [makeEnvelope(d, 'm1'), makeEnvelope(d, 'm2')];
    s.append([m1, m2]); // segment 1
    // Segment 2: four megabytes of accepts, then m1's mark (its message in segment 1).
    const big = Array.from({ length: 40 }, (_, i) => makeEnvelope(d, String(i).padStart(2, '0').repeat(50_000)));
    s.append(big);
    s.delivered([m1]);
    await new Promise((r) => setTimeout(r, 40));
    expect(segments()).toEqual(['seg-0000000001.log', 'seg-0000000002.log']);
    const size = statSync(join(dir, 'seg-0000000002.log')).size;
    expect(size).toBeGreaterThan(4_000_000);
    // Restart: both segments are adopted, segment 2 still holding 40 unfinished messages.
    const first = await restart(s, { segmentBytes: 1 });
    const back = drain(first.spool, d);
    expect(back.map((e) => e.id)).toEqual([m2.id, ...big.map((e) => e.id)]);
    const m5 = makeEnvelope(d, 'm5');
    first.spool.append([m5]); // segment 3, unfinished
    // Segment 2 finished and deleted while segment 1 lives: m1's mark is carried into segment 3.
    const before = bytesRead();
    first.spool.delivered(back.slice(1));
    const read = bytesRead() - before;
    await new Promise((r) => setTimeout(r, 40));
    await first.spool.removed();
    expect(segments()).toEqual(['seg-0000000001.log', 'seg-0000000003.log']);
    // The mark record alone, not the 4 MB segment it was in.
    expect(read).toBeLessThan(64 * 1024);
    const second = await restart(first.spool, { segmentBytes: 1 });
    expect(drain(second.spool, d).map((e) => e.id)).toEqual([m2.id, m5.id]); // not m1, and no duplicates
  });

  it('are kept across a restart that deletes their holder', async () => {
    const { spool: s } = spool({ segmentBytes: 1 });
    s.recover(passThrough);
    const d = makeDest('orders');
    const [m1, m2] = [makeEnvelope(d, 'm1'), makeEnvelope(d, 'm2')];
    s.append([m1, m2]); // segment 1
    const m3 = makeEnvelope(d, 'm3');
    s.append([m3]); // segment 2
    s.delivered([m1, m3]); // marks in segment 2; segment 2 finished but active
    // Restart 1: segment 2 has nothing unfinished and is deleted at start.
    const first = await restart(s, { segmentBytes: 1 });
    expect(drain(first.spool, d).map((e) => bodyOf(e.message))).toEqual(['m2']);
    // Restart 2 (m2 still not delivered): m1 must still count as done.
    const second = await restart(first.spool, { segmentBytes: 1 });
    expect(drain(second.spool, d).map((e) => bodyOf(e.message))).toEqual(['m2']);
  });
});

describe('recovery edge cases', () => {
  it('messages whose credentials are not available in this mode stay in the spool for a later start', async () => {
    // Sent with --credentials chain (stored credentials: null), restarted in pass-through.
    const { spool: s } = spool();
    s.recover(passThrough);
    const chain = providerCredentials(async () => ({ ...CREDS }));
    const dest: Destination = Object.freeze({ key: `${chain.key}\0q`, queueName: 'q', queueUrl: 'http://127.0.0.1:1/000000000000/q', limits: { fifo: false, maxMessageBytes: 1_048_576, contentBasedDedup: false }, credentials: chain });
    s.append([makeEnvelope(dest, 'chain-1'), makeEnvelope(dest, 'chain-2')]);
    const r1 = await restart(s);
    expect(r1.recovered).toEqual([]);
    expect(r1.logs.find('credentials are not available')).toHaveLength(1);
    // Back in chain mode: they are still there.
    await r1.spool.close();
    const r2 = spool();
    const recovered = r2.spool.recover((stored) => (stored ? passThrough(stored) : chain));
    expect(recovered.map((r) => r.count)).toEqual([2]);
    expect(drain(r2.spool, recovered[0]?.dest as Destination).map((e) => bodyOf(e.message))).toEqual(['chain-1', 'chain-2']);
  });

  it('a torn tail and a flipped byte are reported, counted, and the valid records recovered', async () => {
    const { spool: s } = spool();
    s.recover(passThrough);
    const dest = makeDest('q');
    const envs = Array.from({ length: 20 }, (_, i) => makeEnvelope(dest, `m${i}`));
    s.append(envs);
    await s.close();
    const path = join(dir, 'seg-0000000001.log');
    const buf = readFileSync(path);
    const victim = { off: envs[7]?.spoolOff as number };
    buf[victim.off + HEADER_BYTES + 3] = (buf[victim.off + HEADER_BYTES + 3] as number) ^ 0x01;
    const last = { off: envs[19]?.spoolOff as number };
    writeFileSync(path, buf.subarray(0, last.off + 5)); // torn in the middle of the last header
    const r = spool();
    const recovered = r.spool.recover(passThrough);
    expect(recovered[0]?.count).toBe(18);
    expect(drain(r.spool, dest).map((e) => bodyOf(e.message))).toEqual(envs.filter((_, i) => i !== 7 && i !== 19).map((e) => bodyOf(e.message)));
    expect(r.spool.info().corruptRecords).toBe(2);
    expect(r.logs.find('spool segment damaged')).toHaveLength(1);
  });
});
