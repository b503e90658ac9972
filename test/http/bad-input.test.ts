/**
 * Every rejection of the README's error table, through HTTP against a real daemon, and a burst
 * of garbage the daemon must survive.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, post, postJson, type Reply, startTestDaemon, type TestDaemon } from '../support/daemon.js';

let fake: FakeSqs;
let d: TestDaemon;

beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['q', 'q.fifo', { name: 'small', attributes: { MaximumMessageSize: '1024' } }] });
  d = await startTestDaemon(fake.endpoint);
});

afterAll(async () => {
  await d?.stop();
  await fake?.close();
});

const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

function expectError(r: Reply, status: number, code: string): void {
  expect({ status: r.status, code: r.json?.error?.code }).toEqual({ status, code });
  expect(typeof r.json.error.message).toBe('string');
  expect(r.json.error.message.length).toBeGreaterThan(0);
}

describe('400', () => {
  it.each([
    ['an empty raw body', 'text/plain', '', 'EmptyBody'],
    ['an empty form body', 'application/x-www-form-urlencoded', 'message_body=', 'EmptyBody'],
    ['a form without message_body', 'application/x-www-form-urlencoded', 'body=x', 'MissingBody'],
    ['a control character', 'text/plain', 'bell\u0007', 'InvalidCharacter'],
    ['U+FFFE', 'text/plain', 'x\uFFFE', 'InvalidCharacter'],
    ['malformed JSON', 'application/json', '{"body": "x"', 'MalformedJson'],
    ['an unknown JSON field', 'application/json', '{"body": "x", "MessageBody": "y"}', 'UnknownField'],
    ['a JSON value that is not a message', 'application/json', '42', 'InvalidEntry'],
    ['a body that is not a string', 'application/json', '{"body": {"a": 1}}', 'BodyNotString'],
    ['a bad attribute name', 'application/json', '{"body": "x", "attributes": {"AWS.reserved": "v"}}', 'InvalidAttributeName'],
    ['an attribute name with a space', 'application/json', '{"body": "x", "attributes": {"two words": "v"}}', 'InvalidAttributeName'],
    ['a bad attribute type', 'application/json', '{"body": "x", "attributes": {"a": {"DataType": "Strin", "StringValue": "v"}}}', 'InvalidAttributeType'],
    ['a Number attribute that is not a number', 'application/json', '{"body": "x", "attributes": {"a": {"DataType": "Number", "StringValue": "twelve"}}}', 'InvalidAttributeValue'],
    ['a Binary attribute that is not base64', 'application/json', '{"body": "x", "attributes": {"a": {"DataType": "Binary", "BinaryValue": "%%%"}}}', 'InvalidAttributeValue'],
    ['an empty String attribute', 'application/json', '{"body": "x", "attributes": {"a": ""}}', 'InvalidAttributeValue'],
    ['attributes that are not an object', 'application/json', '{"body": "x", "attributes": ["a"]}', 'AttributesNotObject'],
    ['11 attributes', 'application/json', JSON.stringify({ body: 'x', attributes: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`a${i}`, 'v'])) }), 'TooManyAttributes'],
    ['a delay of 901 s', 'application/json', '{"body": "x", "delaySeconds": 901}', 'InvalidDelay'],
    ['a negative delay', 'application/json', '{"body": "x", "delaySeconds": -1}', 'InvalidDelay'],
    ['a fractional delay', 'application/json', '{"body": "x", "delaySeconds": 1.5}', 'InvalidDelay'],
    ['a form delay that is not a number', 'application/x-www-form-urlencoded', 'message_body=x&delay_seconds=soon', 'InvalidDelay'],
    ['a deduplication id on a standard queue', 'application/json', '{"body": "x", "deduplicationId": "d"}', 'DeduplicationIdOnStandardQueue'],
    ['a group id with a space', 'application/json', '{"body": "x", "groupId": "a b"}', 'InvalidGroupId'],
    ['an empty batch', 'application/json', '[]', 'EmptyBatch'],
    ['an empty NDJSON batch', 'application/x-ndjson', '\n\n', 'EmptyBatch'],
  ])('%s', async (_name, contentType, body, code) => {
    expectError(await post(d.url, '/queues/q', body, { contentType }), 400, code);
  });

  it.each([
    ['a delay on a FIFO queue', '{"body": "x", "groupId": "g", "delaySeconds": 5}', 'DelayNotAllowedOnFifo'],
    ['no group id on a FIFO queue', '{"body": "x"}', 'MissingGroupId'],
  ])('%s', async (_name, body, code) => {
    expectError(await post(d.url, '/queues/q.fifo', body, { contentType: 'application/json' }), 400, code);
  });

  it.each([['bad.name'], ['a'.repeat(81)], ['x'.repeat(76) + '.fifo'], ['sp%20ace'], ['a.b.fifo']])('an invalid queue name %s', async (name) => {
    expectError(await post(d.url, `/queues/${name}`, 'x', { contentType: 'text/plain' }), 400, 'InvalidQueueName');
  });

  it('a body that is not UTF-8', async () => {
    expectError(await post(d.url, '/queues/q', Buffer.from([0x63, 0x61, 0x66, 0xe9]), { contentType: 'text/plain' }), 400, 'InvalidEncoding');
  });

  it('names the field at fault', async () => {
    const r = await postJson(d.url, '/queues/q', { body: 'x', attributes: { ok: 'v', 'bad name': 'v' } });
    expect(r.json.error.details).toEqual({ field: 'attributes.bad name' });
  });

  it('a batch where every entry is bad is a 400 with one result per entry; one good entry makes it a 202', async () => {
    const bad = await postJson(d.url, '/queues/q', [{ body: '' }, { nope: 1 }, 7]);
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ queue: 'q', accepted: 0, rejected: 3 });
    expect(bad.json.results.map((x: { error: { code: string } }) => x.error.code)).toEqual(['EmptyBody', 'UnknownField', 'InvalidEntry']);
    const mixed = await postJson(d.url, '/queues/q', [{ body: '' }, 'fine']);
    expect(mixed.status).toBe(202);
    expect(mixed.json).toMatchObject({ accepted: 1, rejected: 1 });
    expect(mixed.json.results[1].id).toEqual(expect.any(String));
  });

  it('nothing refused was sent to SQS', async () => {
    await d.daemon.deps.pipeline.idle();
    expect(fake.bodies('q')).toEqual(['fine']);
    expect(fake.messageCount('q.fifo')).toBe(0);
  });
});

describe('401', () => {
  it('without credentials, with a Basic challenge', async () => {
    const r = await post(d.url, '/queues/q', 'x', { contentType: 'text/plain', headers: { authorization: undefined } });
    expectError(r, 401, 'MissingCredentials');
    expect(r.headers['www-authenticate']).toMatch(/^Basic realm="sqs-accelerator"/);
  });
  it.each([
    ['Bearer abc', 'not Basic'],
    [basic('AKID', ''), 'an empty secret'],
    [basic('', 'secret'), 'an empty user'],
    [basic('AKID/../x', 'secret'), 'a user that is not an access key id'],
    ['Basic !!!not-base64', 'garbage'],
  ])('with %j (%s)', async (authorization) => {
    const r = await post(d.url, '/queues/q', 'x', { contentType: 'text/plain', headers: { authorization } });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Basic /);
    expect(r.text).not.toContain('secret');
  });
});

describe('404', () => {
  it('a queue that does not exist', async () => {
    const r = await post(d.url, '/queues/nope', 'x', { contentType: 'text/plain' });
    expectError(r, 404, 'QueueDoesNotExist');
    expect(r.json.error.message).toContain('nope');
  });
  it('a path that is no route', async () => {
    expect((await post(d.url, '/nothing/here', 'x')).status).toBe(404);
  });
});

describe('413', () => {
  it('a message over 1 MiB (body alone, or body + attributes, in bytes)', async () => {
    const oneMiB = 1_048_576;
    expectError(await post(d.url, '/queues/q', 'x'.repeat(oneMiB + 1), { contentType: 'text/plain' }), 413, 'MessageTooLarge');
    // 349,526 three-byte characters: under 1 MiB in characters, over it in bytes.
    expectError(await post(d.url, '/queues/q', '✓'.repeat(349_526), { contentType: 'text/plain' }), 413, 'MessageTooLarge');
    expectError(await postJson(d.url, '/queues/q', { body: 'x'.repeat(oneMiB - 10), attributes: { attr: 'yyyyyyy' } }), 413, 'MessageTooLarge');
    // Exactly 1 MiB is fine.
    expect((await post(d.url, '/queues/q', 'x'.repeat(oneMiB), { contentType: 'text/plain' })).status).toBe(202);
  });
  it("over the queue's MaximumMessageSize", async () => {
    const r = await post(d.url, '/queues/small', 'x'.repeat(1025), { contentType: 'text/plain' });
    expectError(r, 413, 'MessageTooLarge');
    expect(r.json.error.message).toContain('1024');
    expect((await post(d.url, '/queues/small', 'x'.repeat(1024), { contentType: 'text/plain' })).status).toBe(202);
  });
  it('a request over --max-request-bytes, declared or chunked', async () => {
    const small = await startTestDaemon(fake.endpoint, ['--max-request-bytes', '4096']);
    try {
      const big = JSON.stringify(Array.from({ length: 100 }, (_, i) => `message ${i} `.repeat(10)));
      expectError(await post(small.url, '/queues/q', big, { contentType: 'application/json' }), 413, 'RequestTooLarge');
      // Chunked: no Content-Length, refused once the limit is passed.
      const chunks = Readable.from(Array.from({ length: 10 }, () => Buffer.alloc(1000, 0x61)));
      const res = await request(`${small.url}/queues/q`, { method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body: chunks });
      expect(res.statusCode).toBe(413);
      expect(((await res.body.json()) as { error: { code: string } }).error.code).toBe('RequestTooLarge');
      expect((await post(small.url, '/queues/q', 'fits', { contentType: 'text/plain' })).status).toBe(202);
    } finally {
      await small.stop();
    }
  });
});

describe('415', () => {
  it('multipart bodies', async () => {
    const body = '--b\r\nContent-Disposition: form-data; name="message_body"\r\n\r\nhi\r\n--b--\r\n';
    expectError(await post(d.url, '/queues/q', body, { contentType: 'multipart/form-data; boundary=b' }), 415, 'UnsupportedMediaType');
  });
  it.each(['text/plain; charset=iso-8859-1', 'application/json; charset=utf-16', 'application/x-www-form-urlencoded; charset=windows-1252'])('%s', async (contentType) => {
    expectError(await post(d.url, '/queues/q', 'x', { contentType }), 415, 'UnsupportedCharset');
  });
  it.each(['application/json; charset=UTF-8', 'application/json; charset=utf-8', 'application/json;charset="Utf-8"', 'application/json; charset=US-ASCII'])('accepts %s', async (contentType) => {
    expect((await post(d.url, '/queues/q', '{"body":"u"}', { contentType })).status).toBe(202);
  });
});

describe('421', () => {
  it.each(['evil.example', 'evil.example:9292', '127.0.0.2', 'localhost.evil.example'])('Host %s', async (host) => {
    expectError(await post(d.url, '/queues/q', 'x', { contentType: 'text/plain', headers: { host } }), 421, 'HostNotAllowed');
  });
  it.each(['localhost', 'LOCALHOST:1234', '127.0.0.1:9292', '[::1]:9292'])('serves Host %s', async (host) => {
    expect((await post(d.url, '/queues/q', 'ok', { contentType: 'text/plain', headers: { host } })).status).toBe(202);
  });
  it('--allowed-hosts adds names', async () => {
    const other = await startTestDaemon(fake.endpoint, ['--allowed-hosts', 'sqs.internal,app.local']);
    try {
      expect((await post(other.url, '/queues/q', 'ok', { contentType: 'text/plain', headers: { host: 'sqs.internal:9292' } })).status).toBe(202);
      expect((await post(other.url, '/queues/q', 'ok', { contentType: 'text/plain', headers: { host: 'evil.example' } })).status).toBe(421);
    } finally {
      await other.stop();
    }
  });
});

describe('403: cross-origin browser requests', () => {
  it('refuses a POST from another origin, whatever the credentials', async () => {
    const r = await post(d.url, '/queues/q', 'x', { contentType: 'text/plain', headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(r.status).toBe(403);
    const before = fake.messageCount('q');
    await d.daemon.deps.pipeline.idle();
    expect(fake.bodies('q').slice(before)).not.toContain('x');
  });
});

describe('SQS refusing the credentials or the queue (401, 403, 503)', () => {
  let stub: Server;
  let s: TestDaemon;
  beforeAll(async () => {
    // Answers GetQueueUrl by access key id, as SQS would for such credentials.
    stub = createServer((req, res) => {
      req.resume();
      const akid = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const [status, type] =
        akid === 'BADKEY' ? [403, 'InvalidClientTokenId'] : akid === 'DENIED' ? [403, 'AccessDenied'] : akid === 'BUSY' ? [403, 'RequestThrottled'] : [400, 'QueueDoesNotExist'];
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message: `${type} (stub)` }));
    });
    await new Promise<void>((r) => stub.listen(0, '127.0.0.1', r));
    s = await startTestDaemon(`http://127.0.0.1:${(stub.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await s?.stop();
    await new Promise((r) => stub.close(r));
  });

  it('401 with a challenge when SQS does not know the key', async () => {
    const r = await post(s.url, '/queues/q', 'x', { contentType: 'text/plain', headers: { authorization: basic('BADKEY', 'wrong-secret') } });
    expectError(r, 401, 'InvalidClientTokenId');
    expect(r.headers['www-authenticate']).toMatch(/^Basic /);
    expect(r.text).not.toContain('wrong-secret');
  });
  it('403 when SQS denies access', async () => {
    expectError(await post(s.url, '/queues/q', 'x', { contentType: 'text/plain', headers: { authorization: basic('DENIED', 's') } }), 403, 'AccessDenied');
  });
  it('202, not yet verified, when SQS throttles the first lookup (RequestThrottled is a 403, not a denial)', async () => {
    const r = await post(s.url, '/queues/q', 'x', { contentType: 'text/plain', headers: { authorization: basic('BUSY', 's') } });
    expect([r.status, r.json.queueVerified, r.headers['x-queue-verified']]).toEqual([202, false, 'false']);
  });
});

describe('202 while SQS cannot be asked about a new queue (issue 10)', () => {
  it('SQS unreachable while resolving a queue for the first time: accepted, verified and delivered once SQS is back', async () => {
    fake.createQueue('q2');
    fake.down = true;
    let r: Reply;
    try {
      r = await post(d.url, '/queues/q2', 'x', { contentType: 'text/plain' });
      expect([r.status, r.json.queueVerified]).toEqual([202, false]);
    } finally {
      fake.down = false;
    }
    await fake.waitFor(() => fake.messageCount('q2') === 1, 5000);
    expect(fake.bodies('q2')).toEqual(['x']);
  });

  it('nothing listening upstream at all: accepted, not verified', async () => {
    const dead = await startTestDaemon('http://127.0.0.1:9', ['--shutdown-grace-ms', '0']); // discard port: refused
    try {
      const r = await post(dead.url, '/queues/q', 'x', { contentType: 'text/plain' });
      expect([r.status, r.json.queueVerified]).toEqual([202, false]);
    } finally {
      await dead.stop();
    }
  });
});

describe('503', () => {
  it('backlog full: 503 BacklogFull with Retry-After, nothing of the request accepted; accepted again once it drains', async () => {
    const f = await startFakeSqs({ queues: ['bp'] });
    const small = await startTestDaemon(f.endpoint, ['--max-backlog-messages', '5', '--retry-base-ms', '20', '--retry-max-ms', '20']);
    try {
      expect((await post(small.url, '/queues/bp', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
      await small.daemon.deps.pipeline.idle();
      f.down = true;
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await post(small.url, '/queues/bp', `m${i}`, { contentType: 'text/plain' })).status);
      expect(statuses).toEqual([202, 202, 202, 202, 202]);
      const full = await post(small.url, '/queues/bp', 'one too many', { contentType: 'text/plain' });
      expectError(full, 503, 'BacklogFull');
      expect(Number(full.headers['retry-after'])).toBeGreaterThan(0);
      // A batch that does not fit is refused as a whole.
      expect((await postJson(small.url, '/queues/bp', ['a', 'b'])).status).toBe(503);
      expect(small.daemon.deps.pipeline.backlogMessages).toBe(5);
      f.down = false;
      await small.daemon.deps.pipeline.idle();
      expect((await post(small.url, '/queues/bp', 'after', { contentType: 'text/plain' })).status).toBe(202);
      await small.daemon.deps.pipeline.idle();
      // A standard queue: retries may reorder.
      expect(f.bodies('bp').sort()).toEqual(['after', 'm0', 'm1', 'm2', 'm3', 'm4', 'resolve']);
    } finally {
      f.down = false;
      await small.stop();
      await f.close();
    }
  });
});

describe('browsers get HTML errors', () => {
  it('answers an HTML page with the escaped message when asked for HTML', async () => {
    const r = await post(d.url, '/queues/%3Cscript%3E', 'x', { contentType: 'text/plain', headers: { accept: 'text/html' } });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.text).not.toContain('<script>');
    expect(r.text).toContain('&lt;script&gt;');
  });
});
