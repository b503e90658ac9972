import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { serialize } from 'node:v8';
import { jest } from '@jest/globals';
import { DECODE_SLICE_BYTES, decodeUtf8, decodeUtf8Parts, decodeUtf8Sliced, readBody } from '../../src/http/body.js';
import { BodyBudget } from '../../src/http/body-budget.js';
import { withTurns } from '../support/turns.js';

/** A server whose handler hands each request to `onRequest`; answers 200 when it resolves. */
async function withServer(onRequest: (req: IncomingMessage) => Promise<unknown>, budget?: BodyBudget): Promise<{ port: number; server: Server; results: Array<{ ok: boolean; value: unknown }> }> {
  const results: Array<{ ok: boolean; value: unknown }> = [];
  const server = createServer((req, res) => {
    budget?.admit(req, res);
    onRequest(req).then(
      (value) => {
        results.push({ ok: true, value });
        res.end('ok');
      },
      (err: unknown) => {
        results.push({ ok: false, value: err });
        if (!res.destroyed) res.end('err');
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, server, results };
}

/** Sends raw bytes and waits for the answer (or the close). */
function raw(port: number, data: string | Buffer, options: { destroyAfterMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = connect(port, '127.0.0.1', () => {
      s.write(data);
      if (options.destroyAfterMs !== undefined) setTimeout(() => s.destroy(), options.destroyAfterMs);
    });
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    s.on('error', () => {});
  });
}

async function until(predicate: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return predicate();
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('readBody', () => {
  it('reads a body sent in one piece or in chunks', async () => {
    const { port, server, results } = await withServer((req) => readBody(req, 1000));
    servers.push(server);
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    expect(results.map((r) => [r.ok, String(r.value)])).toEqual([[true, 'hello'], [true, 'abcde']]);
  });

  it('copies a body of a declared length into place as its chunks come, with no copy of the whole at its end', async () => {
    const { port, server, results } = await withServer((req) => readBody(req, 1_000_000));
    servers.push(server);
    const body = Buffer.from(Array.from({ length: 30_000 }, (_, i) => `${i % 10}`.repeat(10)).join(''));
    const concat = jest.spyOn(Buffer, 'concat');
    try {
      await new Promise<void>((resolve) => {
        const s = connect(port, '127.0.0.1', async () => {
          s.write(`POST / HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
          // Five writes a few milliseconds apart: the server reads them as separate chunks.
          for (let off = 0; off < body.length; off += 60_000) {
            s.write(body.subarray(off, off + 60_000));
            await new Promise((r) => setTimeout(r, 5));
          }
        });
        s.on('data', () => {});
        s.on('close', () => resolve());
      });
      expect(results).toHaveLength(1);
      expect(results[0]?.ok).toBe(true);
      expect(Buffer.compare(results[0]?.value as Buffer, body)).toBe(0);
      expect(concat.mock.calls.filter(([, n]) => n === body.length)).toHaveLength(0);
    } finally {
      concat.mockRestore();
    }
  });

  it('refuses a declared Content-Length over the limit at once, and a chunked body as soon as it passes the limit', async () => {
    const { port, server, results } = await withServer((req) => readBody(req, 10));
    servers.push(server);
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nConnection: close\r\n\r\n01234567890');
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n');
    expect(results).toHaveLength(2);
    for (const r of results) expect(r.value).toMatchObject({ status: 413, code: 'RequestTooLarge' });
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nConnection: close\r\n\r\n0123456789');
    expect(results[2]).toMatchObject({ ok: true });
  });

  it('rejects (does not hang) when the client goes away during the upload', async () => {
    const { port, server, results } = await withServer((req) => readBody(req, 1000));
    servers.push(server);
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc', { destroyAfterMs: 20 });
    expect(await until(() => results.length === 1, 2000)).toBe(true);
    expect(results[0]?.value).toMatchObject({ status: 400, code: 'BodyReadError' });
  });

  it('rejects (does not hang) when the client went away before the body was read', async () => {
    // As when the first send to a queue waits on GetQueueUrl before reading the body.
    const { port, server, results } = await withServer(async (req) => {
      await until(() => req.destroyed, 2000);
      return readBody(req, 1000);
    });
    servers.push(server);
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc', { destroyAfterMs: 20 });
    expect(await until(() => results.length === 1, 2000)).toBe(true);
    expect(results[0]?.ok).toBe(false);
  });
});

describe('readBody of a body the parser has buffered already', () => {
  /** The body read once it is all in the request's buffer: after a turn (declared length), or once the message is complete. */
  const after = (wait: 'turn' | 'complete', limit: number, budget?: BodyBudget) =>
    withServer(async (req) => {
      if (wait === 'turn') await Promise.resolve();
      else await until(() => req.complete, 2000);
      const buffered = req.readableLength;
      const body = await readBody(req, limit);
      // Read without a listener; the stream still ends, as Node's clean-up of the request needs.
      const listeners = req.listenerCount('data');
      const ended = await until(() => req.readableEnded, 2000);
      return { body: String(body), buffered, listeners, ended, aborted: req.aborted };
    }, budget);

  it('reads a declared length all buffered a turn after the headers, and a complete chunked body, at once; the request still ends', async () => {
    const { port, server, results } = await after('turn', 1000);
    servers.push(server);
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello');
    const chunked = await after('complete', 1000);
    servers.push(chunked.server);
    await raw(chunked.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n');
    for (const [r, body] of [[results[0], 'hello'], [chunked.results[0], 'abcde']] as const) {
      expect(r).toEqual({ ok: true, value: { body, buffered: body.length, listeners: 0, ended: true, aborted: false } });
    }
  });

  it('refuses a buffered chunked body over the limit (413) or over the body budget (503), as the read chunk by chunk does', async () => {
    const { port, server, results } = await after('complete', 10);
    servers.push(server);
    await raw(port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n');
    expect(results[0]?.value).toMatchObject({ status: 413, code: 'RequestTooLarge' });
    const tight = await after('complete', 1000, new BodyBudget(10));
    servers.push(tight.server);
    await raw(tight.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n8\r\n01234567\r\n8\r\n01234567\r\n0\r\n\r\n');
    expect(tight.results[0]?.value).toMatchObject({ status: 503, code: 'TooManyBodyBytes' });
    await raw(tight.port, 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n8\r\n01234567\r\n0\r\n\r\n');
    expect(tight.results[1]).toEqual({ ok: true, value: { body: '01234567', buffered: 8, listeners: 0, ended: true, aborted: false } });
  });
});

describe('decodeUtf8', () => {
  it('decodes UTF-8, keeping a BOM-less body byte for byte', () => {
    expect(decodeUtf8(Buffer.from('héllo ✓ 😀', 'utf8'))).toBe('héllo ✓ 😀');
    expect(decodeUtf8(Buffer.alloc(0))).toBe('');
  });
  it.each([
    ['a lone continuation byte', Buffer.from([0x61, 0x80])],
    ['Latin-1', Buffer.from('caf\xe9', 'latin1')],
    ['a truncated sequence', Buffer.from([0xe2, 0x82])],
    ['an overlong encoding', Buffer.from([0xc0, 0xaf])],
    ['an encoded surrogate', Buffer.from([0xed, 0xa0, 0x80])],
  ])('refuses %s with 400 InvalidEncoding', (_name, buf) => {
    expect(() => decodeUtf8(buf)).toThrow(expect.objectContaining({ status: 400, code: 'InvalidEncoding' }));
  });
});


describe('decodeUtf8Sliced (bodies past a slice, DECODE_SLICE_BYTES)', () => {
  const SLICE = DECODE_SLICE_BYTES;

  it('decodes a 1.2 MB batch a quarter megabyte a turn: the loop turns between slices', async () => {
    const buf = Buffer.alloc(1_220_000, 0x61);
    const { value: text, turns } = await withTurns(() => decodeUtf8Sliced(buf));
    expect(text.length).toBe(buf.length);
    // 1,220,000 bytes are five slices of at most 262,144: four turns between them.
    expect(SLICE).toBeLessThanOrEqual(262_144);
    expect(turns).toBeGreaterThanOrEqual(4);
  });

  /** `n` ASCII bytes, then `tail` (so a character of `tail` can sit across a slice boundary), then more ASCII. */
  const around = (n: number, tail: Buffer): Buffer => Buffer.concat([Buffer.alloc(n, 0x61), tail, Buffer.alloc(SLICE, 0x62)]);

  it('decodes a character that straddles a slice boundary, at every cut, as one decode would', async () => {
    for (const ch of ['é', '✓', '😀']) {
      const bytes = Buffer.from(ch, 'utf8');
      for (let before = SLICE - bytes.length; before <= SLICE; before++) {
        const buf = around(before, bytes);
        expect(await decodeUtf8Sliced(buf)).toBe(buf.toString('utf8'));
      }
    }
  });

  it.each([
    ['a lone continuation byte at a boundary', around(SLICE, Buffer.from([0x80]))],
    ['four continuation bytes across a boundary', around(SLICE - 2, Buffer.from([0x80, 0x80, 0x80, 0x80]))],
    ['a sequence cut short by the next slice', around(SLICE - 1, Buffer.from([0xe2, 0x82, 0x61]))],
    ['an encoded surrogate across a boundary', around(SLICE - 1, Buffer.from([0xed, 0xa0, 0x80]))],
    ['a truncated sequence at the very end', Buffer.concat([Buffer.alloc(SLICE + 10, 0x61), Buffer.from([0xf0, 0x9f, 0x98])])],
  ])('refuses %s with 400 InvalidEncoding', async (_name, buf) => {
    await expect(decodeUtf8Sliced(buf)).rejects.toMatchObject({ status: 400, code: 'InvalidEncoding' });
  });

  it('keeps an ASCII body one byte a character (a streaming decoder made it UTF-16: twice the memory, and every line sliced from it)', async () => {
    const text = await decodeUtf8Sliced(Buffer.alloc(3 * SLICE + 5, 0x61));
    expect(text.length).toBe(3 * SLICE + 5);
    // V8's serializer tags a string by its representation: '"' one byte a character, 'c' two.
    expect(String.fromCharCode(serialize(text)[2] as number)).toBe('"');
  });
});

describe('decodeUtf8Parts (a batch of separated records, in parts never joined)', () => {
  const SLICE = DECODE_SLICE_BYTES;

  it('cuts each part just after a separator, a part a turn, and decodes each as one decode would', async () => {
    const line = (i: number): string => `{"body":"${i} é ✓ 😀 ${'x'.repeat(i % 300)}"}`;
    const text = Array.from({ length: 20_000 }, (_, i) => line(i)).join('\n');
    const buf = Buffer.from(text);
    const { value: parts, turns } = await withTurns(() => decodeUtf8Parts(buf, 0x0a));
    expect(parts.join('')).toBe(text);
    expect(parts.length).toBeGreaterThanOrEqual(Math.floor(buf.length / SLICE));
    for (const p of parts.slice(0, -1)) {
      expect(p.endsWith('\n')).toBe(true);
      expect(Buffer.byteLength(p)).toBeLessThanOrEqual(SLICE);
    }
    expect(turns).toBeGreaterThanOrEqual(parts.length - 1);
  });

  it('takes a record longer than a slice whole, up to its separator (or the end)', async () => {
    const long = 'y'.repeat(SLICE + 10);
    const parts = await decodeUtf8Parts(Buffer.from(`a\n${long}\nb`), 0x0a);
    expect(parts).toEqual(['a\n', `${long}\n`, 'b']);
    expect(await decodeUtf8Parts(Buffer.from(`${long}${long}`), 0x0a)).toEqual([`${long}${long}`]);
  });

  it('refuses invalid UTF-8 with 400 InvalidEncoding wherever it sits, a part boundary included', async () => {
    const before = Buffer.alloc(SLICE - 1, 0x61);
    for (const bad of [Buffer.from([0x0a, 0x80]), Buffer.from([0xe2, 0x82, 0x0a]), Buffer.from([0x0a, 0xed, 0xa0, 0x80])]) {
      const buf = Buffer.concat([before, bad, Buffer.alloc(SLICE, 0x62)]);
      await expect(decodeUtf8Parts(buf, 0x0a)).rejects.toMatchObject({ status: 400, code: 'InvalidEncoding' });
      await expect(decodeUtf8Parts(buf, 'character')).rejects.toMatchObject({ status: 400, code: 'InvalidEncoding' });
    }
  });

  it("with 'character' (a JSON array), cuts between two characters, a part a turn, never joined", async () => {
    // Multi-byte characters at every offset, so some cut would fall inside one if it were not moved.
    const text = `[${Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ body: `${'é'.repeat(i % 3)}✓😀 ${i}` })).join(',')}]`;
    const buf = Buffer.from(text);
    const { value: parts, turns } = await withTurns(() => decodeUtf8Parts(buf, 'character'));
    expect(parts.length).toBeGreaterThanOrEqual(Math.floor(buf.length / SLICE));
    expect(parts.join('')).toBe(text);
    for (const p of parts) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(SLICE);
    expect(turns).toBeGreaterThanOrEqual(parts.length - 1);
  });
});
