/**
 * The spool lock and a dead holder that has not been reaped yet (a zombie): issue 11, item 8.
 * kill(pid, 0) succeeds on a zombie, so the lock took it for a live daemon and a quick restart
 * exited 2 (the code that tells systemd not to restart). The zombie here is real: a shell
 * starts `sleep 0.05` in the background and then execs `sleep 30`, which never waits for it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { freshBuild, NODE } from '../ops/build.js';
import { openSpool, removeDir, spawnDaemon, tempDir } from '../support/spool-harness.js';

let dir: string;
let holder: ChildProcess | undefined;

beforeEach(() => {
  dir = tempDir('lock');
});
afterEach(async () => {
  if (holder && holder.exitCode === null && holder.signalCode === null) {
    const exited = new Promise((r) => holder?.once('exit', r));
    holder.kill('SIGKILL');
    await exited;
  }
  holder = undefined;
  removeDir(dir);
});

const stateOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
};

/** A zombie's PID (its parent, `sleep 30`, is `holder`). */
async function zombie(): Promise<number> {
  holder = spawn('/bin/sh', ['-c', 'sleep 0.05 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((resolve, reject) => {
    holder?.stdout?.once('data', (b: Buffer) => resolve(Number.parseInt(b.toString(), 10)));
    holder?.once('error', reject);
  });
  for (let i = 0; i < 100 && stateOf(pid)[0] !== 'Z'; i++) await new Promise((r) => setTimeout(r, 20));
  expect(stateOf(pid)[0]).toBe('Z');
  return pid;
}

/** The LOCK a daemon with this PID would have written (pid, boot id, start time). */
function lockFor(pid: number): string {
  const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return `${pid} ${bootId} ${stateOf(pid)[19]}\n`;
}

it('a LOCK held by a zombie (dead, not yet reaped) is taken over', async () => {
  const pid = await zombie();
  process.kill(pid, 0); // still "exists" for kill(2): what fooled the lock
  writeFileSync(join(dir, 'LOCK'), lockFor(pid), { mode: 0o600 });
  const { spool } = openSpool(dir);
  expect(Number.parseInt(readFileSync(join(dir, 'LOCK'), 'utf8'), 10)).toBe(process.pid);
  await spool.close();
});

it('a quick restart after the holder died (not yet reaped) starts the daemon instead of exiting 2', async () => {
  const build = freshBuild();
  const pid = await zombie();
  writeFileSync(join(dir, 'LOCK'), lockFor(pid), { mode: 0o600 });
  const d = await spawnDaemon(NODE, build, ['--endpoint', 'http://127.0.0.1:9', '--spool-dir', dir], { HOME: dir });
  try {
    const res = await request(`${d.url}/healthz`);
    await res.body.text();
    expect(res.statusCode).toBe(200);
    expect(Number.parseInt(readFileSync(join(dir, 'LOCK'), 'utf8'), 10)).toBe(d.child.pid);
  } finally {
    await d.kill();
  }
}, 180_000);
