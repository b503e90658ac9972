import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { createDaemon, type Daemon } from '../../src/daemon/index.js';
import type { DeadLetterDir, DeadLetterFile } from '../../src/spool/dead-letters.js';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

function letter(id: string, accessKeyId: string, secretAccessKey: string): DeadLetterFile {
  return {
    id,
    queueName: 'q1',
    queueUrl: 'http://127.0.0.1:1/000000000000/q1',
    accessKeyId,
    body: `secret body ${id}`,
    code: 'AccessDenied',
    reason: 'denied',
    attempts: 1,
    acceptedAt: 1,
    deadAt: Date.now(),
    credentials: { accessKeyId, secretAccessKey },
  };
}

describe('GET /dead-letters', () => {
  let fake: FakeSqs;
  let daemon: Daemon;
  let dir: string;

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['q1'] });
    dir = mkdtempSync(join(tmpdir(), 'dl-http-'));
    const config = loadConfig(['--port', '0', '--spool-dir', dir], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
    daemon = await createDaemon({ config, log: createLogger('silent') }).start();
    const store = daemon.deps.store.deadLetters as DeadLetterDir;
    await store.write(letter('a-1', 'AKIDA', 'secretA'));
    await store.write(letter('a-2', 'AKIDA', 'secretA'));
    await store.write(letter('b-1', 'AKIDB', 'secretB'));
  });
  afterAll(async () => {
    await daemon.stop();
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a caller sees only the letters sent with its own key pair, without credentials', async () => {
    const r = await fetch(`${daemon.url}/dead-letters`, { headers: { authorization: basic('AKIDA', 'secretA') } });
    expect(r.status).toBe(200);
    const body = (await r.json()) as { total: number; items: Array<Record<string, unknown>> };
    expect(body.total).toBe(2);
    expect(body.items.map((i) => i.id)).toEqual(['a-1', 'a-2']);
    expect(JSON.stringify(body)).not.toContain('secretA');
    expect(body.items[0]).not.toHaveProperty('credentials');
  });

  test('the right key id with a wrong secret sees nothing', async () => {
    const r = await fetch(`${daemon.url}/dead-letters`, { headers: { authorization: basic('AKIDA', 'guess') } });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { total: number }).total).toBe(0);
    const one = await fetch(`${daemon.url}/dead-letters/a-1`, { headers: { authorization: basic('AKIDA', 'guess') } });
    expect(one.status).toBe(404);
  });

  test('one letter by id for its owner; 404 for another owner; 401 without credentials', async () => {
    const own = await fetch(`${daemon.url}/dead-letters/b-1`, { headers: { authorization: basic('AKIDB', 'secretB') } });
    expect(own.status).toBe(200);
    expect(await own.json()).toMatchObject({ id: 'b-1', code: 'AccessDenied', body: 'secret body b-1' });
    const other = await fetch(`${daemon.url}/dead-letters/b-1`, { headers: { authorization: basic('AKIDA', 'secretA') } });
    expect(other.status).toBe(404);
    const anon = await fetch(`${daemon.url}/dead-letters`);
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toContain('Basic');
  });

  test('bad paging parameters are named', async () => {
    const r = await fetch(`${daemon.url}/dead-letters?limit=0`, { headers: { authorization: basic('AKIDA', 'secretA') } });
    expect(r.status).toBe(400);
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain('limit');
  });

  test('memory mode has no dead-letter store and says so', async () => {
    const config = loadConfig(['--port', '0', '--durability', 'memory'], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
    const mem = await createDaemon({ config, log: createLogger('silent') }).start();
    try {
      const r = await fetch(`${mem.url}/dead-letters`, { headers: { authorization: basic('AKIDA', 'secretA') } });
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { code: string } }).error.code).toBe('NoDeadLetterStore');
    } finally {
      await mem.stop();
    }
  });
});
