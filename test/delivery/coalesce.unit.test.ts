/**
 * AppendCoalescer in front of a real Spool in `write` mode: the appends of one event-loop turn
 * become one write(2), no append resolves before that write has returned, what was refused is
 * refused append by append exactly as without the grouping, and a restart finds what resolved,
 * in order, and nothing that was refused.
 */
import { writeSync } from 'node:fs';
import { AppendCoalescer, WRITE_AT_ONCE_ENTRIES } from '../../src/delivery/coalesce.js';
import { bodyOf, type Envelope } from '../../src/delivery/envelope.js';
import type { Destination } from '../../src/sqs/resolver.js';
import type { Spool } from '../../src/spool/spool.js';
import { makeDest, makeEnvelope, openSpool, passThrough, removeDir, tempDir } from '../support/spool-harness.js';

let dir: string;
const open: Spool[] = [];

beforeEach(() => {
  dir = tempDir('coalesce-unit');
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => {});
  removeDir(dir);
});

/** A write-mode spool whose accept writes are counted, and can be made to fail with ENOSPC. */
function countingSpool(options: Parameters<typeof openSpool>[1] = {}) {
  const state = { writes: 0, fail: false };
  const { spool } = openSpool(dir, {
    ...options,
    fs: {
      writeSync(fd: number, buf: Buffer, off: number, len: number): number {
        state.writes += 1;
        if (state.fail) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return writeSync(fd, buf, off, len);
      },
    },
  });
  open.push(spool);
  spool.recover(passThrough);
  state.writes = 0; // recovery writes the disk reserve through the same writeSync: count accepts only
  return { spool, state };
}

async function reopen(s: Spool, dest: Destination): Promise<string[]> {
  await s.close();
  const { spool } = openSpool(dir);
  open.push(spool);
  spool.recover(passThrough);
  const bodies: string[] = [];
  for (let i = 0; i < 1000; i++) {
    const { envs, consumed } = spool.pageIn(dest.key, 50);
    if (consumed === 0) break;
    for (const e of envs) bodies.push(bodyOf(e.message));
  }
  return bodies;
}

const settle = (p: void | Promise<void>) => Promise.resolve(p).then(() => 'ok' as const, (err: { code?: string }) => err.code ?? 'error');

describe('AppendCoalescer', () => {
  it('writes the appends of one turn with one write(2) and resolves each only after it', async () => {
    const { spool, state } = countingSpool();
    const c = new AppendCoalescer(spool);
    const dest = makeDest('q');
    const batches: Envelope[][] = Array.from({ length: 40 }, (_, i) => [makeEnvelope(dest, `m${i}-a`), makeEnvelope(dest, `m${i}-b`)]);
    const order: number[] = [];
    const all = batches.map((envs, i) => Promise.resolve(c.append(envs)).then(() => order.push(i)));
    expect(c.pending).toBe(40);
    await Promise.resolve();
    expect(state.writes).toBe(0); // nothing written within the turn...
    expect(order).toEqual([]); // ...and nobody told it was
    expect(batches[0]?.[0]?.spoolSeg).toBeUndefined();
    await Promise.all(all);
    expect(state.writes).toBe(1);
    expect(order).toEqual(batches.map((_, i) => i)); // in the order they appended
    for (const envs of batches) for (const e of envs) expect(e.spoolSeg).toBeDefined();
    // A later turn is its own write.
    await c.append([makeEnvelope(dest, 'later')]);
    expect(state.writes).toBe(2);
    expect(await reopen(spool, dest)).toEqual([...batches.flat().map((e) => bodyOf(e.message)), 'later']);
  });

  it('a group that does not fit is tried append by append: what fits is written, the rest refused with ESPOOLFULL', async () => {
    const { spool, state } = countingSpool({ maxSpoolBytes: 6_000, segmentBytes: 1_048_576 });
    const c = new AppendCoalescer(spool);
    const dest = makeDest('q');
    const envs = Array.from({ length: 10 }, (_, i) => makeEnvelope(dest, `${i}:${'f'.repeat(1000)}`));
    const results = await Promise.all(envs.map((e) => settle(c.append([e]))));
    const written = results.filter((r) => r === 'ok').length;
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(10);
    expect(results).toEqual([...Array(written).fill('ok'), ...Array(10 - written).fill('ESPOOLFULL')]);
    expect(spool.info().writable).toBe(true);
    expect(state.writes).toBe(written); // the group write was refused before any byte went out
    expect(await reopen(spool, dest)).toEqual(envs.slice(0, written).map((e) => bodyOf(e.message)));
  });

  it('a write error refuses every append of the group with ESPOOLWRITE and keeps none of them', async () => {
    const { spool, state } = countingSpool();
    const c = new AppendCoalescer(spool);
    const dest = makeDest('q');
    await c.append([makeEnvelope(dest, 'before')]);
    state.fail = true;
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => settle(c.append([makeEnvelope(dest, `refused-${i}`)]))));
    expect(results).toEqual(Array(5).fill('ESPOOLWRITE'));
    expect(spool.info().writable).toBe(false);
    state.fail = false;
    await c.append([makeEnvelope(dest, 'after')]);
    expect(spool.info().writable).toBe(true);
    expect(await reopen(spool, dest)).toEqual(['before', 'after']);
  });

  it('a large append with nobody waiting is written within the call; behind a waiting append it joins the group, in order', async () => {
    const { spool, state } = countingSpool();
    const c = new AppendCoalescer(spool);
    const dest = makeDest('q');
    const batch = (tag: string, n: number) => Array.from({ length: n }, (_, i) => makeEnvelope(dest, `${tag}-${i}`));
    const first = batch('first', WRITE_AT_ONCE_ENTRIES);
    expect(c.append(first)).toBeUndefined(); // written, nothing to wait for
    expect(state.writes).toBe(1);
    for (const e of first) expect(e.spoolSeg).toBeDefined();
    // One message short of the limit waits for the turn's group, like a single message.
    const small = batch('small', WRITE_AT_ONCE_ENTRIES - 1);
    const waitingSmall = c.append(small);
    expect(waitingSmall).toBeInstanceOf(Promise);
    // A large one behind it must not overtake it: it joins the group.
    const behind = batch('behind', 100);
    const waitingBehind = c.append(behind);
    expect(waitingBehind).toBeInstanceOf(Promise);
    expect(state.writes).toBe(1);
    expect(behind[0]?.spoolSeg).toBeUndefined();
    await Promise.all([waitingSmall, waitingBehind]);
    expect(state.writes).toBe(2);
    expect(await reopen(spool, dest)).toEqual([...first, ...small, ...behind].map((e) => bodyOf(e.message)));
  });

  it('a large append written at once that does not fit is refused within the call with ESPOOLFULL and keeps nothing', async () => {
    const { spool, state } = countingSpool({ maxSpoolBytes: 6_000, segmentBytes: 1_048_576 });
    const c = new AppendCoalescer(spool);
    const dest = makeDest('q');
    const big = Array.from({ length: WRITE_AT_ONCE_ENTRIES }, (_, i) => makeEnvelope(dest, `${i}:${'f'.repeat(1000)}`));
    expect(() => c.append(big)).toThrow(expect.objectContaining({ code: 'ESPOOLFULL' }));
    expect(state.writes).toBe(0);
    expect(await settle(c.append([makeEnvelope(dest, 'fits')]))).toBe('ok');
    expect(await reopen(spool, dest)).toEqual(['fits']);
  });
});
