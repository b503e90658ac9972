/**
 * Held login refusals through the daemon (--login-refusal-delay-ms, src/http/tarpit.ts, issue
 * 11): clients that ignore Retry-After and ask again the moment they are answered get one
 * answer per delay per connection, not as many as the daemon can write; a legitimate client
 * on the same address is not held; a stop answers every held refusal at once and closes its
 * connection.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { request } from 'undici';
import { loadConfig } from '../../src/config.js';
import { createDaemon } from '../../src/daemon/index.js';
import { hashPassword } from '../../src/http/users.js';
import { createLogger } from '../../src/log.js';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.js';

const basic = (u: string, p: string): string => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

let fake: FakeSqs;
let dir: string;
let usersFile: string;
beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['q1'] });
  dir = mkdtempSync(join(tmpdir(), 'tarpit-'));
  usersFile = join(dir, 'users');
  writeFileSync(usersFile, `${hashPassword('app', 's3cret')}\n`);
  chmodSync(usersFile, 0o600);
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(delayMs: number): Promise<Awaited<ReturnType<ReturnType<typeof createDaemon>['start']>>> {
  const config = loadConfig(['--port', '0', '--durability', 'memory', '--credentials', 'chain', '--users-file', usersFile, '--login-refusal-delay-ms', String(delayMs)], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
  return createDaemon({ config, log: createLogger('silent'), credentialProvider: async () => ({ accessKeyId: 'AKIDDAEMON', secretAccessKey: 'daemon-secret' }) }).start();
}

const post = async (url: string, password: string): Promise<{ status: number; connection: string | undefined }> => {
  const res = await request(`${url}/queues/q1`, { method: 'POST', body: 'x', headers: { authorization: basic('app', password), 'content-type': 'text/plain' } });
  await res.body.dump();
  return { status: res.statusCode, connection: res.headers.connection as string | undefined };
};

test('a closed-loop flood of wrong passwords gets one answer per delay per client; a legitimate client is not held', async () => {
  const daemon = await start(300);
  try {
    expect((await post(daemon.url, 's3cret')).status).toBe(202); // verified once, remembered
    for (let i = 0; i < 5; i++) expect((await post(daemon.url, `guess-${i}`)).status).toBe(401);
    // Ten clients that ask again the moment they are answered, for one second.
    const statuses: Record<number, number> = {};
    let fastest = Infinity;
    const end = performance.now() + 1000;
    const client = async (c: number): Promise<void> => {
      for (let i = 0; performance.now() < end && i < 1000; i++) {
        const t = performance.now();
        const r = await post(daemon.url, `flood-${c}-${i}`);
        fastest = Math.min(fastest, performance.now() - t);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
    };
    const flood = Promise.all(Array.from({ length: 10 }, (_, c) => client(c)));
    // Meanwhile the legitimate client, from the same address, is answered while the refusals wait.
    const order: string[] = [];
    const held = post(daemon.url, 'one-more-guess').then((r) => order.push(`refused ${r.status}`));
    const legit = post(daemon.url, 's3cret').then((r) => order.push(`legit ${r.status}`));
    await Promise.all([flood, held, legit]);
    expect(order).toEqual(['legit 202', 'refused 429']);
    expect(Object.keys(statuses)).toEqual(['429']);
    // Held 300 ms each: at most 4 answers per client in that second (answered at once, hundreds).
    expect(statuses[429]).toBeLessThanOrEqual(10 * 4);
    expect(fastest).toBeGreaterThanOrEqual(250);
  } finally {
    await daemon.stop();
  }
});

test('a stop answers every held refusal at once: its 429, and the connection closed', async () => {
  const daemon = await start(30_000);
  let stopped = false;
  try {
    for (let i = 0; i < 5; i++) expect((await post(daemon.url, `guess-${i}`)).status).toBe(401);
    const t0 = performance.now();
    const held = Promise.all([post(daemon.url, 'a'), post(daemon.url, 'b')]);
    await new Promise((r) => setTimeout(r, 200)); // both held now (30 s)
    await daemon.stop();
    stopped = true;
    const answers = await held;
    expect(answers).toEqual([
      { status: 429, connection: 'close' },
      { status: 429, connection: 'close' },
    ]);
    expect(performance.now() - t0).toBeLessThan(20_000); // not at the end of the 30 s hold
  } finally {
    if (!stopped) await daemon.stop();
  }
});
