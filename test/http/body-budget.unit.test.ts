/**
 * One bound on request-body bytes in flight, all callers together (--max-inflight-body-bytes,
 * src/http/body-budget.ts): each body reader takes what it will hold before holding it, a
 * request that does not fit is refused at once (503 TooManyBodyBytes) while the others go on, and
 * what a request took comes back when its response closes. Real sockets on 127.0.0.1:0 against
 * createHttpServer (the daemon's own server, which admits every request to the budget).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultBodyBudgetBytes, loadConfig } from '../../src/config.js';
import { BodyBudget, BodyLease, bodyLease } from '../../src/http/body-budget.js';
import { readBody, readHead } from '../../src/http/body.js';
import { readRawBody, STREAM_WINDOW_BYTES } from '../../src/http/large-body.js';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger } from '../../src/log.js';
import { LargePayloads } from '../../src/spool/large.js';

const log = createLogger('silent');
const MiB = 1_048_576;
const LIMITS = { maxConnections: 64, headersTimeoutMs: 5000, clientRequestTimeoutMs: 10_000, keepAliveTimeoutMs: 5000 };

interface Harness {
  port: number;
  server: Server;
  /** How each request ended: its body's length, or the error code. */
  results: string[];
}

/** The daemon's server with `maxInflightBodyBytes`, whose handler runs `read` and answers 200 (or the error's status). */
async function start(maxInflightBodyBytes: number, read: (req: IncomingMessage) => Promise<Buffer | { payloadBytes: number } | { buf: Buffer }>): Promise<Harness> {
  const results: string[] = [];
  const server = createHttpServer(
    (req: IncomingMessage, res: ServerResponse) => {
      read(req).then(
        (v) => {
          results.push(Buffer.isBuffer(v) ? `ok ${v.length}` : 'buf' in v ? `ok ${v.buf.length}` : `streamed ${v.payloadBytes}`);
          res.end('ok');
        },
        (err: { code?: string; status?: number }) => {
          results.push(String(err.code));
          if (!res.destroyed) {
            res.writeHead(err.status ?? 500);
            res.end(String(err.code));
          }
        },
      );
    },
    { ...LIMITS, maxInflightBodyBytes },
    log,
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { port: (server.address() as AddressInfo).port, server, results };
}

/** A raw connection: what it received so far, and a promise of the first full answer's status. */
function open(port: number): { socket: Socket; status: Promise<number>; text: () => string } {
  const socket = connect(port, '127.0.0.1');
  sockets.push(socket);
  let text = '';
  const status = new Promise<number>((resolve) => {
    socket.on('data', (b: Buffer) => {
      text += b.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    socket.on('close', () => resolve(-1));
  });
  socket.on('error', () => {});
  return { socket, status, text: () => text };
}

const post = (length: number, body = ''): string => `POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n\r\n${body}`;

const servers: Server[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('BodyBudget and its leases', () => {
  it('takes up to the limit, refuses past it naming the option, and gives back on release', () => {
    const budget = new BodyBudget(1000);
    const a = new BodyLease(budget);
    const b = new BodyLease(budget);
    a.ensure(600);
    a.ensure(400); // already held: nothing more taken
    expect(budget.inFlight).toBe(600);
    let refused: { code?: string; status?: number; message?: string } = {};
    try {
      b.ensure(401);
    } catch (err) {
      refused = err as typeof refused;
    }
    expect(refused.code).toBe('TooManyBodyBytes');
    expect(refused.status).toBe(503);
    expect(refused.message).toContain('--max-inflight-body-bytes (1000 bytes; 600 in use, this request needs 401)');
    expect(budget.inFlight).toBe(600); // a refusal takes nothing
    b.ensure(400);
    expect(budget.inFlight).toBe(1000);
    a.release();
    a.release(); // once only
    expect(budget.inFlight).toBe(400);
    expect(() => a.ensure(10)).toThrow(expect.objectContaining({ code: 'BodyReadError' }));
    b.release();
    expect(budget.inFlight).toBe(0);
  });

  it('defaults to an eighth of the V8 heap limit, at least --max-request-bytes; a value below --max-request-bytes is refused by name', () => {
    expect(defaultBodyBudgetBytes(32 * MiB, 4096 * MiB)).toBe(512 * MiB);
    expect(defaultBodyBudgetBytes(32 * MiB, 100 * MiB)).toBe(32 * MiB);
    expect(defaultBodyBudgetBytes(32 * MiB, 512 * MiB)).toBe(64 * MiB);
    const env = { SQS_ACCELERATOR_ENDPOINT: 'http://127.0.0.1:1' };
    expect(loadConfig([], env).maxInflightBodyBytes).toBe(defaultBodyBudgetBytes(32 * MiB));
    expect(loadConfig(['--max-inflight-body-bytes', String(64 << 20)], env).maxInflightBodyBytes).toBe(64 << 20);
    expect(() => loadConfig(['--max-inflight-body-bytes', '2048', '--max-request-bytes', '4096'], env)).toThrow(/--max-inflight-body-bytes \(2048\) must be at least --max-request-bytes \(4096\)/);
    expect(() => loadConfig(['--max-inflight-body-bytes', 'lots'], env)).toThrow(/--max-inflight-body-bytes \(from command line\) must be a whole number of bytes/);
  });
});

describe('readBody under the budget', () => {
  it('refuses at once a declared body that does not fit while another is being read, serves one that fits, and gives the bytes back when the response closes', async () => {
    const h = await start(1000, (req) => readBody(req, 1000));
    const slow = open(h.port);
    slow.socket.write(post(800, 'x'.repeat(100))); // declares 800, sends 100: holds 800 until it is answered
    await new Promise((r) => setTimeout(r, 50));
    const big = open(h.port);
    big.socket.write(post(300, 'y'.repeat(300)));
    expect(await big.status).toBe(503); // answered while the slow body is still unfinished: not held behind it
    expect(big.text()).toContain('TooManyBodyBytes');
    const small = open(h.port);
    small.socket.write(post(200, 'z'.repeat(200)));
    expect(await small.status).toBe(200);
    slow.socket.write('x'.repeat(700));
    expect(await slow.status).toBe(200);
    expect(h.results).toEqual(['TooManyBodyBytes', 'ok 200', 'ok 800']);
    // Every byte came back: a body of the whole limit fits now.
    const whole = open(h.port);
    whole.socket.write(post(1000, 'w'.repeat(1000)));
    expect(await whole.status).toBe(200);
  });

  it('counts a chunked body chunk by chunk and refuses it at the chunk that passes the limit, keeping nothing', async () => {
    let leaseBytesAtRefusal = -1;
    const h = await start(1000, async (req) => {
      try {
        return await readBody(req, 10_000);
      } catch (err) {
        leaseBytesAtRefusal = bodyLease(req)?.bytes ?? -2;
        throw err;
      }
    });
    const c = open(h.port);
    c.socket.write('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n');
    c.socket.write(`258\r\n${'a'.repeat(600)}\r\n`);
    await new Promise((r) => setTimeout(r, 50));
    expect(h.results).toEqual([]); // 600 of 1000: still reading
    c.socket.write(`1f4\r\n${'b'.repeat(500)}\r\n0\r\n\r\n`);
    expect(await c.status).toBe(503);
    expect(h.results).toEqual(['TooManyBodyBytes']);
    expect(leaseBytesAtRefusal).toBe(600); // the chunk that did not fit was not taken
    const d = open(h.port);
    d.socket.write(post(1000, 'd'.repeat(1000)));
    expect(await d.status).toBe(200); // and the 600 came back with the answer
  });

  it('readHead (the CSRF guard\'s first field) takes the declared body for the route that reads the rest', async () => {
    const h = await start(1000, async (req) => {
      await readHead(req, 512, 0x26);
      return readBody(req, 1000);
    });
    const a = open(h.port);
    a.socket.write(post(900, '_csrf=t&')); // holds 900 while the rest is awaited
    await new Promise((r) => setTimeout(r, 50));
    const b = open(h.port);
    b.socket.write(post(200, '_csrf=t&' + 'x'.repeat(192)));
    expect(await b.status).toBe(503);
    a.socket.write('y'.repeat(892));
    expect(await a.status).toBe(200);
    expect(h.results).toEqual(['TooManyBodyBytes', 'ok 900']);
  });
});

describe('readRawBody (raw bodies of large messages) under the budget', () => {
  let dir: string;
  let payloads: LargePayloads;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sqs-accelerator-budget-'));
    payloads = new LargePayloads({ spoolDir: dir, fsync: false, maxBytes: 1 << 30, log });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a body streamed to its payload file holds only the streaming window, however large it is', async () => {
    let held = -1;
    const budget = 2 * STREAM_WINDOW_BYTES;
    const h = await start(budget, async (req) => {
      const r = await readRawBody(req, { memLimit: 1024, payloads, id: 'm1', maxPayloadBytes: 8 << 20 });
      held = bodyLease(req)?.bytes ?? -2;
      return r;
    });
    const size = 3 * budget; // three times the whole budget, streamed
    const c = open(h.port);
    c.socket.write(post(size));
    for (let sent = 0; sent < size; sent += 65_536) c.socket.write('a'.repeat(Math.min(65_536, size - sent)));
    expect(await c.status).toBe(200);
    expect(h.results).toEqual([`streamed ${size}`]);
    expect(held).toBe(STREAM_WINDOW_BYTES);
  });

  it('a raw body kept in memory takes its length; one that does not fit is refused before a byte is written', async () => {
    let n = 0;
    const h = await start(STREAM_WINDOW_BYTES, (req) => readRawBody(req, { memLimit: 1 << 20, payloads, id: `m${n++}`, maxPayloadBytes: 8 << 20 }));
    const a = open(h.port);
    a.socket.write(post(STREAM_WINDOW_BYTES - 100, 'a')); // kept in memory (under memLimit): holds its length
    await new Promise((r) => setTimeout(r, 50));
    const b = open(h.port);
    b.socket.write(post(4 << 20)); // would stream: needs the window, which is taken
    expect(await b.status).toBe(503);
    a.socket.write('a'.repeat(STREAM_WINDOW_BYTES - 101));
    expect(await a.status).toBe(200);
    expect(h.results).toEqual(['TooManyBodyBytes', `ok ${STREAM_WINDOW_BYTES - 100}`]);
    expect([payloads.has('m0'), payloads.has('m1'), payloads.count]).toEqual([false, false, 0]); // the refused one wrote nothing
  });
});
