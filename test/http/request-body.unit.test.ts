/** A body is read once and each form parsed once, whoever asks first (the CSRF guard or the route). */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { request } from 'undici';
import { requestBody, requestForm, requestText } from '../../src/http/body.js';
import { csrfGuard, CsrfTokens } from '../../src/http/csrf.js';
import { isDaemonError } from '../../src/errors.js';

let server: Server;
let base: string;
const key = Buffer.alloc(32, 7);

beforeAll(async () => {
  const app = new Koa();
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (err) {
      if (!isDaemonError(err)) throw err;
      ctx.status = err.status;
      ctx.body = { error: { code: err.code } };
    }
  });
  app.use(csrfGuard({ key, maxRequestBytes: 4096 }));
  app.use(async (ctx) => {
    const first = await requestForm(ctx, 4096);
    const again = await requestForm(ctx, 4096);
    ctx.body = { same: first === again, fields: Object.fromEntries(first), text: await requestText(ctx, 4096), bytes: (await requestBody(ctx, 4096)).length };
  });
  server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function postForm(body: string | Buffer, headers: Record<string, string> = {}) {
  const res = await request(`${base}/queues/q`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  return { status: res.statusCode, json: (await res.body.json()) as any };
}

it('a browser form read by the guard reaches the route as the same parsed form', async () => {
  const token = new CsrfTokens({ key }).issue('');
  const body = `_csrf=${encodeURIComponent(token)}&message_body=h%C3%A9llo`;
  const r = await postForm(body, { origin: base, 'sec-fetch-site': 'same-origin' });
  expect(r.status).toBe(200);
  expect(r.json).toEqual({ same: true, fields: { _csrf: token, message_body: 'héllo' }, text: body, bytes: Buffer.byteLength(body) });
});

it('a script\'s form (no browser headers) is read by the route alone, the same way', async () => {
  const r = await postForm('message_body=plain');
  expect(r.json).toEqual({ same: true, fields: { message_body: 'plain' }, text: 'message_body=plain', bytes: 18 });
});

it('a browser form that is not UTF-8 is checked for its token first, then refused as InvalidEncoding', async () => {
  const token = new CsrfTokens({ key }).issue('');
  const body = Buffer.concat([Buffer.from(`_csrf=${encodeURIComponent(token)}&message_body=`), Buffer.from([0xff, 0xfe])]);
  expect(await postForm(body, { origin: base, 'sec-fetch-site': 'same-origin' })).toMatchObject({ status: 400, json: { error: { code: 'InvalidEncoding' } } });
  const forged = Buffer.concat([Buffer.from('_csrf=v1.x.y&message_body='), Buffer.from([0xff])]);
  expect(await postForm(forged, { origin: base, 'sec-fetch-site': 'same-origin' })).toMatchObject({ status: 403, json: { error: { code: 'CsrfTokenInvalid' } } });
});
