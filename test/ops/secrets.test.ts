/**
 * No secret, ever: a daemon logging at trace level is driven through successful and failing
 * paths (bad credentials format, missing queue, invalid messages, throttling, 5xx, partial
 * failures, dropped connections, a queue deleted under it, an outage, a shutdown that leaves
 * messages behind), in pass-through and chain mode. Every log line, every response (status
 * line, headers, body) and the /metrics, /readyz and /status output are searched for the
 * secret key, the session token and the Basic-auth header that carried them.
 */
import { request } from 'undici';
import { loadConfig } from '../../src/config.js';
import { MemoryStore } from '../../src/delivery/store.js';
import { createLogger } from '../../src/log.js';
import { createDaemon, type Daemon, type DaemonOptions } from '../../src/daemon/index.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { LogCapture, until } from '../support/daemon.js';

const AKID = 'AKIAOPSSECRETTEST1';
// Shaped like a real secret key: '/' and '+' make URL- and base64-encoded forms differ.
const SECRET = 'oPs/SeCrEt+K3y/9f8e7d6c5b4a3210zyxwvUTSRQ';
const TOKEN = 'FwoGZXIvYXdzEOPS//SESSION+TOKEN/abcdef0123456789';
const BASIC = Buffer.from(`${AKID}:${SECRET}`).toString('base64');
const NEEDLES = [SECRET, TOKEN, BASIC, encodeURIComponent(SECRET), encodeURIComponent(TOKEN), 'SeCrEt+K3y', 'SESSION+TOKEN'];

describe('secrets never leave the daemon', () => {
  let fake: FakeSqs;
  const seen: string[] = []; // every byte the daemon said, outside the logs

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['q1', 'q2', 'gone', 'q.fifo'], seed: 7 });
  });
  afterAll(async () => {
    await fake.close();
  });

  async function start(flags: string[], logs: LogCapture, options: Omit<DaemonOptions, 'config'> = {}): Promise<Daemon> {
    const config = loadConfig(['--port', '0', '--retry-base-ms', '5', '--retry-max-ms', '20', '--shutdown-grace-ms', '300', '--log-level', 'trace', ...flags], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
    const log = createLogger('trace', { write: (s: string) => logs.write(s) });
    return createDaemon({ config, log, store: new MemoryStore(log.child({ mod: 'store' })), ...options }).start();
  }

  async function call(url: string, path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<number> {
    const res = await request(`${url}${path}`, { method: (init.method ?? 'GET') as 'GET', headers: init.headers ?? {}, ...(init.body !== undefined ? { body: init.body } : {}) });
    const text = await res.body.text();
    seen.push(`${res.statusCode} ${JSON.stringify(res.headers)} ${text}`);
    return res.statusCode;
  }

  function expectClean(what: string, texts: readonly string[]): void {
    const all = texts.join('\n');
    expect(all.length).toBeGreaterThan(0);
    for (const needle of NEEDLES) {
      const at = all.indexOf(needle);
      if (at >= 0) throw new Error(`${what} contains a secret (${JSON.stringify(needle.slice(0, 6))}…): ${all.slice(Math.max(0, at - 200), at + 50)}`);
    }
  }

  it('pass-through mode: logs, answers and metrics never contain the secret key or session token', async () => {
    const logs = new LogCapture();
    const d = await start([], logs);
    const auth = { authorization: `Basic ${BASIC}`, 'x-amz-security-token': TOKEN };
    const text = { ...auth, 'content-type': 'text/plain' };
    const json = { ...auth, 'content-type': 'application/json', accept: 'application/json' };
    try {
      // Successful paths.
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: { ...auth, 'content-type': 'application/x-www-form-urlencoded' }, body: 'message_body=hello' })).toBe(202);
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: json, body: JSON.stringify([{ body: 'a' }, { body: 'b', attributes: { k: 'v' } }, { bogus: 1 }]) })).toBe(202);
      expect(await call(d.url, '/queues/q.fifo', { method: 'POST', headers: json, body: JSON.stringify({ body: 'f', groupId: 'g' }) })).toBe(202);
      await until(() => fake.messageCount('q1') === 3, 5000, 'deliveries');
      // Refusals at the door.
      expect(await call(d.url, '/queues/nope', { method: 'POST', headers: text, body: 'x' })).toBe(404);
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: text, body: '' })).toBe(400);
      expect(await call(d.url, '/queues/q.fifo', { method: 'POST', headers: text, body: 'no group' })).toBe(400);
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: { ...json }, body: '{"body": ' })).toBe(400);
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`not a key!:${SECRET}`).toString('base64')}`, 'content-type': 'text/plain' }, body: 'x' })).toBe(401);
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: { authorization: `Basic ${Buffer.from(`:${SECRET}`).toString('base64')}`, 'content-type': 'text/plain' }, body: 'x' })).toBe(401);
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'text/plain' }, body: 'x' })).toBe(401);
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: { ...text, host: 'evil.example' }, body: 'x' })).toBe(421);
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: { ...text, origin: 'https://evil.example' }, body: 'x' })).toBe(403);
      // SQS failing in every way the fake can: retried, then delivered.
      fake.faults = { throttle: 0.3, serverError: 0.3, partialFailure: 0.3, kmsThrottled: 0.2, badMd5: 0.2, dropConnection: 0.1, actions: ['SendMessageBatch'] };
      for (let i = 0; i < 20; i++) expect(await call(d.url, '/queues/q2', { method: 'POST', headers: text, body: `m${i}` })).toBe(202);
      await until(() => fake.countByBody('q2').size === 20, 15_000, 'deliveries through faults');
      fake.faults = {};
      // A queue deleted under the daemon: dead letters.
      expect(await call(d.url, '/queues/gone', { method: 'POST', headers: text, body: 'first' })).toBe(202);
      await until(() => fake.messageCount('gone') === 1, 5000, 'first delivery to gone');
      fake.deleteQueue('gone');
      expect(await call(d.url, '/queues/gone', { method: 'POST', headers: text, body: 'second' })).toBe(202);
      await until(() => logs.find('dead-lettered').length > 0, 5000, 'dead letter log');
      // An outage, then a shutdown that leaves messages behind.
      fake.down = true;
      for (let i = 0; i < 3; i++) expect(await call(d.url, '/queues/q1', { method: 'POST', headers: text, body: `late${i}` })).toBe(202);
      await until(() => logs.find('SQS looks unreachable').length > 0, 5000, 'unreachable log');
      // What operators and the UI read.
      expect(await call(d.url, '/metrics')).toBe(200);
      expect(await call(d.url, '/readyz')).toBe(503);
      expect(await call(d.url, '/healthz')).toBe(200);
      await call(d.url, '/status', { headers: { ...auth, accept: 'application/json' } });
      await call(d.url, '/status', { headers: { ...auth, accept: 'text/html' } });
      await call(d.url, '/queues', { headers: { ...auth, accept: 'application/json' } });
      await call(d.url, '/queues/q1', { headers: { ...auth, accept: 'text/html' } });
      const metrics = await (await request(`${d.url}/metrics`)).body.text();
      expectClean('/metrics', [metrics]);
    } finally {
      await d.stop();
      fake.down = false;
    }
    expect(logs.find('undelivered messages').length).toBeGreaterThanOrEqual(1);
    expect(logs.lines.filter((l) => l.level === 'trace' || l.level === 'debug').length).toBeGreaterThan(0);
    expect(logs.find('retrying failed entries').length).toBeGreaterThan(0);
    expectClean('logs', logs.raw);
    expectClean('HTTP answers', seen);
  }, 60_000);

  it('chain mode: the daemon\'s own secret stays out of logs and answers too', async () => {
    const logs = new LogCapture();
    let calls = 0;
    const d = await start(['--credentials', 'chain'], logs, {
      credentialProvider: async () => {
        calls += 1;
        return { accessKeyId: AKID, secretAccessKey: SECRET, sessionToken: TOKEN, expiration: new Date(Date.now() + 3_600_000) };
      },
    });
    try {
      expect(await call(d.url, '/queues/q1', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'chained' })).toBe(202);
      expect(await call(d.url, '/queues/nope', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' })).toBe(404);
      await until(() => fake.bodies('q1').includes('chained'), 5000, 'delivery');
      expect(fake.messages('q1').at(-1)?.accessKeyId).toBe(AKID);
      expect(await call(d.url, '/metrics')).toBe(200);
      await call(d.url, '/status', { headers: { accept: 'application/json' } });
    } finally {
      await d.stop();
    }
    expect(calls).toBeGreaterThan(0);
    expectClean('logs', logs.raw);
    expectClean('HTTP answers', seen);
  }, 30_000);
});
