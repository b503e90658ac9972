/**
 * /metrics can be protected (issue 11, item 7): it showed up to 1,000 queue names to any local
 * process. With --metrics-token-file it needs the bearer token; without, it stays open (the
 * README says what it shows).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, startTestDaemon, type TestDaemon } from '../support/daemon.js';

const TOKEN = 'metrics-token-4f1c9e';
let fake: FakeSqs;
let dir: string;

beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['private-queue'] });
  dir = mkdtempSync(join(tmpdir(), 'metrics-token-'));
});
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function metrics(d: TestDaemon, authorization?: string): Promise<{ status: number; text: string; challenge: string | undefined }> {
  const res = await request(`${d.url}/metrics`, { headers: authorization ? { authorization } : {} });
  const text = await res.body.text();
  return { status: res.statusCode, text, challenge: res.headers['www-authenticate'] as string | undefined };
}

it('with --metrics-token-file, /metrics answers only a request bearing the token', async () => {
  const file = join(dir, 'token');
  writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
  const d = await startTestDaemon(fake.endpoint, ['--metrics-token-file', file], 'debug');
  try {
    expect((await post(d.url, '/queues/private-queue', 'x', { contentType: 'text/plain' })).status).toBe(202);
    const none = await metrics(d);
    expect(none.status).toBe(401);
    expect(none.challenge).toMatch(/^Bearer /);
    expect(none.text).not.toContain('private-queue');
    for (const wrong of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, TOKEN]) {
      expect((await metrics(d, wrong)).status).toBe(401);
    }
    const ok = await metrics(d, `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('queue="private-queue"');
    expect(d.logs.raw.join('')).not.toContain(TOKEN);
  } finally {
    await d.stop();
  }
});

it('without it /metrics is open, and an unreadable or empty token file stops the start (ECONFIG)', async () => {
  const d = await startTestDaemon(fake.endpoint);
  try {
    expect((await metrics(d)).status).toBe(200);
  } finally {
    await d.stop();
  }
  await expect(startTestDaemon(fake.endpoint, ['--metrics-token-file', join(dir, 'missing')])).rejects.toMatchObject({ code: 'ECONFIG' });
  writeFileSync(join(dir, 'empty'), '\n');
  await expect(startTestDaemon(fake.endpoint, ['--metrics-token-file', join(dir, 'empty')])).rejects.toMatchObject({ code: 'ECONFIG' });
});
