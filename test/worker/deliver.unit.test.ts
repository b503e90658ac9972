/**
 * AppClient, the worker's POST to the local app (undici's dispatch with a handler of its own),
 * against a real node:http server on 127.0.0.1: each kind of answer becomes the right outcome.
 */
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppClient, MAX_APP_BODY_BYTES } from '../../src/worker/deliver.js';
import type { ReceivedMessage } from '../../src/sqs/consume.js';

let server: Server;
let url: string;
let handle: (body: string, res: ServerResponse) => void = (_b, res) => res.writeHead(200).end();
const clients: AppClient[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(Buffer.concat(chunks).toString('utf8'), res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/work`;
});
afterAll(async () => {
  for (const c of clients) await c.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const msg: ReceivedMessage = { messageId: 'm-1', receiptHandle: 'h-1', body: 'héllo ✓', attributes: {}, system: {}, receiveCount: 1, firstReceivedAt: 0 };
function client(timeoutMs = 5000, at = url): AppClient {
  const c = new AppClient(at, 4, timeoutMs);
  clients.push(c);
  return c;
}

it('2xx: the body (several writes, UTF-8) and the X-Reply-Attr-* headers', async () => {
  let got = '';
  handle = (body, res) => {
    got = body;
    res.writeHead(201, { 'x-reply-attr-status': 'done', 'x-other': 'no' });
    res.write('part one, ');
    res.end('part two ✓');
  };
  const out = await client().post(msg, 'q', 'application/json');
  expect(got).toBe('héllo ✓');
  expect(out).toMatchObject({ kind: 'ok', status: 201, body: 'part one, part two ✓', replyAttributes: { status: 'done' } });
});

it('429 with Retry-After is busy, with the pause in ms', async () => {
  handle = (_b, res) => res.writeHead(429, { 'retry-after': '3' }).end('slow down');
  expect(await client().post(msg, 'q', 'application/json')).toMatchObject({ kind: 'busy', status: 429, retryAfterMs: 3000 });
});

it('500 with a large body is a failure named by its status, and the next POST still works', async () => {
  handle = (_b, res) => res.writeHead(500).end('x'.repeat(200_000));
  const c = client();
  expect(await c.post(msg, 'q', 'application/json')).toMatchObject({ kind: 'failed', code: 'Http500' });
  handle = (_b, res) => res.writeHead(200).end('fine');
  expect(await c.post(msg, 'q', 'application/json')).toMatchObject({ kind: 'ok', body: 'fine' });
});

it('a 2xx body over the limit fails with AppBodyTooLarge instead of being held', async () => {
  handle = (_b, res) => res.writeHead(200).end('y'.repeat(MAX_APP_BODY_BYTES + 1));
  expect(await client().post(msg, 'q', 'application/json')).toMatchObject({ kind: 'failed', code: 'AppBodyTooLarge' });
});

it('no answer within the inactivity timeout is AppTimeout; nothing listening is AppRefused', async () => {
  handle = () => undefined; // never answers
  expect(await client(300).post(msg, 'q', 'application/json')).toMatchObject({ kind: 'failed', code: 'AppTimeout' });
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  expect(await client(1000, `http://127.0.0.1:${port}/work`).post(msg, 'q', 'application/json')).toMatchObject({ kind: 'failed', code: 'AppRefused' });
});

it('abortAll ends every POST in flight as Aborted', async () => {
  handle = () => undefined;
  const c = client();
  const pending = [c.post(msg, 'q', 'application/json'), c.post(msg, 'q', 'application/json')];
  await new Promise((r) => setTimeout(r, 100));
  expect(c.active).toBe(2);
  c.abortAll();
  for (const out of await Promise.all(pending)) expect(out).toMatchObject({ kind: 'failed', code: 'Aborted' });
  expect(c.active).toBe(0);
});
