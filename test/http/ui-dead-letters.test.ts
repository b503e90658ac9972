/**
 * Dead letters in the browser UI and as JSON: list, detail, replay and purge (chosen ones or
 * all of a queue) behind a confirmation page and the CSRF guard, scoped to the caller's key
 * pair, every value escaped. Against fauxqs with the real spool's dead-letter store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetterDir, DeadLetterFile } from '../../src/spool/dead-letters.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, basic, call, createUpstreamQueue, type Reply, SECRET, sameOriginBrowser, startUiDaemon, tokenIn, type UiDaemon } from './ui-harness.js';

const HOSTILE = '<script>alert("x")</script>&amp;';
let emulator: Emulator;
let ui: UiDaemon;
let dir: string;
let store: DeadLetterDir;
const seen: Reply[] = [];

function letter(id: string, queueName: string, extra: Partial<DeadLetterFile> = {}): DeadLetterFile {
  return {
    id,
    queueName,
    queueUrl: `http://sqs.us-east-1.localhost/000000000000/${queueName}`,
    accessKeyId: AKID,
    body: JSON.stringify({ order: id, note: HOSTILE }),
    attributes: { kind: { DataType: 'String', StringValue: `<b>${id}</b>` } },
    code: 'QueueDoesNotExist',
    reason: `gone ${HOSTILE}`,
    attempts: 3,
    acceptedAt: 1_700_000_000_000,
    lastAttemptAt: 1_700_000_001_000,
    deadAt: 1_700_000_002_000 + Number(id.replace(/\D/g, '') || 0),
    credentials: { accessKeyId: AKID, secretAccessKey: SECRET },
    ...extra,
  };
}

async function req(method: string, path: string, options: Parameters<typeof call>[3] = {}): Promise<Reply> {
  const r = await call(ui.url, method, path, options);
  seen.push(r);
  return r;
}

/** Receives what is in an upstream queue (to see a replayed letter arrive). */
async function upstreamBodies(queue: string): Promise<string[]> {
  const creds = { accessKeyId: AKID, secretAccessKey: SECRET };
  const url = await ui.daemon.deps.client.getQueueUrl(queue, creds);
  const out = await ui.daemon.deps.client.call<{ Messages?: Array<{ Body: string }> }>('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }, creds);
  return (out.Messages ?? []).map((m) => m.Body);
}

beforeAll(async () => {
  emulator = await startEmulator();
  dir = mkdtempSync(join(tmpdir(), 'ui-dl-'));
  ui = await startUiDaemon(emulator.endpoint, { storeFromConfig: true, flags: ['--durability', 'write', '--spool-dir', dir] });
  store = ui.daemon.deps.store.deadLetters as DeadLetterDir;
  await createUpstreamQueue(ui.daemon, 'orders');
  await createUpstreamQueue(ui.daemon, 'bills');
  await store.write(letter('m-1', 'orders'));
  await store.write(letter('m-2', 'orders'));
  await store.write(letter('m-3', 'bills'));
  await store.write(letter('m-4', 'vanished'));
  await store.write(letter('x-9', 'orders', { accessKeyId: 'AKIDOTHER', credentials: { accessKeyId: 'AKIDOTHER', secretAccessKey: 'other-secret' } }));
});

afterAll(async () => {
  await ui?.stop();
  await emulator?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('lists the caller\'s dead letters with reason, queue, attempts, last error and times, escaped', async () => {
  const r = await req('GET', '/dead-letters', { html: true });
  expect(r.status).toBe(200);
  expect(r.text).toContain('4 sent with your credentials, oldest first');
  expect(r.text).toContain('<a href="/dead-letters/m-1">m-1</a>');
  expect(r.text).not.toContain('x-9');
  expect(r.text).toContain('<td><code>QueueDoesNotExist</code></td>');
  expect(r.text).toContain('gone &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;amp;');
  expect(r.text).toContain('<td class="num">3</td>');
  expect(r.text).toContain('2023-11-14 22:13:20 UTC'); // accepted
  expect(r.text).not.toMatch(/<script>/);
  const json = await req('GET', '/dead-letters?queue=orders');
  expect(json.json).toMatchObject({ total: 2, items: [{ id: 'm-1' }, { id: 'm-2' }] });
  expect((await req('GET', '/dead-letters', { headers: { authorization: basic('AKIDOTHER', 'other-secret') } })).json.items.map((x: { id: string }) => x.id)).toEqual(['x-9']);
});

it('shows one letter in full: JSON body pretty-printed and escaped, attributes, and the actions', async () => {
  const r = await req('GET', '/dead-letters/m-1', { html: true });
  expect(r.status).toBe(200);
  expect(r.text).toContain('<pre class="body">{\n  &quot;order&quot;: &quot;m-1&quot;,\n  &quot;note&quot;: &quot;&lt;script&gt;');
  expect(r.text).toContain('<dd class="mono">&lt;b&gt;m-1&lt;/b&gt;</dd>');
  expect(r.text).toContain('href="/replay-dead-letters?id=m-1"');
  expect(r.text).toContain('href="/purge-dead-letters?id=m-1"');
  expect(r.text).not.toMatch(/<script>|<b>m-1/);
  // Another user's letter does not exist for this caller.
  expect((await req('GET', '/dead-letters/x-9')).status).toBe(404);
});

it('replay: a confirmation page, refused without its CSRF token, then sent to SQS and removed', async () => {
  const confirm = await req('GET', '/replay-dead-letters?id=m-1&id=x-9', { html: true });
  expect(confirm.status).toBe(200);
  expect(confirm.text).toContain('Replay 1 dead letter?'); // x-9 is not the caller's
  expect(confirm.text).toMatch(/<form method="post" action="\/replay-dead-letters" class="card">\s*<input type="hidden" name="_csrf" value="[^"]+">\s*<input type="hidden" name="id" value="m-1">/);
  const forged = await req('POST', '/replay-dead-letters', { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: 'v1.forged.AAAA', id: 'm-1' } });
  expect(forged.status).toBe(403);
  expect((await store.get('m-1'))).toBeDefined();

  const done = await req('POST', '/replay-dead-letters', { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: tokenIn(confirm.text), id: ['m-1', 'x-9'] } });
  expect(done.status).toBe(303);
  expect(done.headers.location).toBe('/dead-letters?replayed=1');
  expect((await store.get('m-1'))).toBeUndefined();
  expect((await store.get('x-9'))).toBeDefined(); // not the caller's: untouched
  expect(await upstreamBodies('orders')).toEqual([JSON.stringify({ order: 'm-1', note: HOSTILE })]);
  expect((await req('GET', '/dead-letters?replayed=1', { html: true })).text).toContain('Replayed 1 dead letter: SQS accepted it again.');
});

it('replay of all of a queue as JSON; a letter SQS refuses again is kept with the reason', async () => {
  const all = await req('POST', '/replay-dead-letters', { json: { all: true } });
  expect(all.status).toBe(200);
  expect(all.json).toMatchObject({ replayed: 2, failed: 1 });
  expect(all.json.results).toEqual([
    { id: 'm-2', ok: true, queue: 'orders', messageId: expect.any(String) },
    { id: 'm-3', ok: true, queue: 'bills', messageId: expect.any(String) },
    { id: 'm-4', ok: false, code: 'QueueDoesNotExist', message: expect.any(String) },
  ]);
  expect(store.ids()).toEqual(['m-4', 'x-9']);
  expect(await upstreamBodies('bills')).toHaveLength(1);
  // In a browser, a partly failed replay shows the results instead of redirecting.
  const page = await req('GET', '/replay-dead-letters?id=m-4', { html: true });
  const failed = await req('POST', '/replay-dead-letters', { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: tokenIn(page.text), id: 'm-4' } });
  expect(failed.status).toBe(502);
  expect(failed.text).toContain('1 of 1 could not be replayed; they are kept.');
  expect(failed.text).toContain('<code>QueueDoesNotExist</code>');
});

it('purge: confirmation, CSRF, then removed for good; bad selections are 400s naming the parameter', async () => {
  const confirm = await req('GET', '/purge-dead-letters?all=1&queue=vanished', { html: true });
  expect(confirm.text).toContain('Purge 1 dead letter?');
  expect(confirm.text).toContain('<input type="hidden" name="all" value="1"><input type="hidden" name="queue" value="vanished">');
  const done = await req('POST', '/purge-dead-letters', { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: tokenIn(confirm.text), all: '1', queue: 'vanished' } });
  expect(done.status).toBe(303);
  expect(store.ids()).toEqual(['x-9']);
  expect((await req('POST', '/purge-dead-letters', { json: {} })).json.error.code).toBe('NoDeadLettersSelected');
  expect((await req('POST', '/purge-dead-letters', { json: { all: true, ids: ['a'] } })).status).toBe(400);
  expect((await req('POST', '/purge-dead-letters', { json: { ids: ['<x>'] } })).json.error.code).toBe('InvalidParameter');
  expect((await req('GET', '/replay-dead-letters?id=nope')).status).toBe(404);
});

it('a page of the list is bounded by its bodies (LIST_BODY_CHARS), and a confirmation of "all" reads no letter it does not name', async () => {
  const big = Array.from({ length: 10 }, (_, i) => letter(`big-${i}`, 'huge', { body: `${i}`.repeat(1024 * 1024) }));
  for (const l of big) await store.write(l);
  try {
    const page = await req('GET', '/dead-letters?queue=huge&limit=1000');
    expect(page.status).toBe(200);
    // 8 MiB of bodies at most: 8 of the 10 (all 10, 10 MiB, were built into one answer).
    expect([page.json.total, page.json.items.length]).toEqual([10, 8]);
    const next = await req('GET', '/dead-letters?queue=huge&limit=1000&offset=8');
    expect(next.json.items.map((l: { id: string }) => l.id)).toEqual(['big-8', 'big-9']);
    const confirm = await req('GET', '/purge-dead-letters?all=1&queue=huge');
    expect([confirm.status, confirm.json.total, confirm.json.ids]).toEqual([200, 10, big.map((l) => l.id)]);
    const purged = await req('POST', '/purge-dead-letters', { json: { all: true, queue: 'huge' } });
    expect(purged.json).toMatchObject({ purged: 10, failed: [] });
  } finally {
    for (const l of big) await store.remove(l.id);
  }
});

it('never shows a secret', () => {
  for (const r of seen) {
    expect(r.text).not.toContain(SECRET);
    expect(r.text).not.toContain('other-secret');
  }
});
