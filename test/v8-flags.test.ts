/**
 * The command line's V8 flags (src/v8-flags.ts), checked on V8 itself: the daemon's backlog burst
 * in a child process under --trace-pretenuring-statistics, which prints each allocation site V8
 * decides to tenure. Without the flags V8 tenures some (the first 10,000 messages are held in
 * memory, so their literals survive at 100 %); with them it tenures none.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { applyDaemonV8Flags, DAEMON_V8_FLAGS } from '../src/v8-flags.js';
import { freshBuild, NODE, ROOT } from './ops/build.js';

let build: string;
beforeAll(() => {
  build = freshBuild();
}, 180_000);

function tenured(nodeArgs: string[], mode: 'apply' | 'none'): number {
  const r = spawnSync(NODE, [...nodeArgs, '--trace-pretenuring-statistics', join(ROOT, 'test/support/pretenure-child.mjs'), build, mode], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0 || !r.stdout.includes('sent 60000')) throw new Error(`child failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return r.stdout.split('\n').filter((l) => l.includes('=> tenure')).length;
}

it('turns allocation-site pretenuring off: V8 tenures no allocation site during a backlog burst', () => {
  expect(tenured([], 'none')).toBeGreaterThan(0); // the burst does make V8 tenure sites by default
  expect(tenured([], 'apply')).toBe(0);
}, 120_000);

it('leaves a pretenuring flag given on node\'s command line alone', () => {
  expect(tenured(['--allocation-site-pretenuring'], 'apply')).toBeGreaterThan(0);
  expect(applyDaemonV8Flags(['--allocation-site-pretenuring'])).toEqual([]);
  expect(applyDaemonV8Flags(['--no-allocation_site_pretenuring'])).toEqual([]);
  expect(DAEMON_V8_FLAGS).toContain('--no-allocation-site-pretenuring');
}, 120_000);
