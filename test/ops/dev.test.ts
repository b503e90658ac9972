/**
 * `npm start` (scripts/dev.ts) as a user meets it: the CLI's own help, errors and exit codes,
 * and its temporary spool gone after every exit. Each run gets its own TMPDIR, so "gone" is
 * checked in a directory nobody else writes to.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { EXIT } from '../../src/cli.js';
import { AUTH } from '../support/daemon.js';
import { devUrl, spawnDev } from './dev-process.js';

let tmp: string;
beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-devtest-'));
});
afterEach(() => rmSync(tmp, { recursive: true, force: true }));
const env = () => ({ ...process.env, TMPDIR: tmp });

it('passes --help through to the CLI, with a line about npm start first', async () => {
  const dev = spawnDev(['--help'], env());
  expect((await dev.exited).code).toBe(EXIT.ok);
  expect(dev.stdout()).toMatch(/^npm start \[-- options\]: .*embedded SQS emulator/);
  expect(dev.stdout()).toMatch(/^Usage: sqs-accelerator /m);
  expect(dev.stdout()).toContain('--linger-ms');
  expect(readdirSync(tmp)).toEqual([]);
});

it('refuses a bad option as the CLI does: one line, exit 2', async () => {
  const dev = spawnDev(['--linger-ms', 'soon'], env());
  expect((await dev.exited).code).toBe(EXIT.badConfig);
  expect(dev.stderr().trim()).toBe('sqs-accelerator: --linger-ms (from command line) must be a whole number of ms; got "soon"');
});

it('refuses --region/--endpoint/--s3-endpoint, which would leave the emulator it announces', async () => {
  const dev = spawnDev(['--region', 'eu-west-1'], env());
  expect((await dev.exited).code).toBe(EXIT.badConfig);
  expect(dev.stderr()).toContain('--region is not for the embedded emulator');
  const s3 = spawnDev(['--s3-endpoint=http://127.0.0.1:9000'], env());
  expect((await s3.exited).code).toBe(EXIT.badConfig);
  expect(s3.stderr()).toContain('--s3-endpoint is not for the embedded emulator');
});

it('serves the emulator\'s S3 with a bucket, says so, and sends a message over the queue\'s limit through it', async () => {
  const dev = spawnDev(['--port', '0', '--s3-bucket', 'my-dev-bucket'], env());
  try {
    const url = await devUrl(dev);
    const emulator = /UPSTREAM IS AN EMBEDDED LOCAL SQS EMULATOR \(fauxqs\) at (\S+),/.exec(dev.stdout())?.[1] as string;
    expect(dev.stdout()).toContain(`go through the emulator's S3: --s3-bucket my-dev-bucket --s3-endpoint ${emulator}.`);
    const payload = 'x'.repeat(1_100_000); // over the demo queue's 1 MiB
    const sent = await request(`${url}/queues/demo?wait=1`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: payload });
    const answer = (await sent.body.json()) as { s3?: { bucket: string; key: string; bytes: number } };
    expect({ status: sent.statusCode, bucket: answer.s3?.bucket, bytes: answer.s3?.bytes }).toEqual({ status: 201, bucket: 'my-dev-bucket', bytes: 1_100_000 });
    // The object, read from the emulator directly (path style), holds the payload.
    const obj = await request(`${emulator}/my-dev-bucket/${answer.s3?.key ?? ''}`);
    expect(await obj.body.text()).toBe(payload);
  } finally {
    dev.child.kill('SIGTERM');
    await dev.exited;
  }
});

describe('with the port taken (a second npm start)', () => {
  let taken: Server;
  let port: number;
  beforeAll(async () => {
    taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    port = (taken.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => taken.close(() => resolve())));

  it('says the address is in use, exit 2, no stack trace, and leaves no spool behind', async () => {
    const dev = spawnDev(['--port', String(port)], env());
    const { code } = await dev.exited;
    expect(code).toBe(EXIT.badConfig);
    expect(dev.stderr().trim()).toBe(`sqs-accelerator: cannot start: 127.0.0.1:${port} is already in use`);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

it('runs against the emulator, then removes its temporary spool on SIGTERM (exit 0)', async () => {
  const dev = spawnDev(['--port', '0', '--linger-ms', '1'], env());
  try {
    const url = await devUrl(dev);
    expect(dev.stdout()).toContain('UPSTREAM IS AN EMBEDDED LOCAL SQS EMULATOR');
    const spools = readdirSync(tmp);
    expect(spools).toEqual([expect.stringMatching(/^sqs-accelerator-dev-/)]);
    expect(dev.stdout()).toContain(`spool: ${join(tmp, spools[0] as string)}, removed at exit`);
    const sent = await request(`${url}/queues/demo`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: 'hello' });
    expect(sent.statusCode).toBe(202);
    await sent.body.dump();
    dev.child.kill('SIGTERM');
    expect((await dev.exited).code).toBe(EXIT.ok);
    expect(readdirSync(tmp)).toEqual([]);
  } finally {
    if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
  }
});

it('keeps a --spool-dir it was given (it is the caller\'s), and still removes its own', async () => {
  const mine = join(tmp, 'my-spool');
  const dev = spawnDev(['--port', '0', '--spool-dir', mine], env());
  try {
    await devUrl(dev);
    expect(dev.stdout()).toContain(`spool: ${mine})`);
    dev.child.kill('SIGINT');
    expect((await dev.exited).code).toBe(EXIT.ok);
    expect(readdirSync(tmp)).toEqual(['my-spool']);
  } finally {
    if (dev.child.exitCode === null) dev.child.kill('SIGKILL');
  }
});
