import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { scrypt } from 'node:crypto';
import { hashPassword, type Kdf, LocalUsers } from '../../src/http/users.js';
import { createLogger } from '../../src/log.js';
import { createDaemon } from '../../src/daemon/index.js';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.js';

const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;

describe('local users (--credentials chain --users-file)', () => {
  test('hashPassword lines verify the right password only, and never contain it', async () => {
    const line = hashPassword('alice', 'correct horse');
    expect(line.startsWith('alice:scrypt$')).toBe(true);
    expect(line).not.toContain('correct horse');
    const users = new LocalUsers(`# comment\n${line}\n${hashPassword('bob', 'b0b')}\n`);
    expect(users.size).toBe(2);
    expect(await users.check('alice', 'correct horse')).toBe(true);
    expect(await users.check('alice', 'correct horse')).toBe(true); // cached path
    expect(await users.check('alice', 'correct horsE')).toBe(false); // same length as the cached one
    expect(await users.check('alice', 'wrong')).toBe(false);
    expect(await users.check('bob', 'correct horse')).toBe(false);
    expect(await users.check('mallory', 'x')).toBe(false);
  });

  // Issue 11, item 1: each wrong password ran a ~40 ms synchronous scrypt on the event loop.
  test('a password check leaves the event loop free: other work runs while scrypt does', async () => {
    const users = new LocalUsers(`${hashPassword('alice', 'pw')}\n`);
    let turns = 0;
    let stop = false;
    const spin = () => {
      turns += 1;
      if (!stop) setImmediate(spin);
    };
    setImmediate(spin);
    const checks = Array.from({ length: 4 }, (_, i) => users.check(i % 2 ? 'alice' : 'nobody', 'wrong'));
    const before = turns; // nothing has run yet: the checks only started
    expect(await Promise.all(checks)).toEqual([false, false, false, false]);
    stop = true;
    // A synchronous scrypt finishes before any turn of the loop; an off-thread one lets it turn.
    expect(before).toBe(0);
    expect(turns).toBeGreaterThan(10);
  });

  test('an unknown name costs the same scrypt as a known one', async () => {
    const calls: Array<{ N: number; r: number; p: number; keylen: number }> = [];
    const kdf: Kdf = (pw, salt, keylen, o, cb) => {
      calls.push({ N: o.N, r: o.r, p: o.p, keylen });
      scrypt(pw, salt, keylen, o, cb);
    };
    const users = new LocalUsers(`${hashPassword('alice', 'pw')}\n`, 'users', { kdf });
    expect(await users.check('alice', 'wrong')).toBe(false);
    expect(await users.check('mallory', 'wrong')).toBe(false);
    expect(calls).toHaveLength(2);
    expect(calls[1]).toEqual(calls[0]);
    expect(calls[0]).toEqual({ N: 16384, r: 8, p: 1, keylen: 32 });
  });

  test('failed logins are throttled per client and name: past 5, 429 without an scrypt; other names and clients unaffected; the per-client bound catches rotating names', async () => {
    let kdfCalls = 0;
    const kdf: Kdf = (pw, salt, keylen, o, cb) => {
      kdfCalls += 1;
      scrypt(pw, salt, keylen, o, cb);
    };
    const users = new LocalUsers(`${hashPassword('alice', 'pw')}\n${hashPassword('bob', 'pw2')}\n`, 'users', { kdf });
    expect(await users.login('10.0.0.1', 'bob', 'pw2')).toEqual({ ok: true }); // cached from now on
    kdfCalls = 0;
    for (let i = 0; i < 5; i++) expect(await users.login('10.0.0.1', 'alice', `bad-${i}`)).toEqual({ ok: false, code: 'InvalidLocalUser' });
    expect(kdfCalls).toBe(5);
    for (let i = 0; i < 20; i++) {
      const r = await users.login('10.0.0.1', 'alice', i === 19 ? 'pw' : `bad-${i}`);
      expect(r).toMatchObject({ ok: false, code: 'TooManyFailedLogins' });
      expect((r as { retryAfterS: number }).retryAfterS).toBeGreaterThan(0);
      expect((r as { retryAfterS: number }).retryAfterS).toBeLessThanOrEqual(60);
    }
    expect(kdfCalls).toBe(5); // refused without the work
    expect(await users.login('10.0.0.1', 'bob', 'pw2')).toEqual({ ok: true }); // an already verified password still works
    expect(await users.login('10.0.0.2', 'alice', 'pw')).toEqual({ ok: true }); // another client is not locked out
    // Made-up names, one try each: the per-client bound (30) stops them too.
    const codes = [];
    for (let i = 0; i < 40; i++) codes.push(((await users.login('10.0.0.4', `name-${i}`, 'x')) as { code: string }).code);
    expect(codes.slice(0, 30).every((c) => c === 'InvalidLocalUser')).toBe(true);
    expect(codes.slice(30).every((c) => c === 'TooManyFailedLogins')).toBe(true);
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
      // Held refusals (login-tarpit.test.ts) held briefly here: this test is about what is answered.
      const config = loadConfig(['--port', '0', '--durability', 'memory', '--credentials', 'chain', '--users-file', usersFile, '--login-refusal-delay-ms', '50'], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
      const daemon = await createDaemon({
        config,
        log: createLogger('silent'),
        credentialProvider: async () => ({ accessKeyId: 'AKIDDAEMON', secretAccessKey: 'daemon-secret' }),
      }).start();
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
        // A flood of wrong passwords from one client: 429 + Retry-After once past the bound.
        const statuses = [];
        for (let i = 0; i < 8; i++) {
          const r = await fetch(`${daemon.url}/queues/q1`, { method: 'POST', body: 'x', headers: { authorization: basic('app', `nope-${i}`) } });
          statuses.push(r.status);
          if (r.status === 429) {
            expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
            expect(((await r.json()) as { error: { code: string } }).error.code).toBe('TooManyFailedLogins');
          } else await r.body?.cancel();
        }
        expect(statuses).toEqual([401, 401, 401, 401, 401, 429, 429, 429]); // the login before cleared the earlier failure
        // The password verified before still works (it is not checked again), a new guess does not.
        const again = await fetch(`${daemon.url}/queues/q1`, { method: 'POST', body: 'again', headers: { authorization: basic('app', 's3cret'), 'content-type': 'text/plain' } });
        expect(again.status).toBe(202);
        const guess = await fetch(`${daemon.url}/queues/q1`, { method: 'POST', body: 'x', headers: { authorization: basic('app', 'one-more-guess') } });
        await guess.body?.cancel();
        expect(guess.status).toBe(429);
      } finally {
        await daemon.stop();
      }
    });

    test('--users-file is refused in pass-through mode, and a bad file stops the start with ECONFIG', async () => {
      expect(() => loadConfig(['--users-file', '/x'], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint })).toThrow(/only applies with --credentials chain/);
      const bad = join(dir, 'bad');
      writeFileSync(bad, 'app:plain\n');
      const config = loadConfig(['--port', '0', '--durability', 'memory', '--credentials', 'chain', '--users-file', bad], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
      await expect(createDaemon({ config, log: createLogger('silent'), credentialProvider: async () => ({ accessKeyId: 'A', secretAccessKey: 'B' }) }).start()).rejects.toMatchObject({ code: 'ECONFIG' });
    });
  });
});
