import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { csrfGuard, CsrfTokens, csrfToken, requestBody } from '../../src/http/csrf.js';
import { isHttpError } from '../../src/http/errors.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, AUTH, basic, call, createUpstreamQueue, sameOriginBrowser, SECRET, startUiDaemon, tokenIn, type UiDaemon, upstreamAttributes } from './ui-harness.js';

describe('CsrfTokens', () => {
  const key = Buffer.alloc(32, 7);

  it('accepts its own token for the same user, and only for that user', () => {
    const tokens = new CsrfTokens({ key });
    const t = tokens.issue('AKIDALICE');
    expect(t).toMatch(/^v1\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    expect(t).not.toContain('AKIDALICE'); // nothing of the user (or any secret) is in the token
    expect(tokens.check(t, 'AKIDALICE')).toBe('ok');
    expect(tokens.check(t, 'AKIDBOB')).toBe('mismatch');
    expect(tokens.check(t, '')).toBe('mismatch');
  });

  it('refuses tokens of another key (another process, or a restart)', () => {
    const t = new CsrfTokens({ key }).issue('AKIDALICE');
    expect(new CsrfTokens({ key: Buffer.alloc(32, 8) }).check(t, 'AKIDALICE')).toBe('mismatch');
    expect(new CsrfTokens().check(new CsrfTokens().issue('AKIDALICE'), 'AKIDALICE')).toBe('mismatch'); // random keys differ
  });

  it('expires tokens after maxAgeMs and refuses ones from the future', () => {
    let now = 1_800_000_000_000;
    const tokens = new CsrfTokens({ key, maxAgeMs: 3_600_000, now: () => now });
    const t = tokens.issue('AKIDALICE');
    now += 3_599_000;
    expect(tokens.check(t, 'AKIDALICE')).toBe('ok');
    now += 2_000;
    expect(tokens.check(t, 'AKIDALICE')).toBe('expired');
    now -= 3_601_000 + 120_000; // two minutes before it was issued
    expect(tokens.check(t, 'AKIDALICE')).toBe('expired');
  });

  it('refuses forged, altered and malformed tokens', () => {
    const tokens = new CsrfTokens({ key });
    const t = tokens.issue('AKIDALICE');
    const [v, issued, mac] = t.split('.') as [string, string, string];
    const later = (parseInt(issued, 36) + 1).toString(36);
    expect(tokens.check(`${v}.${later}.${mac}`, 'AKIDALICE')).toBe('mismatch'); // moving the time voids the MAC
    expect(tokens.check(`${v}.${issued}.${mac.slice(0, -2)}AA`, 'AKIDALICE')).toBe('mismatch');
    for (const bad of ['', 'v1', 'v1..', `v2.${issued}.${mac}`, `v1.${issued}`, `v1.ZZ!.${mac}`, `${t}.extra`]) {
      expect(tokens.check(bad, 'AKIDALICE')).toBe('malformed');
    }
  });
});

describe('csrfGuard middleware', () => {
  let server: Server;
  let base: string;
  let now = 1_800_000_000_000;

  beforeAll(async () => {
    const app = new Koa();
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (err) {
        if (!isHttpError(err)) throw err;
        ctx.status = err.status;
        ctx.body = { error: { code: err.code, message: err.message } };
      }
    });
    app.use(csrfGuard({ key: Buffer.alloc(32, 1), maxAgeMs: 60_000, maxRequestBytes: 1024, now: () => now }));
    app.use(async (ctx) => {
      if (ctx.path === '/token') {
        ctx.body = { token: csrfToken(ctx) };
        return;
      }
      // The route still gets the whole body after the guard read it.
      ctx.body = { method: ctx.method, body: (await requestBody(ctx, 1024)).toString('utf8') };
    });
    server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const token = async (auth = AUTH): Promise<string> => (await call(base, 'GET', '/token', { headers: { authorization: auth } })).json.token as string;

  it('lets scripts (no browser headers) change state without a token', async () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
      const r = await call(base, method, '/x', { body: 'message_body=hi', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect({ method, status: r.status }).toEqual({ method, status: 200 });
    }
  });

  it('treats Sec-Fetch-Mode alone as a script: Node\'s fetch() sends it on every request', async () => {
    const r = await call(base, 'POST', '/x', { form: { message_body: 'from an app server' }, headers: { 'sec-fetch-mode': 'cors' } });
    expect(r.status).toBe(200);
  });

  it('lets browsers read (GET, HEAD) from anywhere: reads are not guarded', async () => {
    const r = await call(base, 'GET', '/x', { headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(r.status).toBe(200);
  });

  it('accepts a same-origin browser form with a valid token, and the route still reads the body', async () => {
    const t = await token();
    const body = `_csrf=${encodeURIComponent(t)}&message_body=caf%C3%A9`;
    const r = await call(base, 'POST', '/queues/q', { body, headers: { ...sameOriginBrowser(base), 'content-type': 'application/x-www-form-urlencoded' } });
    expect(r.status).toBe(200);
    expect(r.json.body).toBe(body);
  });

  it('accepts the token in X-CSRF-Token for other content types', async () => {
    const r = await call(base, 'POST', '/q', { json: { body: 'x' }, headers: { ...sameOriginBrowser(base), 'x-csrf-token': await token() } });
    expect(r.status).toBe(200);
    expect(r.json.body).toBe('{"body":"x"}');
  });

  it('accepts Referer when a browser sent no Origin', async () => {
    const r = await call(base, 'POST', '/q', { form: { _csrf: await token() }, headers: { referer: `${base}/queues/q` } });
    expect(r.status).toBe(200);
  });

  const refused = async (headers: Record<string, string>, form: Record<string, string>, method = 'POST'): Promise<string> => {
    const r = await call(base, method, '/q', { form, headers });
    expect(r.status).toBe(403);
    return r.json.error.code as string;
  };

  it('refuses other origins even with a valid token', async () => {
    const form = { _csrf: await token() };
    expect(await refused({ origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, form)).toBe('CrossOriginRequest');
    // Another port on the same host is another origin (Chromium calls it same-site).
    const otherPort = base.replace(/:\d+$/, ':1');
    expect(await refused({ origin: otherPort }, form)).toBe('CrossOriginRequest');
    expect(await refused({ ...sameOriginBrowser(base), 'sec-fetch-site': 'same-site' }, form)).toBe('CrossOriginRequest');
    expect(await refused({ origin: 'null' }, form)).toBe('CrossOriginRequest'); // sandboxed frames, data: URLs
    expect(await refused({ referer: 'http://evil.example/page' }, form)).toBe('CrossOriginRequest');
    expect(await refused({ origin: 'not a url' }, form)).toBe('CrossOriginRequest');
    // A browser request (Sec-Fetch-Site) that names no origin at all cannot be checked.
    expect(await refused({ 'sec-fetch-site': 'same-origin' }, form)).toBe('CrossOriginRequest');
    expect(await refused({ origin: 'http://evil.example' }, form, 'DELETE')).toBe('CrossOriginRequest');
  });

  it('refuses same-origin browser requests without a valid token', async () => {
    const h = sameOriginBrowser(base);
    expect(await refused(h, { message_body: 'x' })).toBe('CsrfTokenMissing');
    expect(await refused(h, { _csrf: '' })).toBe('CsrfTokenMissing');
    expect(await refused(h, { _csrf: 'v1.forged.AAAA' })).toBe('CsrfTokenInvalid');
    // A token issued to another Basic user.
    expect(await refused(h, { _csrf: await token(basic('AKIDOTHER', 'x')) })).toBe('CsrfTokenInvalid');
    // text/plain forms (the classic CSRF body) carry no readable token: only the header counts.
    const plain = await call(base, 'POST', '/q', { body: `_csrf=${await token()}`, headers: { ...h, 'content-type': 'text/plain' } });
    expect([plain.status, plain.json.error.code]).toEqual([403, 'CsrfTokenMissing']);
  });

  it('refuses an expired token with a message saying so', async () => {
    const t = await token();
    now += 61_000;
    try {
      const r = await call(base, 'POST', '/q', { form: { _csrf: t }, headers: sameOriginBrowser(base) });
      expect(r.status).toBe(403);
      expect(r.json.error).toEqual({ code: 'CsrfTokenInvalid', message: expect.stringContaining('expired') });
    } finally {
      now -= 61_000;
    }
  });

  it('answers 413 when a browser form is larger than the limit', async () => {
    const r = await call(base, 'POST', '/q', { form: { _csrf: await token(), message_body: 'x'.repeat(2000) }, headers: sameOriginBrowser(base) });
    expect([r.status, r.json.error.code]).toEqual([413, 'RequestTooLarge']);
  });
});

describe('CSRF through the daemon (fauxqs)', () => {
  let emulator: Emulator;
  let ui: UiDaemon;

  beforeAll(async () => {
    emulator = await startEmulator();
    ui = await startUiDaemon(emulator.endpoint);
    await createUpstreamQueue(ui.daemon, 'csrf-q');
  });
  afterAll(async () => {
    await ui.stop();
    await emulator.close();
  });

  it('a browser form with the page\'s token sends a message, attribute rows included', async () => {
    const pageHtml = (await call(ui.url, 'GET', '/queues/csrf-q', { html: true })).text;
    const r = await call(ui.url, 'POST', '/queues/csrf-q', {
      html: true,
      headers: sameOriginBrowser(ui.url),
      form: { _csrf: tokenIn(pageHtml), message_body: 'from the form', attr_name: ['kind', '', 'n'], attr_type: ['String', 'String', 'Number'], attr_value: ['note', '', '42'] },
    });
    expect(r.status).toBe(303);
    expect(r.headers.location).toMatch(/^\/queues\/csrf-q\?sent=/);
    const creds = { accessKeyId: AKID, secretAccessKey: SECRET };
    const url = await ui.daemon.deps.client.getQueueUrl('csrf-q', creds);
    let messages: Array<{ Body: string; MessageAttributes?: Record<string, { DataType: string; StringValue?: string }> }> = [];
    const deadline = Date.now() + 3000;
    while (messages.length === 0 && Date.now() < deadline) {
      messages = (await ui.daemon.deps.client.call<{ Messages?: typeof messages }>('ReceiveMessage', { QueueUrl: url, MessageAttributeNames: ['All'], VisibilityTimeout: 0 }, creds)).Messages ?? [];
    }
    expect(messages.map((m) => [m.Body, m.MessageAttributes])).toEqual([
      ['from the form', { kind: { DataType: 'String', StringValue: 'note' }, n: { DataType: 'Number', StringValue: '42' } }],
    ]);
  });

  it('a FIFO form (empty deduplication id field) sends; without a group id it is a 400 page linking back', async () => {
    await createUpstreamQueue(ui.daemon, 'csrf-q.fifo', { FifoQueue: 'true' });
    const pageHtml = (await call(ui.url, 'GET', '/queues/csrf-q.fifo', { html: true })).text;
    const form = { _csrf: tokenIn(pageHtml), message_body: 'ordered', group_id: 'g1', deduplication_id: '', attr_name: ['', '', ''], attr_type: ['String', 'String', 'String'], attr_value: ['', '', ''] };
    const ok = await call(ui.url, 'POST', '/queues/csrf-q.fifo', { html: true, headers: sameOriginBrowser(ui.url), form });
    expect([ok.status, ok.headers.location]).toEqual([303, expect.stringMatching(/^\/queues\/csrf-q\.fifo\?sent=/)]);
    const missing = await call(ui.url, 'POST', '/queues/csrf-q.fifo', { html: true, headers: sameOriginBrowser(ui.url), form: { ...form, group_id: '' } });
    expect(missing.status).toBe(400);
    expect(missing.text).toContain('href="/queues/csrf-q.fifo">Back to queue csrf-q.fifo</a>');
  });

  it('an attribute row with a value but no name is a 400, not a silent drop', async () => {
    const pageHtml = (await call(ui.url, 'GET', '/queues/csrf-q', { html: true })).text;
    const r = await call(ui.url, 'POST', '/queues/csrf-q', { headers: sameOriginBrowser(ui.url), form: { _csrf: tokenIn(pageHtml), message_body: 'x', attr_name: '', attr_value: 'orphan' } });
    expect([r.status, r.json.error.code]).toEqual([400, 'InvalidAttributeName']);
  });

  it('a cross-origin send, create or delete is refused and changes nothing', async () => {
    const before = ui.daemon.deps.pipeline.totals.accepted;
    const evil = { origin: 'http://127.0.0.1:1', 'sec-fetch-site': 'same-site', 'sec-fetch-mode': 'navigate' };
    const send = await call(ui.url, 'POST', '/queues/csrf-q', { html: true, headers: evil, form: { message_body: 'evil' } });
    expect(send.status).toBe(403);
    expect(send.text).toContain('CrossOriginRequest');
    expect((await call(ui.url, 'POST', '/queues', { headers: evil, form: { queue_name: 'evil-made' } })).status).toBe(403);
    expect((await call(ui.url, 'POST', '/queues/csrf-q/delete', { headers: evil })).status).toBe(403);
    expect((await call(ui.url, 'DELETE', '/queues/csrf-q', { headers: evil })).status).toBe(403);
    expect(ui.daemon.deps.pipeline.totals.accepted).toBe(before);
    expect((await upstreamAttributes(ui.daemon, 'csrf-q')).QueueArn).toContain('csrf-q');
    expect((await call(ui.url, 'GET', '/queues/evil-made')).status).toBe(404);
  });

  it('scripts keep working without a token (2009 form send, JSON, raw)', async () => {
    expect((await call(ui.url, 'POST', '/queues/csrf-q', { form: { message_body: 'curl' } })).status).toBe(202);
    expect((await call(ui.url, 'POST', '/queues/csrf-q', { json: { body: 'sdk' } })).status).toBe(202);
    expect((await call(ui.url, 'POST', '/queues/csrf-q', { body: 'raw', headers: { 'content-type': 'text/plain' } })).status).toBe(202);
  });
});
