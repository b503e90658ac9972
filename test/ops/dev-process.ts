/**
 * `npm start` as a process: scripts/dev.ts from a fresh build (test/ops/build.ts), run by the
 * pinned Node with the flags package.json's "start" script gives it. Tests pass `--port 0`
 * (the README's 9292 may be taken on a shared machine) and a TMPDIR of their own, so they can
 * see the temporary spool come and go.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freshBuild, NODE, ROOT } from './build.js';

/** The node flags and script of package.json's "start" (after its `npm run build &&`). */
export function startCommand(): { nodeArgs: string[]; script: string } {
  const start = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';
  const m = /^npm run build && node ((?:--\S+ )*)(\S+)$/.exec(start);
  if (!m) throw new Error(`package.json "start" is not "npm run build && node [flags] script": ${start}`);
  return { nodeArgs: (m[1] ?? '').trim().split(' ').filter((s) => s !== ''), script: m[2] as string };
}

export interface DevProcess {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnDev(args: string[], env: NodeJS.ProcessEnv, cwd?: string): DevProcess {
  const { nodeArgs, script } = startCommand();
  const child = spawn(NODE, [...nodeArgs, join(freshBuild(), script), ...args], { env, cwd: cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, stdout: () => out, stderr: () => err, exited };
}

/** Waits for the banner; returns the daemon's URL (from its "listening" log line: the port may be 0). */
export async function devUrl(dev: DevProcess, timeoutMs = 60_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (dev.stdout().includes('sqs-accelerator is running at')) {
      for (const line of dev.stdout().split('\n')) {
        if (!line.startsWith('{')) continue;
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'sqs-accelerator listening' && entry.url) return entry.url;
      }
    }
    if (dev.child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`npm start did not come up:\n${dev.stdout()}\n${dev.stderr()}`);
}
