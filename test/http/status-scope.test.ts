/**
 * /status in pass-through mode shows a caller only the queues (names and counters) it sent to
 * with its own key pair, and pages them (issue 11, items 5 and 7): any key pair SQS accepted
 * saw every queue's name and counters, and the JSON reached 1.12 MB.
 */
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, startTestDaemon, type TestDaemon } from '../support/daemon.js';

const ALICE_QUEUES = Array.from({ length: 150 }, (_, i) => `alice-${String(i).padStart(3, '0')}`);
let fake: FakeSqs;
let d: TestDaemon;

const basic = (akid: string) => `Basic ${Buffer.from(`${akid}:secret-of-${akid}`).toString('base64')}`;

async function status(akid: string, query = '', html = false): Promise<{ status: number; text: string; json: any }> {
  const res = await request(`${d.url}/status${query}`, { headers: { authorization: basic(akid), accept: html ? 'text/html' : 'application/json' } });
  const text = await res.body.text();
  return { status: res.statusCode, text, json: html ? undefined : JSON.parse(text) };
}

beforeAll(async () => {
  fake = await startFakeSqs({ latencyMs: 0, queues: [...ALICE_QUEUES, 'bob-private'] });
  d = await startTestDaemon(fake.endpoint);
  for (const q of ALICE_QUEUES) expect((await post(d.url, `/queues/${q}`, 'hi', { contentType: 'text/plain', headers: { authorization: basic('AKIDALICE') } })).status).toBe(202);
  expect((await post(d.url, '/queues/bob-private', 'psst', { contentType: 'text/plain', headers: { authorization: basic('AKIDBOB') } })).status).toBe(202);
  await d.daemon.deps.pipeline.idle();
}, 60_000);
afterAll(async () => {
  await d.stop();
  await fake.close();
});

it('a caller sees only the queues it sent to with its own credentials', async () => {
  const bob = await status('AKIDBOB');
  expect(bob.status).toBe(200);
  expect(bob.json.queues).toEqual([{ name: 'bob-private', accepted: 1, sent: 1, retried: 0, deadLettered: 0, md5Mismatch: 0, backlog: 0, inFlight: 0 }]);
  expect(bob.json.queuesPage).toEqual({ scope: 'yours', total: 1, offset: 0, limit: 100 });
  expect(bob.text).not.toContain('alice-');
  const stranger = await status('AKIDNOBODY', '', true);
  expect(stranger.text).not.toContain('alice-');
  expect(stranger.text).not.toContain('bob-private');
  expect(stranger.text).toContain('Nothing accepted lately.');
});

it('pages the queue table: 100 per page, sorted by name, q_offset for the next', async () => {
  const first = await status('AKIDALICE');
  expect(first.json.queuesPage).toEqual({ scope: 'yours', total: 150, offset: 0, limit: 100 });
  expect(first.json.queues.map((x: { name: string }) => x.name)).toEqual(ALICE_QUEUES.slice(0, 100));
  const second = await status('AKIDALICE', '?q_offset=100');
  expect(second.json.queues.map((x: { name: string }) => x.name)).toEqual(ALICE_QUEUES.slice(100));
  expect(second.text).not.toContain('bob-private');
  const page = await status('AKIDALICE', '', true);
  expect(page.text).toContain('150 queues; showing 1–100.');
  expect(page.text).toContain('href="/status?q_offset=100"');
  expect((await status('AKIDALICE', '?q_offset=-5')).status).toBe(400);
});
