/**
 * A burst of garbage: random bytes, broken HTTP, truncated JSON, huge headers, wrong methods,
 * aborted uploads (also while a queue is still being resolved). The daemon must answer each with
 * a 4xx or drop it, never a 500, and deliver normally afterwards.
 */
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, post, runBounded, startTestDaemon, type TestDaemon } from '../support/daemon.js';

let fake: FakeSqs;
let d: TestDaemon;
let port: number;

beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['g', 'late1', 'late2', 'late3'] });
  d = await startTestDaemon(fake.endpoint);
  port = Number(new URL(d.url).port);
});

afterAll(async () => {
  await d?.stop();
  await fake?.close();
});

/** Writes raw bytes, optionally hangs up after `hangUpMs`; resolves with the status code answered (0: none). */
function raw(data: Buffer | string, hangUpMs?: number): Promise<number> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => {
      s.write(data);
      if (hangUpMs !== undefined) setTimeout(() => s.destroy(), hangUpMs);
      else s.end();
    });
    s.setTimeout(5000, () => s.destroy());
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', () => {});
    s.on('close', () => {
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(Buffer.concat(chunks).toString('latin1'));
      resolve(m ? Number(m[1]) : 0);
    });
  });
}

const head = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${AUTH}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

it('survives a burst of garbage and still delivers', async () => {
  const statuses: number[] = [];
  const jobs: Array<() => Promise<number>> = [];
  // Random bytes, and random bytes after a valid request line.
  for (let i = 0; i < 40; i++) jobs.push(() => raw(randomBytes(1 + (i * 97) % 4000)));
  for (let i = 0; i < 10; i++) jobs.push(() => raw(Buffer.concat([Buffer.from('POST /queues/g HTTP/1.1\r\n'), randomBytes(500)])));
  // Broken HTTP: bad request lines, bad header lines, a lying chunked encoding, HTTP/0.9.
  for (const s of [
    'GARBAGE\r\n\r\n',
    'GET\r\n\r\n',
    'GET / HTTP/9.9\r\n\r\n',
    'GET /\r\n',
    'POST /queues/g HTTP/1.1\r\nHost: 127.0.0.1\r\nno colon here\r\n\r\n',
    `${head('POST', '/queues/g', { 'Transfer-Encoding': 'chunked', 'Content-Type': 'text/plain' })}zz\r\nnot hex\r\n0\r\n\r\n`,
    `${head('POST', '/queues/g', { 'Content-Length': 'abc' })}x`,
    `${head('POST', '/queues/g', { 'Content-Length': 3, 'Transfer-Encoding': 'chunked' })}abc`,
  ]) jobs.push(() => raw(s));
  // Huge headers: one huge value, and very many.
  jobs.push(() => raw(head('POST', '/queues/g', { 'X-Big': 'a'.repeat(100_000), 'Content-Length': 0 })));
  jobs.push(() => raw(head('POST', '/queues/g', Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`X-H${i}`, 'v'])))));
  // Truncated JSON and other bad bodies, with honest lengths: clean 400s.
  const doc = JSON.stringify({ body: 'x', attributes: { a: { DataType: 'String', StringValue: 'v' } } });
  for (let cut = 1; cut < doc.length; cut += 7) {
    jobs.push(async () => (await post(d.url, '/queues/g', doc.slice(0, cut), { contentType: 'application/json' })).status);
    jobs.push(async () => (await post(d.url, '/queues/g', doc.slice(0, cut), { contentType: 'application/x-ndjson' })).status);
  }
  // Wrong methods and paths (without credentials: with them, DELETE /queues/g is a real request).
  for (const method of ['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND']) {
    for (const path of ['/queues/g', '/queues/', '/queues/g/extra', '/%ZZ', '/queues/%FF%FE']) {
      jobs.push(async () => {
        const res = await request(`${d.url}${path}`, { method });
        await res.body.dump();
        return res.statusCode;
      });
    }
  }
  // Aborted uploads: the body never completes.
  for (let i = 0; i < 20; i++) jobs.push(() => raw(`${head('POST', '/queues/g', { 'Content-Length': 100_000, 'Content-Type': 'text/plain' })}partial`, 10 + (i % 5) * 10));
  for (let i = 0; i < 5; i++) jobs.push(() => raw(`${head('POST', '/queues/g', { 'Transfer-Encoding': 'chunked', 'Content-Type': 'text/plain' })}5\r\nhello\r\n`, 20));
  // Headers never finished.
  for (let i = 0; i < 5; i++) jobs.push(() => raw('POST /queues/g HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le', 30));

  await runBounded(jobs.length, 20, async (i) => {
    statuses.push(await (jobs[i] as () => Promise<number>)());
  });

  // Aborted uploads while the first send to a queue waits on GetQueueUrl (slow SQS).
  fake.latencyMs = 150;
  const aborted = ['late1', 'late2', 'late3'].map((q) => raw(`${head('POST', `/queues/${q}`, { 'Content-Length': 1000, 'Content-Type': 'text/plain' })}part`, 30));
  statuses.push(...(await Promise.all(aborted)));
  fake.latencyMs = 0;

  expect(statuses.length).toBeGreaterThan(150);
  expect(statuses.filter((s) => s >= 500 && s !== 501)).toEqual([]); // 501: methods nobody implements
  expect(statuses.filter((s) => s === 202)).toEqual([]);
  expect(d.logs.find('unexpected error')).toEqual([]);

  // Still alive and delivering, on a queue it knew and on one it resolved during the burst.
  const ok = await runBounded(100, 10, async (i) => (await post(d.url, i % 2 ? '/queues/g' : '/queues/late1', `after-${i}`, { contentType: 'text/plain' })).status);
  expect(ok.filter((s) => s !== 202)).toEqual([]);
  await d.daemon.deps.pipeline.idle();
  expect(fake.bodies('g').sort()).toEqual(Array.from({ length: 50 }, (_, i) => `after-${2 * i + 1}`).sort());
  expect(fake.messageCount('late1')).toBe(50);
  expect(d.daemon.deps.pipeline.backlogMessages).toBe(0);
});
