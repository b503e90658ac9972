/**
 * Trace context through the daemon (issue 10), against the fake SQS (fauxqs keeps no system
 * attributes): X-Amzn-Trace-Id becomes the AWSTraceHeader system attribute, a JSON entry may carry
 * its own, and --trace-attributes off leaves W3C headers out.
 */
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, postJson, startTestDaemon, type TestDaemon } from '../support/daemon.js';

const XRAY = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
const OTHER = 'Root=1-67891233-abcdef012345678912345678;Sampled=0';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

let fake: FakeSqs;
beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['t', 't.fifo'] });
});
afterAll(async () => {
  await fake?.close();
});

describe('default: trace attributes on', () => {
  let d: TestDaemon;
  beforeAll(async () => {
    d = await startTestDaemon(fake.endpoint);
  });
  afterAll(async () => {
    await d?.stop();
  });

  it('X-Amzn-Trace-Id arrives as AWSTraceHeader, on every message of a request; an entry\'s awsTraceHeader wins', async () => {
    const r = await postJson(d.url, '/queues/t', [{ body: 'one' }, { body: 'two', awsTraceHeader: OTHER }], { headers: { 'x-amzn-trace-id': XRAY, traceparent: TRACEPARENT } });
    expect(r.status).toBe(202);
    await fake.waitFor(() => fake.messageCount('t') === 2, 5000);
    const byBody = Object.fromEntries(fake.messages('t').map((m) => [m.body, m]));
    expect(byBody.one?.traceHeader).toBe(XRAY);
    expect(byBody.two?.traceHeader).toBe(OTHER);
    expect(byBody.one?.attributes).toEqual({ traceparent: { DataType: 'String', StringValue: TRACEPARENT } });
  });

  it('form and raw sends carry the header too; a malformed header is dropped, a malformed body field is a 400', async () => {
    fake.reset();
    expect((await post(d.url, '/queues/t', 'message_body=form', { contentType: 'application/x-www-form-urlencoded', headers: { 'x-amzn-trace-id': XRAY } })).status).toBe(202);
    expect((await post(d.url, '/queues/t', 'raw', { contentType: 'text/plain', headers: { 'x-amzn-trace-id': 'not-a-trace' } })).status).toBe(202);
    const bad = await postJson(d.url, '/queues/t', { body: 'x', awsTraceHeader: 'nope' });
    expect([bad.status, bad.json.error.code]).toEqual([400, 'InvalidTraceHeader']);
    await fake.waitFor(() => fake.messageCount('t') === 2, 5000);
    const byBody = Object.fromEntries(fake.messages('t').map((m) => [m.body, m]));
    expect(byBody.form?.traceHeader).toBe(XRAY);
    expect(byBody.raw?.traceHeader).toBeUndefined();
  });
});

it('--trace-attributes off: no W3C attributes, AWSTraceHeader still', async () => {
  fake.reset();
  const d = await startTestDaemon(fake.endpoint, ['--trace-attributes', 'off']);
  try {
    expect((await postJson(d.url, '/queues/t.fifo', { body: 'f', groupId: 'g' }, { headers: { 'x-amzn-trace-id': XRAY, traceparent: TRACEPARENT } })).status).toBe(202);
    await fake.waitFor(() => fake.messageCount('t.fifo') === 1, 5000);
    const [m] = fake.messages('t.fifo');
    expect(m?.traceHeader).toBe(XRAY);
    expect(m?.attributes).toBeUndefined();
  } finally {
    await d.stop();
  }
});
