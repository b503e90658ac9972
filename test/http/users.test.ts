import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { hashPassword, LocalUsers } from '../../src/http/users.js';
import { createLogger } from '../../src/log.js';
import { startDaemon } from '../../src/main.js';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.js';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('local users (--credentials chain --users-file)', () => {
  test('hashPassword lines verify the right password only, and never contain it', () => {
    const line = hashPassword('alice', 'correct horse');
    expect(line.startsWith('alice:scrypt$')).toBe(true);
    expect(line).not.toContain('correct horse');
    const users = new LocalUsers(`# comment\n${line}\n${hashPassword('bob', 'b0b')}\n`);
    expect(users.size).toBe(2);
    expect(users.check('alice', 'correct horse')).toBe(true);
    expect(users.check('alice', 'correct horse')).toBe(true); // cached path
    expect(users.check('alice', 'wrong')).toBe(false);
    expect(users.check('bob', 'correct horse')).toBe(false);
    expect(users.check('mallory', 'x')).toBe(false);
  });

  test('a malformed users file is refused with the line number', () => {
    expect(() => new LocalUsers('alice:plaintext\n')).toThrow(/line 1/);
    expect(() => new LocalUsers('# nobody\n')).toThrow(/no users/);
  });

  describe('through the daemon', () => {
    let fake: FakeSqs;
    let dir: string;
    beforeAll(async () => {
      fake = await startFakeSqs({ queues: ['q1'] });
      dir = mkdtempSync(join(tmpdir(), 'users-'));
    });
    afterAll(async () => {
      await fake.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('sends need a listed user; the daemon signs with its own credentials', async () => {
      const usersFile = join(dir, 'users');
      writeFileSync(usersFile, `${hashPassword('app', 's3cret')}\n`);
      chmodSync(usersFile, 0o600);
      const config = loadConfig(['--port', '0', '--durability', 'memory', '--credentials', 'chain', '--users-file', usersFile], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
      const daemon = await startDaemon(config, {
        log: createLogger('silent'),
        credentialProvider: async () => ({ accessKeyId: 'AKIDDAEMON', secretAccessKey: 'daemon-secret' }),
      });
      try {
        const none = await fetch(`${daemon.url}/queues/q1`, { method: 'POST', body: 'x' });
        expect(none.status).toBe(401);
        expect(none.headers.get('www-authenticate')).toContain('Basic');
        const wrong = await fetch(`${daemon.url}/queues/q1`, { method: 'POST', body: 'x', headers: { authorization: basic('app', 'nope') } });
        expect(wrong.status).toBe(401);
        expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('InvalidLocalUser');
        const ok = await fetch(`${daemon.url}/queues/q1`, { method: 'POST', body: 'hello', headers: { authorization: basic('app', 's3cret'), 'content-type': 'text/plain' } });
        expect(ok.status).toBe(202);
        await fake.waitFor(() => fake.messageCount('q1') === 1, 5000);
        expect(fake.messages('q1')[0]).toMatchObject({ body: 'hello', accessKeyId: 'AKIDDAEMON' });
      } finally {
        await daemon.stop();
      }
    });

    test('--users-file is refused in pass-through mode, and a bad file stops the start with ECONFIG', async () => {
      expect(() => loadConfig(['--users-file', '/x'], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint })).toThrow(/only applies with --credentials chain/);
      const bad = join(dir, 'bad');
      writeFileSync(bad, 'app:plain\n');
      const config = loadConfig(['--port', '0', '--durability', 'memory', '--credentials', 'chain', '--users-file', bad], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
      await expect(startDaemon(config, { log: createLogger('silent'), credentialProvider: async () => ({ accessKeyId: 'A', secretAccessKey: 'B' }) })).rejects.toMatchObject({ code: 'ECONFIG' });
    });
  });
});
