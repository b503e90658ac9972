/**
 * Queue settings after creation (SetQueueAttributes) from the form and as JSON: every editable
 * attribute, the redrive policy set and removed, errors beside their fields with what was typed
 * kept, a missing dead-letter queue reported with the other errors (here and on the create form),
 * and the CSRF guard. In-process against fauxqs; what SQS holds is read back from it.
 */
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { call, createUpstreamQueue, type Reply, sameOriginBrowser, startUiDaemon, tokenIn, type UiDaemon, upstreamAttributes } from './ui-harness.js';

let emulator: Emulator;
let ui: UiDaemon;

async function req(method: string, path: string, options: Parameters<typeof call>[3] = {}): Promise<Reply> {
  return call(ui.url, method, path, options);
}

async function browserPost(path: string, form: Record<string, string>, from: string): Promise<Reply> {
  const token = tokenIn((await req('GET', from, { html: true })).text);
  return req('POST', path, { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: token, ...form } });
}

beforeAll(async () => {
  emulator = await startEmulator();
  ui = await startUiDaemon(emulator.endpoint);
  await createUpstreamQueue(ui.daemon, 'tune', { VisibilityTimeout: '30' });
  await createUpstreamQueue(ui.daemon, 'tune-dlq');
  await createUpstreamQueue(ui.daemon, 'tune.fifo', { FifoQueue: 'true' });
});

afterAll(async () => {
  await ui?.stop();
  await emulator?.close();
});

it('shows the current values and changes every number setting, in the units people type', async () => {
  const before = await req('GET', '/queues/tune/settings');
  expect(before.json.values).toMatchObject({ visibility_timeout: '30', dead_letter_queue: '', max_receive_count: '' });
  const r = await req('POST', '/queues/tune/settings', {
    json: { visibility_timeout: '90', delay_seconds: '2m', message_retention_period: '1d', maximum_message_size: '256 KiB', receive_message_wait_time_seconds: '10' },
  });
  expect(r.status).toBe(200);
  const a = await upstreamAttributes(ui.daemon, 'tune');
  expect([a.VisibilityTimeout, a.DelaySeconds, a.MessageRetentionPeriod, a.MaximumMessageSize, a.ReceiveMessageWaitTimeSeconds]).toEqual(['90', '120', '86400', '262144', '10']);
});

it('from the browser: sets a redrive policy, then removes it by emptying the field', async () => {
  const set = await browserPost('/queues/tune/settings', { visibility_timeout: '90', dead_letter_queue: 'tune-dlq', max_receive_count: '4' }, '/queues/tune/settings');
  expect([set.status, set.headers.location]).toEqual([303, '/queues/tune?updated=1']);
  const policy = JSON.parse((await upstreamAttributes(ui.daemon, 'tune')).RedrivePolicy as string);
  expect(policy).toEqual({ deadLetterTargetArn: expect.stringMatching(/:tune-dlq$/), maxReceiveCount: 4 });
  const form = await req('GET', '/queues/tune/settings', { html: true });
  expect(form.text).toContain('id="dead_letter_queue" name="dead_letter_queue" value="tune-dlq"');
  expect((await req('GET', '/queues/tune?updated=1', { html: true })).text).toContain('Settings of tune saved.');

  const cleared = await browserPost('/queues/tune/settings', { visibility_timeout: '90', dead_letter_queue: '', max_receive_count: '' }, '/queues/tune/settings');
  expect(cleared.status).toBe(303);
  expect((await upstreamAttributes(ui.daemon, 'tune')).RedrivePolicy ?? '').toBe('');
});

it('shows each error beside its field, keeps what was typed, and reports a missing dead-letter queue with the others', async () => {
  const r = await browserPost('/queues/tune/settings', { visibility_timeout: '13h', delay_seconds: 'soon', dead_letter_queue: 'no-such-dlq', max_receive_count: '3' }, '/queues/tune/settings');
  expect(r.status).toBe(400);
  expect(r.text).toContain('Some fields need attention');
  expect(r.text).toMatch(/id="visibility_timeout-error">Must be from 0 seconds to 12 hours; 13 hours is outside\./);
  expect(r.text).toContain('id="delay_seconds-error">Give a duration');
  expect(r.text).toContain('id="dead_letter_queue-error">There is no queue named no-such-dlq: create the dead-letter queue first.');
  expect(r.text).toContain('value="13h"');
  expect(r.text).toContain('value="soon"');
  expect((await upstreamAttributes(ui.daemon, 'tune')).VisibilityTimeout).toBe('90'); // nothing changed
  const json = await req('POST', '/queues/tune/settings', { json: { content_based_deduplication: true } });
  expect([json.status, json.json.error.details.fields.content_based_deduplication]).toEqual([400, 'Content-based deduplication exists only for FIFO queues.']);
});

it('turns content-based deduplication on and off on a FIFO queue', async () => {
  const form = await req('GET', '/queues/tune.fifo/settings', { html: true });
  expect(form.text).toContain('id="content_based_deduplication"');
  expect((await req('POST', '/queues/tune.fifo/settings', { json: { content_based_deduplication: true } })).status).toBe(200);
  expect((await upstreamAttributes(ui.daemon, 'tune.fifo')).ContentBasedDeduplication).toBe('true');
  expect((await req('POST', '/queues/tune.fifo/settings', { json: {} })).status).toBe(200);
  expect((await upstreamAttributes(ui.daemon, 'tune.fifo')).ContentBasedDeduplication).toBe('false');
  expect((await req('POST', '/queues/tune.fifo/settings', { json: { dead_letter_queue: 'tune-dlq' } })).json.error.details.fields.dead_letter_queue).toContain('FIFO dead-letter queue');
});

it('refuses a browser post without the CSRF token, and unknown queues', async () => {
  const forged = await req('POST', '/queues/tune/settings', { html: true, headers: sameOriginBrowser(ui.url), form: { visibility_timeout: '1' } });
  expect(forged.status).toBe(403);
  expect((await upstreamAttributes(ui.daemon, 'tune')).VisibilityTimeout).toBe('90');
  expect((await req('GET', '/queues/nope/settings')).status).toBe(404);
});

it('the create form also reports a missing dead-letter queue together with the other field errors', async () => {
  const r = await browserPost('/queues', { queue_name: 'fresh', visibility_timeout: '99h', dead_letter_queue: 'absent-dlq' }, '/new-queue');
  expect(r.status).toBe(400);
  expect(r.text).toContain('id="visibility_timeout-error">');
  expect(r.text).toContain('id="dead_letter_queue-error">There is no queue named absent-dlq: create the dead-letter queue first.');
});
