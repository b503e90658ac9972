/**
 * Baseline B, the floor: a bare node:http server that reads the body and answers 202 with a
 * small JSON body, as the daemon does, and nothing else.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '../lib/serve.js';

let n = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    Buffer.concat(chunks);
    const body = `{"id":"${++n}","queue":"bench"}`;
    res.writeHead(202, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => serve({}, { port: (server.address() as AddressInfo).port }));
