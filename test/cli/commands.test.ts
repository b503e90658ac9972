/** The command line's commands, run as the installed binary runs them. */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDaemon } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import { DeadLetterDir } from '../../src/spool/dead-letters.js';
import { freshBuild, NODE, ROOT } from '../ops/build.js';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.js';

const SECRET = 'dl-secret/abc+123';
let bin: string;
let fake: FakeSqs;
beforeAll(async () => {
  bin = join(freshBuild(), 'bin/sqs-accelerator.js');
  fake = await startFakeSqs();
});
afterAll(() => fake.close());

/** Runs the CLI without blocking this process (the daemon under test lives here). */
function run(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(NODE, [bin, ...args], { env: { PATH: process.env.PATH, HOME: '/nonexistent', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

it('wait-ready (and the older --wait-ready) exit 0 once the daemon those options describe is ready', async () => {
  const d = await createDaemon({ config: { endpoint: fake.endpoint, host: '127.0.0.1', port: 0, durability: 'memory' }, log: createLogger('silent') }).start();
  try {
    const port = String(d.address?.port);
    expect(await run(['wait-ready', '--endpoint', fake.endpoint, '--port', port])).toMatchObject({ code: 0, err: '' });
    expect(await run(['--wait-ready', '--endpoint', fake.endpoint, '--port', port])).toMatchObject({ code: 0, err: '' });
  } finally {
    await d.close();
  }
});

it('serve --help prints the usage with every command; bad options exit 2 naming them', async () => {
  const help = await run(['serve', '--help']);
  expect(help.code).toBe(0);
  for (const command of ['wait-ready', 'dead-letters', 'hash-password']) expect(help.out).toContain(`sqs-accelerator ${command}`);
  const bad = await run(['wait-ready', '--endpoint', fake.endpoint, '--port', 'x']);
  expect(bad).toMatchObject({ code: 2, err: expect.stringContaining('--port') });
  const unknown = await run(['frobnicate']);
  expect(unknown).toMatchObject({ code: 2, err: expect.stringContaining('unknown option "frobnicate"') });
});

it('dead-letters list --config with the shipped systemd example config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'dl-cli-config-'));
  try {
    const store = new DeadLetterDir(dir);
    for (const id of ['a-1', 'a-2', 'b-3']) {
      store.write({ id, queueName: 'orders', queueUrl: 'http://127.0.0.1:1/000000000000/orders', accessKeyId: 'AKIDDL', body: `body of ${id}`, code: 'AccessDenied', reason: 'denied', attempts: 1, acceptedAt: 1, deadAt: Date.now(), credentials: { accessKeyId: 'AKIDDL', secretAccessKey: SECRET } });
    }
    // The example names no spool directory: as under systemd, it is $STATE_DIRECTORY.
    const r = await run(['dead-letters', 'list', '--config', join(ROOT, 'systemd/config.json.example')], { STATE_DIRECTORY: dir });
    expect({ code: r.code, err: r.err }).toEqual({ code: 0, err: '' });
    expect(r.out.split('\n').filter((l) => /^(a-1|a-2|b-3) /.test(l))).toHaveLength(3);
    expect(r.out).not.toContain(SECRET);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
