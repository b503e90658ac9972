/**
 * The large-message payload files (src/spool/large.ts): written whole or not at all, counted
 * against their bound, and deleted in libuv's pool (issue 11: not on the event loop).
 */
import { existsSync, readFileSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { LargePayloads } from '../../src/spool/large.js';
import { captureLog, removeDir, tempDir } from '../support/spool-harness.js';

let dir: string;
beforeEach(() => {
  dir = tempDir('large');
});
afterEach(() => removeDir(dir));

it.each([true, false])('writes a payload whole (fsync %s), counts it, and deletes it off the event loop: gone from the count at once, from the disk after', async (fsync) => {
  const { log } = captureLog();
  // The pool's unlink, held until the test lets it go (the file is often gone before the next line otherwise).
  let release = (): void => {};
  const held = new Promise<void>((r) => (release = r));
  const unlinks: string[] = [];
  const payloads = new LargePayloads({ spoolDir: dir, fsync, maxBytes: 10_000_000, log, unlink: async (p) => (unlinks.push(p), await held, unlink(p)) });
  const size = await payloads.write('m-1', ['a'.repeat(600_000), Buffer.from('b'.repeat(600_000))], 5_000_000);
  const path = join(dir, 'large', 'm-1');
  expect([size, payloads.bytes, payloads.count, readFileSync(path).length]).toEqual([1_200_000, 1_200_000, 1, 1_200_000]);
  expect(existsSync(`${path}.part`)).toBe(false);
  payloads.remove('m-1');
  expect([payloads.bytes, payloads.count, payloads.has('m-1')]).toEqual([0, 0, false]);
  // unlinkSync on the event loop took it in the same turn.
  expect([existsSync(path), unlinks]).toEqual([true, [path]]);
  release();
  await payloads.removed();
  expect(existsSync(path)).toBe(false);
  payloads.remove('m-1'); // twice: nothing more
  await payloads.close();
  // A new start finds nothing to adopt.
  expect(new LargePayloads({ spoolDir: dir, fsync, maxBytes: 10_000_000, log }).count).toBe(0);
});

it('a payload past its limit leaves no file and no bytes counted', async () => {
  const { log } = captureLog();
  const payloads = new LargePayloads({ spoolDir: dir, fsync: true, maxBytes: 10_000_000, log });
  await expect(payloads.write('m-2', ['x'.repeat(1000), 'y'.repeat(1000)], 1500)).rejects.toMatchObject({ code: 'PayloadTooLarge' });
  expect([payloads.bytes, existsSync(join(dir, 'large', 'm-2')), existsSync(join(dir, 'large', 'm-2.part'))]).toEqual([0, false, false]);
  await payloads.close();
});

it('memory-only mode: a temporary directory, removed at close once deletions are done', async () => {
  const { log } = captureLog();
  const payloads = new LargePayloads({ fsync: false, maxBytes: 10_000_000, log });
  await payloads.write('m-3', ['z'.repeat(10)], 100);
  payloads.remove('m-3');
  await payloads.close();
  expect(existsSync(payloads.dir)).toBe(false);
});
