/**
 * The send fast path (src/http/fast-send.ts): POST /queues/:name from apps served ahead of Koa
 * (issue 14). It must take only the requests for which every skipped middleware does nothing,
 * and answer exactly as the Koa route does.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fastSend } from '../../src/http/fast-send.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, post, type Reply, startTestDaemon, type TestDaemon } from '../support/daemon.js';

let fake: FakeSqs;
let d: TestDaemon;
let server: Server;
let url: string;
let toKoa = 0;

beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['q', 'q.fifo'] });
  d = await startTestDaemon(fake.endpoint);
  // The daemon's own deps; what fastSend hands on is answered by a stub that counts it.
  server = createServer(
    fastSend(d.daemon.deps, (req, res) => {
      toKoa += 1;
      req.resume();
      res.writeHead(599).end();
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  await d?.stop();
  await fake?.close();
});

it('serves what apps send and hands every other request to Koa', async () => {
  const served: Array<[string, string, Record<string, string | undefined>?]> = [
    ['/queues/q', 'text/plain'],
    ['/queues/q', 'application/x-www-form-urlencoded'],
    ['/queues/q', 'application/json; charset=UTF-8'],
    ['/queues/q', 'text/plain', { host: 'localhost:9292', 'x-amzn-trace-id': 'Root=1-5759e988-bd862e3fe1be46a994272793' }],
  ];
  for (const [path, type, headers] of served) {
    const before = toKoa;
    const body = type.startsWith('application/x-www') ? 'message_body=hi' : type.startsWith('application/json') ? '{"body":"hi"}' : 'hi';
    const r = await post(url, path, body, { contentType: type, ...(headers ? { headers } : {}) });
    expect([path, type, r.status]).toEqual([path, type, 202]);
    expect(toKoa).toBe(before);
  }
  const handedOn: Array<[string, string, Record<string, string | undefined>?]> = [
    ['/queues/q?wait=1', 'text/plain'],
    ['/queues/q?reply=5', 'text/plain'],
    ['/queues/q/', 'text/plain'],
    ['/queues/%71', 'text/plain'],
    ['/queues/q', 'text/plain; charset="utf-8"'],
    ['/queues/q', 'multipart/form-data; boundary=x'],
    ['/queues/q', 'text/plain', { origin: 'http://localhost:9292' }],
    ['/queues/q', 'text/plain', { referer: 'http://localhost:9292/queues/q' }],
    ['/queues/q', 'text/plain', { 'sec-fetch-site': 'same-origin' }],
    ['/queues/q', 'text/plain', { accept: 'text/html,application/xhtml+xml' }],
    ['/queues/q', 'text/plain', { host: 'evil.example' }],
    ['/queues/q', 'text/plain', { 'x-amz-target': 'AmazonSQS.SendMessage' }],
    ['/queues', 'application/x-www-form-urlencoded'],
  ];
  for (const [path, type, headers] of handedOn) {
    const r = await post(url, path, 'x', { contentType: type, ...(headers ? { headers } : {}) });
    expect([path, type, headers, r.status]).toEqual([path, type, headers, 599]);
  }
  expect(toKoa).toBe(handedOn.length);
});

/** Status, the headers that matter, and the body with ids made comparable. */
function shape(r: Reply) {
  const { date: _d, 'keep-alive': _k, connection: _c, 'x-message-id': id, ...headers } = r.headers as Record<string, string>;
  const text = r.text.replace(/"[a-z0-9]+-[a-z0-9]+"/g, '"<id>"');
  return { status: r.status, headers, hasId: id !== undefined, text };
}

it('answers as the Koa route does: accepted, per entry, and every kind of refusal', async () => {
  // Through the real daemon: a plain content type takes the fast path; the same with a quoted
  // charset parameter (which the fast path leaves to Koa) takes the Koa route.
  const cases: Array<[string, string, string, Record<string, string | undefined>?]> = [
    ['/queues/q', 'text/plain', 'hello'],
    ['/queues/q', 'application/json', '[{"body":"a"},{"body":""},{"body":"b","extra":1}]'],
    ['/queues/q', 'application/json', '[]'],
    ['/queues/q', 'application/json', '{"body":"x","delaySeconds":901}'],
    ['/queues/q', 'application/x-www-form-urlencoded', 'delay_seconds=5'],
    ['/queues/q', 'application/x-www-form-urlencoded', 'message_body=x&delay_seconds=-1'],
    ['/queues/q.fifo', 'text/plain', 'no group'],
    ['/queues/nope', 'text/plain', 'x'],
    ['/queues/bad..name', 'text/plain', 'x'],
    ['/queues/q', 'text/plain', ''],
    ['/queues/q', 'application/json', '{"body":'],
    ['/queues/q', 'text/plain', 'x', { authorization: undefined }],
    ['/queues/q', 'text/plain', 'x', { authorization: 'Bearer abc' }],
  ];
  for (const [path, type, body, headers] of cases) {
    const fast = await post(d.url, path, body, { contentType: type, ...(headers ? { headers } : {}) });
    const koa = await post(d.url, path, body, { contentType: `${type}; charset="utf-8"`, ...(headers ? { headers } : {}) });
    expect([path, body, shape(fast)]).toEqual([path, body, shape(koa)]);
  }
  const bad = await post(d.url, '/queues/q', 'x', { contentType: 'text/plain', headers: { authorization: undefined } });
  expect(bad.status).toBe(401);
  expect(bad.headers['www-authenticate']).toMatch(/^Basic /);
  expect(bad.headers['content-security-policy']).toContain("default-src 'none'");
});

it('writes the 202 of one message byte for byte as the route answers it: status line, header order, body', async () => {
  // The fast path fills a prebuilt header list; this pins what it writes (Date aside) to the
  // route's answer: security headers, x-message-id, content type and length, then the body.
  const { connect } = await import('node:net');
  const port = Number(new URL(d.url).port);
  const raw = await new Promise<string>((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let text = '';
    s.setEncoding('latin1');
    s.on('data', (c: string) => {
      text += c;
      const end = text.indexOf('\r\n\r\n');
      const length = /content-length: (\d+)/i.exec(text);
      if (end >= 0 && length && text.length >= end + 4 + Number(length[1])) {
        s.destroy();
        resolve(text);
      }
    });
    s.on('error', reject);
    const body = 'message_body=raw';
    s.write(`POST /queues/q HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: ${AUTH}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  });
  const id = /x-message-id: ([^\r]+)/.exec(raw)?.[1] as string;
  expect(id).toMatch(/^[a-z0-9]+-[a-z0-9]+$/);
  const body = `{"id":"${id}","queue":"q"}`;
  const expected = [
    'HTTP/1.1 202 Accepted',
    "content-security-policy: default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'x-frame-options: DENY',
    'referrer-policy: same-origin',
    'x-content-type-options: nosniff',
    'cross-origin-opener-policy: same-origin',
    'cross-origin-resource-policy: same-origin',
    `x-message-id: ${id}`,
    'content-type: application/json; charset=utf-8',
    `content-length: ${body.length}`,
    'Date: <date>',
    'Connection: keep-alive',
    'Keep-Alive: timeout=65',
    '',
    body,
  ].join('\r\n');
  expect(raw.replace(/\r\nDate: [^\r]+/, '\r\nDate: <date>')).toBe(expected);
});
