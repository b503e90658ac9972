/**
 * The UI's read-only routes (home, queue list, queue page, status, assets) in HTML and JSON,
 * against fauxqs behind a credential-checking proxy, including every error path.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DeadLetter } from '../../src/delivery/store.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import {
  AUTH,
  BAD_KEY,
  basic,
  call,
  createUpstreamQueue,
  DeadLetterMemoryStore,
  DENIED_KEY,
  eventually,
  type Reply,
  SECRET,
  startCredentialProxy,
  startUiDaemon,
  type UiDaemon,
  type Upstream,
} from './ui-harness.js';

let emulator: Emulator;
let proxy: Upstream;
let ui: UiDaemon;
/** Every answer this file saw, to check that the secret never appears in one. */
const seen: Reply[] = [];

async function get(path: string, options: Parameters<typeof call>[3] = {}): Promise<Reply> {
  const r = await call(ui.url, 'GET', path, options);
  seen.push(r);
  return r;
}

beforeAll(async () => {
  emulator = await startEmulator();
  proxy = await startCredentialProxy(emulator.endpoint);
  ui = await startUiDaemon(proxy.endpoint);
  await createUpstreamQueue(ui.daemon, 'alpha');
  await createUpstreamQueue(ui.daemon, 'beta', { VisibilityTimeout: '45', MessageRetentionPeriod: '90061', MaximumMessageSize: '262144' });
  await createUpstreamQueue(ui.daemon, 'beta-dlq');
  await createUpstreamQueue(ui.daemon, 'gamma.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' });
  const dlqArn = (await ui.daemon.deps.client.getQueueAttributes(await ui.daemon.deps.client.getQueueUrl('beta-dlq', { accessKeyId: 'AKIDUITEST', secretAccessKey: SECRET }), ['QueueArn'], { accessKeyId: 'AKIDUITEST', secretAccessKey: SECRET })).QueueArn;
  await ui.daemon.deps.client.call(
    'SetQueueAttributes',
    { QueueUrl: await ui.daemon.deps.client.getQueueUrl('beta', { accessKeyId: 'AKIDUITEST', secretAccessKey: SECRET }), Attributes: { RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 4 }) } },
    { accessKeyId: 'AKIDUITEST', secretAccessKey: SECRET },
  );
  // Two messages through the daemon, so SQS and the daemon both have something to count.
  for (const body of ['one', 'two']) expect((await call(ui.url, 'POST', '/queues/beta', { form: { message_body: body } })).status).toBe(202);
  await eventually(() => ui.daemon.deps.pipeline.totals.sent === 2, 3000, 'two messages delivered');
});

afterAll(async () => {
  await ui?.stop();
  await proxy?.close();
  await emulator?.close();
  for (const r of seen) expect(r.text).not.toContain(SECRET);
  for (const line of ui.logs.raw) expect(line).not.toContain(SECRET);
});

describe('assets and headers', () => {
  it('serves the stylesheet and icon without credentials, cacheable when versioned', async () => {
    const home = await get('/', { html: true });
    const href = /<link rel="stylesheet" href="([^"]+)"/.exec(home.text)?.[1] as string;
    expect(href).toMatch(/^\/ui\/style\.css\?v=[0-9a-f]{12}$/);
    const css = await get(href, { headers: { authorization: undefined } });
    expect([css.status, css.headers['content-type'], css.headers['cache-control']]).toEqual([200, 'text/css; charset=utf-8', 'public, max-age=31536000, immutable']);
    expect(css.text).toContain('header.top');
    expect((await get('/ui/style.css')).headers['cache-control']).toBe('no-cache');
    const icon = await get('/ui/icon.svg', { headers: { authorization: undefined } });
    expect([icon.status, icon.headers['content-type']]).toEqual([200, 'image/svg+xml']);
  });

  it('sets security headers on pages and on error pages; pages are not cached', async () => {
    for (const r of [await get('/', { html: true }), await get('/queues/nope', { html: true }), await get('/', { html: true, headers: { authorization: undefined } })]) {
      expect(r.headers['content-security-policy']).toBe("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
      expect(r.headers['x-frame-options']).toBe('DENY');
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['referrer-policy']).toBe('same-origin');
      expect(r.text).not.toMatch(/<script/i);
      expect(r.text).not.toMatch(/ style="/); // no inline styles either (the CSP would block them)
    }
    expect((await get('/', { html: true })).headers['cache-control']).toBe('no-store');
  });

  it('refuses a foreign Host (DNS rebinding) with a page, before anything else', async () => {
    const r = await get('/', { html: true, headers: { host: 'evil.example:9292' } });
    expect(r.status).toBe(421);
    expect(r.text).toContain('421 · HostNotAllowed');
  });
});

describe('credentials', () => {
  it('asks for credentials with 401 + WWW-Authenticate and a clear page', async () => {
    const r = await get('/', { html: true, headers: { authorization: undefined } });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toBe('Basic realm="sqs-accelerator", charset="UTF-8"');
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.text).toContain('401 · MissingCredentials');
    expect(r.text).toContain('access key id');
    expect(r.text).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
    const j = await get('/queues', { headers: { authorization: undefined } });
    expect([j.status, j.json.error.code]).toEqual([401, 'MissingCredentials']);
  });

  it('a malformed Authorization header is a 401 too', async () => {
    for (const authorization of ['Bearer abc', basic('has space', 'x'), 'Basic !!!']) {
      const r = await get('/queues', { headers: { authorization } });
      expect([r.status, r.json.error.code, r.headers['www-authenticate']]).toEqual([401, 'MalformedCredentials', expect.stringContaining('Basic')]);
    }
  });

  it('credentials SQS refuses: 401 so the browser asks again, with SQS\'s code, on every page', async () => {
    const wrong = { authorization: basic(BAD_KEY, SECRET) };
    for (const path of ['/', '/queues', '/queues/alpha', '/status', '/delete-queues?name=alpha', '/queues/alpha/purge']) {
      const r = await get(path, { html: true, headers: wrong });
      expect({ path, status: r.status }).toEqual({ path, status: 401 });
      expect(r.headers['www-authenticate']).toContain('Basic');
      expect(r.text).toContain('InvalidClientTokenId');
      expect(r.text).toContain('Your browser will ask for credentials again');
    }
    const j = await get('/queues', { headers: wrong });
    expect(j.json.error).toEqual({ code: 'InvalidClientTokenId', message: expect.stringContaining('check the access key id and secret') });
  });

  it('credentials without permission: 403 with SQS\'s code', async () => {
    const r = await get('/queues', { html: true, headers: { authorization: basic(DENIED_KEY, 'x') } });
    expect(r.status).toBe(403);
    expect(r.text).toContain('AccessDenied');
    // The home page still renders: only ListQueues was refused.
    const home = await get('/', { headers: { authorization: basic(DENIED_KEY, 'x') } });
    expect([home.status, home.json.sqs]).toEqual([200, { ok: false, code: 'AccessDenied', message: expect.stringContaining('not authorized') }]);
  });
});

describe('home', () => {
  it('says what the daemon is, its upstream and uptime (HTML)', async () => {
    const r = await get('/', { html: true });
    expect(r.status).toBe(200);
    expect(r.text).toContain('<h1>sqs-accelerator</h1>');
    expect(r.text).toContain(proxy.endpoint);
    expect(r.text).toContain('us-east-1');
    expect(r.text).toContain('signed in as <span class="mono">AKIDUITEST</span>');
    expect(r.text).toContain(`${ui.url}/queues/&lt;queue&gt;`);
    for (const href of ['/queues', '/new-queue', '/status']) expect(r.text).toContain(`href="${href}"`);
  });

  it('answers the same data as JSON', async () => {
    const r = await get('/');
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.json).toEqual({
      service: 'sqs-accelerator',
      upstream: { endpoint: proxy.endpoint, region: 'us-east-1' },
      credentials: 'pass-through',
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      uptimeSeconds: expect.any(Number),
      durability: 'memory',
      sqs: { ok: true },
      links: { queues: '/queues', newQueue: '/new-queue', status: '/status' },
    });
  });
});

describe('queue list', () => {
  it('lists queues with their type, SQS counts and the daemon backlog (JSON)', async () => {
    const r = await get('/queues');
    expect(r.status).toBe(200);
    const byName = Object.fromEntries((r.json.queues as Array<{ name: string }>).map((q) => [q.name, q]));
    expect(Object.keys(byName)).toEqual(['alpha', 'beta', 'beta-dlq', 'gamma.fifo']);
    expect(byName.beta).toEqual({ name: 'beta', url: expect.stringMatching(/\/beta$/), fifo: false, visible: 2, inFlight: 0, delayed: 0, daemon: { backlog: 0, inFlight: 0 } });
    expect(byName['gamma.fifo']).toMatchObject({ fifo: true, visible: 0 });
    expect(r.json).toMatchObject({ prefix: '', limit: 50, paged: false });
    expect(r.json.nextToken).toBeUndefined();
  });

  it('filters by prefix and pages with next tokens', async () => {
    expect(((await get('/queues?prefix=beta')).json.queues as Array<{ name: string }>).map((q) => q.name)).toEqual(['beta', 'beta-dlq']);
    const first = await get('/queues?limit=2');
    expect(first.json.queues.map((q: { name: string }) => q.name)).toEqual(['alpha', 'beta']);
    expect(typeof first.json.nextToken).toBe('string');
    const second = await get(`/queues?limit=2&next=${encodeURIComponent(first.json.nextToken)}`);
    expect(second.json.queues.map((q: { name: string }) => q.name)).toEqual(['beta-dlq', 'gamma.fifo']);
    expect(second.json.paged).toBe(true);
    // The HTML pager links to the next page and back to the first.
    const html = await get('/queues?limit=2', { html: true });
    expect(html.text).toContain(`href="/queues?limit=2&amp;next=${encodeURIComponent(first.json.nextToken)}"`);
    const html2 = await get(`/queues?limit=2&next=${encodeURIComponent(first.json.nextToken)}`, { html: true });
    expect(html2.text).toContain('href="/queues?limit=2">← First page</a>');
  });

  it('draws links, check-boxes, badges, an empty state and the deleted flash (HTML, escaped)', async () => {
    const r = await get('/queues', { html: true });
    expect(r.text).toContain('<a href="/queues/gamma.fifo">gamma.fifo</a>');
    expect(r.text).toContain('<input type="checkbox" name="name" value="beta"');
    expect(r.text).toContain('<form method="get" action="/delete-queues">');
    expect(r.text).toContain('<span class="badge fifo">FIFO</span>');
    const none = await get('/queues?prefix=zzz', { html: true });
    expect(none.text).toContain('No queue names start with <code>zzz</code>.');
    const flash = await get(`/queues?deleted=${encodeURIComponent('<img src=x onerror=alert(1)>')}`, { html: true });
    expect(flash.text).toContain('Deleted queue &lt;img src=x onerror=alert(1)&gt;.');
    expect(flash.text).not.toContain('<img');
  });

  it('refuses bad parameters with 400 naming them', async () => {
    for (const [path, code, text] of [
      ['/queues?limit=0', 'InvalidParameter', 'limit'],
      ['/queues?limit=1001', 'InvalidParameter', 'limit'],
      ['/queues?limit=abc', 'InvalidParameter', 'limit'],
      ['/queues?prefix=%3Cscript%3E', 'InvalidParameter', 'prefix'],
    ] as const) {
      const r = await get(path);
      expect({ path, status: r.status, code: r.json.error.code }).toEqual({ path, status: 400, code });
      expect(r.json.error.message).toContain(text);
    }
  });

  it('shows SQS\'s own refusal of a bad next token with its code', async () => {
    proxy.faults.set('ListQueues', { status: 400, code: 'InvalidParameterValue', message: 'Invalid NextToken value.' });
    try {
      const r = await get('/queues?next=garbage', { html: true });
      expect(r.status).toBe(400);
      expect(r.text).toContain('InvalidParameterValue');
      expect(r.text).toContain('Invalid NextToken value.');
    } finally {
      proxy.faults.delete('ListQueues');
    }
  });

  it('a queue deleted between list and describe keeps its row with the reason', async () => {
    await createUpstreamQueue(ui.daemon, 'zz-vanishing');
    proxy.faults.set('GetQueueAttributes', { status: 400, code: 'QueueDoesNotExist', message: 'gone' });
    try {
      const r = await get('/queues?prefix=zz-');
      expect(r.json.queues).toEqual([{ name: 'zz-vanishing', url: expect.any(String), fifo: false, error: { code: 'QueueDoesNotExist', message: 'deleted while the list was being read' }, daemon: { backlog: 0, inFlight: 0 } }]);
    } finally {
      proxy.faults.delete('GetQueueAttributes');
    }
  });
});

describe('queue page', () => {
  it('answers every attribute and the daemon\'s counters as JSON', async () => {
    const r = await get('/queues/beta');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: 'beta', fifo: false, deadLetters: null });
    expect(r.json.attributes).toMatchObject({ VisibilityTimeout: '45', ApproximateNumberOfMessages: '2', MaximumMessageSize: '262144' });
    expect(r.json.daemon).toEqual({ accepted: 2, sent: 2, retried: 0, deadLettered: 0, md5Mismatch: 0, backlog: 0, inFlight: 0 });
  });

  it('shows attributes in human units, the redrive target as a link, and a send form with a token', async () => {
    const r = await get('/queues/beta', { html: true });
    expect(r.text).toContain('45 seconds<span class="raw">(VisibilityTimeout = 45)</span>');
    expect(r.text).toContain('1 day 1 hour 1 minute 1 second'); // 90061 s retention
    expect(r.text).toContain('256 KiB');
    expect(r.text).toContain('to <a href="/queues/beta-dlq">beta-dlq</a> after 4 receives');
    expect(r.text).toMatch(/<form method="post" action="\/queues\/beta" class="card" id="send">\s*<input type="hidden" name="_csrf" value="v1\./);
    expect(r.text).toContain('name="message_body"');
    expect(r.text).toContain('name="delay_seconds"'); // standard queue: delay, no group id
    expect(r.text).not.toContain('name="group_id"');
    expect(r.text).toContain('href="/queues/beta/purge"');
    expect(r.text).toContain('href="/queues/beta/delete"');
  });

  it('asks for a group id (not a delay) on a FIFO queue', async () => {
    const r = await get('/queues/gamma.fifo', { html: true });
    expect(r.text).toContain('name="group_id"');
    expect(r.text).toContain('name="deduplication_id"');
    expect(r.text).toContain('(the queue deduplicates by content)');
    expect(r.text).not.toContain('name="delay_seconds"');
  });

  it('confirms a send, a creation and a purge from the query, escaped', async () => {
    const r = await get(`/queues/alpha?sent=${encodeURIComponent('<script>x</script>')}&created=1&purged=1`, { html: true });
    expect(r.text).toContain('Message <code>&lt;script&gt;x&lt;/script&gt;</code> accepted.');
    expect(r.text).toContain('Queue alpha created.');
    expect(r.text).toContain('Purge of alpha requested.');
    expect(r.text).not.toContain('<script>');
  });

  it('404 for a queue that does not exist, 400 for a name that cannot exist (escaped)', async () => {
    const missing = await get('/queues/nope', { html: true });
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('404 · QueueDoesNotExist');
    expect((await get('/queues/nope')).json.error.code).toBe('QueueDoesNotExist');
    const bad = await get(`/queues/${encodeURIComponent('<b>x')}`, { html: true });
    expect(bad.status).toBe(400);
    expect(bad.text).toContain('&quot;&lt;b&gt;x&quot; is not valid');
    expect(bad.text).not.toContain('<b>x');
  });

  it('503 with Retry-After when SQS is throttling, with the code', async () => {
    proxy.faults.set('GetQueueUrl', { status: 400, code: 'ThrottlingException', message: 'Rate exceeded' });
    try {
      const r = await get('/queues/alpha', { html: true });
      expect([r.status, r.headers['retry-after']]).toEqual([503, '2']);
      expect(r.text).toContain('ThrottlingException');
    } finally {
      proxy.faults.delete('GetQueueUrl');
    }
  });
});

describe('new-queue form', () => {
  it('draws the form with the 2009 field names and a token', async () => {
    const r = await get('/new-queue', { html: true });
    expect(r.text).toContain('<form method="post" action="/queues"');
    for (const f of ['queue_name', 'visibility_timeout', 'fifo', 'content_based_deduplication', 'delay_seconds', 'message_retention_period', 'maximum_message_size', 'receive_message_wait_time_seconds', 'dead_letter_queue', 'max_receive_count']) {
      expect(r.text).toContain(`name="${f}"`);
    }
    expect(r.text).toMatch(/name="_csrf" value="v1\.[0-9a-z]+\.[\w-]+"/);
    expect((await get('/new-queue?fifo=1', { html: true })).text).toContain('name="fifo" value="on" checked');
  });

  it('describes the fields as JSON', async () => {
    const r = await get('/new-queue');
    expect(r.json.action).toEqual({ method: 'POST', path: '/queues', contentTypes: ['application/x-www-form-urlencoded', 'application/json'] });
    expect(r.json.fields.visibility_timeout).toEqual({ attribute: 'VisibilityTimeout', min: 0, max: 43200, unit: 's', sqsDefault: 30 });
    expect(r.json.fields.max_receive_count).toEqual({ min: 1, max: 1000, default: 5 });
  });
});

describe('status page', () => {
  it('answers backlog, requests, totals, rates, store and per-queue counters as JSON', async () => {
    const r = await get('/status');
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      upstream: { endpoint: proxy.endpoint, region: 'us-east-1' },
      backlog: { messages: 0, bytes: 0 },
      inFlightRequests: 0,
      delivery: { state: 'delivering', probesFailed: 0, heldDestinations: 0, outagesTotal: 0, probesTotal: 0 },
      totals: { accepted: 2, sent: 2, retried: 0, deadLettered: 0 },
      store: { durability: 'memory', deadLetters: 0, writable: true },
      deadLetters: null,
      sqs: { ok: true },
    });
    expect(r.json.rates.sentPerSecond).toBeGreaterThanOrEqual(0);
    expect(r.json.queues).toEqual([{ name: 'beta', accepted: 2, sent: 2, retried: 0, deadLettered: 0, md5Mismatch: 0, backlog: 0, inFlight: 0 }]);
  });

  it('says honestly that memory-only mode keeps no dead letters (HTML)', async () => {
    const r = await get('/status', { html: true });
    expect(r.text).toContain('<h1>Daemon status</h1>');
    expect(r.text).toContain('Memory only.');
    expect(r.text).toContain('without a dead-letter store');
    expect(r.text).toContain('<a href="/queues/beta">beta</a>');
  });

  it('400 for bad dead-letter paging or queue filter', async () => {
    expect((await get('/status?dl_offset=-1')).status).toBe(400);
    expect((await get('/status?queue=%3Cx%3E')).json.error.code).toBe('InvalidQueueName');
  });
});

describe('status page with a dead-letter store', () => {
  let dl: UiDaemon;
  let store: DeadLetterMemoryStore;
  // `as`: the store's DeadLetter shape is growing (an owner field); these are the fields the page shows.
  const letter = (i: number, queueName: string, accessKeyId = 'AKIDUITEST'): DeadLetter => ({
    id: `m${i}`,
    queueName,
    accessKeyId,
    body: `<script>alert(${i})</script>`,
    code: 'QueueDoesNotExist',
    reason: 'The specified queue does not exist.',
    attempts: 3,
    acceptedAt: Date.parse('2026-01-01T00:00:00Z'),
    deadAt: Date.parse('2026-01-01T00:00:05Z'),
  }) as DeadLetter;

  beforeAll(async () => {
    dl = await startUiDaemon(proxy.endpoint, {
      store: (log) => {
        store = new DeadLetterMemoryStore(log);
        return store;
      },
    });
    for (let i = 0; i < 25; i++) store.items.push(letter(i, i % 5 === 0 ? 'other' : 'orders'));
    for (let i = 25; i < 28; i++) store.items.push(letter(i, 'orders', 'AKIDSOMEONEELSE'));
  });
  afterAll(() => dl.stop());

  it('lists dead letters with reason and code, escaped, and pages through them', async () => {
    const r = await call(dl.url, 'GET', '/status', { html: true });
    seen.push(r);
    expect(r.text).toContain('25 sent with your credentials (the store holds 28; the others were sent with other credentials); showing 1–20.');
    expect(r.text).toContain('<code>QueueDoesNotExist</code> The specified queue does not exist.');
    expect(r.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(r.text).not.toContain('<script>');
    expect(r.text).toContain('href="/status?dl_offset=20#dead-letters">Older →</a>');
    expect(r.text).toContain('<td class="mono">/var/lib/sqs-accelerator</td>');
    const page2 = await call(dl.url, 'GET', '/status?dl_offset=20');
    expect([page2.json.deadLetters.total, page2.json.deadLetters.items.map((x: DeadLetter) => x.id)]).toEqual([25, ['m20', 'm21', 'm22', 'm23', 'm24']]);
    const other = await call(dl.url, 'GET', '/status?queue=other');
    expect(other.json.deadLetters).toMatchObject({ scope: 'yours', total: 5, queue: 'other' });
  });

  it('the queue page counts the queue\'s dead letters and links to them', async () => {
    await createUpstreamQueue(dl.daemon, 'orders');
    const r = await call(dl.url, 'GET', '/queues/orders', { html: true });
    expect(r.text).toContain('20 kept, see <a href="/dead-letters?queue=orders">dead letters</a>');
    expect((await call(dl.url, 'GET', '/queues/orders')).json.deadLetters).toBe(20);
  });

  it('shows each user only the letters sent with their credentials', async () => {
    const mine = await call(dl.url, 'GET', '/status?dl_offset=0');
    expect(new Set(mine.json.deadLetters.items.map((x: DeadLetter) => x.accessKeyId))).toEqual(new Set(['AKIDUITEST']));
    const theirs = await call(dl.url, 'GET', '/status', { headers: { authorization: basic('AKIDSOMEONEELSE', 'their-secret') } });
    expect(theirs.json.deadLetters.total).toBe(3);
    expect(theirs.json.deadLetters.items.map((x: DeadLetter) => x.id)).toEqual(['m25', 'm26', 'm27']);
    const nobody = await call(dl.url, 'GET', '/status', { html: true, headers: { authorization: basic('AKIDNOLETTERS', 'x') } });
    expect(nobody.text).toContain('No dead letters sent with your credentials (the store holds 28; the others were sent with other credentials).');
  });

  it('still renders during an SQS outage, with a warning', async () => {
    proxy.faults.set('ListQueues', { status: 503, code: 'ServiceUnavailable', message: 'down' });
    try {
      const r = await call(dl.url, 'GET', '/status');
      expect(r.status).toBe(200);
      expect(r.json.sqs).toEqual({ ok: false, code: 'ServiceUnavailable', message: 'SQS could not be reached just now' });
      expect(r.json.deadLetters.total).toBe(25);
      const html = await call(dl.url, 'GET', '/status', { html: true });
      expect(html.text).toContain('SQS could not be reached just now (<code>ServiceUnavailable</code>).');
    } finally {
      proxy.faults.delete('ListQueues');
    }
  });
});

describe('status page with the real spool', () => {
  it('shows a message SQS refused for good to its sender only, escaped, with the reason', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ui-spool-'));
    const spooled = await startUiDaemon(proxy.endpoint, { storeFromConfig: true, flags: ['--durability', 'write', '--spool-dir', dir] });
    try {
      await createUpstreamQueue(spooled.daemon, 'short-lived');
      expect((await call(spooled.url, 'POST', '/queues/short-lived', { form: { message_body: 'first' } })).status).toBe(202);
      await eventually(() => spooled.daemon.deps.pipeline.totals.sent === 1, 3000, 'first message delivered');
      // Deleted behind the daemon's back: its cached queue URL is stale, so the next message is refused for good.
      const creds = { accessKeyId: 'AKIDUITEST', secretAccessKey: SECRET };
      await spooled.daemon.deps.client.call('DeleteQueue', { QueueUrl: await spooled.daemon.deps.client.getQueueUrl('short-lived', creds) }, creds);
      expect((await call(spooled.url, 'POST', '/queues/short-lived', { form: { message_body: '<b>orphan</b>' } })).status).toBe(202);
      await eventually(() => spooled.daemon.deps.pipeline.totals.deadLettered === 1, 3000, 'the message dead-lettered');

      const r = await call(spooled.url, 'GET', '/status', { html: true });
      seen.push(r);
      expect(r.text).toContain(`<td class="mono">${dir}</td>`);
      expect(r.text).toContain('1 sent with your credentials; showing 1–1.');
      expect(r.text).toContain('<td><a href="/queues/short-lived">short-lived</a></td>');
      expect(r.text).toContain('<code>QueueDoesNotExist</code>');
      expect(r.text).toContain('&lt;b&gt;orphan&lt;/b&gt;');
      const json = await call(spooled.url, 'GET', '/status');
      expect(json.json.store).toMatchObject({ durability: 'write', dir, deadLetters: 1, writable: true });
      expect(json.json.deadLetters.items).toEqual([expect.objectContaining({ queueName: 'short-lived', body: '<b>orphan</b>', code: 'QueueDoesNotExist', accessKeyId: 'AKIDUITEST' })]);
      expect(JSON.stringify(json.json)).not.toContain(SECRET);
      const stranger = await call(spooled.url, 'GET', '/status', { headers: { authorization: basic('AKIDUITEST', 'a-different-secret') } });
      expect(stranger.json.deadLetters).toMatchObject({ scope: 'yours', total: 0, items: [] });
    } finally {
      await spooled.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SQS unreachable', () => {
  it('pages about the daemon still work; pages about queues answer 503 with the code', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const down = await startUiDaemon(`http://127.0.0.1:${port}`);
    try {
      const home = await call(down.url, 'GET', '/', { html: true });
      expect(home.status).toBe(200);
      expect(home.text).toContain('SQS could not be reached just now (<code>NetworkError</code>)');
      expect((await call(down.url, 'GET', '/status')).json.sqs.code).toBe('NetworkError');
      const list = await call(down.url, 'GET', '/queues', { html: true });
      expect([list.status, list.headers['retry-after']]).toEqual([503, '2']);
      expect(list.text).toContain('NetworkError');
      expect(list.text).toContain('try again in a few seconds');
    } finally {
      await down.stop();
    }
  });
});

describe('--credentials chain', () => {
  it('signs with the daemon\'s credentials and says so; 503 when they cannot be loaded', async () => {
    let fail = false;
    const chain = await startUiDaemon(proxy.endpoint, {
      flags: ['--credentials', 'chain'],
      credentialProvider: async () => {
        if (fail) throw new Error('no credentials in the chain');
        return { accessKeyId: 'AKIDCHAIN', secretAccessKey: 'chain-secret' };
      },
    });
    try {
      const r = await call(chain.url, 'GET', '/queues', { html: true, headers: { authorization: undefined } });
      expect(r.status).toBe(200);
      expect(r.text).toContain('signed in as <span class="mono">daemon credentials</span>');
      expect((await call(chain.url, 'GET', '/', { headers: { authorization: undefined } })).json.credentials).toBe('chain');
      fail = true;
      await chain.daemon.deps.auth.daemonCredentials?.refresh().catch(() => undefined);
      const down = await call(chain.url, 'GET', '/queues', { html: true });
      expect([down.status, down.headers['retry-after']]).toEqual([503, '5']);
      expect(down.text).toContain('CredentialsUnavailable');
      expect(down.text).not.toContain('no credentials in the chain'); // the provider's own error stays in the log
    } finally {
      await chain.stop();
    }
  });
});

it('405 for a method a route does not have', async () => {
  const r = await call(ui.url, 'PUT', '/queues', { headers: { authorization: AUTH } });
  expect([r.status, r.json.error.code]).toEqual([405, 'MethodNotAllowed']);
});
