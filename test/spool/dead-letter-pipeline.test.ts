/**
 * Dead letters through the whole daemon: messages SQS refuses for good (queue deleted) and
 * messages too old to keep trying (SQS down past --max-message-age-ms) land in
 * <spool>/dead-letters with the reason, attempts and times, are visible in /status, and are
 * not sent again after a restart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import type { DeadLetterFile } from '../../src/spool/dead-letters.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AKID, AUTH, post, postJson, SECRET, type TestDaemon, until } from '../support/daemon.js';
import { removeDir, startSpoolDaemon, tempDir } from '../support/spool-harness.js';

let fake: FakeSqs;
let dir: string;
const running: TestDaemon[] = [];

beforeEach(async () => {
  fake = await startFakeSqs({ latencyMs: 1, queues: ['doomed', 'slow'] });
  dir = tempDir('dl-pipeline');
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  await fake.close();
  removeDir(dir);
});

const letters = (): DeadLetterFile[] =>
  readdirSync(join(dir, 'dead-letters'))
    .filter((n) => n.endsWith('.json'))
    .sort()
    .map((n) => JSON.parse(readFileSync(join(dir, 'dead-letters', n), 'utf8')) as DeadLetterFile);

it('a queue deleted after the first send: the next messages are dead-lettered with QueueDoesNotExist, attempts and times', async () => {
  const t0 = Date.now();
  const d = await startSpoolDaemon(fake.endpoint, dir, ['--shutdown-grace-ms', '0']);
  running.push(d);
  expect((await post(d.url, '/queues/doomed', 'first', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.messageCount('doomed') === 1, 5000);
  fake.deleteQueue('doomed');
  // The queue URL is cached: these are acked, then refused by SQS for good.
  const sent = await postJson(d.url, '/queues/doomed', [
    { body: 'second', attributes: { kind: 'x' } },
    { body: 'third', delaySeconds: 2 },
  ]);
  expect(sent.status).toBe(202);
  const ids = (sent.json.results as Array<{ id: string }>).map((r) => r.id);
  await until(() => d.daemon.deps.store.info().deadLetters === 2, 5000, 'two dead letters');
  const found = letters();
  expect(found.map((l) => l.id).sort()).toEqual([...ids].sort());
  for (const l of found) {
    expect(l).toMatchObject({ queueName: 'doomed', code: 'QueueDoesNotExist', accessKeyId: AKID, attempts: 1, credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
    expect(l.reason).toEqual(expect.any(String));
    expect(l.firstAttemptAt).toBeGreaterThanOrEqual(l.acceptedAt);
    expect(l.lastAttemptAt).toBeGreaterThanOrEqual(l.firstAttemptAt as number);
    expect(l.deadAt).toBeGreaterThanOrEqual(l.lastAttemptAt as number);
  }
  expect(found.find((l) => l.body === 'second')?.attributes).toEqual({ kind: { DataType: 'String', StringValue: 'x' } });
  expect(found.find((l) => l.body === 'third')?.delaySeconds).toBe(2);
  expect(d.logs.find('dead-lettered')[0]).toMatchObject({ level: 'warn', queue: 'doomed', code: 'QueueDoesNotExist', count: 2 });
  // The cache was dropped: the next send learns at once that the queue is gone.
  expect((await post(d.url, '/queues/doomed', 'fourth', { contentType: 'text/plain' })).status).toBe(404);

  // Visible as JSON on /status, without the secret.
  const res = await request(`${d.url}/status`, { headers: { authorization: AUTH, accept: 'application/json' } });
  const text = await res.body.text();
  expect(res.statusCode).toBe(200);
  const status = JSON.parse(text) as { deadLetters: { total: number; items: Array<{ id: string; code: string }> } };
  expect(status.deadLetters.total).toBe(2);
  expect(status.deadLetters.items.map((i) => i.code)).toEqual(['QueueDoesNotExist', 'QueueDoesNotExist']);
  expect(text).not.toContain(SECRET);

  // Finished: a restart does not send them again, and the letters stay.
  running.splice(0);
  await d.stop();
  fake.createQueue('doomed');
  const again = await startSpoolDaemon(fake.endpoint, dir);
  running.push(again);
  expect(again.daemon.deps.store.info()).toMatchObject({ recovered: 0, deadLetters: 2 });
  await new Promise((r) => setTimeout(r, 200));
  expect(fake.messageCount('doomed')).toBe(0);
  console.log(`dead letters (queue deleted): 2 letters with QueueDoesNotExist, ${Date.now() - t0} ms`);
});

it('SQS down past --max-message-age-ms: dead-lettered with MaxAgeExceeded, the last error kept in the reason', async () => {
  const t0 = Date.now();
  const d = await startSpoolDaemon(fake.endpoint, dir, ['--max-message-age-ms', '300', '--retry-base-ms', '20', '--retry-max-ms', '50', '--shutdown-grace-ms', '0']);
  running.push(d);
  expect((await post(d.url, '/queues/slow', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.messageCount('slow') === 1, 5000);
  fake.down = true;
  const sent = await postJson(d.url, '/queues/slow', ['old-1', 'old-2', 'old-3']);
  expect(sent.status).toBe(202);
  await until(() => d.daemon.deps.store.info().deadLetters === 3, 5000, 'three dead letters');
  const found = letters();
  expect(found.map((l) => l.body).sort()).toEqual(['old-1', 'old-2', 'old-3']);
  for (const l of found) {
    expect(l.code).toBe('MaxAgeExceeded');
    expect(l.reason).toMatch(/undelivered after 300 ms; last error ServiceUnavailable/);
    expect(l.attempts).toBeGreaterThan(1);
    expect((l.lastAttemptAt as number) - l.acceptedAt).toBeGreaterThan(300);
  }
  expect(d.daemon.deps.pipeline.backlogMessages).toBe(0);
  // They stay dead when SQS is back.
  fake.down = false;
  await new Promise((r) => setTimeout(r, 200));
  expect(fake.bodies('slow')).toEqual(['resolve']);
  console.log(`dead letters (max age): 3 letters with MaxAgeExceeded after ${found[0]?.attempts} attempts, ${Date.now() - t0} ms`);
});
