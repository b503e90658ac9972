/**
 * End to end in a real headless Chromium against the daemon and fauxqs: Basic-auth login,
 * create a standard and a FIFO queue, send from the form and watch the count change, purge,
 * delete two queues with check-boxes, and a CSRF attempt from another origin refused.
 *
 * Screenshots of the main pages go to a temporary directory, or to docs/screenshots/ when
 * UPDATE_SCREENSHOTS=1 (so ordinary runs leave the working tree alone).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, createUpstreamQueue, eventually, SECRET, startUiDaemon, type UiDaemon, upstreamAttributes, upstreamQueueNames } from '../http/ui-harness.js';

const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(process.cwd(), 'docs', 'screenshots') : mkdtempSync(join(tmpdir(), 'ui-shots-'));

let emulator: Emulator;
let ui: UiDaemon;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let attacker: Server;
let attackerUrl: string;
let spoolDir: string;

/** The attacker's page: a form that posts itself to the daemon as soon as it loads. */
function attackerPage(target: string, fields: Record<string, string>): string {
  const inputs = Object.entries(fields)
    .map(([k, v]) => `<input type="hidden" name="${k}" value="${v}">`)
    .join('');
  return `<!doctype html><html><body><h1>Win a prize</h1><form id="f" method="post" action="${target}">${inputs}</form><script>document.getElementById('f').submit()</script></body></html>`;
}

beforeAll(async () => {
  emulator = await startEmulator();
  spoolDir = mkdtempSync(join(tmpdir(), 'ui-e2e-spool-'));
  ui = await startUiDaemon(emulator.endpoint, { storeFromConfig: true, flags: ['--durability', 'write', '--spool-dir', spoolDir] });
  attacker = createServer((req, res) => {
    const path = req.url ?? '/';
    const body =
      path === '/delete'
        ? attackerPage(`${ui.url}/queues/victim/delete`, { _csrf: 'v1.forged.AAAA' })
        : attackerPage(`${ui.url}/queues/victim`, { message_body: 'sent by another site' });
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(body);
  });
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
  attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  context = await browser.newContext({ httpCredentials: { username: AKID, password: SECRET }, viewport: { width: 1180, height: 820 } });
  page = await context.newPage();
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await new Promise<void>((resolve) => (attacker ? attacker.close(() => resolve()) : resolve()));
  await ui?.stop();
  await emulator?.close();
  if (spoolDir) rmSync(spoolDir, { recursive: true, force: true });
});

async function shot(name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** The big number in the stat box labelled `label` on a queue page. */
async function statValue(label: string): Promise<string> {
  return (await page.locator('.stat', { has: page.locator('.label', { hasText: new RegExp(`^${label}$`) }) }).locator('.value').first().innerText()).trim();
}

it('logs in with Basic credentials and shows the home page', async () => {
  const res = await page.goto(`${ui.url}/`);
  expect(res?.status()).toBe(200);
  await expect(page.locator('h1').innerText()).resolves.toBe('sqs-accelerator');
  await expect(page.locator('header .who').innerText()).resolves.toContain(AKID);
  // The stylesheet loaded under the CSP: the header bar is dark, not the browser default.
  const bg = await page.locator('header.top').evaluate((el) => (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el).backgroundColor);
  expect(bg).toBe('rgb(22, 32, 46)');
  await shot('home');
});

it('shows field errors beside the fields, then creates a standard and a FIFO queue', async () => {
  await page.goto(`${ui.url}/new-queue`);
  await page.fill('#queue_name', 'web orders');
  await page.fill('#visibility_timeout', '13h');
  await page.fill('#max_receive_count', '3');
  await page.click('button[type=submit]');
  expect(page.url()).toBe(`${ui.url}/queues`);
  await expect(page.locator('#queue_name-error').innerText()).resolves.toContain('letters, digits');
  await expect(page.locator('#visibility_timeout-error').innerText()).resolves.toContain('0 seconds to 12 hours');
  await expect(page.locator('#max_receive_count-error').innerText()).resolves.toContain('Only used with a dead-letter queue');
  await expect(page.inputValue('#visibility_timeout')).resolves.toBe('13h'); // what the user typed is kept
  await shot('new-queue-errors');

  await page.fill('#queue_name', 'web-orders');
  await page.fill('#visibility_timeout', '45');
  await page.fill('#max_receive_count', '');
  await page.click('button[type=submit]');
  expect(page.url()).toBe(`${ui.url}/queues/web-orders?created=1`);
  await expect(page.locator('.flash.ok').innerText()).resolves.toContain('Queue web-orders created.');
  await expect(page.locator('h1').innerText()).resolves.toContain('standard');
  expect((await upstreamAttributes(ui.daemon, 'web-orders')).VisibilityTimeout).toBe('45');

  await page.goto(`${ui.url}/new-queue`);
  await page.fill('#queue_name', 'web-orders.fifo');
  await page.check('#fifo');
  await page.check('#content_based_deduplication');
  await page.click('button[type=submit]');
  expect(page.url()).toBe(`${ui.url}/queues/web-orders.fifo?created=1`);
  await expect(page.locator('h1 .badge').innerText()).resolves.toBe('FIFO');
  await expect(page.locator('#group_id').count()).resolves.toBe(1); // FIFO send form asks for a group
  const fifo = await upstreamAttributes(ui.daemon, 'web-orders.fifo');
  expect({ fifo: fifo.FifoQueue, dedup: fifo.ContentBasedDeduplication }).toEqual({ fifo: 'true', dedup: 'true' });
});

it('sends a message from the form and sees the count change, then purges', async () => {
  await page.goto(`${ui.url}/queues/web-orders`);
  expect(await statValue('Available')).toBe('0');
  await page.fill('#message_body', 'hello <from> the browser');
  await page.fill('input[name=attr_name] >> nth=0', 'kind');
  await page.fill('input[name=attr_value] >> nth=0', 'greeting');
  await page.click('#send button[type=submit]');
  expect(page.url()).toMatch(new RegExp(`^${ui.url}/queues/web-orders\\?sent=`));
  await expect(page.locator('.flash.ok').innerText()).resolves.toContain('accepted');
  // Delivery is in the background: reload until SQS counts it (usually at once).
  const deadline = Date.now() + 5000;
  while ((await statValue('Available')) !== '1') {
    if (Date.now() > deadline) throw new Error('the Available count never became 1');
    await new Promise((r) => setTimeout(r, 100));
    await page.reload();
  }
  expect(await statValue('Sent')).toBe('1'); // the daemon's own view of the queue
  await shot('queue', true);

  // The message reached SQS with its attribute.
  const creds = { accessKeyId: AKID, secretAccessKey: SECRET };
  const url = await ui.daemon.deps.client.getQueueUrl('web-orders', creds);
  const received = await ui.daemon.deps.client.call<{ Messages?: Array<{ Body: string; MessageAttributes?: Record<string, { StringValue?: string }> }> }>(
    'ReceiveMessage',
    { QueueUrl: url, MessageAttributeNames: ['All'], VisibilityTimeout: 0 },
    creds,
  );
  expect(received.Messages?.map((m) => [m.Body, m.MessageAttributes?.kind?.StringValue])).toEqual([['hello <from> the browser', 'greeting']]);

  await page.click('text=Purge messages…');
  expect(page.url()).toBe(`${ui.url}/queues/web-orders/purge`);
  await expect(page.locator('h1').innerText()).resolves.toBe('Purge web-orders?');
  await page.click('button.danger');
  expect(page.url()).toBe(`${ui.url}/queues/web-orders?purged=1`);
  await expect(page.locator('.flash.ok').innerText()).resolves.toContain('Purge of web-orders requested');
  expect(await statValue('Available')).toBe('0');
});

it('deletes two queues with check-boxes after a confirmation step', async () => {
  await createUpstreamQueue(ui.daemon, 'keep-me');
  await page.goto(`${ui.url}/queues`);
  await expect(page.locator('tbody tr').count()).resolves.toBe(3);
  await shot('queues');
  await page.check('input[type=checkbox][value="web-orders"]');
  await page.check('input[type=checkbox][value="web-orders.fifo"]');
  await page.click('text=Delete selected…');
  expect(page.url()).toBe(`${ui.url}/delete-queues?name=web-orders&name=web-orders.fifo`);
  await expect(page.locator('h1').innerText()).resolves.toBe('Delete 2 queues?');
  await shot('delete-confirm');
  expect(await upstreamQueueNames(ui.daemon)).toEqual(['keep-me', 'web-orders', 'web-orders.fifo']); // nothing deleted yet
  await page.click('button.danger');
  expect(page.url()).toBe(`${ui.url}/queues?deleted=web-orders&deleted=web-orders.fifo`);
  await expect(page.locator('.flash.ok').innerText()).resolves.toContain('Deleted queues web-orders, web-orders.fifo');
  await expect(page.locator('tbody tr a').allInnerTexts()).resolves.toEqual(['keep-me']);
  expect(await upstreamQueueNames(ui.daemon)).toEqual(['keep-me']);
});

it('shows the daemon status page with the spool and a dead letter', async () => {
  // A queue deleted behind the daemon's back: the daemon still has its URL cached, SQS refuses the next message for good.
  await createUpstreamQueue(ui.daemon, 'billing');
  const creds = { accessKeyId: AKID, secretAccessKey: SECRET };
  const post = async (body: string): Promise<void> => {
    const res = await context.request.post(`${ui.url}/queues/billing`, { form: { message_body: body }, headers: { accept: 'application/json' } });
    expect(res.status()).toBe(202);
  };
  await post('{"invoice": 1}');
  await eventually(() => ui.daemon.deps.pipeline.stats('billing')?.sent === 1, 3000, 'first invoice delivered');
  await ui.daemon.deps.client.call('DeleteQueue', { QueueUrl: await ui.daemon.deps.client.getQueueUrl('billing', creds) }, creds);
  await post('{"invoice": 2}');
  await eventually(() => ui.daemon.deps.pipeline.totals.deadLettered === 1, 3000, 'second invoice dead-lettered');

  await page.goto(`${ui.url}/status`);
  await expect(page.locator('h1').innerText()).resolves.toBe('Daemon status');
  expect(await statValue('Sent')).toBe('2');
  expect(await statValue('Dead-lettered')).toBe('1');
  await expect(page.locator('main').innerText()).resolves.toContain(spoolDir);
  const row = page.locator('#dead-letters ~ .scroll table tbody tr');
  await expect(row.count()).resolves.toBe(1);
  await expect(row.innerText()).resolves.toMatch(/billing\s+QueueDoesNotExist .*\{"invoice": 2\}/s);
  await shot('status', true);
});

it('refuses a CSRF attempt from another origin (delete and send)', async () => {
  await createUpstreamQueue(ui.daemon, 'victim');
  const refused = page.waitForResponse((r) => r.url() === `${ui.url}/queues/victim/delete`);
  await page.goto(`${attackerUrl}/delete`);
  const res = await refused;
  expect(res.status()).toBe(403);
  await page.waitForURL(`${ui.url}/queues/victim/delete`);
  await expect(page.locator('h1').innerText()).resolves.toBe('403 · CrossOriginRequest');
  await shot('csrf-refused');

  const refusedSend = page.waitForResponse((r) => r.url() === `${ui.url}/queues/victim`);
  await page.goto(`${attackerUrl}/send`);
  expect((await refusedSend).status()).toBe(403);

  expect(await upstreamQueueNames(ui.daemon)).toContain('victim');
  expect((await upstreamAttributes(ui.daemon, 'victim')).ApproximateNumberOfMessages).toBe('0');
  expect(ui.daemon.deps.pipeline.stats('victim')).toBeUndefined(); // nothing was accepted for it
});
