/**
 * A spool that cannot be written. At start: a clear message and exit code 2 (bad
 * configuration, not restarted by systemd). At runtime (disk full, I/O errors): sends get 503
 * SpoolUnavailable instead of a 202 for a message that was never written, such a message is
 * never delivered later, and sends are accepted again once writes work.
 *
 * Permission-based cases (chmod 000 on the directory) cannot be tested here: the tests run as
 * root, which ignores file modes. A spool directory whose parent is a regular file fails for
 * root too (ENOTDIR), and the runtime failures are injected through the Spool's `fs` option.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { EXIT } from '../../src/cli.js';
import { Spool } from '../../src/spool/spool.js';
import { freshBuild, NODE } from '../ops/build.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, postJson, type TestDaemon } from '../support/daemon.js';
import { captureLog, type ChildDaemon, passThrough, removeDir, spawnDaemon, startSpoolDaemon, tempDir } from '../support/spool-harness.js';

let fake: FakeSqs;
let dir: string;
let build: string;
const children: ChildDaemon[] = [];
const running: TestDaemon[] = [];

beforeAll(async () => {
  build = freshBuild();
  fake = await startFakeSqs({ latencyMs: 1, queues: ['q'] });
}, 180_000);
afterAll(async () => {
  for (const c of children) await c.kill();
  await fake.close();
});
beforeEach(() => {
  dir = tempDir('unwritable');
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  removeDir(dir);
});

const cli = (args: string[]) =>
  spawnSync(NODE, [join(build, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', fake.endpoint, ...args], { encoding: 'utf8', timeout: 20_000, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir } });

it('at start: a --spool-dir that cannot be created exits 2 with a message naming the directory', () => {
  writeFileSync(join(dir, 'file'), 'a regular file where a directory should be');
  const spoolDir = join(dir, 'file', 'spool');
  const r = cli(['--spool-dir', spoolDir]);
  expect(r.status).toBe(EXIT.badConfig);
  expect(r.stderr).toContain(spoolDir);
  expect(r.stderr).toMatch(/not usable: ENOTDIR/);
  expect(r.stdout).not.toContain('listening');
});

it('at start: a spool directory in use by another running daemon exits 2 and names its pid; once it is gone (kill -9), a new daemon takes over', async () => {
  const first = await spawnDaemon(NODE, build, ['--endpoint', fake.endpoint, '--spool-dir', dir], { HOME: dir });
  children.push(first);
  const r = cli(['--spool-dir', dir]);
  expect(r.status).toBe(EXIT.badConfig);
  expect(r.stderr).toContain(`pid ${first.child.pid}`);
  expect(r.stderr).toContain(dir);
  await first.kill();
  const second = await spawnDaemon(NODE, build, ['--endpoint', fake.endpoint, '--spool-dir', dir], { HOME: dir });
  children.push(second);
  const res = await request(`${second.url}/healthz`);
  await res.body.text();
  expect(res.statusCode).toBe(200);
  await second.kill();
}, 60_000);

it('at runtime: a failing spool write answers 503 SpoolUnavailable, the message is never delivered, and sends work again after', async () => {
  const state = { failing: false, calls: 0 };
  const { log } = captureLog('warn');
  const spool = new Spool({
    dir,
    durability: 'write',
    maxSpoolBytes: 16 * 1_048_576,
    segmentBytes: 1_048_576,
    log,
    fs: {
      writeSync(fd, buf, off, len) {
        state.calls += 1;
        if (state.failing) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
        return writeSync(fd, buf, off, len);
      },
    },
  });
  spool.recover(passThrough); // the daemon (src/daemon/compose.ts) recovers only the spool it builds itself
  const d = await startSpoolDaemon(fake.endpoint, dir, [], { store: spool });
  running.push(d);
  expect((await post(d.url, '/queues/q', 'ok-1', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.bodies('q').includes('ok-1'), 5000);

  state.failing = true;
  const refused = await post(d.url, '/queues/q', 'refused-1', { contentType: 'text/plain' });
  expect(refused.status).toBe(503);
  expect(refused.json.error.code).toBe('SpoolUnavailable');
  expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  const batch = await postJson(d.url, '/queues/q', [{ body: 'refused-2' }, { body: 'refused-3' }]);
  expect(batch.status).toBe(503);
  expect(batch.json.error.code).toBe('SpoolUnavailable');
  const ready = await request(`${d.url}/readyz`, { headers: { accept: 'application/json' } });
  expect(ready.statusCode).toBe(503);
  expect(((await ready.body.json()) as { checks: { spool: string } }).checks.spool).toBe('unwritable');
  expect(d.daemon.deps.pipeline.backlogMessages).toBe(0); // nothing half-accepted

  state.failing = false;
  expect((await post(d.url, '/queues/q', 'ok-2', { contentType: 'text/plain' })).status).toBe(202);
  expect(spool.info().writable).toBe(true);
  await fake.waitFor(() => fake.bodies('q').includes('ok-2'), 5000);
  await d.daemon.deps.pipeline.idle();
  running.splice(0);
  await d.stop();

  // Nor after a restart on the same spool.
  const again = await startSpoolDaemon(fake.endpoint, dir);
  running.push(again);
  expect(again.daemon.deps.store.info()).toMatchObject({ recovered: 0, corruptRecords: 0 });
  await new Promise((r) => setTimeout(r, 200));
  expect(fake.bodies('q').filter((b) => b.startsWith('refused'))).toEqual([]);
  expect(fake.countByBody('q').get('ok-1')).toBe(1);
  expect(fake.countByBody('q').get('ok-2')).toBe(1);
}, 30_000);
