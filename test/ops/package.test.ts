/**
 * `import { createDaemon } from 'sqs-accelerator'` from another folder: the package's `exports`
 * (JavaScript and types) as an installed copy resolves them. The build is the one the CLI tests
 * use (test/ops/build.ts: dist/, bin/, package.json, node_modules), installed by a link in
 * node_modules of a fresh project; `npm pack` + `npm install` of the tarball is the same layout.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { freshBuild, NODE, ROOT } from './build.js';

let app: string;
let fake: FakeSqs;

beforeAll(async () => {
  const build = freshBuild();
  app = mkdtempSync(join(tmpdir(), 'sqs-accelerator-embed-'));
  mkdirSync(join(app, 'node_modules'));
  symlinkSync(build, join(app, 'node_modules/sqs-accelerator'));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'embedding-app', type: 'module', private: true }));
  fake = await startFakeSqs({ queues: ['embedded'] });
});
afterAll(async () => {
  rmSync(app, { recursive: true, force: true });
  await fake.close();
});

it('runs the README\'s "Embedding" example by package name: listens, delivers, reports, stops on SIGTERM', async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const example = /## Embedding[\s\S]*?```js\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(example).toContain("from 'sqs-accelerator'");
  writeFileSync(join(app, 'embed.js'), example as string);
  const child = spawn(NODE, ['embed.js', '--endpoint', fake.endpoint, '--port', '0', '--durability', 'memory', '--log-level', 'silent'], { cwd: app, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await fake.waitFor(() => /listening at http/.test(out), 20_000);
    const url = /listening at (\S+)/.exec(out)?.[1] as string;
    const res = await fetch(`${url}/queues/embedded`, { method: 'POST', headers: { authorization: `Basic ${btoa('AKIDEMBED:secret')}` }, body: 'from an embedding app' });
    expect(res.status).toBe(202);
    await fake.waitFor(() => out.includes('delivered 1 to embedded'), 10_000);
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(err).toBe('');
  expect(fake.bodies('embedded')).toEqual(['from an embedding app']);
});

it('its types resolve for a TypeScript consumer (exports.types)', () => {
  writeFileSync(
    join(app, 'typed.ts'),
    `import { createDaemon, type Config, DaemonError, type DaemonEvents, type EntryResult, loadConfig } from 'sqs-accelerator';
const config: Readonly<Config> = loadConfig(['--endpoint', 'http://127.0.0.1:1'], {});
const daemon = createDaemon({ config });
daemon.on('dead-lettered', (e: DaemonEvents['dead-lettered'][0]) => e.code.length);
const r: EntryResult = { ok: false, error: { code: 'EmptyBody', message: 'm', status: 400 } };
const e: DaemonError = new DaemonError('BacklogFull');
// @ts-expect-error: not an event of the daemon
daemon.on('no-such-event', () => undefined);
export { r, e };
`,
  );
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2023', strict: true, noEmit: true, skipLibCheck: true, types: ['node'], typeRoots: [join(ROOT, 'node_modules/@types')] }, files: ['typed.ts'] }));
  const tsc = spawnSync(NODE, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(app, 'tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
  expect({ status: tsc.status, out: tsc.stdout + tsc.stderr }).toEqual({ status: 0, out: '' });
});
