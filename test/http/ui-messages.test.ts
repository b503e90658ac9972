/**
 * Looking at messages from the UI: receive up to 10 with a chosen visibility timeout (0 = put
 * back), bodies pretty-printed when JSON and always escaped, long ones cut with the whole text
 * behind "Show all", system attributes, delete by receipt handle, the redrive-policy warning,
 * and the CSRF guard. In-process against fauxqs.
 */
import { startFakeSqs } from '../support/fake-sqs.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, call, createUpstreamQueue, eventually, type Reply, SECRET, sameOriginBrowser, startCredentialProxy, startUiDaemon, tokenIn, type UiDaemon, type Upstream, upstreamAttributes } from './ui-harness.js';

const HOSTILE = '</pre><script>alert(1)</script><img src=x onerror=alert(2)>';
const creds = { accessKeyId: AKID, secretAccessKey: SECRET };
let emulator: Emulator;
let ui: UiDaemon;
let proxy: Upstream;
const seen: Reply[] = [];

async function req(method: string, path: string, options: Parameters<typeof call>[3] = {}): Promise<Reply> {
  const r = await call(ui.url, method, path, options);
  seen.push(r);
  return r;
}

async function send(queue: string, json: unknown): Promise<void> {
  const before = ui.daemon.deps.pipeline.totals.sent;
  expect((await req('POST', `/queues/${queue}`, { json })).status).toBe(202);
  await eventually(() => ui.daemon.deps.pipeline.totals.sent > before, 3000, 'delivered');
}

/** A browser's form post from the queue page: same-origin headers and the page's CSRF token. */
async function browserPost(path: string, form: Record<string, string>, from = '/queues/browse'): Promise<Reply> {
  const token = tokenIn((await req('GET', from, { html: true })).text);
  return req('POST', path, { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: token, ...form } });
}

beforeAll(async () => {
  emulator = await startEmulator();
  proxy = await startCredentialProxy(emulator.endpoint); // fauxqs takes any receipt handle; the proxy can answer as SQS does
  ui = await startUiDaemon(proxy.endpoint);
  await createUpstreamQueue(ui.daemon, 'browse');
  await createUpstreamQueue(ui.daemon, 'one');
  await createUpstreamQueue(ui.daemon, 'guarded-dlq');
  const dlqArn = (await upstreamAttributes(ui.daemon, 'guarded-dlq')).QueueArn as string;
  await createUpstreamQueue(ui.daemon, 'guarded', { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 3 }) });
  await send('browse', { body: JSON.stringify({ order: 42, note: HOSTILE }), attributes: { kind: { DataType: 'String', StringValue: '<i>created</i>' } } });
  await send('browse', { body: `${'x'.repeat(5000)}<tail>` });
});

afterAll(async () => {
  await ui?.stop();
  await proxy?.close();
  await emulator?.close();
});

it('receives with visibility 0 as JSON: body, attributes and system attributes, and the messages stay in the queue', async () => {
  const first = await req('POST', '/queues/browse/receive', { json: { max_messages: 10, visibility_timeout: 0 } });
  expect(first.status).toBe(200);
  expect(first.json.visibilityTimeout).toBe(0);
  const bodies = first.json.messages.map((m: { body: string }) => m.body).sort();
  expect(bodies).toEqual([`${'x'.repeat(5000)}<tail>`, JSON.stringify({ order: 42, note: HOSTILE })]);
  const json = first.json.messages.find((m: { body: string }) => m.body.startsWith('{'));
  expect(json.attributes.kind).toEqual({ DataType: 'String', StringValue: '<i>created</i>' });
  expect(json.system).toMatchObject({ SentTimestamp: expect.stringMatching(/^\d{13}$/), ApproximateReceiveCount: '1' });
  expect(typeof json.receiptHandle).toBe('string');
  // Put back at once: a second look sees them again, counted once more.
  const again = await req('POST', '/queues/browse/receive', { json: { visibility_timeout: 0 } });
  expect(again.json.messages).toHaveLength(2);
  expect(again.json.messages.map((m: { system: { ApproximateReceiveCount: string } }) => m.system.ApproximateReceiveCount)).toEqual(['2', '2']);
});

it('renders received messages escaped, JSON pretty-printed, long bodies cut with the whole text behind Show all', async () => {
  const r = await browserPost('/queues/browse/receive', { max_messages: '10', visibility_timeout: '0' });
  expect(r.status).toBe(200);
  expect(r.text).toContain('2 messages, put back at once.');
  expect(r.text).toContain('{\n  &quot;order&quot;: 42,\n  &quot;note&quot;: &quot;&lt;/pre&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;&quot;\n}');
  expect(r.text).not.toMatch(/<script>|<img src=x|<i>created/);
  expect(r.text).toContain('<dd class="mono">&lt;i&gt;created&lt;/i&gt;</dd>');
  expect(r.text).toMatch(/<pre class="body">x{1500}…<\/pre>\s*<details><summary>Show all \(4.89 KiB\)<\/summary><pre class="body">x{5000}&lt;tail&gt;<\/pre><\/details>/);
  expect(r.text).toContain('<dt title="ApproximateReceiveCount">Receive count</dt><dd>3</dd>');
  expect(r.text).toContain('<dt title="SentTimestamp">Sent</dt><dd>20');
  expect(r.text).toContain('name="receipt_handle"');
});

it('a receive with a visibility timeout hides the message; delete removes it from SQS', async () => {
  await send('one', { body: 'delete me' });
  const got = await req('POST', '/queues/one/receive', { json: { max_messages: 1, visibility_timeout: 60 } });
  expect(got.json.messages).toHaveLength(1);
  const [m] = got.json.messages;
  expect((await req('POST', '/queues/one/receive', { json: { visibility_timeout: 0 } })).json.messages).toEqual([]); // hidden
  const del = await browserPost('/queues/one/delete-message', { receipt_handle: m.receiptHandle, message_id: m.messageId }, '/queues/one');
  expect(del.status).toBe(303);
  expect(del.headers.location).toBe(`/queues/one?deleted_message=${m.messageId}`);
  const attrs = await upstreamAttributes(ui.daemon, 'one');
  expect([attrs.ApproximateNumberOfMessages, attrs.ApproximateNumberOfMessagesNotVisible]).toEqual(['0', '0']);
  expect((await req('GET', `/queues/one?deleted_message=${m.messageId}`, { html: true })).text).toContain(`Message <code>${m.messageId}</code> deleted from SQS.`);
});

it('warns on the queue page and on the results that every receive counts toward the redrive policy', async () => {
  const page = await req('GET', '/queues/guarded', { html: true });
  expect(page.text).toMatch(/every receive, a look included, counts toward its maximum of\s+3 receives; past it SQS moves the message to\s+<a href="\/queues\/guarded-dlq">guarded-dlq<\/a>/);
  expect((await req('GET', '/queues/browse', { html: true })).text).not.toContain('redrive policy: every receive');
  const json = await req('POST', '/queues/guarded/receive', { json: {} });
  expect(json.json.redrive).toEqual({ deadLetterQueue: 'guarded-dlq', maxReceiveCount: 3 });
});

it('refuses bad fields by their form names, a browser post without the CSRF token, and a stale receipt handle', async () => {
  const big = await req('POST', '/queues/browse/receive', { json: { max_messages: 11 } });
  expect([big.status, big.json.error.message]).toEqual([400, 'field max_messages must be a whole number from 1 to 10']);
  expect((await req('POST', '/queues/browse/receive', { form: { visibility_timeout: '-1' } })).json.error.message).toContain('field visibility_timeout');
  expect((await req('POST', '/queues/browse/delete-message', { json: {} })).json.error.message).toContain('field receipt_handle');
  const forged = await req('POST', '/queues/browse/receive', { html: true, headers: sameOriginBrowser(ui.url), form: { max_messages: '1' } });
  expect(forged.status).toBe(403);
  expect((await req('POST', '/queues/nope/receive', { json: {} })).status).toBe(404);
  // fauxqs takes any receipt handle; the proxy answers as SQS does when the whole call is refused.
  proxy.faults.set('DeleteMessageBatch', { status: 400, code: 'ReceiptHandleIsInvalid', message: 'The input receipt handle is invalid.' });
  try {
    const stale = await req('POST', '/queues/browse/delete-message', { json: { receipt_handle: 'not-a-handle' } });
    expect([stale.status, stale.json.error.code]).toEqual([409, 'ReceiptHandleIsInvalid']);
    expect(stale.json.error.message).toContain('Receive it again to delete it.');
  } finally {
    proxy.faults.delete('DeleteMessageBatch');
  }
});

it('a receipt handle SQS refuses per entry (as real SQS does) is a 409 naming the reason', async () => {
  const fake = await startFakeSqs({ queues: ['q1'] });
  const other = await startUiDaemon(fake.endpoint);
  try {
    const r = await call(other.url, 'POST', '/queues/q1/delete-message', { json: { receipt_handle: 'gone-handle' } });
    expect([r.status, r.json.error.code]).toEqual([409, 'ReceiptHandleIsInvalid']);
  } finally {
    await other.stop();
    await fake.close();
  }
});

it('never shows the secret', () => {
  for (const r of seen) expect(r.text).not.toContain(SECRET);
});

describe('a form send\'s errors name the form\'s fields', () => {
  it('group_id and delay_seconds, not groupId and delaySeconds; a JSON send keeps the JSON names', async () => {
    await createUpstreamQueue(ui.daemon, 'names.fifo', { FifoQueue: 'true' });
    const noGroup = await req('POST', '/queues/names.fifo', { form: { message_body: 'x' } });
    expect(noGroup.status).toBe(400);
    expect(noGroup.json.error.message).toMatch(/^group_id is required/);
    expect(noGroup.json.error.details).toEqual({ field: 'group_id' });
    const badDelay = await req('POST', '/queues/browse', { form: { message_body: 'x', delay_seconds: 'soon' } });
    expect(badDelay.json.error.message).toMatch(/^delay_seconds /);
    expect(badDelay.json.error.details).toEqual({ field: 'delay_seconds' });
    const json = await req('POST', '/queues/names.fifo', { json: { body: 'x' } });
    expect(json.json.error.message).toMatch(/^groupId is required/);
  });
});
