/**
 * Client errors on the daemon's HTTP server (src/http/server.ts): connections past their header
 * timeout are answered 408 and closed in slices, not all in the one task of Node's periodic
 * check (1,000 slow-header connections timing out together held the loop ~180 ms, issue 11);
 * the bytes on the wire are Node's own, for the timeout and for every other client error,
 * compared here with a plain node:http server given the same requests. ~1 s.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';

const limits = { maxConnections: 1000, headersTimeoutMs: 300, clientRequestTimeoutMs: 600, keepAliveTimeoutMs: 5000 };
let ours: Server;
let plain: Server;
let served = 0;

const listen = (s: Server): Promise<number> => new Promise((r) => s.listen(0, '127.0.0.1', () => r((s.address() as { port: number }).port)));
let oursPort: number;
let plainPort: number;

beforeAll(async () => {
  const handler = (_req: unknown, res: { end: (s: string) => void }): void => {
    served += 1;
    res.end('ok');
  };
  ours = createHttpServer(handler as never, limits, createLogger('silent'));
  plain = createServer({ headersTimeout: limits.headersTimeoutMs, requestTimeout: limits.clientRequestTimeoutMs, connectionsCheckingInterval: 75 }, handler as never);
  [oursPort, plainPort] = [await listen(ours), await listen(plain)];
});
afterAll(async () => {
  ours.closeAllConnections();
  plain.closeAllConnections();
  await Promise.all([new Promise((r) => ours.close(r)), new Promise((r) => plain.close(r))]);
});

/** Opens a connection, writes `text`, and resolves with everything the server wrote before it closed (bounded: 5 s). */
function exchange(port: number, text: string): Promise<{ reply: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ reply, closed: false });
    }, 5000);
    s.on('data', (b) => (reply += b.toString('latin1')));
    s.on('error', () => {});
    s.once('close', () => {
      clearTimeout(timer);
      resolve({ reply, closed: true });
    });
    s.write(text);
  });
}

it('200 connections that stall in their headers together: each is answered Node\'s own 408 and closed, none is served', async () => {
  const before = served;
  const partial = 'POST /queues/q HTTP/1.1\r\nHost: localhost\r\nX-Slow: aaa';
  const [reference] = await Promise.all([exchange(plainPort, partial)]);
  expect(reference).toEqual({ reply: 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', closed: true });
  const all = await Promise.all(Array.from({ length: 200 }, () => exchange(oursPort, partial)));
  expect(all.every((r) => r.closed && r.reply === reference.reply)).toBe(true);
  expect(served).toBe(before);
});

it('other client errors get Node\'s answer at once, byte for byte: a malformed request 400, headers too large 431', async () => {
  for (const text of ['GARBAGE\r\n\r\n', `GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`]) {
    const [mine, node] = await Promise.all([exchange(oursPort, text), exchange(plainPort, text)]);
    expect(mine).toEqual(node);
    expect(mine.closed).toBe(true);
    expect(mine.reply).toMatch(/^HTTP\/1\.1 (400|431) /);
  }
});

it('a connection that completes its request in time is served as usual', async () => {
  const r = await exchange(oursPort, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  expect(r.closed).toBe(true);
  expect(r.reply).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*\r\n\r\nok$/);
});
