/**
 * Another revision's daemon for a benchmark (`--daemon-rev`): that commit of this repository
 * exported with git archive to a temporary directory and built there, so the numbers are for
 * a commit, not for whatever a working tree holds. Built once per commit (kept for the next run).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Exports commit `rev` of the repository at `repo` and builds the daemon there; its directory. */
export function exportRev(repo: string, rev: string, log: (line: string) => void): string {
  const hash = spawnSync('git', ['-C', repo, 'rev-parse', '--verify', `${rev}^{commit}`], { encoding: 'utf8' });
  if (hash.status !== 0) throw new Error(`--daemon-rev ${rev}: not a commit (${hash.stderr.trim()})`);
  const commit = hash.stdout.trim();
  const dir = join(tmpdir(), `sqs-accelerator-bench-${commit.slice(0, 12)}`);
  if (!existsSync(join(dir, 'dist/src/cli.js'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const archive = spawnSync('sh', ['-c', `git -C "${repo}" archive "${commit}" | tar -x -C "${dir}"`], { encoding: 'utf8' });
    if (archive.status !== 0) throw new Error(`git archive ${commit} failed: ${archive.stderr}`);
    symlinkSync(join(repo, 'node_modules'), join(dir, 'node_modules'), 'dir');
    log(`building ${commit.slice(0, 12)} in ${dir}`);
    const build = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.build.json')], { encoding: 'utf8', cwd: dir });
    if (build.status !== 0) throw new Error(`building ${commit} failed:\n${build.stdout}${build.stderr}`);
  }
  writeFileSync(join(dir, '.bench-commit'), `${commit}\n`);
  return dir;
}

/** What a daemon directory holds: the exported commit, or `git describe` of a checkout. */
export function gitDescribe(dir: string): string {
  if (existsSync(join(dir, '.bench-commit'))) return `${readFileSync(join(dir, '.bench-commit'), 'utf8').trim().slice(0, 12)} (exported with git archive, clean)`;
  const r = spawnSync('git', ['-C', dir, 'describe', '--always', '--dirty', '--abbrev=12'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown (not a git checkout)';
}
