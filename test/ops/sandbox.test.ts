/**
 * Does the daemon still work inside the unit's sandbox? systemd is not PID 1 here, so the
 * pieces are checked with the tools that are:
 *
 * - SystemCallFilter=: every system call the daemon (and `--wait-ready`) makes while starting,
 *   accepting, delivering, serving /metrics and stopping, traced with strace, must be in the
 *   set the unit allows (@system-service minus @privileged and @resources, as expanded by
 *   this machine's `systemd-analyze syscall-filter`). Needs strace.
 * - ProtectSystem=strict + StateDirectory=, ProcSubset=pid + ProtectProc=invisible, User=,
 *   NoNewPrivileges=, CapabilityBoundingSet=: a mount namespace with a read-only root, a
 *   writable state directory and a pid-only /proc, entered as `nobody` with no capabilities
 *   and no_new_privs (unshare + setpriv). Needs root.
 *
 * Each part is skipped, saying so, where its tool is missing.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, until } from '../support/daemon.js';
import { freshBuild, NODE } from './build.js';
import { readUnit } from './unit.js';

const has = (cmd: string, args: string[] = ['--version']) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const hasStrace = has('strace', ['-V']) && has('systemd-analyze', ['--version']);
const canSandbox = process.getuid?.() === 0 && has('setpriv', ['--version']) && has('unshare', ['--mount', '--propagation', 'private', 'true']);
if (!hasStrace) process.stdout.write('sandbox.test: strace or systemd-analyze missing, system call check skipped\n');
if (!canSandbox) process.stdout.write('sandbox.test: not root or no unshare/setpriv, namespace check skipped\n');

let fake: FakeSqs;
let build: string;
let tmp: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  if (!hasStrace && !canSandbox) return;
  build = freshBuild();
  fake = await startFakeSqs({ queues: ['q1'] });
  tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-sandbox-'));
  chmodSync(tmp, 0o755); // the sandboxed daemon runs as nobody
}, 120_000);
afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fake?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function exited(child: ChildProcess, ms: number): Promise<{ code: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pid ${child.pid} still running after ${ms} ms`)), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal });
    });
  });
}

async function http(url: string, init: Parameters<typeof request>[1] = {}): Promise<number> {
  try {
    const res = await request(url, init);
    await res.body.text();
    return res.statusCode;
  } catch {
    return 0;
  }
}

/** Starts accepting, sends (one good queue, one missing), reads /metrics, then SIGTERM. */
async function exercise(url: string, stop: () => void, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while ((await http(`${url}/readyz`)) !== 200) {
    if (Date.now() > deadline) throw new Error('daemon not ready');
    await new Promise((r) => setTimeout(r, 100));
  }
  const before = fake.messageCount('q1');
  expect(await http(`${url}/queues/q1`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: 'sandboxed' })).toBe(202);
  expect(await http(`${url}/queues/missing`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: 'x' })).toBe(404);
  await until(() => fake.messageCount('q1') === before + 1, 5000, 'delivery');
  expect(await http(`${url}/metrics`)).toBe(200);
  stop();
  expect(await exited(child, 30_000)).toEqual({ code: 0, signal: null });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Group name -> system calls, expanded, from this machine's systemd. */
function syscallGroups(): Map<string, Set<string>> {
  const text = spawnSync('systemd-analyze', ['syscall-filter'], { encoding: 'utf8' }).stdout;
  const direct = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('@')) direct.set(line.trim(), (current = []));
    else if (current && /^\s+[@a-z0-9_-]+$/.test(line)) current.push(line.trim());
  }
  const expand = (g: string, seen = new Set<string>()): Set<string> => {
    const out = new Set<string>();
    if (seen.has(g)) return out;
    seen.add(g);
    for (const m of direct.get(g) ?? []) for (const s of m.startsWith('@') ? expand(m, seen) : [m]) out.add(s);
    return out;
  };
  return new Map([...direct.keys()].map((g) => [g, expand(g)]));
}

/** The unit's SystemCallFilter= lines applied in order: allow lists, then ~deny lists. */
function allowedSyscalls(): Set<string> {
  const groups = syscallGroups();
  const resolve = (name: string) => groups.get(name) ?? new Set([name]);
  let allowed = new Set<string>();
  for (const line of readUnit().Service?.SystemCallFilter ?? []) {
    const deny = line.startsWith('~');
    for (const item of (deny ? line.slice(1) : line).split(/\s+/).filter(Boolean)) {
      if (deny) for (const s of resolve(item)) allowed.delete(s);
      else allowed = new Set([...allowed, ...resolve(item)]);
    }
  }
  return allowed;
}

// On CI the tools are installed by .ci/run: a missing one there is a failure, not a skip.
const ciMust = process.env.CI === 'true';
(hasStrace || ciMust ? it : it.skip)('every system call the daemon makes is allowed by the unit\'s SystemCallFilter=', async () => {
  const traceDir = join(tmp, 'trace');
  mkdirSync(traceDir);
  const spool = join(tmp, 'spool-strace');
  const port = await freePort();
  const args = [join(build, 'bin/sqs-accelerator.js'), '--endpoint', fake.endpoint, '--port', String(port), '--spool-dir', spool];
  const child = spawn('strace', ['-f', '-qq', '-ff', '-o', join(traceDir, 'daemon'), NODE, ...args], { stdio: 'ignore' });
  started.push(child);
  // The daemon is strace's child: signal it, not strace.
  let daemonPid = 0;
  const stop = () => process.kill(daemonPid, 'SIGTERM');
  await until(() => readdirSync(traceDir).length > 0, 10_000, 'trace files');
  daemonPid = Number((readdirSync(traceDir).sort()[0] as string).split('.')[1]);
  const waiter = spawn('strace', ['-f', '-qq', '-ff', '-o', join(traceDir, 'wait'), NODE, ...args, '--wait-ready'], { stdio: 'ignore' });
  started.push(waiter);
  expect(await exited(waiter, 30_000)).toEqual({ code: 0, signal: null });
  await exercise(`http://127.0.0.1:${port}`, stop, child);

  const used = new Set<string>();
  for (const f of readdirSync(traceDir)) {
    for (const line of readFileSync(join(traceDir, f), 'utf8').split('\n')) {
      const m = /^([a-z0-9_]+)\(/.exec(line);
      if (m) used.add(m[1] as string);
    }
  }
  const allowed = allowedSyscalls();
  expect(allowed.size).toBeGreaterThan(100);
  expect(used.size).toBeGreaterThan(20);
  expect([...used].filter((s) => !allowed.has(s)).sort()).toEqual([]);
}, 120_000);

(canSandbox || ciMust ? it : it.skip)('works as nobody, without capabilities, with a read-only root, a writable state dir and a pid-only /proc', async () => {
  const state = join(tmp, 'state');
  mkdirSync(state, { mode: 0o700 });
  chownSync(state, 65534, 65534);
  const port = await freePort();
  const config = join(tmp, 'config.json');
  writeFileSync(config, JSON.stringify({ endpoint: fake.endpoint, port }), { mode: 0o644 });
  const script = [
    'set -e',
    'mount -t proc -o subset=pid,hidepid=invisible proc /proc',
    `mount --bind ${state} ${state}`,
    'mount -o remount,bind,ro /',
    'test ! -e /proc/meminfo && echo CHECK:proc-subset',
    'if touch /usr/.sqs-accelerator-probe 2>/dev/null; then rm -f /usr/.sqs-accelerator-probe; else echo CHECK:root-ro; fi',
    `exec setpriv --reuid 65534 --regid 65534 --clear-groups --no-new-privs --inh-caps=-all --bounding-set=-all env -i PATH=/usr/bin:/bin HOME=/ STATE_DIRECTORY=${state} SQS_ACCELERATOR_CONFIG=${config} ${NODE} ${join(build, 'bin/sqs-accelerator.js')}`,
  ].join('\n');
  const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  await exercise(`http://127.0.0.1:${port}`, () => child.kill('SIGTERM'), child).catch((err: Error) => {
    throw new Error(`${err.message}; daemon output:\n${out}`);
  });
  // The spool went to the state directory, owned by the unprivileged user.
  expect(readdirSync(state).length).toBeGreaterThan(0);
  expect(out).toContain('"durable":true');
  expect(out).toContain('CHECK:proc-subset'); // the emulation was in effect
  expect(out).toContain('CHECK:root-ro');
  expect(out).not.toMatch(/EACCES|EROFS|EPERM/);
}, 120_000);
