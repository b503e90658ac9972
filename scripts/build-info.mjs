#!/usr/bin/env node
// Records which commit a build was made from, for `sqs-accelerator --version`: writes
// dist/build-info.json after tsc (`npm run build`, so also `npm pack` and the .deb build).
// A tree with uncommitted changes is recorded as such; a build from something that is not
// this project's git checkout (an unpacked tarball, no git installed) records no commit, and
// --version then says "unknown commit" rather than guess.
//
//   node scripts/build-info.mjs            # run by `npm run build`
import { spawnSync } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '');

function git(...args) {
  const r = spawnSync('git', ['-C', root, ...args], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

let commit = null;
let modified = false;
const top = git('rev-parse', '--show-toplevel');
// Only this project's own repository counts: an unpacked tarball inside some other
// repository (a home directory kept in git) must not report that repository's commit.
if (top !== undefined && realpathSync(top) === realpathSync(root)) {
  commit = git('rev-parse', 'HEAD') ?? null;
  // Changes to tracked files, and new files that are not ignored, make the build differ from the commit.
  modified = commit !== null && (git('status', '--porcelain', '--untracked-files=normal') ?? '') !== '';
}
mkdirSync(new URL('../dist/', import.meta.url), { recursive: true });
writeFileSync(new URL('../dist/build-info.json', import.meta.url), `${JSON.stringify({ commit, modified }, null, 2)}\n`);
