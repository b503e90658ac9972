/**
 * The signals and exit codes the README and systemd/README.md promise, on the built CLI:
 * a second SIGINT/SIGTERM forces exit 130 while the first is still flushing, and an address
 * already in use is a configuration error (2), not a crash to restart.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { EXIT } from '../../src/cli.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, until } from '../support/daemon.js';
import { freshBuild, NODE } from './build.js';

let build: string;
let fake: FakeSqs;
let tmp: string;
const started: ChildProcess[] = [];

beforeAll(async () => {
  build = freshBuild();
  fake = await startFakeSqs({ queues: ['q1'] });
  tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-signals-'));
}, 120_000);
afterAll(async () => {
  for (const c of started) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fake.close();
  rmSync(tmp, { recursive: true, force: true });
});

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

function daemon(port: number, flags: string[] = []): { child: ChildProcess; out: () => string; exited: Promise<{ code: number | null; signal: string | null }> } {
  // HOME and STATE_DIRECTORY keep any spool in the temp dir.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp, STATE_DIRECTORY: join(tmp, 'state') };
  const child = spawn(NODE, [join(build, 'bin/sqs-accelerator.js'), '--endpoint', fake.endpoint, '--port', String(port), '--retry-base-ms', '50', '--retry-max-ms', '200', ...flags], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push(child);
  let out = '';
  child.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, out: () => out, exited };
}

async function status(url: string, init: Parameters<typeof request>[1] = {}): Promise<number> {
  try {
    const res = await request(url, init);
    await res.body.text();
    return res.statusCode;
  } catch {
    return 0;
  }
}

it('first SIGINT starts a graceful stop; a second signal exits at once with 130', async () => {
  const s = await listen();
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  const d = daemon(port, ['--shutdown-grace-ms', '60000']);
  const url = `http://127.0.0.1:${port}`;
  await until(() => d.out().includes('sqs-accelerator listening'), 20_000, 'listening');
  expect(await status(`${url}/queues/q1`, { method: 'POST', headers: { authorization: AUTH }, body: 'first' })).toBe(202);
  await until(() => fake.messageCount('q1') === 1, 5000, 'delivery');
  fake.down = true;
  try {
    expect(await status(`${url}/queues/q1`, { method: 'POST', headers: { authorization: AUTH }, body: 'stuck' })).toBe(202);
    d.child.kill('SIGINT');
    await until(() => d.out().includes('shutting down'), 5000, 'graceful stop begun');
    // Still flushing (SQS is down, 60 s of grace): not gone yet.
    await new Promise((r) => setTimeout(r, 300));
    expect(d.child.exitCode).toBeNull();
    const t0 = Date.now();
    d.child.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: EXIT.forced, signal: null });
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(d.out()).toContain('second SIGTERM, exiting without waiting');
  } finally {
    fake.down = false;
  }
}, 60_000);

it('an address already in use exits 2 (configuration), with the address in the message', async () => {
  const s = await listen();
  const port = (s.address() as { port: number }).port;
  try {
    const d = daemon(port);
    expect(await d.exited).toEqual({ code: EXIT.badConfig, signal: null });
    expect(d.out()).toContain(`127.0.0.1:${port} is already in use`);
  } finally {
    await new Promise<void>((r) => s.close(() => r()));
  }
}, 30_000);
