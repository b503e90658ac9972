/**
 * The release tarball as a user meets it: `npm pack` of this project (lifecycle scripts and
 * all, in a copy of the sources so the checkout's dist/ is left alone), installed with
 * `npm install -g --prefix` into a temporary prefix, then run from a folder outside the
 * checkout: --help, --version, and a message sent through it to fauxqs. npm comes from the
 * registry mirror's cache; the runtime dependencies are fetched as a user's install would.
 * Also: bin/ refuses unsupported Node versions before importing anything, and
 * scripts/build-info.mjs records the commit only when it really knows it.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../src/cli.js';
import { startEmulator } from '../support/fauxqs.js';
import { NODE, ROOT } from './build.js';
import { PINNED_PATH, roundTrip, runIn, stageSources } from './release.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; files: string[]; dependencies: Record<string, string>; devDependencies: Record<string, string>; engines: { node: string } };

let tmp: string;
let tarball: string;
let prefix: string;
let away: string;
const run = (cmd: string, args: string[], cwd: string) => runIn(cwd, cmd, args);

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-pack-'));
  const src = stageSources(join(tmp, 'src'));
  const packed = runIn(src, 'npm', ['pack', '--pack-destination', tmp, '--json']);
  if (packed.status !== 0) throw new Error(`npm pack failed:\n${packed.stdout}\n${packed.stderr}`);
  tarball = join(tmp, (JSON.parse(packed.stdout) as Array<{ filename: string }>)[0]?.filename ?? '');
  prefix = join(tmp, 'prefix');
  away = join(tmp, 'elsewhere');
  mkdirSync(away);
}, 300_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('npm pack', () => {
  it('names the tarball after the version and holds built code only', () => {
    expect(tarball).toBe(join(tmp, `sqs-accelerator-${pkg.version}.tgz`));
    const list = spawnSync('tar', ['-tzf', tarball], { encoding: 'utf8' }).stdout.trim().split('\n');
    expect(list).toContain('package/bin/sqs-accelerator.js');
    expect(list).toContain('package/dist/src/cli.js');
    expect(list).toContain('package/dist/build-info.json');
    expect(list).toContain('package/systemd/sqs-accelerator.service');
    expect(list).toContain('package/README.md');
    const outside = list.filter((f) => !/^package\/(bin\/|dist\/src\/|dist\/build-info\.json$|systemd\/|README\.md$|package\.json$)/.test(f));
    expect(outside).toEqual([]);
    // No sources and no source maps without their sources; type declarations are for embedding apps.
    expect(list.filter((f) => /\.map$/.test(f) || (f.endsWith('.ts') && !f.endsWith('.d.ts')))).toEqual([]);
    expect(list).toContain('package/dist/src/index.d.ts');
  });
});

describe('installed with npm install -g --prefix', () => {
  let installed: string;
  beforeAll(() => {
    const r = run('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--prefer-offline', tarball], away);
    if (r.status !== 0) throw new Error(`npm install failed:\n${r.stdout}\n${r.stderr}`);
    // On a supported Node: no engine warnings, no install scripts to approve.
    expect(r.stderr).not.toMatch(/EBADENGINE|install-scripts/);
    installed = join(prefix, 'lib/node_modules/sqs-accelerator');
  }, 300_000);

  it('has the runtime dependencies and none of the development ones', () => {
    const modules = new Set([...readdirSync(join(installed, 'node_modules')).flatMap((d) => (d.startsWith('@') ? readdirSync(join(installed, 'node_modules', d)).map((s) => `${d}/${s}`) : [d]))]);
    for (const dep of Object.keys(pkg.dependencies)) expect(modules).toContain(dep);
    for (const dev of Object.keys(pkg.devDependencies)) expect(modules.has(dev)).toBe(false);
  });

  it('runs --help and --version from a folder outside the checkout', () => {
    const help = run(join(prefix, 'bin/sqs-accelerator'), ['--help'], away);
    expect(help.status).toBe(EXIT.ok);
    expect(help.stdout).toMatch(/^Usage: sqs-accelerator /m);
    const version = run(join(prefix, 'bin/sqs-accelerator'), ['--version'], away);
    expect(version.status).toBe(EXIT.ok);
    // Built in a folder that is not a git checkout: the commit is honestly unknown.
    expect(version.stdout).toBe(`sqs-accelerator ${pkg.version} (unknown commit)\n`);
  });

  it('delivers a message sent through it to fauxqs', async () => {
    const emulator = await startEmulator();
    try {
      const r = await roundTrip(join(prefix, 'bin/sqs-accelerator'), emulator.endpoint, 'from-tarball', 'installed from the tarball', { cwd: away, env: { PATH: PINNED_PATH, HOME: tmp }, spoolDir: join(tmp, 'spool') });
      expect(r.received).toEqual(['installed from the tarball']);
      expect(r.exitCode).toBe(EXIT.ok);
    } finally {
      await emulator.close();
    }
  }, 60_000);

  it('refuses an unsupported Node before importing anything, with the reason', () => {
    // The table below is written for this range; change both together.
    expect(pkg.engines.node).toBe('>=22.13 <23 || >=24 <25');
    const bin = join(prefix, 'bin/sqs-accelerator');
    const as = (v: string) => spawnSync(NODE, [`--import=data:text/javascript,Object.defineProperty(process.versions,"node",{value:"${v}"})`, bin, '--version'], { cwd: away, encoding: 'utf8' });
    for (const v of ['18.19.1', '20.20.2', '22.12.0', '23.11.0', '25.0.0']) {
      const r = as(v);
      expect({ v, status: r.status, stdout: r.stdout }).toEqual({ v, status: EXIT.badConfig, stdout: '' });
      expect(r.stderr).toContain(`sqs-accelerator: needs Node.js 22.13+ or 24; this is Node.js ${v}`);
    }
    for (const v of ['22.13.0', '22.23.3', '24.0.0']) expect({ v, status: as(v).status }).toEqual({ v, status: EXIT.ok });
  });
});

describe('scripts/build-info.mjs', () => {
  const git = (cwd: string, ...args: string[]) => {
    const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.trim();
  };
  const record = (root: string) => {
    const r = spawnSync(NODE, [join(root, 'scripts/build-info.mjs')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    return JSON.parse(readFileSync(join(root, 'dist/build-info.json'), 'utf8')) as { commit: string | null; modified: boolean };
  };
  const project = (dir: string) => {
    mkdirSync(join(dir, 'scripts'), { recursive: true });
    cpSync(join(ROOT, 'scripts/build-info.mjs'), join(dir, 'scripts/build-info.mjs'));
    writeFileSync(join(dir, '.gitignore'), 'dist/\n');
    return dir;
  };

  it('records the commit of the project\'s own checkout, and says when the tree differs from it', () => {
    const dir = project(join(tmp, 'repo'));
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-qm', 'first');
    expect(record(dir)).toEqual({ commit: git(dir, 'rev-parse', 'HEAD'), modified: false });
    writeFileSync(join(dir, 'new-file'), 'x');
    expect(record(dir)).toEqual({ commit: git(dir, 'rev-parse', 'HEAD'), modified: true });
  });

  it('records no commit for a project inside somebody else\'s repository', () => {
    const outer = join(tmp, 'home');
    mkdirSync(outer);
    git(outer, 'init', '-q');
    git(outer, 'commit', '-q', '--allow-empty', '-m', 'dotfiles');
    const dir = project(join(outer, 'unpacked'));
    expect(existsSync(join(dir, 'scripts/build-info.mjs'))).toBe(true);
    expect(record(dir)).toEqual({ commit: null, modified: false });
  });
});
