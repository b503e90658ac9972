/**
 * Baseline B with Koa: the same floor (read the body, answer 202 with a small JSON body)
 * through a Koa 3 app with one middleware, to price the framework the daemon is built on.
 */
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { serve } from '../lib/serve.js';

let n = 0;
const app = new Koa();
app.use(async (ctx) => {
  const chunks: Buffer[] = [];
  for await (const c of ctx.req as AsyncIterable<Buffer>) chunks.push(c);
  Buffer.concat(chunks);
  ctx.status = 202;
  ctx.body = { id: String(++n), queue: 'bench' };
});
const server = app.listen(0, '127.0.0.1', () => serve({}, { port: (server.address() as AddressInfo).port }));
server.keepAliveTimeout = 65_000;
