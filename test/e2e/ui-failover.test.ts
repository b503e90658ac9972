/**
 * The status page during a failover, in headless Chromium: two fake SQS servers as two regions,
 * the primary unplugged; the page must say the primary is down, that the queue went to the
 * secondary and why, and fit a phone's width. Screenshots go to a temporary directory, or to
 * docs/screenshots/pages/ with UPDATE_SCREENSHOTS=1.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { request } from 'undici';
import { AKID, AUTH, post, SECRET, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';

const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(process.cwd(), 'docs', 'screenshots', 'pages') : mkdtempSync(join(tmpdir(), 'ui-failover-shots-'));

let primary: FakeSqs;
let secondary: FakeSqs;
let d: TestDaemon;
let browser: Browser;

beforeAll(async () => {
  primary = await startFakeSqs({ queues: ['orders', 'orders.fifo'] });
  secondary = await startFakeSqs({ queues: ['orders', 'orders.fifo'] });
  d = await startTestDaemon(primary.endpoint, ['--failover-endpoint', secondary.endpoint]);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await d?.stop();
  await primary?.close();
  await secondary?.close();
});

it('shows each upstream\'s health and which upstream each queue uses, with the reason, at 1280 and 390 px', async () => {
  await primary.unplug();
  expect((await post(d.url, '/queues/orders', 'message_body=moves', { contentType: 'application/x-www-form-urlencoded' })).status).toBe(202);
  expect((await post(d.url, '/queues/orders.fifo', 'message_body=stays&group_id=g', { contentType: 'application/x-www-form-urlencoded' })).status).toBe(202);
  await secondary.waitFor(() => secondary.messageCount('orders') === 1, 10_000);
  // The FIFO queue's route is decided at its next batch (a retry after a backoff): wait for it.
  await until(() => d.logs.find('moves from upstream').length === 1, 10_000, 'the standard queue moved');
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
    const res = await request(`${d.url}/status`, { headers: { authorization: AUTH, accept: 'application/json' } });
    const status = (await res.body.json()) as { queues: Array<{ name: string; route?: { reason: string } }> };
    if (status.queues.find((q) => q.name === 'orders.fifo')?.route?.reason === 'fifo-stays') break;
  }
  const p1 = new URL(primary.endpoint).host;
  const p2 = new URL(secondary.endpoint).host;
  for (const width of [1280, 390]) {
    const context = await browser.newContext({ httpCredentials: { username: AKID, password: SECRET }, viewport: { width, height: 844 } });
    const page = await context.newPage();
    try {
      expect((await page.goto(`${d.url}/status?refresh=off`))?.status()).toBe(200);
      expect(await page.locator('.flash, [role=status], [role=alert]').first().innerText()).toContain(`the primary upstream ${p1} could not be reached just now; messages go to the next healthy upstream`);
      const upstreams = await page.locator('#upstreams + p + .scroll table tbody tr').allInnerTexts();
      expect(upstreams).toHaveLength(2);
      expect(upstreams[0]).toContain(p1);
      expect(upstreams[0]).toContain('down');
      expect(upstreams[1]).toContain(p2);
      expect(upstreams[1]).toContain('healthy');
      const orders = await page.locator('tr', { has: page.locator('a[href="/queues/orders"]') }).first().innerText();
      expect(orders).toContain(p2);
      expect(orders).toContain('failover');
      const fifo = await page.locator('tr', { has: page.locator('a[href="/queues/orders.fifo"]') }).first().innerText();
      expect(fifo).toContain('fifo-stays');
      const m = await page.evaluate(() => ({ scrollWidth: (globalThis as any).document.documentElement.scrollWidth as number, innerWidth: (globalThis as any).innerWidth as number }));
      expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
      await page.screenshot({ path: join(SHOTS, `status-failover-${width}-light.png`), fullPage: width === 1280 });
    } finally {
      await context.close();
    }
  }
}, 60_000);
