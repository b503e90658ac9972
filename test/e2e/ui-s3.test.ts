/**
 * A large message's pointer as a user sees it, in headless Chromium against fauxqs's SQS and S3:
 * the message view (a received pointer) and the dead-letter view show "In S3: bucket/key, N bytes"
 * and a link that fetches the payload through the daemon, at 1280 and 390 px (no sideways
 * scrolling); the link's target is the payload itself. Screenshots go to a temporary directory,
 * or to docs/screenshots/pages/ with UPDATE_SCREENSHOTS=1.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { request } from 'undici';
import { AKID, AUTH, post, SECRET, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';

const SHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? join(process.cwd(), 'docs', 'screenshots', 'pages') : mkdtempSync(join(tmpdir(), 'ui-s3-shots-'));
const BUCKET = 'ui-large-payloads';
const PAYLOAD = `${'{"line":"a large report line"}\n'.repeat(40_000)}end`; // 1.2 MB, over the queue's 1 MiB
const BYTES = Buffer.byteLength(PAYLOAD);
let emulator: Emulator;
let sqs: SQSClient;
let d: TestDaemon;
let browser: Browser;
let letterId = '';

beforeAll(async () => {
  emulator = await startEmulator();
  const credentials = { accessKeyId: AKID, secretAccessKey: SECRET };
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials });
  const s3 = new S3Client({ endpoint: emulator.endpoint, region: 'us-east-1', credentials, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3.destroy();
  await sqs.send(new CreateQueueCommand({ QueueName: 'reports' }));
  const goneUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'reports-gone' }))).QueueUrl as string;
  d = await startTestDaemon(emulator.endpoint, ['--s3-bucket', BUCKET, '--s3-endpoint', emulator.endpoint, '--s3-prefix', 'sqs/'], 'error', { spool: true });
  expect((await post(d.url, '/queues/reports?wait=1', PAYLOAD, { contentType: 'text/plain' })).status).toBe(201);
  // A dead letter of a large message: its queue was resolved, then deleted, so SQS refuses the pointer after the upload.
  expect((await post(d.url, '/queues/reports-gone?wait=1', 'resolve', { contentType: 'text/plain' })).status).toBe(201);
  await sqs.send(new DeleteQueueCommand({ QueueUrl: goneUrl }));
  const sent = await post(d.url, '/queues/reports-gone', PAYLOAD, { contentType: 'text/plain' });
  letterId = sent.json.id as string;
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const r = await request(`${d.url}/dead-letters/${letterId}`, { headers: { authorization: AUTH, accept: 'application/json' } });
    await r.body.dump();
    if (r.statusCode === 200) break;
  }
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await d?.stop();
  sqs?.destroy();
  await emulator?.close();
});

async function fits(page: Page): Promise<void> {
  const m = await page.evaluate(() => ({ scrollWidth: (globalThis as any).document.documentElement.scrollWidth as number, innerWidth: (globalThis as any).innerWidth as number }));
  expect(m.scrollWidth).toBeLessThanOrEqual(m.innerWidth);
}

/** The "In S3" line and its link: where the payload is, its size, and that the link brings the payload. */
async function checkPointer(page: Page, key: string): Promise<void> {
  const line = page.locator('p.payload', { hasText: 'In S3:' });
  await expect(line.count()).resolves.toBe(1);
  const text = await line.innerText();
  expect(text).toContain(`In S3: ${BUCKET}/${key}, ${BYTES.toLocaleString('en-US')} bytes (1.18 MiB)`);
  const link = line.locator('a', { hasText: 'fetch the payload' });
  const href = await link.getAttribute('href');
  expect(href).toBe(`/payload?bucket=${BUCKET}&key=${encodeURIComponent(key)}`);
  const fetched = await page.request.get(new URL(href as string, d.url).toString());
  expect(fetched.status()).toBe(200);
  expect(fetched.headers()['content-type']).toBe('text/plain; charset=utf-8');
  expect((await fetched.text()) === PAYLOAD).toBe(true);
}

for (const width of [1280, 390]) {
  it(`message view and dead-letter view of an offloaded message at ${width} px`, async () => {
    const context = await browser.newContext({ httpCredentials: { username: AKID, password: SECRET }, viewport: { width, height: 844 } });
    const page = await context.newPage();
    try {
      await page.goto(`${d.url}/queues/reports`);
      await page.fill('#receive #visibility_timeout', '0');
      await page.click('#receive button[type=submit]');
      await page.waitForURL(`${d.url}/queues/reports/receive`);
      const msg = page.locator('.msg').first();
      const key = /"s3Key":\s*"([^"]+)"/.exec(await msg.locator('pre.body').first().innerText())?.[1] as string;
      expect(key).toMatch(/^sqs\//);
      await checkPointer(page, key);
      await fits(page);
      await page.screenshot({ path: join(SHOTS, `message-s3-${width}-light.png`), fullPage: true });

      await page.goto(`${d.url}/dead-letters/${letterId}`);
      await checkPointer(page, `sqs/${letterId}`);
      await fits(page);
      await page.screenshot({ path: join(SHOTS, `dead-letter-s3-${width}-light.png`), fullPage: true });
    } finally {
      await context.close();
    }
  }, 60_000);
}
