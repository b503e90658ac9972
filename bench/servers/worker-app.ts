/**
 * The local app of the worker benchmark (bench/worker.ts): answers every POST with 200 after
 * `delayMs` (default 1), and counts what it got (over IPC: `count`, `reset`). POSTs to /reply are
 * answered with a body, `pong <body>` (the request/reply round trip), and not counted.
 *
 * Arguments: delayMs, then `--node-http` for a node:http server instead of the default lean one.
 * The lean server speaks just enough HTTP/1.1 for keep-alive clients that send Content-Length
 * bodies (undici, as both consumers under test do): a node:http server costs ~130 µs of CPU per
 * request on the 2-core bench machine, so with the fake SQS on the same core it, not the
 * consumer, would cap the rate near 3,000 messages/s.
 */
import { createServer as createHttpServer } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { serve } from '../lib/serve.js';

const delayMs = Number(process.argv[2] ?? 1);
const nodeHttp = process.argv.includes('--node-http');
let count = 0;

const OK = Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 0\r\nkeep-alive: timeout=60\r\n\r\n', 'latin1');
const reply = (body: string): Buffer => {
  const b = Buffer.from(body, 'utf8');
  return Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${b.length}\r\nkeep-alive: timeout=60\r\n\r\n`, 'latin1'), b]);
};

/** One connection: requests parsed from the byte stream (head up to CRLFCRLF, then Content-Length bytes), answered in order. */
function lean(socket: Socket): void {
  socket.setNoDelay(true);
  let buf: Buffer = Buffer.alloc(0);
  // Answers leave in request order, each `delayMs` after its request was complete.
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = buf.toString('latin1', 0, end);
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (/\r\ntransfer-encoding:/i.test(head)) {
        socket.destroy(); // not needed by the consumers under test
        return;
      }
      const length = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + length) return;
      const body = buf.toString('utf8', end + 4, end + 4 + length);
      const isReply = head.startsWith('POST /reply ');
      buf = buf.subarray(end + 4 + length);
      if (!isReply) count += 1;
      setTimeout(() => {
        if (!socket.destroyed) socket.write(isReply ? reply(`pong ${body}`) : OK);
      }, delayMs);
    }
  });
  socket.on('error', () => socket.destroy());
}

const server = nodeHttp
  ? createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/reply') {
          const body = `pong ${Buffer.concat(chunks).toString('utf8')}`;
          setTimeout(() => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) }).end(body), delayMs);
          return;
        }
        count += 1;
        setTimeout(() => res.writeHead(200, { 'content-length': '0' }).end(), delayMs);
      });
    })
  : createNetServer(lean);
if ('keepAliveTimeout' in server) server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
serve({ count: () => count, reset: () => { count = 0; } }, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/work` });
