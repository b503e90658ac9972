/**
 * systemd/sqs-accelerator.service: systemd-analyze verify and security, the sysusers.d file,
 * and the unit's own command lines run the way systemd runs them (Environment=, specifiers,
 * StateDirectory=, ExecStartPost=, ExecReload=, SIGTERM within TimeoutStopSec=).
 *
 * What is emulated, and how: systemd is not PID 1 here, so the test starts the processes
 * itself. %E and %S point into a temp dir (as /etc and /var/lib would), STATE_DIRECTORY is
 * set as StateDirectory= sets it, the EnvironmentFile= is optional ("-") and absent, and the
 * program path /usr/bin/sqs-accelerator is replaced by this checkout's bin/sqs-accelerator.js
 * (freshly built) run by the project's pinned Node. Everything after argv[0] is the unit's.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { EXIT } from '../../src/cli.js';
import { loadConfig, OPTIONS } from '../../src/config.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, until } from '../support/daemon.js';
import { freshBuild, NODE, ROOT } from './build.js';
import { commandLine, environment, one, readUnit, splitWords, timeSpanMs, UNIT_PATH } from './unit.js';

const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));
const PROGRAM = '/usr/bin/sqs-accelerator';
const unit = readUnit();
const service = unit.Service ?? {};
const defaultGraceMs = Number(OPTIONS.find((o) => o.key === 'shutdownGraceMs')?.default);

let tmp: string;
beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-systemd-'));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the unit file', () => {
  it('has the directives systemd/README.md explains', () => {
    expect(one(unit, 'Service', 'Type')).toBe('exec');
    expect(one(unit, 'Service', 'Restart')).toBe('on-failure');
    expect(splitWords(one(unit, 'Service', 'RestartPreventExitStatus'))).toContain(String(EXIT.badConfig));
    expect(one(unit, 'Service', 'StateDirectory')).toBe('sqs-accelerator');
    expect(one(unit, 'Service', 'StateDirectoryMode')).toBe('0700');
    expect(one(unit, 'Service', 'EnvironmentFile')).toBe('-/etc/default/sqs-accelerator');
    expect(one(unit, 'Service', 'User')).toBe('sqs-accelerator');
    // Longer than the daemon's own grace period, with room to close the spool and the pool.
    expect(timeSpanMs(one(unit, 'Service', 'TimeoutStopSec'))).toBeGreaterThanOrEqual(defaultGraceMs + 10_000);
    expect(one(unit, 'Service', 'CapabilityBoundingSet')).toBe('');
    for (const key of ['NoNewPrivileges', 'ProtectHome', 'PrivateTmp', 'PrivateDevices']) expect(one(unit, 'Service', key)).toBe('yes');
    expect(one(unit, 'Service', 'ProtectSystem')).toBe('strict');
    expect(service.SystemCallFilter).toEqual(['@system-service', '~@privileged @resources']);
    // V8's JIT needs writable+executable memory (nodejs/node#55509).
    expect(service.MemoryDenyWriteExecute).toBeUndefined();
  });

  it('the sysusers.d file names the unit\'s user, and systemd-sysusers creates it', () => {
    const conf = join(ROOT, 'systemd/sysusers.d/sqs-accelerator.conf');
    const root = join(tmp, 'sysroot');
    mkdirSync(join(root, 'etc'), { recursive: true });
    const r = spawnSync('systemd-sysusers', [`--root=${root}`, conf], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8');
    expect(passwd).toMatch(new RegExp(`^${one(unit, 'Service', 'User')}:x:\\d+:\\d+:[^:]*:/:/usr/sbin/nologin$`, 'm'));
    expect(readFileSync(join(root, 'etc/group'), 'utf8')).toMatch(new RegExp(`^${one(unit, 'Service', 'Group')}:x:\\d+:`, 'm'));
  });

  it('the example config.json and environment file load without error', () => {
    const c = loadConfig(['--config', join(ROOT, 'systemd/config.json.example')], {});
    expect(c.region).toBe('eu-west-1');
    const lines = readFileSync(join(ROOT, 'systemd/sqs-accelerator.default'), 'utf8').split('\n');
    const env = Object.fromEntries(lines.filter((l) => /^# [A-Z_]+=/.test(l)).map((l) => l.slice(2).split('=') as [string, string]));
    expect(Object.keys(env).length).toBeGreaterThanOrEqual(3);
    expect(loadConfig([], env).logLevel).toBe('debug');
  });
});

// Skipped only off CI: .ci/run installs systemd, so there a missing systemd-analyze fails instead.
(ANALYZE || process.env.CI === 'true' ? describe : describe.skip)('systemd-analyze', () => {
  /** A copy of the unit whose ExecStart/ExecStartPost program exists: verify checks the path. */
  function rendered(): string {
    const dir = join(tmp, 'verify');
    mkdirSync(dir, { recursive: true });
    const bin = join(ROOT, 'bin/sqs-accelerator.js');
    chmodSync(bin, 0o755);
    const text = readFileSync(UNIT_PATH, 'utf8');
    expect(text.split(PROGRAM).length - 1).toBe(2); // ExecStart and ExecStartPost, nothing else
    const path = join(dir, 'sqs-accelerator.service');
    writeFileSync(path, text.replaceAll(PROGRAM, bin));
    return path;
  }

  it('verify passes without a warning', () => {
    const r = spawnSync(ANALYZE as string, ['verify', rendered()], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('security --offline=true rates the unit OK or better (exposure at most 1.5)', () => {
    const r = spawnSync(ANALYZE as string, ['security', '--offline=true', rendered()], { encoding: 'utf8' });
    const m = /Overall exposure level for sqs-accelerator\.service: (\d+\.\d) (\w+)/.exec(r.stdout);
    expect(m).not.toBeNull();
    const [, score, band] = m as RegExpExecArray;
    process.stdout.write(`systemd-analyze security: exposure ${score} ${band}\n`);
    expect(['PERFECT', 'SAFE', 'OK']).toContain(band);
    expect(Number(score)).toBeLessThanOrEqual(1.5);
    // What is left open is what the daemon needs: network, and W+X memory for V8's JIT.
    const open = r.stdout.split('\n').filter((l) => l.startsWith('✗')).map((l) => l.slice(2).split(/\s+/)[0]);
    expect(open).toEqual(expect.arrayContaining(['PrivateNetwork=', 'MemoryDenyWriteExecute=']));
    expect(open.filter((d) => d?.startsWith('SystemCallFilter') || d?.startsWith('CapabilityBoundingSet') || d?.startsWith('Protect'))).toEqual([]);
  });
});

// ---------------------------------------------------------------------------------------------

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

interface Run {
  child: ChildProcess;
  out: string[];
  err: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function run(argv: string[], env: Record<string, string>): Run {
  const child = spawn(argv[0] as string, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const out: string[] = [];
  const err: string[] = [];
  let partial = '';
  child.stdout?.on('data', (b: Buffer) => {
    const parts = (partial + b.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    out.push(...parts);
  });
  child.stderr?.on('data', (b: Buffer) => err.push(b.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, out, err, exited };
}

async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

const lines = (r: Run) => r.out.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe('the unit\'s command lines, run as systemd runs them', () => {
  let build: string;
  let fake: FakeSqs;
  let etc: string;
  let stateDir: string;
  let specifiers: Record<string, string>;
  const started: ChildProcess[] = [];

  beforeAll(async () => {
    build = freshBuild();
    fake = await startFakeSqs({ queues: ['q1'] });
    etc = join(tmp, 'etc');
    specifiers = { E: etc, S: join(tmp, 'var/lib') };
    stateDir = join(specifiers.S as string, one(unit, 'Service', 'StateDirectory'));
    mkdirSync(join(etc, 'sqs-accelerator'), { recursive: true });
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  }, 120_000);
  afterAll(async () => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await fake?.close();
  });

  /** The service's environment: Environment= lines plus what systemd itself sets. */
  function serviceEnv(extra: Record<string, string> = {}): Record<string, string> {
    expect(one(unit, 'Service', 'EnvironmentFile').startsWith('-')).toBe(true); // optional, absent here
    return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: '/', STATE_DIRECTORY: stateDir, ...environment(unit, specifiers), ...extra };
  }

  /** An Exec*= line with the program replaced by this checkout's build. */
  function exec(key: 'ExecStart' | 'ExecStartPost', env: Record<string, string>): Run {
    const argv = commandLine(one(unit, 'Service', key), specifiers, env);
    expect(argv[0]).toBe(PROGRAM);
    const r = run([NODE, join(build, 'bin/sqs-accelerator.js'), ...argv.slice(1)], env);
    started.push(r.child);
    return r;
  }

  function writeConfig(value: unknown): string {
    const env = serviceEnv();
    const path = env.SQS_ACCELERATOR_CONFIG as string;
    expect(path).toBe(join(etc, 'sqs-accelerator/config.json'));
    writeFileSync(path, typeof value === 'string' ? value : JSON.stringify(value));
    return path;
  }

  it('starts, is ready when ExecStartPost returns, reloads on ExecReload, and exits 0 on SIGTERM within TimeoutStopSec', async () => {
    const port = await freePort();
    writeConfig({ endpoint: fake.endpoint, port, logLevel: 'info' });
    const env = serviceEnv();
    const daemon = exec('ExecStart', env);

    // ExecStartPost: the start-up gate units ordered After= this one wait for.
    const post = exec('ExecStartPost', env);
    const gate = await within(post.exited, timeSpanMs(one(unit, 'Service', 'TimeoutStartSec')), 'ExecStartPost');
    expect(gate).toEqual({ code: 0, signal: null });
    const url = `http://127.0.0.1:${port}`;
    const ready = await request(`${url}/readyz`);
    expect(ready.statusCode).toBe(200);
    await ready.body.text();

    const sent = await request(`${url}/queues/q1`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: 'via the unit' });
    expect(sent.statusCode).toBe(202);
    await sent.body.text();
    await until(() => fake.messageCount('q1') === 1, 5000, 'delivery');
    expect(lines(daemon).some((l) => l.msg === 'request')).toBe(false);
    // The spool lives in $STATE_DIRECTORY, the one writable place under ProtectSystem=strict.
    expect(lines(daemon).find((l) => l.msg === 'sqs-accelerator listening')).toMatchObject({ durable: true });
    expect(readdirSync(stateDir).length).toBeGreaterThan(0);

    // ExecReload: kill -HUP $MAINPID. The config file now asks for debug logs.
    writeConfig({ endpoint: fake.endpoint, port, logLevel: 'debug' });
    const reload = commandLine(one(unit, 'Service', 'ExecReload'), specifiers, { ...env, MAINPID: String(daemon.child.pid) });
    expect(reload).toEqual(['/bin/kill', '-HUP', String(daemon.child.pid)]);
    expect(spawnSync(reload[0] as string, reload.slice(1)).status).toBe(0);
    await until(() => lines(daemon).some((l) => l.msg === 'configuration reloaded'), 5000, 'reload log line');
    expect(lines(daemon).find((l) => l.msg === 'configuration reloaded')).toMatchObject({ applied: ['logLevel'], needRestart: [] });
    await (await request(`${url}/healthz`)).body.text();
    await until(() => lines(daemon).some((l) => l.msg === 'request' && l.path === '/healthz'), 5000, 'a debug request line');

    // A broken file on reload changes nothing and says so.
    writeConfig('{"logLevel": ');
    expect(spawnSync(reload[0] as string, reload.slice(1)).status).toBe(0);
    await until(() => lines(daemon).some((l) => String(l.msg).startsWith('SIGHUP: configuration not reloaded')), 5000, 'reload error line');
    const alive = await request(`${url}/healthz`);
    expect(alive.statusCode).toBe(200);
    await alive.body.text();

    // systemd stops with SIGTERM, then SIGKILL after TimeoutStopSec.
    const t0 = Date.now();
    daemon.child.kill('SIGTERM');
    const stopMs = timeSpanMs(one(unit, 'Service', 'TimeoutStopSec'));
    const end = await within(daemon.exited, stopMs, 'exit after SIGTERM');
    expect(end).toEqual({ code: EXIT.ok, signal: null });
    expect(Date.now() - t0).toBeLessThan(stopMs);
    expect(lines(daemon).some((l) => l.msg === 'shutting down: no new messages, flushing')).toBe(true);
    // journald gets JSON lines only; nothing went to stderr.
    expect(daemon.out.filter((l) => l !== '' && !l.startsWith('{'))).toEqual([]);
    expect(daemon.err.join('')).toBe('');
  }, 90_000);

  it('a missing or bad config file exits 2 at once (RestartPreventExitStatus) with one clear line', async () => {
    const path = writeConfig({ endpoint: fake.endpoint, lingerMs: '5' });
    let r = exec('ExecStart', serviceEnv());
    expect(await within(r.exited, 20_000, 'exit')).toEqual({ code: EXIT.badConfig, signal: null });
    expect(r.err.join('')).toMatch(/^sqs-accelerator: config file .*config\.json: "lingerMs" must be a JSON number of ms; got "5"\n$/);

    rmSync(path);
    r = exec('ExecStart', serviceEnv());
    expect(await within(r.exited, 20_000, 'exit')).toEqual({ code: EXIT.badConfig, signal: null });
    expect(r.err.join('')).toContain(`cannot read ${path}: no such file`);

    // An unknown variable in /etc/default/sqs-accelerator is caught the same way.
    writeConfig({ endpoint: fake.endpoint });
    r = exec('ExecStart', serviceEnv({ SQS_ACCELERATOR_LINGERMS: '5' }));
    expect(await within(r.exited, 20_000, 'exit')).toEqual({ code: EXIT.badConfig, signal: null });
    expect(r.err.join('')).toContain('did you mean SQS_ACCELERATOR_LINGER_MS');
  }, 90_000);

  it('ExecStartPost refuses to wait for port 0 (exit 2)', async () => {
    writeConfig({ endpoint: fake.endpoint, port: 0 });
    const r = exec('ExecStartPost', serviceEnv());
    expect(await within(r.exited, 20_000, 'exit')).toEqual({ code: EXIT.badConfig, signal: null });
    expect(r.err.join('')).toContain('port 0');
  }, 30_000);
});

// The unit file ships in the npm package (package.json "files") beside the README it cites.
it('systemd/ ships with the package', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
  expect(pkg.files).toContain('systemd/');
  expect(existsSync(join(ROOT, 'systemd/README.md'))).toBe(true);
});
