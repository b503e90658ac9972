/**
 * The Debian package: `npm run package:deb` in a copy of the sources made a git repository of
 * its own (so the build records a commit the test knows), then what a sysadmin would check:
 * its contents and control files, lintian without errors, the maintainer scripts' actions
 * (run with stand-ins for systemd's tools that record what they were asked), and the program
 * unpacked with dpkg-deb -x: --version from the package's own Node, a message delivered to
 * fauxqs, and systemd-analyze verify on the unit as packaged.
 */
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli.js';
import { startEmulator } from '../support/fauxqs.js';
import { ROOT } from './build.js';
import { roundTrip, runIn, stageSources } from './release.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; dependencies: Record<string, string>; devDependencies: Record<string, string> };
const ANALYZE = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((p) => existsSync(p));

let tmp: string;
let deb: string;
let commit: string;
let unpacked: string;
let lintian: Promise<{ status: number | null; output: string }>;

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-deb-test-'));
  const src = stageSources(join(tmp, 'src'));
  const git = (...args: string[]) => runIn(src, 'git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args]);
  writeFileSync(join(src, '.gitignore'), 'node_modules\ndist/\n');
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'release');
  commit = git('rev-parse', 'HEAD').stdout.trim();
  const started = Date.now();
  const built = runIn(src, 'npm', ['run', '--silent', 'package:deb', '--', '--out', tmp]);
  if (built.status !== 0) throw new Error(`npm run package:deb failed:\n${built.stdout}\n${built.stderr}`);
  process.stdout.write(`npm run package:deb: ${((Date.now() - started) / 1000).toFixed(1)} s (tsc included)\n`);
  deb = built.stdout.trim().split('\n').at(-1) ?? '';
  // lintian takes the longest; it runs while the other checks do.
  lintian = new Promise((resolve) => {
    const child = spawn('lintian', ['--tag-display-limit', '0', deb], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('exit', (status) => resolve({ status, output }));
  });
  unpacked = join(tmp, 'root');
  const x = spawnSync('dpkg-deb', ['-x', deb, unpacked], { encoding: 'utf8' });
  if (x.status !== 0) throw new Error(x.stderr);
}, 300_000);
afterAll(async () => {
  await lintian;
  rmSync(tmp, { recursive: true, force: true });
});

const field = (name: string) => spawnSync('dpkg-deb', ['-f', deb, name], { encoding: 'utf8' }).stdout.trim();

it('is named and described as Debian expects', () => {
  expect(deb).toBe(join(tmp, `sqs-accelerator_${pkg.version}_amd64.deb`));
  expect(field('Package')).toBe('sqs-accelerator');
  expect(field('Version')).toBe(pkg.version);
  expect(field('Architecture')).toBe('amd64');
  // The bundled Node's shared libraries, computed by dpkg-shlibdeps.
  expect(field('Depends')).toMatch(/^libc6 \(>= [\d.]+\), .*libstdc\+\+6/);
  const control = join(tmp, 'control');
  spawnSync('dpkg-deb', ['-e', deb, control]);
  expect(readFileSync(join(control, 'conffiles'), 'utf8')).toBe('/etc/default/sqs-accelerator\n');
});

it('holds the program, its runtime dependencies, its own Node, and the systemd files', () => {
  const list = spawnSync('dpkg-deb', ['-c', deb], { encoding: 'utf8', maxBuffer: 64 << 20 }).stdout.split('\n').map((l) => l.split(/\s+/).slice(5).join(' ').replace(/^\.\//, '/').replace(/ -> .*$/, ''));
  const files = new Set(list);
  for (const f of [
    '/usr/bin/sqs-accelerator',
    '/usr/lib/sqs-accelerator/bin/sqs-accelerator.js',
    '/usr/lib/sqs-accelerator/dist/src/cli.js',
    '/usr/lib/sqs-accelerator/dist/build-info.json',
    '/usr/lib/sqs-accelerator/package.json',
    '/usr/lib/sqs-accelerator/node/bin/node',
    '/usr/lib/systemd/system/sqs-accelerator.service',
    '/usr/lib/sysusers.d/sqs-accelerator.conf',
    '/usr/lib/tmpfiles.d/sqs-accelerator.conf',
    '/etc/default/sqs-accelerator',
    '/usr/share/doc/sqs-accelerator/copyright',
    '/usr/share/doc/sqs-accelerator/examples/config.json',
  ]) expect({ f, present: files.has(f) }).toEqual({ f, present: true });
  for (const dep of Object.keys(pkg.dependencies)) expect(files.has(`/usr/lib/sqs-accelerator/node_modules/${dep}/package.json`)).toBe(true);
  for (const dev of Object.keys(pkg.devDependencies)) expect(files.has(`/usr/lib/sqs-accelerator/node_modules/${dev}/package.json`)).toBe(false);
  expect(list.filter((f) => f.startsWith('/usr/lib/sqs-accelerator/dist/') && /\.(ts|map)$/.test(f))).toEqual([]);
  // The unit as packaged runs the packaged command, and its comment points at the packaged README.
  const unit = readFileSync(join(unpacked, 'usr/lib/systemd/system/sqs-accelerator.service'), 'utf8');
  expect(unit).toContain('ExecStart=/usr/bin/sqs-accelerator\n');
  expect(unit).toContain('/usr/share/doc/sqs-accelerator/systemd.md.gz explains every directive');
  expect(existsSync(join(unpacked, 'usr/share/doc/sqs-accelerator/systemd.md.gz'))).toBe(true);
});

it('runs --version with its own Node, whatever node is on PATH, naming the commit it was built from', () => {
  // /usr/bin and /bin only: the machine's node there (if any) is not the one used.
  const r = spawnSync(join(unpacked, 'usr/bin/sqs-accelerator'), ['--version'], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, cwd: tmp });
  expect(r.stderr).toBe('');
  expect(r.stdout).toBe(`sqs-accelerator ${pkg.version} (commit ${commit.slice(0, 12)})\n`);
  const node = spawnSync(join(unpacked, 'usr/lib/sqs-accelerator/node/bin/node'), ['--version'], { encoding: 'utf8' });
  expect(node.stdout).toMatch(/^v22\./);
});

it('delivers a message to fauxqs when started from the unpacked tree', async () => {
  const emulator = await startEmulator();
  try {
    const r = await roundTrip(join(unpacked, 'usr/bin/sqs-accelerator'), emulator.endpoint, 'from-deb', 'installed from the .deb', { cwd: tmp, env: { PATH: '/usr/bin:/bin', HOME: tmp }, spoolDir: join(tmp, 'spool') });
    expect(r.received).toEqual(['installed from the .deb']);
    expect(r.exitCode).toBe(EXIT.ok);
  } finally {
    await emulator.close();
  }
}, 60_000);

it('systemd-analyze verify accepts the unit as packaged (its program path pointed at the unpacked tree)', () => {
  const text = readFileSync(join(unpacked, 'usr/lib/systemd/system/sqs-accelerator.service'), 'utf8');
  expect(text.split('/usr/bin/sqs-accelerator').length - 1).toBe(2);
  const dir = join(tmp, 'verify');
  mkdirSync(dir);
  writeFileSync(join(dir, 'sqs-accelerator.service'), text.replaceAll('/usr/bin/sqs-accelerator', join(unpacked, 'usr/bin/sqs-accelerator')));
  const r = spawnSync(ANALYZE ?? 'systemd-analyze', ['verify', join(dir, 'sqs-accelerator.service')], { encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
});

describe('maintainer scripts (with recording stand-ins for systemd-sysusers, systemd-tmpfiles, systemctl)', () => {
  let control: string;
  let stubs: string;
  const calls = () => (existsSync(join(stubs, 'calls')) ? readFileSync(join(stubs, 'calls'), 'utf8').trim().split('\n') : []);
  beforeAll(() => {
    control = join(tmp, 'control-scripts');
    spawnSync('dpkg-deb', ['-e', deb, control]);
    stubs = join(tmp, 'stubs');
    mkdirSync(stubs);
    for (const tool of ['systemd-sysusers', 'systemd-tmpfiles', 'systemctl', 'useradd']) {
      writeFileSync(join(stubs, tool), `#!/bin/sh\necho "${tool} $*" >> "${join(stubs, 'calls')}"\n`);
      chmodSync(join(stubs, tool), 0o755);
    }
  });
  beforeEach(() => rmSync(join(stubs, 'calls'), { force: true }));
  const script = (name: string, ...args: string[]) => spawnSync('sh', [join(control, name), ...args], { encoding: 'utf8', env: { PATH: `${stubs}:/usr/bin:/bin` } });

  it('postinst configure creates the user and the state directory, and never enables or starts the service', () => {
    const r = script('postinst', 'configure', '');
    expect(r.status).toBe(0);
    expect(calls()).toEqual(expect.arrayContaining(['systemd-sysusers sqs-accelerator.conf', 'systemd-tmpfiles --create sqs-accelerator.conf']));
    expect(calls().filter((c) => /systemctl .*\b(enable|start|restart)\b/.test(c) && !c.includes('try-restart'))).toEqual([]);
    // systemctl is only asked for daemon-reload and (on upgrade) try-restart, and only with systemd running.
    const text = readFileSync(join(control, 'postinst'), 'utf8');
    expect(text.match(/systemctl [\w-]+( [\w.-]+)*/g)).toEqual(['systemctl --system daemon-reload', 'systemctl try-restart sqs-accelerator.service']);
  });

  it('the other scripts stop and disable only on removal, and keep the spool even on purge', () => {
    expect(script('prerm', 'upgrade', '0.0.1').status).toBe(0);
    expect(calls().filter((c) => c.startsWith('systemctl stop') || c.startsWith('systemctl disable'))).toEqual([]);
    expect(script('postrm', 'purge').status).toBe(0);
    expect(readFileSync(join(control, 'postrm'), 'utf8')).not.toMatch(/rm -|deluser|userdel/);
  });

  it('are valid sh', () => {
    for (const name of ['postinst', 'prerm', 'postrm']) expect({ name, status: spawnSync('sh', ['-n', join(control, name)]).status }).toEqual({ name, status: 0 });
  });
});

it('lintian reports no errors', async () => {
  const { status, output } = await lintian;
  const errors = output.split('\n').filter((l) => l.startsWith('E: '));
  expect(errors).toEqual([]);
  expect(status).toBe(0);
}, 300_000);
