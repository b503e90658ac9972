/**
 * AppPool, the worker's lean HTTP/1.1 client (src/worker/app-client.ts), against real servers on
 * 127.0.0.1: node:http for ordinary answers, raw net servers for the odd ones (chunked bodies
 * split anywhere, trailers, 1xx, answers cut short, malformed or oversized heads, slow answers,
 * sockets closed while idle).
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { type AppAnswer, type AppFailure, AppPool, type AppPoolOptions, type StreamBody } from '../../src/worker/app-client.js';
import { AppClient } from '../../src/worker/deliver.js';
import type { ReceivedMessage } from '../../src/sqs/consume.js';

const servers: Array<Server | NetServer> = [];
const pools: AppPool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) await p.destroy();
  for (const s of servers.splice(0)) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen<T extends Server | NetServer>(s: T): Promise<URL> {
  servers.push(s);
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  return new URL(`http://127.0.0.1:${(s.address() as AddressInfo).port}/work?x=1`);
}

/** A node:http app; `seen` has each request's method, url, headers and body; `sockets` each connection. */
async function httpApp(handle: (req: IncomingMessage, body: string, res: ServerResponse) => void): Promise<{ url: URL; seen: Array<{ url: string | undefined; headers: IncomingMessage['headers']; body: string }>; sockets: Set<Socket> }> {
  const seen: Array<{ url: string | undefined; headers: IncomingMessage['headers']; body: string }> = [];
  const sockets = new Set<Socket>();
  const s = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ url: req.url, headers: req.headers, body });
      handle(req, body, res);
    });
  });
  s.on('connection', (c: Socket) => sockets.add(c));
  return { url: await listen(s), seen, sockets };
}

/** A raw app: `onRequest(socket, n)` is called once per complete request head+body (Content-Length bodies), n counting from 1 over all sockets. */
async function rawApp(onRequest: (socket: Socket, n: number, connection: number) => void): Promise<{ url: URL; connections: () => number; requests: () => number }> {
  let requests = 0;
  let connections = 0;
  const s = createNetServer((socket) => {
    const connection = ++connections;
    let buf = Buffer.alloc(0);
    socket.on('error', () => undefined);
    socket.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buf.toString('latin1', 0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.subarray(end + 4 + length);
        onRequest(socket, ++requests, connection);
      }
    });
  });
  return { url: await listen(s), connections: () => connections, requests: () => requests };
}

function pool(url: URL, o: Partial<AppPoolOptions> = {}): AppPool {
  const p = new AppPool(url, { connections: 4, timeoutMs: 5000, maxBodyBytes: 1000, maxDiscardBytes: 100, ...o });
  pools.push(p);
  return p;
}

type Result = { failure: AppFailure | undefined; answer: AppAnswer | undefined };
function post(p: AppPool, body: string | StreamBody = 'hello ✓', lines = 'x-test: 1\r\n'): Promise<Result> {
  return new Promise((resolve) => p.post(lines, body, (failure, answer) => resolve({ failure, answer })));
}

/** Writes `text` to the socket in pieces of `size` bytes, 2 ms apart (so the client sees them as separate reads). */
async function trickle(socket: Socket, text: string, size: number): Promise<void> {
  const b = Buffer.from(text, 'latin1');
  for (let i = 0; i < b.length; i += size) {
    socket.write(b.subarray(i, i + size));
    await new Promise((r) => setTimeout(r, 2));
  }
}

it('sends the head, headers and UTF-8 body in order, and reuses one keep-alive socket', async () => {
  const app = await httpApp((_req, _body, res) => res.writeHead(200, { 'x-reply-attr-a': 'b' }).end('ok ✓'));
  const p = pool(app.url);
  const first = await post(p);
  const second = await post(p, 'second');
  expect(first.failure).toBeUndefined();
  expect(first.answer?.status).toBe(200);
  expect(first.answer?.headers['x-reply-attr-a']).toBe('b');
  expect(first.answer?.body?.toString('utf8')).toBe('ok ✓');
  expect(second.answer?.status).toBe(200);
  expect(app.seen.map((s) => s.body)).toEqual(['hello ✓', 'second']);
  expect(app.seen[0]?.url).toBe('/work?x=1');
  expect(app.seen[0]?.headers).toMatchObject({ host: app.url.host, 'x-test': '1', 'content-length': String(Buffer.byteLength('hello ✓')) });
  expect(app.sockets.size).toBe(1);
});

it('reads a chunked body split at every byte, with chunk extensions and trailers, and keeps the socket', async () => {
  const app = await rawApp((socket, n) => {
    const text = 'HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\nX-Reply-Attr-K: v\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\n';
    void trickle(socket, n === 1 ? text : 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok', n === 1 ? 1 : 1000);
  });
  const p = pool(app.url);
  const r = await post(p);
  expect(r.failure).toBeUndefined();
  expect(r.answer).toMatchObject({ status: 201, headers: { 'x-reply-attr-k': 'v' } });
  expect(r.answer?.body?.toString()).toBe('hello, world');
  expect((await post(p)).answer?.body?.toString()).toBe('ok');
  expect(app.connections()).toBe(1);
});

it('skips 100 Continue; 204 and 304 have no body even with a Content-Length; the socket stays usable', async () => {
  const answers = [
    'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nyes',
    'HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n',
    'HTTP/1.1 304 Not Modified\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nlast',
  ];
  const app = await rawApp((socket, n) => socket.write(answers[n - 1] as string));
  const p = pool(app.url);
  const got: Array<[number | undefined, string | undefined]> = [];
  for (let i = 0; i < answers.length; i++) {
    const r = await post(p);
    expect(r.failure).toBeUndefined();
    got.push([r.answer?.status, r.answer?.body?.toString()]);
  }
  expect(got).toEqual([[200, 'yes'], [204, ''], [304, undefined], [200, 'last']]);
  expect(app.connections()).toBe(1);
});

it('Connection: close and a body that ends with the socket: read, and the next POST opens a new socket', async () => {
  const app = await rawApp((socket, n) => {
    if (n === 1) socket.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nc1');
    else if (n === 2) socket.end('HTTP/1.1 200 OK\r\n\r\nuntil the end');
    else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nc3');
  });
  const p = pool(app.url);
  expect((await post(p)).answer?.body?.toString()).toBe('c1');
  expect((await post(p)).answer?.body?.toString()).toBe('until the end');
  expect((await post(p)).answer?.body?.toString()).toBe('c3');
  expect(app.connections()).toBe(3);
});

it('a reused socket the app closed without answering: the POST is sent once more on a new socket; a new socket closed is a failure, not resent', async () => {
  const app = await rawApp((socket, n) => {
    if (n === 2) socket.destroy(); // the app's idle timeout, just as the POST arrived
    else socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nr${n}`);
  });
  const p = pool(app.url);
  expect((await post(p)).answer?.body?.toString()).toBe('r1');
  const retried = await post(p);
  expect(retried.failure).toBeUndefined();
  expect(retried.answer?.body?.toString()).toBe('r3');
  expect([app.requests(), app.connections()]).toEqual([3, 2]);

  const once = await rawApp((socket) => socket.destroy());
  const fresh = await post(pool(once.url));
  expect(fresh.failure?.code).toBe('AppConnectionClosed');
  expect(fresh.failure?.message).toMatch(/before answering/);
  expect(once.requests()).toBe(1);
});

it('a socket the app closed while idle is dropped; the next POST goes on a new one', async () => {
  const app = await rawApp((socket, n) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\ni${n}`);
    if (n === 1) setTimeout(() => socket.end(), 20);
  });
  const p = pool(app.url);
  expect((await post(p)).answer?.body?.toString()).toBe('i1');
  await new Promise((r) => setTimeout(r, 100));
  expect((await post(p)).answer?.body?.toString()).toBe('i2');
  expect([app.requests(), app.connections()]).toEqual([2, 2]);
});

it('an answer cut off in its body is AppConnectionClosed, and is not sent again', async () => {
  const app = await rawApp((socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part'));
  const r = await post(pool(app.url));
  expect(r.failure?.code).toBe('AppConnectionClosed');
  expect(r.failure?.message).toMatch(/middle of its answer/);
  expect(app.requests()).toBe(1);
});

it.each([
  ['a status line that is not HTTP', 'AppBadResponse', 'HTCPCP/1.0 418 teapot\r\n\r\n'],
  ['a header line without a colon', 'AppBadResponse', 'HTTP/1.1 200 OK\r\nno colon here\r\n\r\n'],
  ['a bad Content-Length', 'AppBadResponse', 'HTTP/1.1 200 OK\r\nContent-Length: 12abc\r\n\r\n'],
  ['conflicting Content-Lengths', 'AppBadResponse', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc'],
  ['a bad chunk size', 'AppBadResponse', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ['a head over 16 KiB', 'AppHeadersTooLarge', `HTTP/1.1 200 OK\r\nX-Big: ${'b'.repeat(17_000)}\r\n\r\n`],
  ['trailers over 16 KiB', 'AppHeadersTooLarge', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-T: ${'t'.repeat(17_000)}\r\n\r\n`],
  ['a 2xx body over the bound', 'AppBodyTooLarge', `HTTP/1.1 200 OK\r\nContent-Length: 1001\r\n\r\n${'y'.repeat(1001)}`],
  ['a chunked 2xx body over the bound', 'AppBodyTooLarge', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n${'y'.repeat(1000)}\r\n1\r\ny\r\n0\r\n\r\n`],
])('%s is a failure: %s', async (_what, code, answer) => {
  const app = await rawApp((socket) => socket.write(answer));
  const p = pool(app.url);
  const r = await post(p);
  expect(r.answer).toBeUndefined();
  expect(r.failure?.code).toBe(code);
  expect(r.failure?.message.length).toBeGreaterThan(10);
});

it('a non-2xx answer keeps its status whatever its body: drained when small, the socket given up when large', async () => {
  const app = await rawApp((socket, n) => {
    if (n === 1) socket.write('HTTP/1.1 500 Oops\r\nContent-Length: 10\r\n\r\n0123456789');
    else if (n === 2) socket.write(`HTTP/1.1 503 Busy\r\nRetry-After: 2\r\nContent-Length: 5000\r\n\r\n${'e'.repeat(5000)}`);
    else socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
  });
  const p = pool(app.url);
  expect((await post(p)).answer).toEqual({ status: 500, headers: expect.any(Object), body: undefined });
  const busy = await post(p);
  expect(busy.answer?.status).toBe(503);
  expect(busy.answer?.headers['retry-after']).toBe('2');
  expect((await post(p)).answer?.status).toBe(200);
  expect(app.connections()).toBe(2); // the 503's socket was closed mid-body
});

it('no answer within the timeout is AppTimeout; a slow but steady answer is not; nothing listening is AppRefused', async () => {
  const app = await rawApp((socket, n) => {
    if (n === 1) return; // never answers
    void trickle(socket, `HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n${'s'.repeat(30)}`, 1); // ~2 ms a byte, ~150 ms in all
  });
  const p = pool(app.url, { timeoutMs: 120 });
  const t0 = Date.now();
  const r = await post(p);
  expect(r.failure?.code).toBe('AppTimeout');
  expect(Date.now() - t0).toBeGreaterThanOrEqual(110);
  expect((await post(p)).answer?.body?.toString()).toBe('s'.repeat(30));

  const closed = createNetServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r2) => closed.close(r2));
  expect((await post(pool(new URL(`http://127.0.0.1:${port}/`)))).failure?.code).toBe('AppRefused');
});

it('at most `connections` sockets; requests beyond wait their turn and all get answers', async () => {
  let open = 0;
  let most = 0;
  const app = await httpApp((_req, body, res) => setTimeout(() => res.writeHead(200).end(`re ${body}`), 20));
  const http = servers[servers.length - 1] as Server;
  http.on('connection', (s: Socket) => {
    most = Math.max(most, ++open);
    s.on('close', () => { open -= 1; });
  });
  const p = pool(app.url, { connections: 2 });
  const out = await Promise.all(Array.from({ length: 7 }, (_, i) => post(p, `m${i}`)));
  expect(out.map((r) => r.answer?.body?.toString())).toEqual(Array.from({ length: 7 }, (_, i) => `re m${i}`));
  expect(most).toBe(2);
});

it('streams a body: with its length, or chunked when it is unknown; a short stream fails', async () => {
  const app = await httpApp((_req, body, res) => res.writeHead(200).end(`${body.length}`));
  const p = pool(app.url);
  const known = await post(p, { stream: Readable.from([Buffer.from('abc'), Buffer.from('defg')]), bytes: 7 });
  expect(known.answer?.body?.toString()).toBe('7');
  expect(app.seen[0]?.headers['content-length']).toBe('7');
  const unknown = await post(p, { stream: Readable.from([Buffer.from('x'.repeat(70_000))]), bytes: -1 });
  expect(unknown.answer?.body?.toString()).toBe('70000');
  expect(app.seen[1]?.headers['transfer-encoding']).toBe('chunked');
  const short = await post(p, { stream: Readable.from([Buffer.from('ab')]), bytes: 5 });
  expect(short.failure?.code).toBe('AppBodyMismatch');
});

it('abortAll ends what is in flight and what waits as Aborted; after destroy, POSTs are refused at once', async () => {
  const app = await rawApp(() => undefined); // never answers
  const p = pool(app.url, { connections: 1 });
  const pending = [post(p), post(p)];
  await new Promise((r) => setTimeout(r, 50));
  expect(p.active).toBe(2);
  p.abortAll();
  expect((await Promise.all(pending)).map((r) => r.failure?.code)).toEqual(['Aborted', 'Aborted']);
  expect(p.active).toBe(0);
  await p.destroy();
  expect((await post(p)).failure?.code).toBe('Aborted');
});

it('the worker\'s AppClient refuses a message whose header would carry CR/LF instead of sending it', async () => {
  const app = await httpApp((_req, _body, res) => res.writeHead(200).end());
  const c = new AppClient(app.url.href, 2, 5000);
  const msg: ReceivedMessage = { messageId: 'id\r\nx-forged: yes', receiptHandle: 'h', body: 'b', attributes: {}, system: {}, receiveCount: 1, firstReceivedAt: 0 };
  try {
    expect(await c.post(msg, 'q', 'text/plain')).toMatchObject({ kind: 'failed', code: 'UnsendableHeader' });
    expect(app.seen).toHaveLength(0);
    expect(await c.post({ ...msg, messageId: 'fine' }, 'q', 'text/plain')).toMatchObject({ kind: 'ok', status: 200 });
    expect(app.seen[0]?.headers).toMatchObject({ 'x-aws-sqsd-msgid': 'fine', 'x-aws-sqsd-queue': 'q', 'content-type': 'text/plain' });
  } finally {
    await c.destroy();
  }
});
