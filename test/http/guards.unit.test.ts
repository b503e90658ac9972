import type { Context } from 'koa';
import { fromBrowser, hostGuard, hostName, sameOrigin, servedHosts } from '../../src/http/guards.js';

/** Just enough of a Koa context for the guards: headers by lower-case name. */
function ctx(headers: Record<string, string>): Context {
  return { get: (name: string) => headers[name.toLowerCase()] ?? '' } as unknown as Context;
}

describe('hostName', () => {
  it.each([
    ['localhost', 'localhost'],
    ['LOCALHOST:9292', 'localhost'],
    ['127.0.0.1:80', '127.0.0.1'],
    ['[::1]:9292', '[::1]'],
    ['[::1]', '[::1]'],
    ['[broken', '[broken'],
    ['Example.COM', 'example.com'],
  ])('%s -> %s', (host, name) => {
    expect(hostName(host)).toBe(name);
  });
});

describe('hostGuard', () => {
  const run = async (guard: ReturnType<typeof hostGuard>, host: string) => {
    let reached = false;
    try {
      await guard(ctx({ host }), async () => {
        reached = true;
      });
    } catch (err) {
      return err as { status: number; code: string; message: string };
    }
    return reached ? 'next' : 'stopped';
  };

  it('serves loopback names and configured extras, refuses others with 421', async () => {
    const g = hostGuard(['Sqs.Internal']);
    for (const h of ['localhost:9292', '127.0.0.1', '[::1]:1', 'sqs.internal:9292', '']) expect(await run(g, h)).toBe('next');
    for (const h of ['evil.example', '127.0.0.2', '0.0.0.0', 'localhost.evil.example', '[::2]']) {
      expect(await run(g, h)).toMatchObject({ status: 421, code: 'HostNotAllowed' });
    }
  });

  it('does not echo an enormous Host back', async () => {
    const e = (await run(hostGuard([]), `x${'a'.repeat(5000)}`)) as { message: string };
    expect(e.message.length).toBeLessThan(300);
  });
});

describe('servedHosts', () => {
  it('answers the same whatever was asked before it (the last served Host is remembered)', () => {
    const served = servedHosts(['Sqs.Internal']);
    const hosts = ['localhost:9292', 'evil.example', 'LOCALHOST:9292', 'localhost:9292', 'localhost.evil.example', '127.0.0.1', '127.0.0.1', '127.0.0.2', 'sqs.internal', 'SQS.INTERNAL:1', '[::1]:1', '[::2]', '', 'evil.example'];
    const fresh = hosts.map((h) => servedHosts(['Sqs.Internal'])(h));
    expect(hosts.map((h) => served(h))).toEqual(fresh);
    expect(fresh).toEqual([true, false, true, true, false, true, true, false, true, true, true, false, true, false]);
  });
});

describe('sameOrigin and fromBrowser', () => {
  it('compares Origin (or Referer) with Host', () => {
    expect(sameOrigin(ctx({ host: '127.0.0.1:9292', origin: 'http://127.0.0.1:9292' }))).toBe(true);
    expect(sameOrigin(ctx({ host: '127.0.0.1:9292', referer: 'http://127.0.0.1:9292/queues/q' }))).toBe(true);
    expect(sameOrigin(ctx({ host: '127.0.0.1:9292', origin: 'http://evil.example' }))).toBe(false);
    expect(sameOrigin(ctx({ host: '127.0.0.1:9292', origin: 'http://127.0.0.1:9293' }))).toBe(false);
    expect(sameOrigin(ctx({ host: '127.0.0.1:9292', origin: 'null' }))).toBe(false);
    expect(sameOrigin(ctx({ host: '127.0.0.1:9292', origin: 'not a url' }))).toBe(false);
    expect(sameOrigin(ctx({ host: '127.0.0.1:9292' }))).toBe(false);
  });
  it('knows browsers by Origin, Referer or Sec-Fetch-Site; not by Sec-Fetch-Mode, which Node fetch() sends too', () => {
    expect(fromBrowser(ctx({}))).toBe(false);
    expect(fromBrowser(ctx({ 'user-agent': 'curl/8' }))).toBe(false);
    expect(fromBrowser(ctx({ 'sec-fetch-mode': 'cors' }))).toBe(false);
    for (const h of ['origin', 'referer', 'sec-fetch-site']) expect(fromBrowser(ctx({ [h]: 'x' }))).toBe(true);
  });
});
