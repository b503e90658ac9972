/** The send route's answers, and what reaches SQS, against the fake (which, unlike fauxqs, accepts characters above U+FFFF). */
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, postJson, runBounded, startTestDaemon, type TestDaemon } from '../support/daemon.js';

let fake: FakeSqs;
let d: TestDaemon;

beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['q', 'q.fifo', 'slow'] });
  d = await startTestDaemon(fake.endpoint, ['--fifo-default-group-id', 'default-group']);
});

afterAll(async () => {
  await d?.stop();
  await fake?.close();
});

beforeEach(async () => {
  await d.daemon.deps.pipeline.idle();
  fake.reset();
});

describe('POST /queues/:name', () => {
  it('answers 202 with the local id, in the body and in X-Message-Id', async () => {
    const r = await post(d.url, '/queues/q', 'hello', { contentType: 'text/plain' });
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ id: expect.stringMatching(/^[a-z0-9]+-[a-z0-9]+$/), queue: 'q' });
    expect(r.headers['x-message-id']).toBe(r.json.id);
    expect(r.headers['content-type']).toMatch(/application\/json/);
  });

  it('gives every message its own id, also under concurrency', async () => {
    const ids = await runBounded(200, 20, async (i) => (await post(d.url, '/queues/q', `m${i}`, { contentType: 'text/plain' })).json.id as string);
    expect(new Set(ids).size).toBe(200);
  });

  it('answers a batch with one result per entry, in order', async () => {
    const r = await postJson(d.url, '/queues/q', ['a', { body: 'b' }, { body: '' }, { message_body: 'c' }]);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ queue: 'q', accepted: 3, rejected: 1 });
    expect(r.json.results).toEqual([{ id: expect.any(String) }, { id: expect.any(String) }, { error: { code: 'EmptyBody', message: expect.any(String) } }, { id: expect.any(String) }]);
    await d.daemon.deps.pipeline.idle();
    expect(fake.bodies('q').sort()).toEqual(['a', 'b', 'c']);
  });

  it('delivers characters above U+FFFF (emoji) intact in bodies and attributes', async () => {
    const body = 'party 🎉 time 😀 𝄞 and 中文';
    expect((await post(d.url, '/queues/q', body, { contentType: 'text/plain; charset=utf-8' })).status).toBe(202);
    expect((await postJson(d.url, '/queues/q', { body: '🚀', attributes: { mood: '😀', note: { DataType: 'String.emoji', StringValue: '𝄞' } } })).status).toBe(202);
    expect((await post(d.url, '/queues/q', `message_body=${encodeURIComponent('🍕 form')}&attr.e=${encodeURIComponent('🍕')}`, { contentType: 'application/x-www-form-urlencoded' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    const byBody = new Map(fake.messages('q').map((m) => [m.body, m]));
    expect(byBody.has(body)).toBe(true);
    expect(byBody.get('🚀')?.attributes).toEqual({ mood: { DataType: 'String', StringValue: '😀' }, note: { DataType: 'String.emoji', StringValue: '𝄞' } });
    expect(byBody.get('🍕 form')?.attributes).toEqual({ e: { DataType: 'String', StringValue: '🍕' } });
  });

  it('counts the size in UTF-8 bytes: 262,144 four-byte emoji are exactly 1 MiB and pass', async () => {
    const r = await post(d.url, '/queues/q', '😀'.repeat(262_144), { contentType: 'text/plain' });
    expect(r.status).toBe(202);
    expect((await post(d.url, '/queues/q', `${'😀'.repeat(262_144)}x`, { contentType: 'text/plain' })).status).toBe(413);
    await d.daemon.deps.pipeline.idle();
    expect(fake.messages('q').map((m) => Buffer.byteLength(m.body))).toEqual([1_048_576]);
  });

  it('a FIFO send without a group id goes to --fifo-default-group-id', async () => {
    const r = await post(d.url, '/queues/q.fifo', 'message_body=grouped+by+default', { contentType: 'application/x-www-form-urlencoded' });
    expect(r.status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    expect(fake.messages('q.fifo')).toEqual([expect.objectContaining({ body: 'grouped by default', groupId: 'default-group', dedupId: r.json.id })]);
  });

  it('acknowledges before SQS answers: a slow SQS does not slow the ack', async () => {
    expect((await post(d.url, '/queues/slow', 'resolve first', { contentType: 'text/plain' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    fake.latencyMs = 400;
    try {
      const times: number[] = [];
      for (let i = 0; i < 20; i++) {
        const t0 = performance.now();
        expect((await post(d.url, '/queues/slow', `fast-${i}`, { contentType: 'text/plain' })).status).toBe(202);
        times.push(performance.now() - t0);
      }
      times.sort((a, b) => a - b);
      expect(times[10]).toBeLessThan(50); // the median ack, far below SQS's 400 ms
      expect(fake.bodies('slow')).toEqual(['resolve first']); // none had reached SQS yet when all were acked
      await d.daemon.deps.pipeline.idle();
      expect(fake.messageCount('slow')).toBe(21);
    } finally {
      fake.latencyMs = 0;
    }
  });

  it.each(['Application/JSON', 'APPLICATION/JSON; charset=utf-8', 'application/json ; charset=utf-8'])('reads the media type case- and space-insensitively: %j is JSON', async (contentType) => {
    const r = await post(d.url, '/queues/q', '{"body":"parsed","attributes":{"a":"b"}}', { contentType });
    expect(r.status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    expect(fake.messages('q').map((m) => [m.body, m.attributes])).toEqual([['parsed', { a: { DataType: 'String', StringValue: 'b' } }]]);
  });

  it('redirects a browser form (Accept: text/html) back to the queue page with 303', async () => {
    const r = await post(d.url, '/queues/q', 'message_body=from+a+form', { contentType: 'application/x-www-form-urlencoded', headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(r.status).toBe(303);
    expect(r.headers.location).toMatch(/^\/queues\/q\?sent=[a-z0-9-]+$/);
    expect(r.headers['x-message-id']).toBe(String(r.headers.location).split('sent=')[1]);
  });
});
