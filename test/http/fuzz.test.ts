/**
 * A seeded fuzz run against the built daemon in a process of its own (issue 11): a few
 * thousand malformed requests (broken framing, wrong credentials, junk and truncated bodies,
 * huge batches of bad lines, large unauthenticated bodies with browser headers), 16 at a time.
 * The daemon must stay alive, answer none of them with a 500, keep its memory near where it
 * started (measured from /proc), and deliver a normal message afterwards.
 */
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { Pool, WebSocket } from 'undici';
import { freshBuild, NODE } from '../ops/build.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, runBounded } from '../support/daemon.js';
import { type ChildDaemon, spawnDaemon, tempDir, removeDir } from '../support/spool-harness.js';
import { mulberry32 as prng } from '../support/prng.js';

const REQUESTS = 2000;
const MiB = 1_048_576;
/** How near its start the daemon's RSS must come back, after a full collection. */
const BACK_NEAR = 48 * MiB;

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : NaN;
}

/** A full garbage collection in the daemon, through its inspector (HeapProfiler.collectGarbage: V8 collects everything it can and gives back the pages it freed). */
async function collectGarbage(daemon: ChildDaemon): Promise<void> {
  const url = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/.exec(daemon.output())?.[1];
  if (url === undefined) throw new Error(`no inspector URL in the daemon's output:\n${daemon.output().slice(-2000)}`);
  const ws = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no answer from the inspector in 20 s')), 20_000);
      ws.addEventListener('error', () => (clearTimeout(timer), reject(new Error(`inspector ${url}: connection failed`))));
      ws.addEventListener('open', () => ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.collectGarbage' })));
      ws.addEventListener('message', (e) => {
        if ((JSON.parse(String(e.data)) as { id?: number }).id === 1) (clearTimeout(timer), resolve());
      });
    });
  } finally {
    ws.close();
  }
}

let fake: FakeSqs;
let d: ChildDaemon;
let dir: string;

beforeAll(async () => {
  const build = freshBuild();
  fake = await startFakeSqs({ latencyMs: 1, queues: ['fz', 'fz.fifo'] });
  dir = tempDir('fuzz');
  // The inspector on a port of its own (127.0.0.1, port 0), only to ask V8 for a full collection.
  d = await spawnDaemon(NODE, build, ['--endpoint', fake.endpoint, '--spool-dir', dir], { HOME: dir, NODE_OPTIONS: '--inspect=127.0.0.1:0' });
}, 180_000);
afterAll(async () => {
  await d?.kill();
  await fake?.close();
  removeDir(dir);
});

it('a few thousand malformed requests: no 500, alive, memory back near its start, and still delivering', async () => {
  const seed = 20261201;
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
  const junk = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = Math.floor(rand() * 256);
    return b;
  };
  const { port } = new URL(d.url);
  const bigBodies = [4, 8, 16].map((n) => Buffer.alloc(n * MiB, 0x61));
  const pool = new Pool(d.url, { connections: 16, pipelining: 1, bodyTimeout: 30_000, headersTimeout: 30_000 });
  const badAuth = ['Basic', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`, `Basic ${Buffer.from(':').toString('base64')}`, 'Bearer x', `Basic ${Buffer.from('AKID WITH SPACE:x').toString('base64')}`, ''];
  const types = ['application/json', 'application/x-ndjson', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=latin1', ''];
  const paths = ['/queues/fz', '/queues/fz.fifo', '/queues/no-such-queue', '/queues/bad%20name', '/queues/', '/status', '/dead-letters', '/queues', '/%ZZ', '/queues/fz/purge'];

  // Warm up (resolve the queue), then take the starting memory.
  for (let i = 0; i < 20; i++) {
    const r = await pool.request({ path: '/queues/fz', method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: `warm-${i}` });
    await r.body.dump();
    expect(r.statusCode).toBe(202);
  }
  await new Promise((r) => setTimeout(r, 500));
  await collectGarbage(d);
  const startRss = rssBytes(d.child.pid as number);
  let peakRss = startRss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, rssBytes(d.child.pid as number))), 20);

  const statuses = new Map<number | string, number>();
  const note = (k: number | string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);
  // Weighted: the heavy kinds (big batches, big bodies) one in eight each.
  const kinds = ['junk', 'junk', 'truncated', 'truncated', 'badlines', 'unauthBig', 'badAuth', 'badAuth', 'raw', 'fields', 'fields', 'junk', 'truncated', 'raw', 'unauthBig', 'badAuth'] as const;
  const t0 = Date.now();
  await runBounded(REQUESTS, 16, async () => {
    if (Date.now() - t0 > 120_000) return; // bounded in time whatever happens
    const kind = pick(kinds);
    if (kind === 'raw') {
      // Broken framing on a socket of its own.
      await new Promise<void>((resolve) => {
        const s = connect(Number(port), '127.0.0.1', () => {
          s.end(Buffer.concat([Buffer.from(pick(['POST /queues/fz HTTP/1.1\r\n', 'GET / HTTP/1.1\r\nHost: localhost\r\nContent-Length: -1\r\n\r\n', 'PUT /queues/fz HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', ''])), junk(Math.floor(rand() * 2000))]));
        });
        s.setTimeout(5000, () => s.destroy());
        s.on('data', (b: Buffer) => note(Number(/^HTTP\/1\.1 (\d{3})/.exec(b.toString('latin1'))?.[1] ?? 0)));
        s.on('error', () => {});
        s.on('close', () => resolve());
      });
      return;
    }
    const headers: Record<string, string> = {};
    let body: Buffer | string = '';
    let method = 'POST';
    let path = pick(paths);
    if (kind === 'junk') {
      headers.authorization = AUTH;
      headers['content-type'] = pick(types);
      body = junk(Math.floor(rand() * 20_000));
      method = pick(['POST', 'PUT', 'PATCH', 'DELETE', 'GET']);
      if (method === 'DELETE') path = '/queues/no-such-queue'; // a real DELETE of fz would delete it
    } else if (kind === 'truncated') {
      headers.authorization = AUTH;
      headers['content-type'] = pick(['application/json', 'application/x-ndjson']);
      const doc = JSON.stringify(Array.from({ length: 1 + Math.floor(rand() * 50) }, (_, i) => ({ body: `m${i}`, attributes: { a: { DataType: 'String', StringValue: 'v' } }, delaySeconds: Math.floor(rand() * 2000) - 500 })));
      body = doc.slice(0, Math.floor(rand() * doc.length));
    } else if (kind === 'badlines') {
      // Many bad lines in one NDJSON batch: the reply must stay bounded, the daemon responsive.
      headers.authorization = AUTH;
      headers['content-type'] = 'application/x-ndjson';
      path = '/queues/fz';
      const n = 1000 + Math.floor(rand() * 10_000);
      body = Array.from({ length: n }, (_, i) => pick(['{', '[]', '{"body":1}', '{"bodyx":"a"}', `{"body":"ok-${i}","delaySeconds":9999}`, 'null', '"\\ud800"'])).join('\n');
    } else if (kind === 'unauthBig') {
      // A local process dressed as a browser, without credentials, with a large body.
      if (rand() < 0.5) headers.authorization = `Basic ${Buffer.from(`AKIDFUZZ:${'x'.repeat(8)}`).toString('base64')}`;
      headers.origin = `http://127.0.0.1:${port}`;
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = bigBodies[Math.floor(rand() * bigBodies.length)] as Buffer;
      path = pick(['/queues/fz', '/queues', '/delete-queues']);
    } else if (kind === 'badAuth') {
      const a = pick(badAuth);
      if (a !== '') headers.authorization = a;
      headers['content-type'] = 'text/plain';
      body = junk(Math.floor(rand() * 5000));
    } else {
      headers.authorization = AUTH;
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ body: 'x', [pick(['attributes', 'delaySeconds', 'groupId', 'dedupId', 'unknown'])]: pick([null, -1, 'x'.repeat(300), { a: { DataType: 'Binary', BinaryValue: '!!' } }, [1, 2], 1e400]) });
    }
    try {
      const res = await pool.request({ path, method, headers, body: method === 'GET' ? null : body });
      await res.body.dump();
      note(res.statusCode);
    } catch (err) {
      note((err as { code?: string }).code ?? 'error');
    }
  });
  clearInterval(sampler);
  const total = [...statuses.values()].reduce((a, b) => a + b, 0);
  const mb = (n: number) => Math.round(n / MiB);
  process.stdout.write(`fuzz seed ${seed}: ${total} requests in ${Date.now() - t0} ms; RSS start ${mb(startRss)} MiB, peak ${mb(peakRss)} MiB; ${JSON.stringify([...statuses])}\n`);
  expect(total).toBeGreaterThan(REQUESTS * 0.9);
  expect([...statuses.keys()].filter((s) => typeof s === 'number' && s >= 500 && s !== 501 && s !== 503)).toEqual([]);

  // Alive, memory back near its start, and delivering. What the load left alive is read after a
  // full collection (V8 otherwise keeps the heap it grew, garbage included, until its memory
  // reducer runs on an idle loop: 10-40 s, or not at all, measured 2026-12-02), as at the start.
  expect(d.child.exitCode).toBeNull();
  await new Promise((r) => setTimeout(r, 500));
  await collectGarbage(d);
  const endRss = rssBytes(d.child.pid as number);
  const ok = await pool.request({ path: '/queues/fz', method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: 'after the fuzz' });
  await ok.body.dump();
  expect(ok.statusCode).toBe(202);
  await fake.waitFor(() => fake.bodies('fz').includes('after the fuzz'), 10_000);
  await pool.destroy();
  process.stdout.write(`fuzz: RSS at the end ${mb(endRss)} MiB, after a full collection\n`);
  expect(peakRss - startRss).toBeLessThan(120 * MiB);
  expect(endRss - startRss).toBeLessThan(BACK_NEAR);
}, 240_000);
