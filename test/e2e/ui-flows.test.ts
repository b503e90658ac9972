/**
 * The queue browser end to end in headless Chromium against the daemon (real spool) and fauxqs:
 * receive and delete a message, replay a dead letter and see it delivered, edit a setting and
 * see it in SQS, charts present and updating; then every page at 390 px without sideways
 * scrolling, every input labelled, and screenshots of every page at 1280 and 390 px, light and
 * dark (to a temporary directory, or docs/screenshots/pages/ when UPDATE_SCREENSHOTS=1).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import type { History } from '../../src/delivery/history.js';
import type { DeadLetterDir } from '../../src/spool/dead-letters.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, createUpstreamQueue, eventually, SECRET, startUiDaemon, type UiDaemon, upstreamAttributes } from '../http/ui-harness.js';

const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(process.cwd(), 'docs', 'screenshots', 'pages') : mkdtempSync(join(tmpdir(), 'ui-flow-shots-'));
const creds = { accessKeyId: AKID, secretAccessKey: SECRET };

let emulator: Emulator;
let ui: UiDaemon;
let browser: Browser;
let desktop: BrowserContext;
let page: Page;
let spoolDir: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  emulator = await startEmulator();
  spoolDir = mkdtempSync(join(tmpdir(), 'ui-flows-spool-'));
  ui = await startUiDaemon(emulator.endpoint, { storeFromConfig: true, flags: ['--durability', 'write', '--spool-dir', spoolDir] });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  desktop = await browser.newContext({ httpCredentials: { username: AKID, password: SECRET }, viewport: { width: 1280, height: 860 } });
  page = await desktop.newPage();
});

afterAll(async () => {
  await desktop?.close();
  await browser?.close();
  await ui?.stop();
  await emulator?.close();
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
});

async function sendJson(queue: string, body: unknown): Promise<void> {
  const before = ui.daemon.deps.pipeline.totals.sent;
  const res = await desktop.request.post(`${ui.url}/queues/${queue}`, { data: body, headers: { accept: 'application/json' } });
  expect(res.status()).toBe(202);
  await eventually(() => ui.daemon.deps.pipeline.totals.sent > before, 3000, 'message delivered');
}

async function upstreamReceive(queue: string): Promise<string[]> {
  const url = await ui.daemon.deps.client.getQueueUrl(queue, creds);
  const out = await ui.daemon.deps.client.call<{ Messages?: Array<{ Body: string }> }>('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }, creds);
  return (out.Messages ?? []).map((m) => m.Body);
}

it('receives a message with a visibility timeout, shows its JSON body and attributes, and deletes it', async () => {
  await createUpstreamQueue(ui.daemon, 'orders');
  await sendJson('orders', { body: JSON.stringify({ order: 42, items: [{ sku: 'A-1', qty: 2 }], note: '<script>alert(1)</script>' }), attributes: { kind: 'created' } });
  await page.goto(`${ui.url}/queues/orders`);
  await page.fill('#receive #visibility_timeout', '60');
  await page.click('#receive button[type=submit]');
  await page.waitForURL(`${ui.url}/queues/orders/receive`);
  await expect(page.locator('main > p.muted').first().innerText()).resolves.toBe('1 message, hidden from other consumers for 60 s.');
  const body = await page.locator('.msg pre.body').first().innerText();
  expect(body).toBe('{\n  "order": 42,\n  "items": [\n    {\n      "sku": "A-1",\n      "qty": 2\n    }\n  ],\n  "note": "<script>alert(1)</script>"\n}');
  await expect(page.locator('.msg dl').allInnerTexts()).resolves.toEqual([expect.stringMatching(/Receive count\s+1/), expect.stringMatching(/kind \(String\)\s+created/)]);
  await page.screenshot({ path: join(SHOTS, 'messages-received-1280-light.png'), fullPage: true });
  expect(await upstreamReceive('orders')).toEqual([]); // hidden for 60 s
  await page.click('.msg button.danger');
  await page.waitForURL(/\/queues\/orders\?deleted_message=/);
  await expect(page.locator('.flash.ok').innerText()).resolves.toContain('deleted from SQS');
  const a = await upstreamAttributes(ui.daemon, 'orders');
  expect([a.ApproximateNumberOfMessages, a.ApproximateNumberOfMessagesNotVisible]).toEqual(['0', '0']);
});

it('a look with visibility 0 leaves the message in the queue', async () => {
  await sendJson('orders', { body: 'peek at me' });
  await page.goto(`${ui.url}/queues/orders`);
  await page.click('#receive button[type=submit]'); // default: visibility 0
  await page.waitForURL(`${ui.url}/queues/orders/receive`);
  await expect(page.locator('.msg pre.body').innerText()).resolves.toBe('peek at me');
  expect(await upstreamReceive('orders')).toEqual(['peek at me']);
});

it('replays a dead letter from the browser after a confirmation, and SQS has it again', async () => {
  await createUpstreamQueue(ui.daemon, 'billing');
  await sendJson('billing', { body: 'invoice 1' });
  // Deleted behind the daemon's back: it still has the URL cached, so SQS refuses the next message for good.
  await ui.daemon.deps.client.call('DeleteQueue', { QueueUrl: await ui.daemon.deps.client.getQueueUrl('billing', creds) }, creds);
  const res = await desktop.request.post(`${ui.url}/queues/billing`, { data: { body: '{"invoice": 2}' }, headers: { accept: 'application/json' } });
  expect(res.status()).toBe(202);
  await eventually(() => ui.daemon.deps.pipeline.totals.deadLettered === 1, 5000, 'the invoice dead-lettered');
  await createUpstreamQueue(ui.daemon, 'billing'); // the queue is back; replay can deliver

  await page.goto(`${ui.url}/dead-letters`);
  const row = page.locator('tbody tr');
  await expect(row.count()).resolves.toBe(1);
  await expect(row.innerText()).resolves.toMatch(/billing\s+QueueDoesNotExist/);
  await page.screenshot({ path: join(SHOTS, 'dead-letters-1280-light.png'), fullPage: true });
  await page.click('tbody tr td.mono a');
  await expect(page.locator('pre.body').innerText()).resolves.toBe('{\n  "invoice": 2\n}');
  await page.screenshot({ path: join(SHOTS, 'dead-letter-1280-light.png'), fullPage: true });
  await page.goto(`${ui.url}/dead-letters`);
  await page.check('tbody tr input[type=checkbox]');
  await page.click('text=Replay selected…');
  await expect(page.locator('h1').innerText()).resolves.toBe('Replay 1 dead letter?');
  await page.screenshot({ path: join(SHOTS, 'replay-confirm-1280-light.png') });
  await page.click('main form.card button[type=submit]');
  await page.waitForURL(`${ui.url}/dead-letters?replayed=1`);
  await expect(page.locator('.flash.ok').innerText()).resolves.toContain('Replayed 1 dead letter');
  await expect(page.locator('main .card').innerText()).resolves.toContain('No dead letters');
  expect(await upstreamReceive('billing')).toEqual(['{"invoice": 2}']);
});

it('edits a queue setting and SQS has it', async () => {
  await page.goto(`${ui.url}/queues/orders`);
  await page.click('text=Edit settings…');
  await page.waitForURL(`${ui.url}/queues/orders/settings`);
  await page.fill('#visibility_timeout', '2m');
  await page.fill('#dead_letter_queue', 'no-such-queue');
  await page.click('main form button[type=submit]');
  await expect(page.locator('#dead_letter_queue-error').innerText()).resolves.toContain('There is no queue named no-such-queue');
  await expect(page.inputValue('#visibility_timeout')).resolves.toBe('2m');
  await page.screenshot({ path: join(SHOTS, 'settings-errors-1280-light.png'), fullPage: true });
  await page.fill('#dead_letter_queue', '');
  await page.click('main form button[type=submit]');
  await page.waitForURL(`${ui.url}/queues/orders?updated=1`);
  expect((await upstreamAttributes(ui.daemon, 'orders')).VisibilityTimeout).toBe('120');
});

it('shows charts that follow the daemon\'s numbers, on pages that reload themselves', async () => {
  const history = ui.daemon.deps.history as History;
  history.sample();
  for (let i = 0; i < 5; i++) await sendJson('orders', { body: `chart ${i}` });
  history.sample();
  await page.goto(`${ui.url}/status`);
  await expect(page.locator('meta[http-equiv=refresh]').getAttribute('content')).resolves.toBe('10');
  const rates = page.locator('#chart-rates');
  await expect(rates.locator('svg polyline').count()).resolves.toBeGreaterThan(0);
  const before = await rates.locator('polyline.s1').getAttribute('points');
  const accepted = async (): Promise<string> => rates.locator('.k1 strong').innerText();
  expect(await accepted()).not.toBe('0/s');
  await new Promise((r) => setTimeout(r, 50));
  history.sample(); // nothing sent since: the latest rate drops to 0
  await page.reload();
  expect(await rates.locator('polyline.s1').getAttribute('points')).not.toBe(before);
  expect(await accepted()).toBe('0/s');
  await page.goto(`${ui.url}/queues/orders/live`);
  await expect(page.locator('meta[http-equiv=refresh]').count()).resolves.toBe(1);
  await expect(page.locator('#chart-sqs').count()).resolves.toBe(1);
  // The queue page itself holds forms, so it does not reload by itself.
  await page.goto(`${ui.url}/queues/orders`);
  await expect(page.locator('meta[http-equiv=refresh]').count()).resolves.toBe(0);
});

/** Every page a user can reach, after the flows above made something to show on each (a path, or how to get there). */
const PAGES: Array<[string, string | ((p: Page) => Promise<void>)]> = [
  ['home', '/'],
  ['queues', '/queues'],
  ['new-queue', '/new-queue'],
  ['queue', '/queues/orders'],
  ['queue-live', '/queues/orders/live'],
  ['settings', '/queues/orders/settings'],
  ['redrive', '/queues/orders/redrive'],
  ['purge-confirm', '/queues/orders/purge'],
  ['delete-confirm', '/queues/orders/delete'],
  ['status', '/status?refresh=off'],
  ['dead-letters', '/dead-letters'],
  ['dead-letter', '/dead-letters/shown-1'],
  ['replay-confirm', '/replay-dead-letters?all=1'],
  [
    'messages',
    async (p) => {
      await p.goto(`${ui.url}/queues/orders`);
      await p.click('#receive button[type=submit]');
      await p.waitForURL(`${ui.url}/queues/orders/receive`);
    },
  ],
];

it('at 390 px nothing scrolls sideways and every input has a label, on every page; screenshots at 1280 and 390 px, light and dark', async () => {
  // A dead letter to show (the flow above replayed its own).
  (ui.daemon.deps.store.deadLetters as DeadLetterDir).write({
    id: 'shown-1',
    queueName: 'orders',
    queueUrl: await ui.daemon.deps.client.getQueueUrl('orders', creds),
    accessKeyId: AKID,
    body: JSON.stringify({ order: 7, lines: Array.from({ length: 40 }, (_, i) => ({ sku: `SKU-${i}`, qty: i })) }),
    attributes: { kind: { DataType: 'String', StringValue: 'created' } },
    code: 'AccessDenied',
    reason: 'User: arn:aws:iam::123456789012:user/web is not authorized to perform: sqs:sendmessage on resource: arn:aws:sqs:us-east-1:123456789012:orders',
    attempts: 1,
    acceptedAt: Date.now() - 60_000,
    lastAttemptAt: Date.now() - 59_000,
    deadAt: Date.now() - 59_000,
    credentials: creds,
  });
  await sendJson('orders', { body: JSON.stringify({ order: 43, customer: { id: 'c-7', name: 'Ada' } }), attributes: { kind: 'created' } });
  const problems: string[] = [];
  for (const scheme of ['light', 'dark'] as const) {
    for (const width of [1280, 390]) {
      const context = await browser.newContext({ httpCredentials: { username: AKID, password: SECRET }, viewport: { width, height: width === 390 ? 844 : 860 }, colorScheme: scheme });
      const p = await context.newPage();
      try {
        for (const [name, path] of PAGES) {
          if (typeof path === 'string') {
            const res = await p.goto(`${ui.url}${path}`);
            if (res?.status() !== 200) problems.push(`${path}: HTTP ${res?.status()}`);
          } else {
            await path(p);
          }
          const m = await p.evaluate(() => {
            const doc = (globalThis as unknown as { document: { documentElement: { scrollWidth: number }; querySelectorAll(s: string): ArrayLike<unknown> } }).document;
            const unlabelled = Array.from(doc.querySelectorAll('input:not([type=hidden]), select, textarea') as ArrayLike<{ id: string; name: string; labels: ArrayLike<unknown> | null; getAttribute(a: string): string | null }>)
              .filter((e) => (e.labels?.length ?? 0) === 0 && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
              .map((e) => e.name || e.id);
            return { scrollWidth: doc.documentElement.scrollWidth, innerWidth: (globalThis as unknown as { innerWidth: number }).innerWidth, unlabelled };
          });
          if (m.scrollWidth > m.innerWidth) problems.push(`${name} at ${width} px: scrollWidth ${m.scrollWidth} > ${m.innerWidth}`);
          if (m.unlabelled.length > 0) problems.push(`${name}: inputs without a label: ${m.unlabelled.join(', ')}`);
          await p.screenshot({ path: join(SHOTS, `${name}-${width}-${scheme}.png`), fullPage: width === 1280 && scheme === 'light' });
        }
      } finally {
        await context.close();
      }
    }
  }
  expect(problems).toEqual([]);
});
