/**
 * Garbage at the SQS API door, in both protocols: mangled JSON and Query bodies, wrong types
 * in every field, odd paths. Each must get an SQS-shaped 4xx (never a 500, never a hang), and
 * the door must serve a good SendMessage afterwards. Deterministic (seeded), bounded in count.
 */
import { createHash } from 'node:crypto';
import { request } from 'undici';
import { batchSuccess, runBounded, startStubSqs, startTestDaemon, type StubSqs, type TestDaemon } from '../support/daemon.js';
import { mulberry32 as rng } from '../support/prng.js';

let stub: StubSqs;
let d: TestDaemon;

beforeAll(async () => {
  stub = await startStubSqs((call) => {
    if (call.action === 'GetQueueUrl') return { body: { QueueUrl: `${stub.endpoint}/000000000000/${call.params.QueueName}` } };
    if (call.action === 'GetQueueAttributes') return { body: { Attributes: {} } };
    // Garbage the door forwards (a QueueUrl that is no URL: SQS's to judge) gets SQS's refusal.
    if (call.action === 'SendMessageBatch' && Array.isArray(call.params.Entries) && call.params.Entries.every((e: { MessageBody?: unknown }) => typeof e?.MessageBody === 'string')) return batchSuccess(call.params);
    return { status: 400, body: { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'stub says no' } };
  });
  d = await startTestDaemon(stub.endpoint, ['--credentials', 'chain'], 'warn', { credentialProvider: async () => ({ accessKeyId: 'D', secretAccessKey: 'd' }) });
});

afterAll(async () => {
  await d?.stop();
  await stub?.close();
});

const QUEUE_URL = () => `${d.url}/000000000000/q`;
const ODD = [null, true, 42, -1, 1e300, '', 'x', '\u0000', '\ud800', [], [1, 'a'], {}, { a: { b: [] } }, '%', 'A'.repeat(300)];

function jsonCase(r: () => number): { target: string; body: string } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const action = pick(['SendMessage', 'SendMessageBatch', 'SendMessage', 'SendMessageBatch', 'GetQueueUrl', '', 'Nope']);
  const base: Record<string, unknown> = { QueueUrl: QUEUE_URL(), MessageBody: 'ok' };
  const fields = ['QueueUrl', 'MessageBody', 'MessageAttributes', 'MessageSystemAttributes', 'DelaySeconds', 'MessageGroupId', 'MessageDeduplicationId', 'Entries'];
  for (let i = 0; i < 3; i++) base[pick(fields)] = pick(ODD);
  if (r() < 0.3) base.Entries = Array.from({ length: Math.floor(r() * 13) }, (_, k) => ({ Id: r() < 0.8 ? `e${k}` : pick(ODD), MessageBody: pick(ODD), MessageAttributes: r() < 0.5 ? { a: pick(ODD) } : pick(ODD) }));
  let body = JSON.stringify(base);
  if (r() < 0.15) body = body.slice(0, Math.floor(r() * body.length)); // truncated
  return { target: `AmazonSQS.${action}`, body };
}

function queryCase(r: () => number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const parts = [`Action=${pick(['SendMessage', 'SendMessageBatch', 'ReceiveMessage', 'GetQueueAttributes', ''])}`, `QueueUrl=${encodeURIComponent(QUEUE_URL())}`];
  const keys = ['MessageBody', 'DelaySeconds', 'MessageAttribute.1.Name', 'MessageAttribute.1.Value.DataType', 'MessageAttribute.1.Value.BinaryValue', 'SendMessageBatchRequestEntry.1.Id', 'SendMessageBatchRequestEntry.0.Id', 'SendMessageBatchRequestEntry.99999.MessageBody', 'AttributeName.x', 'MaxNumberOfMessages', '', '.', '..a..'];
  const values = ['', 'x', '%', '%E0%A4%A', '%00', 'abc+def', '-5', '1e3', 'AAAA', '====', encodeURIComponent('\u{1F600}')];
  for (let i = 0; i < 4; i++) parts.push(`${pick(keys)}=${pick(values)}`);
  return parts.join('&');
}

test('300 mangled requests in both protocols: SQS-shaped 4xx answers, never a 5xx; the door still serves', async () => {
  const r = rng(20261201);
  const cases = Array.from({ length: 300 }, (_, i) => (i % 2 === 0 ? { kind: 'json' as const, ...jsonCase(r) } : { kind: 'query' as const, body: queryCase(r), path: r() < 0.5 ? '/' : '/000000000000/q' }));
  const statuses = await runBounded(cases.length, 8, async (i) => {
    const c = cases[i] as (typeof cases)[number];
    const res =
      c.kind === 'json'
        ? await request(`${d.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': c.target }, body: c.body, headersTimeout: 10_000, bodyTimeout: 10_000 })
        : await request(`${d.url}${c.path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: c.body, headersTimeout: 10_000, bodyTimeout: 10_000 });
    const text = await res.body.text();
    if (res.statusCode >= 400) {
      // SQS's shapes: JSON __type or Query ErrorResponse, never the REST API's {"error": ...}.
      if (c.kind === 'json') expect(JSON.parse(text)).toEqual({ __type: expect.stringMatching(/#\w+/), message: expect.any(String) });
      else expect(text).toMatch(/^<\?xml version="1.0"\?><ErrorResponse xmlns="http:\/\/queue.amazonaws.com\/doc\/2012-11-05\/"><Error><Type>Sender<\/Type><Code>[\w.]+<\/Code>/);
    }
    return res.statusCode;
  });
  const fivexx = statuses.filter((s) => s >= 500);
  expect(fivexx).toEqual([]);
  expect(statuses.filter((s) => s >= 400).length).toBeGreaterThan(100); // the garbage was mostly refused
  expect(d.logs.find('unexpected error')).toEqual([]);

  const ok = await request(`${d.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, body: JSON.stringify({ QueueUrl: QUEUE_URL(), MessageBody: 'after the storm' }) });
  expect(ok.statusCode).toBe(200);
  expect(await ok.body.json()).toMatchObject({ MD5OfMessageBody: createHash('md5').update('after the storm').digest('hex') });
});
