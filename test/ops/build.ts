/**
 * A fresh build of this checkout, laid out like an installed package (bin/, dist/,
 * package.json, node_modules), for tests that run the real command line as systemd would.
 * Built with tsc into this checkout's node_modules/.cache (git-ignored), keyed by a hash of
 * the sources, so the test never runs a stale dist/, never touches dist/, and never uses a
 * build (or a node_modules link) that belongs to another checkout: a cache in the shared temp
 * dir keyed only by the sources' hash outlived the checkout that made it and broke every later
 * run. Reused across test files.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, copyFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
/** The Node the project pins (the machine's may be older). */
export const NODE = join(ROOT, 'node_modules/.bin/node');

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (/\.(ts|js|json)$/.test(name)) out.push(p);
  }
  return out;
}

/** Returns the package root of a build of the current sources. */
export function freshBuild(): string {
  const inputs = [...files(join(ROOT, 'src')), ...files(join(ROOT, 'scripts')), join(ROOT, 'bin/sqs-accelerator.js'), join(ROOT, 'package.json'), join(ROOT, 'tsconfig.json'), join(ROOT, 'tsconfig.build.json')].sort();
  const hash = createHash('sha256');
  for (const f of inputs) hash.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  const cache = join(ROOT, 'node_modules/.cache/sqs-accelerator-build');
  mkdirSync(cache, { recursive: true });
  chmodSync(cache, 0o755); // traversable by the unprivileged user of the sandbox test
  const dir = join(cache, hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, 'dist/src/cli.js'))) {
    chmodSync(dir, 0o755);
    return dir;
  }
  const work = mkdtempSync(join(cache, 'building-'));
  // Type errors elsewhere (files mid-edit) do not stop tsc from emitting; missing output does.
  const tsc = spawnSync(NODE, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(work, 'dist')], { encoding: 'utf8', timeout: 120_000 });
  if (!existsSync(join(work, 'dist/src/cli.js'))) throw new Error(`build failed: ${tsc.stdout}${tsc.stderr}`);
  mkdirSync(join(work, 'bin'));
  copyFileSync(join(ROOT, 'bin/sqs-accelerator.js'), join(work, 'bin/sqs-accelerator.js'));
  copyFileSync(join(ROOT, 'package.json'), join(work, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(work, 'node_modules'));
  chmodSync(work, 0o755); // readable by the unprivileged user of the sandbox test
  try {
    renameSync(work, dir);
  } catch {
    rmSync(work, { recursive: true, force: true }); // another test file built it first
  }
  // Builds of older sources, unused for an hour, go.
  for (const name of readdirSync(cache)) {
    const old = join(cache, name);
    if (old !== dir && Date.now() - statSync(old).mtimeMs > 3_600_000) rmSync(old, { recursive: true, force: true });
  }
  return dir;
}
