/**
 * The shell examples of a Markdown file, as the README doc test runs them.
 *
 * Every fenced block whose info string is `sh`, `bash` or `shell` is an example that must run.
 * A block that cannot run here says so on the line right before its fence, with a reason:
 *
 *     <!-- doc-test: skip (needs real AWS credentials) -->
 *
 * A skip without a reason is an error, so nobody skips a block silently. Other blocks
 * (```json, ```ini, ``` output) are never run.
 */
import { readFileSync } from 'node:fs';

export interface ShellBlock {
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  text: string;
  /** Why it is not run, when it is marked so. */
  skip?: string;
}

const FENCE = /^(`{3,}|~{3,})\s*([\w+-]*)/;
const MARK = /^<!--\s*doc-test:\s*(.*?)\s*-->$/;

export function shellBlocks(path: string, label = path): ShellBlock[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i] as string);
    if (!open) continue;
    const fence = open[1] as string;
    let end = i + 1;
    while (end < lines.length && !(lines[end] as string).startsWith(fence)) end++;
    if (['sh', 'bash', 'shell'].includes(open[2] ?? '')) {
      const block: ShellBlock = { file: label, line: i + 1, text: lines.slice(i + 1, end).join('\n') };
      const mark = MARK.exec((lines[i - 1] ?? '').trim());
      if (mark) {
        const skip = /^skip\s*\((.+)\)$/.exec(mark[1] as string);
        if (!skip) throw new Error(`${label}:${i}: a doc-test mark must read "<!-- doc-test: skip (reason) -->", got ${JSON.stringify(lines[i - 1])}`);
        block.skip = (skip[1] as string).trim();
      }
      blocks.push(block);
    }
    i = end;
  }
  return blocks;
}

/**
 * One bash script running `blocks` in order, in one shell (a variable set in one block is
 * there in the next, as in a reader's terminal), stopping at the first failing command and
 * naming its block. `curl` fails on HTTP errors (--fail-with-body), since an example answered
 * 404 has not worked even though curl exits 0; it shows no progress meter (--no-progress-meter),
 * so a failure report is readable; its output is otherwise unchanged.
 */
export function script(blocks: readonly ShellBlock[], rewrite: (text: string) => string): string {
  const out = [
    'set -Eeo pipefail', // -E: the ERR trap also fires inside the curl function
    'curl() { command curl --fail-with-body --no-progress-meter "$@"; }',
    "trap 'echo \"doc-test: failed in the block at ${DOC_TEST_BLOCK}: ${BASH_COMMAND}\" >&2' ERR",
  ];
  for (const b of blocks) {
    if (b.skip !== undefined) continue;
    out.push(`DOC_TEST_BLOCK='${b.file}:${b.line}'`, `echo "doc-test: running ${b.file}:${b.line}" >&2`, rewrite(b.text), 'echo');
  }
  return `${out.join('\n')}\n`;
}
