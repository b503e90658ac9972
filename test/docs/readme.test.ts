/**
 * The README's shell examples work, in the order written, against what `npm start` runs:
 * scripts/dev.ts (fresh build) with its embedded fauxqs. How blocks are marked is in
 * ./shell-blocks.ts and in the README's "Tests" section. What differs from a reader's
 * terminal, and why:
 * - the daemon listens on a free port, not 9292 (the machine may be running another one):
 *   `127.0.0.1:9292` and `localhost:9292` in the examples are rewritten to it;
 * - it is started once, the way the SQS API section restarts it (`--credentials chain` with a
 *   demo key pair), rather than restarted halfway;
 * - the shell has a dummy key pair in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (a reader's has
 *   their own; the emulator accepts any) and AWS_DEFAULT_REGION=us-east-1;
 * - it runs in an empty temporary directory, and curl fails on HTTP errors.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../ops/build.js';
import { devUrl, spawnDev, type DevProcess } from '../ops/dev-process.js';
import { script, shellBlocks } from './shell-blocks.js';

const FILES = ['README.md', 'systemd/README.md'];
const blocks = FILES.flatMap((f) => shellBlocks(join(ROOT, f), f));

let tmp: string;
let dev: DevProcess;
let url: string;
beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-readme-'));
  // As the SQS API section starts it; the examples before it work the same in this mode.
  dev = spawnDev(['--port', '0', '--credentials', 'chain'], { ...process.env, TMPDIR: tmp, AWS_ACCESS_KEY_ID: 'demo', AWS_SECRET_ACCESS_KEY: 'demo' });
  url = await devUrl(dev);
}, 120_000);
afterAll(async () => {
  dev.child.kill('SIGTERM');
  await dev.exited;
  rmSync(tmp, { recursive: true, force: true });
});

it('has shell examples, and each one it does not run says why', () => {
  expect(blocks.filter((b) => b.skip === undefined).length).toBeGreaterThanOrEqual(3);
  for (const b of blocks) if (b.skip !== undefined) expect({ at: `${b.file}:${b.line}`, reason: b.skip.length >= 10 }).toEqual({ at: `${b.file}:${b.line}`, reason: true });
});

it('runs every shell example in order against npm start\'s daemon', () => {
  const host = new URL(url).host;
  const text = script(blocks, (t) => t.replaceAll('127.0.0.1:9292', host).replaceAll('localhost:9292', host));
  const work = mkdtempSync(join(tmp, 'cwd-'));
  const r = spawnSync('bash', ['-c', text], {
    cwd: work,
    encoding: 'utf8',
    timeout: 120_000,
    env: { PATH: process.env.PATH, HOME: work, AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'doc-test-secret', AWS_DEFAULT_REGION: 'us-east-1' },
  });
  const failed = /doc-test: failed in the block at .*/.exec(r.stderr)?.[0];
  if (r.status !== 0 || failed) throw new Error(`${failed ?? `bash exited ${r.status} ${r.signal ?? ''}`}\n--- stdout ---\n${r.stdout.slice(-3000)}\n--- stderr ---\n${r.stderr.slice(-3000)}`);
  // Every runnable block ran.
  const ran = r.stderr.split('\n').filter((l) => l.startsWith('doc-test: running ')).length;
  expect(ran).toBe(blocks.filter((b) => b.skip === undefined).length);
}, 150_000);
