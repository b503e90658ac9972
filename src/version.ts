/**
 * `sqs-accelerator --version`: the package version and the commit the build was made from,
 * as scripts/build-info.mjs recorded it next to the compiled code (dist/build-info.json).
 * Without that record (a build by plain tsc) it says so rather than guess.
 */
import { readFileSync } from 'node:fs';

interface BuildInfo {
  commit: string | null;
  modified: boolean;
}

function readJson<T>(url: URL): T | undefined {
  try {
    return JSON.parse(readFileSync(url, 'utf8')) as T;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** e.g. `sqs-accelerator 0.1.0 (commit 3f2c1a9b0d4e)`, `... (commit 3f2c1a9b0d4e, modified)`, `... (unknown commit)`. */
export function versionLine(): string {
  // Built, this file is dist/src/version.js: the package root is two levels up, the build record one.
  const pkg = readJson<{ version: string }>(new URL('../../package.json', import.meta.url));
  const info = readJson<BuildInfo>(new URL('../build-info.json', import.meta.url));
  const commit = info?.commit ? `commit ${info.commit.slice(0, 12)}${info.modified ? ', modified' : ''}` : 'unknown commit';
  return `sqs-accelerator ${pkg?.version ?? 'unknown version'} (${commit})`;
}
