/**
 * parseHead (src/net/http1/head.ts), the response-head parser shared by the worker's app client
 * and the SQS client: header names are lower-cased keys of a plain object with nothing inherited
 * a name could hit, repeats are joined, and a malformed line is refused by name.
 */
import { CHUNKED, LENGTH, NO_BODY, parseHead, UNTIL_CLOSE } from '../../src/net/http1/head.js';

it('reads status, lower-cased names, trimmed values and joins a repeated header', () => {
  const h = parseHead('HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-Reply-Attr-A:  one \r\nx-reply-attr-a: two\r\nKeep-Alive: timeout=7');
  expect(h).toMatchObject({ status: 201, keepAlive: true, framing: LENGTH, length: 5, keepAliveMs: 7000 });
  expect(typeof h === 'object' && { ...h.headers }).toEqual({ 'content-length': '5', 'x-reply-attr-a': 'one, two', 'keep-alive': 'timeout=7' });
});

it('takes header names that are Object.prototype members as ordinary headers, and none that were not sent', () => {
  const h = parseHead('HTTP/1.1 200 OK\r\nconstructor: a\r\n__proto__: b\r\ntoString: c\r\nhasOwnProperty: d\r\nContent-Length: 0');
  if (typeof h !== 'object') throw new Error(`refused: ${String(h)}`);
  expect(Object.keys(h.headers).sort()).toEqual(['__proto__', 'constructor', 'content-length', 'hasownproperty', 'tostring']);
  expect(h.headers.constructor).toBe('a');
  expect(h.headers.__proto__).toBe('b');
  expect(h.headers.tostring).toBe('c');
  expect(h.headers.valueOf).toBeUndefined();
  expect(h.framing).toBe(NO_BODY);
  // A name sent twice that is also a prototype member is joined, not mixed with an inherited value.
  const twice = parseHead('HTTP/1.1 200 OK\r\nconstructor: a\r\nconstructor: b');
  expect(typeof twice === 'object' && twice.headers.constructor).toBe('a, b');
});

it('refuses a header line without a name, without a colon, or with a non-token name', () => {
  for (const line of [': b', 'A b', 'A\u00e9: b', 'A B: c']) expect(parseHead(`HTTP/1.1 200 OK\r\nX: 1\r\n${line}`)).toBe(`header line ${JSON.stringify(line)}`);
  expect(parseHead('HTTP/1.1 200 OK\r\nA: b\r\n')).toBe('header line ""');
});

it('frames bodies: chunked, until close without a length, none for 1xx/204', () => {
  expect(parseHead('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked')).toMatchObject({ framing: CHUNKED, keepAlive: true });
  expect(parseHead('HTTP/1.1 200 OK')).toMatchObject({ framing: UNTIL_CLOSE, keepAlive: false });
  expect(parseHead('HTTP/1.0 200 OK\r\nContent-Length: 2')).toMatchObject({ framing: LENGTH, keepAlive: false });
  expect(parseHead('HTTP/1.1 204 No Content\r\nContent-Length: 9')).toMatchObject({ framing: NO_BODY });
  expect(parseHead('HTTP/1.1 100 Continue')).toBeUndefined();
  expect(parseHead('HTTP/1.1 200 OK\r\nContent-Length: 1, 2')).toBe('Content-Length "1, 2"');
});
