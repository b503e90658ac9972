/** The daemon as a value: createDaemon() in-process, its lifecycle and typed events. */
import { request } from 'undici';
import { createDaemon, type DaemonEvents } from '../../src/index.js';
import { createLogger } from '../../src/log.js';
import { AUTH } from '../support/daemon.js';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.js';

let fake: FakeSqs;
beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['events', 'gone'] });
});
afterAll(() => fake.close());

const base = (extra: Record<string, unknown> = {}) => ({ endpoint: fake.endpoint, host: '127.0.0.1', port: 0, durability: 'memory' as const, retryBaseMs: 5, retryMaxMs: 20, ...extra });

it('checks its options at once, naming the option, and does nothing before start()', () => {
  expect(() => createDaemon({ config: base({ lingerMs: 'soon' as unknown as number }) })).toThrow(/"lingerMs" must be a JSON number/);
  expect(() => createDaemon({ config: { ...base(), lingerMz: 5 } as never })).toThrow(/unknown option "lingerMz"/);
  expect(() => createDaemon({ config: { port: 0 } })).toThrow(/no SQS upstream/);
  const d = createDaemon({ config: base(), log: createLogger('silent') });
  expect(d.address).toBeUndefined();
  expect(() => d.url).toThrow(/not started/);
  expect(d.config).toMatchObject({ port: 0, lingerMs: 10, region: 'us-east-1' });
});

it('start() listens, close() stops gracefully, both idempotent; events say what happened per queue', async () => {
  const d = createDaemon({ config: base({ maxMessageAgeMs: 0 }), log: createLogger('silent') });
  const seen: Array<[keyof DaemonEvents, unknown]> = [];
  d.on('accepted', (e) => seen.push(['accepted', e]));
  d.on('delivered', (e) => seen.push(['delivered', e]));
  d.on('retried', (e) => seen.push(['retried', e]));
  d.on('dead-lettered', (e) => seen.push(['dead-lettered', e]));
  expect(await d.start()).toBe(d);
  expect(await d.start()).toBe(d);
  expect(d.address).toMatchObject({ host: '127.0.0.1', port: expect.any(Number) });
  expect(d.url).toBe(`http://127.0.0.1:${d.address?.port}`);

  const send = async (queue: string, body: string) => {
    const r = await request(`${d.url}/queues/${queue}`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body });
    await r.body.text();
    return r.statusCode;
  };
  fake.faults = { serverError: 1, actions: ['SendMessageBatch'] };
  expect(await send('events', 'hello')).toBe(202);
  await fake.waitFor(() => seen.some(([name]) => name === 'retried'), 5000);
  fake.faults = {};
  await d.deps.pipeline.idle();
  // The queue is deleted after the daemon resolved it: SQS refuses for good, the message is dead-lettered.
  expect(await send('gone', 'first')).toBe(202);
  await d.deps.pipeline.idle();
  fake.deleteQueue('gone');
  expect(await send('gone', 'never arrives')).toBe(202);
  await d.deps.pipeline.idle();

  expect(seen.filter(([n]) => n === 'accepted')).toEqual([
    ['accepted', { queue: 'events', count: 1, bytes: 5 }],
    ['accepted', { queue: 'gone', count: 1, bytes: 5 }],
    ['accepted', { queue: 'gone', count: 1, bytes: 13 }],
  ]);
  expect(seen).toContainEqual(['retried', { queue: 'events', code: expect.stringMatching(/InternalError|ServiceUnavailable/), count: 1 }]);
  expect(seen).toContainEqual(['delivered', { queue: 'events', count: 1 }]);
  expect(seen).toContainEqual(['dead-lettered', { queue: 'gone', code: 'QueueDoesNotExist', count: 1 }]);

  const [a, b] = await Promise.all([d.close(), d.close()]);
  expect(a).toEqual({ remaining: 0 });
  expect(b).toBe(a);
  expect(d.address).toBeUndefined();
  await expect(request(`${d.url}/healthz`)).rejects.toThrow();
});

it('a listener that throws does not disturb delivery', async () => {
  const d = await createDaemon({ config: base(), log: createLogger('silent') }).start();
  try {
    d.on('accepted', () => {
      throw new Error('listener bug');
    });
    const r = await request(`${d.url}/queues/events`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: 'still sent' });
    expect(r.statusCode).toBe(202);
    await r.body.text();
    await d.deps.pipeline.idle();
    expect(fake.bodies('events')).toContain('still sent');
  } finally {
    await d.close();
  }
});

it('a failed start (address in use) releases what it opened and says why', async () => {
  const first = await createDaemon({ config: base(), log: createLogger('silent') }).start();
  try {
    const second = createDaemon({ config: base({ port: first.address?.port }), log: createLogger('silent') });
    await expect(second.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(await second.close()).toEqual({ remaining: 0 });
  } finally {
    await first.close();
  }
});

it('close() before start() is a no-op', async () => {
  expect(await createDaemon({ config: base(), log: createLogger('silent') }).close()).toEqual({ remaining: 0 });
});
