/**
 * Helpers for the release tests (tarball.test.ts, deb.test.ts): a copy of the sources to run
 * the project's own packaging commands in (so the checkout's dist/ is left alone), and a
 * round trip through an installed command: start it against fauxqs, send, receive.
 */
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CreateQueueCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { request } from 'undici';
import { AKID, AUTH, SECRET } from '../support/daemon.js';
import { NODE, ROOT } from './build.js';

/** PATH of a machine whose first Node is the supported one the project pins. */
export const PINNED_PATH = `${dirname(NODE)}:${process.env.PATH ?? ''}`;

/** The files a build reads, copied into `dir` (not a git checkout), node_modules linked. */
export function stageSources(dir: string): string {
  mkdirSync(dir, { recursive: true });
  for (const f of ['package.json', 'README.md', 'tsconfig.json', 'tsconfig.build.json', 'bin', 'src', 'scripts', 'systemd']) cpSync(join(ROOT, f), join(dir, f), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return dir;
}

export function runIn(cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 240_000, env: { ...process.env, PATH: PINNED_PATH, npm_config_update_notifier: 'false', ...env } });
}

/**
 * Starts `command` against the emulator on a free port (from `cwd`, with only `env`), sends one
 * message through it, and returns what the emulator's queue then holds and how it exited on SIGTERM.
 */
export async function roundTrip(command: string, endpoint: string, queue: string, body: string, opts: { cwd: string; env: NodeJS.ProcessEnv; spoolDir: string }): Promise<{ received: string[]; exitCode: number | null; output: string }> {
  const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: queue }));
  const child = spawn(command, ['--endpoint', endpoint, '--port', '0', '--spool-dir', opts.spoolDir], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    let url: string | undefined;
    for (let i = 0; i < 600 && !url && child.exitCode === null; i++) {
      url = /"url":"(http:\/\/127\.0\.0\.1:\d+)"/.exec(out)?.[1];
      if (!url) await new Promise((r) => setTimeout(r, 50));
    }
    if (!url) throw new Error(`${command} did not start:\n${out}`);
    const sent = await request(`${url}/queues/${queue}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body });
    if (sent.statusCode !== 202) throw new Error(`send answered ${sent.statusCode}: ${await sent.body.text()}`);
    await sent.body.dump();
    let received: string[] = [];
    for (let i = 0; i < 20 && received.length === 0; i++) {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: 1 }));
      received = (got.Messages ?? []).map((m) => m.Body ?? '');
    }
    child.kill('SIGTERM');
    return { received, exitCode: await exited, output: out };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    sqs.destroy();
  }
}
