/**
 * SqsClient's transport (the daemon's own HTTP/1.1 client, src/net/http1/) against servers on
 * 127.0.0.1 port 0: https with a test-only certificate given as the CA (and refused without it or
 * for another host), keep-alive reuse, idle sockets the server closes, a reused socket closed
 * before the answer (not resent), resets, timeouts (connect and answer), aborts, refused
 * connections, bounds, 1xx, and what failover may conclude from each failure (mayHaveArrived).
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { SqsClient } from '../../src/sqs/client.js';
import { mayHaveArrived, type SqsError } from '../../src/sqs/errors.js';

const creds = { accessKeyId: 'AKIDX', secretAccessKey: 'secret-value' };
const tls = (name: string): { key: Buffer; cert: Buffer } => ({
  key: readFileSync(new URL(`../support/tls/${name}.key.pem`, import.meta.url)),
  cert: readFileSync(new URL(`../support/tls/${name}.cert.pem`, import.meta.url)),
});
const LOOPBACK = tls('test-only-loopback');
const OTHER_HOST = tls('test-only-other-host');

const servers: Array<Server | NetServer> = [];
const clients: SqsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) {
    if ('closeAllConnections' in s) s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

async function listen(s: Server | NetServer): Promise<number> {
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

function client(endpoint: string, extra: Partial<ConstructorParameters<typeof SqsClient>[0]> = {}): SqsClient {
  const c = new SqsClient({ endpoint, region: 'eu-west-1', requestTimeoutMs: 5000, ...extra });
  clients.push(c);
  return c;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;
const answerQueueUrl: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify({ QueueUrl: 'http://q/1/x' }));
};

/** Wraps a handler: collects each request's body, counts connections. */
function serve(s: Server, handle: Handler): { connections: () => number; requests: IncomingMessage[] } {
  let connections = 0;
  const requests: IncomingMessage[] = [];
  s.on('connection', () => { connections += 1; });
  s.on('request', (req: IncomingMessage, res: ServerResponse) => {
    requests.push(req);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  return { connections: () => connections, requests };
}

/** A raw server: `onRequest(socket, n)` once per request head (the client's bodies are short and come with it). */
async function raw(onRequest: (socket: Socket, n: number) => void): Promise<{ port: number; connections: () => number; requests: () => number }> {
  let requests = 0;
  let connections = 0;
  const s = createNetServer((socket) => {
    connections += 1;
    socket.on('error', () => undefined);
    let buf = '';
    socket.on('data', (c: Buffer) => {
      buf += c.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1] ?? 0);
        if (buf.length < end + 4 + length) return;
        buf = buf.slice(end + 4 + length);
        onRequest(socket, ++requests);
      }
    });
  });
  return { port: await listen(s), connections: () => connections, requests: () => requests };
}

const failure = async (p: Promise<unknown>): Promise<SqsError> => {
  try {
    await p;
  } catch (err) {
    return err as SqsError;
  }
  throw new Error('expected a failure');
};

describe('https', () => {
  it('speaks TLS with SNI and ALPN http/1.1 to an endpoint whose certificate the client trusts, and reuses the connection', async () => {
    const s = createHttpsServer({ ...LOOPBACK, ALPNProtocols: ['http/1.1'] });
    const seen: Array<{ servername: unknown; alpn: unknown }> = [];
    const srv = serve(s, (req, res, body) => {
      const sock = req.socket as unknown as { servername: unknown; alpnProtocol: unknown };
      seen.push({ servername: sock.servername, alpn: sock.alpnProtocol });
      expect(JSON.parse(body)).toEqual({ QueueName: 'x' });
      answerQueueUrl(req, res, body);
    });
    const port = await listen(s);
    const c = client(`https://localhost:${port}`, { ca: LOOPBACK.cert });
    expect(await c.getQueueUrl('x', creds)).toBe('http://q/1/x');
    expect(await c.getQueueUrl('x', creds)).toBe('http://q/1/x');
    expect(seen).toEqual([{ servername: 'localhost', alpn: 'http/1.1' }, { servername: 'localhost', alpn: 'http/1.1' }]);
    expect(srv.connections()).toBe(1);
    expect(c.stats()).toEqual({ connected: 1, free: 1, pending: 0, queued: 0, running: 0, size: 0 });
  });

  it('checks an IP endpoint against the certificate\'s IP names', async () => {
    const s = createHttpsServer(LOOPBACK);
    serve(s, answerQueueUrl);
    const port = await listen(s);
    expect(await client(`https://127.0.0.1:${port}`, { ca: LOOPBACK.cert }).getQueueUrl('x', creds)).toBe('http://q/1/x');
  });

  it('refuses a certificate Node\'s store does not trust: a NetworkError, nothing sent', async () => {
    const s = createHttpsServer(LOOPBACK);
    const srv = serve(s, answerQueueUrl);
    s.on('tlsClientError', () => undefined);
    const port = await listen(s);
    const err = await failure(client(`https://localhost:${port}`).getQueueUrl('x', creds));
    expect(err).toMatchObject({ code: 'NetworkError', disposition: 'retry', httpStatus: 0 });
    expect(err.message).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|CERT/);
    expect(srv.requests).toHaveLength(0);
  });

  it('refuses a trusted certificate for another host', async () => {
    const s = createHttpsServer(OTHER_HOST);
    const srv = serve(s, answerQueueUrl);
    s.on('tlsClientError', () => undefined);
    const port = await listen(s);
    const err = await failure(client(`https://127.0.0.1:${port}`, { ca: OTHER_HOST.cert }).getQueueUrl('x', creds));
    expect(err).toMatchObject({ code: 'NetworkError' });
    expect(err.message).toContain('ERR_TLS_CERT_ALTNAME_INVALID');
    expect(srv.requests).toHaveLength(0);
  });

  it('a TLS handshake that never completes is a connect timeout: the request cannot have arrived', async () => {
    const r = await raw(() => undefined); // takes the TCP connection, never answers the ClientHello
    const err = await failure(client(`https://127.0.0.1:${r.port}`, { ca: LOOPBACK.cert, connectTimeoutMs: 150, requestTimeoutMs: 5000 }).getQueueUrl('x', creds));
    expect(err).toMatchObject({ code: 'TimeoutError', disposition: 'retry' });
    expect(mayHaveArrived(err)).toBe(false);
    expect(r.requests()).toBe(0);
  });
});

describe('http', () => {
  it('opens a new connection when the server closed the idle one', async () => {
    const r = await raw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
      setTimeout(() => socket.end(), 30); // the server's idle timeout
    });
    const c = client(`http://127.0.0.1:${r.port}`);
    expect(await c.call('GetQueueUrl', {}, creds)).toEqual({});
    expect(c.stats()).toMatchObject({ connected: 1, free: 1 });
    for (let i = 0; i < 200 && c.stats()?.connected !== 0; i++) await new Promise((res) => setTimeout(res, 10));
    expect(c.stats()).toMatchObject({ connected: 0, free: 0 });
    expect(await c.call('GetQueueUrl', {}, creds)).toEqual({});
    expect([r.connections(), r.requests()]).toEqual([2, 2]);
  });

  it('does not resend a request whose reused socket closes before any answer byte: a NetworkError that may have arrived', async () => {
    const r = await raw((socket, n) => {
      if (n === 1) socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
      else socket.destroy();
    });
    const c = client(`http://127.0.0.1:${r.port}`);
    expect(await c.call('SendMessageBatch', {}, creds)).toEqual({});
    const err = await failure(c.call('SendMessageBatch', {}, creds));
    expect(err).toMatchObject({ code: 'NetworkError', disposition: 'retry' });
    expect(mayHaveArrived(err)).toBe(true);
    await new Promise((res) => setTimeout(res, 50));
    expect([r.connections(), r.requests()]).toEqual([1, 2]);
  });

  it('a reset in the middle of an answer is a NetworkError that may have arrived', async () => {
    const r = await raw((socket) => {
      socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"Succ', () => socket.resetAndDestroy());
    });
    const err = await failure(client(`http://127.0.0.1:${r.port}`).call('SendMessageBatch', {}, creds));
    expect(err).toMatchObject({ code: 'NetworkError' });
    expect(err.message).toMatch(/ECONNRESET|ConnectionClosed/);
    expect(mayHaveArrived(err)).toBe(true);
  });

  it('a refused connection is a NetworkError that cannot have arrived', async () => {
    const r = await raw(() => undefined);
    const port = r.port;
    await new Promise((res) => (servers.pop() as NetServer).close(res));
    const err = await failure(client(`http://127.0.0.1:${port}`).call('SendMessageBatch', {}, creds));
    expect(err).toMatchObject({ code: 'NetworkError', disposition: 'retry' });
    expect(err.message).toContain('ECONNREFUSED');
    expect(mayHaveArrived(err)).toBe(false);
  });

  it('no answer within the timeout, after the request was written, is a TimeoutError that may have arrived', async () => {
    const r = await raw(() => undefined);
    const err = await failure(client(`http://127.0.0.1:${r.port}`, { requestTimeoutMs: 100 }).call('SendMessageBatch', {}, creds));
    expect(err).toMatchObject({ code: 'TimeoutError', disposition: 'retry' });
    expect(mayHaveArrived(err)).toBe(true);
    expect(r.requests()).toBe(1);
  });

  it('an answer over the bound is a NetworkError and its socket is closed', async () => {
    const r = await raw((socket) => socket.write(`HTTP/1.1 200 OK\r\ncontent-length: 5000\r\n\r\n${'x'.repeat(5000)}`));
    const c = client(`http://127.0.0.1:${r.port}`, { maxAnswerBytes: 4096 });
    const err = await failure(c.call('ReceiveMessage', {}, creds));
    expect(err).toMatchObject({ code: 'NetworkError' });
    expect(err.message).toContain('BodyTooLarge');
    expect(c.stats()?.connected).toBe(0);
  });

  it('skips 1xx answers and reads a chunked body with a character split between chunks', async () => {
    const body = Buffer.from(JSON.stringify({ QueueUrl: 'http://q/1/é€' }), 'utf8');
    const cut = body.indexOf(0xc3) + 1; // inside 'é'
    const r = await raw((socket) => {
      socket.write('HTTP/1.1 100 Continue\r\n\r\n');
      socket.write(`HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n${cut.toString(16)}\r\n`);
      socket.write(Buffer.concat([body.subarray(0, cut), Buffer.from(`\r\n${(body.length - cut).toString(16)}\r\n`), body.subarray(cut), Buffer.from('\r\n0\r\n\r\n')]));
    });
    expect(await client(`http://127.0.0.1:${r.port}`).getQueueUrl('x', creds)).toBe('http://q/1/é€');
  });

  it('bounds connections: a request beyond waits in order, and one aborted while waiting is never sent', async () => {
    const held: Socket[] = [];
    const r = await raw((socket) => held.push(socket));
    const c = client(`http://127.0.0.1:${r.port}`, { connections: 1 });
    const first = c.call('GetQueueUrl', { n: 1 }, creds);
    const ac = new AbortController();
    const second = c.call('GetQueueUrl', { n: 2 }, creds, { signal: ac.signal });
    const third = c.call('GetQueueUrl', { n: 3 }, creds);
    for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((res) => setTimeout(res, 5));
    expect(c.stats()).toMatchObject({ running: 1, pending: 2, size: 3 });
    ac.abort();
    await expect(second).rejects.toMatchObject({ code: 'Aborted' });
    expect(c.stats()).toMatchObject({ running: 1, pending: 1 });
    (held[0] as Socket).write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
    expect(await first).toEqual({});
    for (let i = 0; i < 100 && held.length < 2; i++) await new Promise((res) => setTimeout(res, 5));
    (held[1] as Socket).write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}');
    expect(await third).toEqual({});
    expect([r.connections(), r.requests()]).toEqual([1, 2]);
  });

  it('refuses credentials that would forge a header, sending nothing; no error carries a secret or the body', async () => {
    const r = await raw((socket) => socket.destroy());
    const c = client(`http://127.0.0.1:${r.port}`);
    const forged = await failure(c.call('SendMessageBatch', { Entries: [{ MessageBody: 'body-text' }] }, { ...creds, sessionToken: 'sess-one\r\nx-forged: 1' }));
    expect(forged).toMatchObject({ code: 'NetworkError' });
    expect(r.requests()).toBe(0);
    const dropped = await failure(c.call('SendMessageBatch', { Entries: [{ MessageBody: 'body-text' }] }, { ...creds, sessionToken: 'sess-two' }));
    expect(dropped).toMatchObject({ code: 'NetworkError' });
    for (const e of [forged, dropped]) {
      const text = `${e.message} ${(e.cause as Error).message} ${JSON.stringify(e)}`;
      for (const secret of ['secret-value', 'sess-one', 'sess-two', 'body-text', 'AKIDX']) expect(text).not.toContain(secret);
    }
  });

  it('close() waits for the request in flight, then refuses new ones', async () => {
    const r = await raw((socket) => setTimeout(() => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}'), 50));
    const c = new SqsClient({ endpoint: `http://127.0.0.1:${r.port}`, region: 'eu-west-1' });
    const inFlight = c.call('GetQueueUrl', {}, creds);
    await new Promise((res) => setTimeout(res, 10));
    await c.close();
    expect(await inFlight).toEqual({});
    await expect(c.call('GetQueueUrl', {}, creds)).rejects.toMatchObject({ code: 'NetworkError' });
  });
});
