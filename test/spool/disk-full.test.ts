/**
 * A spool that fills its own disk (issue 11, item 6). The disk is simulated through the
 * Spool's injectable file operations: a write fails with ENOSPC (after a short write, as
 * write(2) does) once the files in the spool directory would exceed the disk's capacity, and
 * deleting a file frees its space. What must hold:
 * - once SQS has taken the backlog, the disk frees itself (the finished active segment is
 *   released) and sends are accepted again, without anyone deleting files by hand;
 * - completion marks are never lost for lack of space, so a restart sends no duplicates;
 * - one log line per state change, not one per refused request.
 */
import { readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { FileOps } from '../../src/spool/spool.js';
import { Spool } from '../../src/spool/spool.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, type TestDaemon } from '../support/daemon.js';
import { captureLog, makeDest, makeEnvelope, openSpool, passThrough, postLoad, removeDir, startSpoolDaemon, tempDir } from '../support/spool-harness.js';

/** Bytes of every file under `dir`. */
function used(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? used(p) : statSync(p).size;
  }
  return n;
}

/** File operations of a disk holding `capacity` bytes, shared by everything in `dir`. */
function smallDisk(dir: string, capacity: number): { ops: Partial<FileOps>; enospc: () => number } {
  let refused = 0;
  const ops: Partial<FileOps> = {
    writeSync(fd, buf, off, len) {
      const room = capacity - used(dir);
      if (room <= 0) {
        refused += 1;
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      }
      return writeSync(fd, buf, off, Math.min(len, room));
    },
  };
  return { ops, enospc: () => refused };
}

let fake: FakeSqs;
let dir: string;
const running: TestDaemon[] = [];

beforeEach(async () => {
  fake = await startFakeSqs({ latencyMs: 1, queues: ['full'] });
  dir = tempDir('disk-full');
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  await fake.close();
  removeDir(dir);
});

it('a full disk: refused with one log line; once SQS took the backlog the disk frees itself and sends are accepted; a restart sends no duplicates', async () => {
  const disk = smallDisk(dir, 100_000);
  const { logs: spoolLogs, log } = captureLog('info');
  // Segments far larger than the disk, as with the default 64 MiB on a small partition.
  const spool = new Spool({ dir, durability: 'write', maxSpoolBytes: 64 * 1_048_576, segmentBytes: 16 * 1_048_576, log, fs: disk.ops });
  spool.recover(passThrough);
  const d = await startSpoolDaemon(fake.endpoint, dir, ['--retry-base-ms', '50', '--retry-max-ms', '200'], { store: spool });
  running.push(d);
  expect((await post(d.url, '/queues/full', 'warm-up', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.messageCount('full') === 1, 5000);

  // SQS away: the backlog fills the disk.
  fake.down = true;
  const body = 'x'.repeat(300);
  const load = await postLoad(d.url, 'full', { from: 0, to: 600, prefix: body }, { concurrency: 8 });
  expect(load.acked.length).toBeGreaterThan(100);
  expect(load.refused).toBeGreaterThan(100);
  expect([...load.statuses.keys()]).toEqual([503]);
  expect(disk.enospc()).toBeGreaterThan(0);
  // One line when the spool became unwritable, none per refused request.
  const unwritableLines = () => spoolLogs.find('cannot write the spool').length + d.logs.find('could not record').length;
  expect(unwritableLines()).toBe(1);

  // SQS back: every acked message is delivered, and the disk frees itself.
  fake.down = false;
  await fake.waitFor(() => load.acked.every((b) => fake.countByBody('full').has(b)), 20_000);
  await d.daemon.deps.pipeline.idle();
  expect(d.daemon.deps.pipeline.backlogMessages).toBe(0);
  let status = 0;
  for (let i = 0; i < 40 && status !== 202; i++) {
    status = (await post(d.url, '/queues/full', 'after-recovery', { contentType: 'text/plain' })).status;
    if (status !== 202) await new Promise((r) => setTimeout(r, 100));
  }
  expect(status).toBe(202);
  expect(spool.info().writable).toBe(true);
  expect(spoolLogs.find('spool writable again').length).toBe(1);
  expect(unwritableLines()).toBe(1);
  await fake.waitFor(() => fake.countByBody('full').has('after-recovery'), 5000);
  await d.daemon.deps.pipeline.idle();
  running.splice(0);
  await d.stop();

  // A restart on the same spool: nothing comes back.
  const again = await startSpoolDaemon(fake.endpoint, dir);
  running.push(again);
  expect(again.daemon.deps.store.info()).toMatchObject({ recovered: 0 });
  await new Promise((r) => setTimeout(r, 200));
  const dupes = [...fake.countByBody('full')].filter(([, n]) => n > 1);
  expect(dupes).toEqual([]);
}, 60_000);

it('completion marks written while the disk is full survive a restart: only the unfinished messages come back', async () => {
  const disk = smallDisk(dir, 120_000);
  const dest = makeDest('full');
  const { spool } = openSpool(dir, { segmentBytes: 40_000, reserveBytes: 16_384, fs: disk.ops });
  spool.recover(passThrough);
  const written = [];
  for (let i = 0; i < 2000; i++) {
    const env = makeEnvelope(dest, `m-${i}-${'y'.repeat(200)}`);
    try {
      spool.append([env]);
    } catch (err) {
      expect((err as { code?: string }).code).toBe('ESPOOLWRITE');
      break;
    }
    written.push(env);
  }
  expect(written.length).toBeGreaterThan(100);
  expect(used(dir)).toBeGreaterThan(110_000);
  // Every other message delivered: no segment finishes, so none can be deleted to make room.
  const delivered = written.filter((_, i) => i % 2 === 0);
  spool.delivered(delivered);
  await new Promise((r) => setTimeout(r, 100));
  await spool.close();

  const { spool: reopened } = openSpool(dir, { segmentBytes: 40_000 });
  const tallies = reopened.recover(passThrough);
  expect(tallies.reduce((n, t) => n + t.count, 0)).toBe(written.length - delivered.length);
  await reopened.close();
}, 30_000);
