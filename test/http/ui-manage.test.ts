/**
 * The UI's state-changing routes (create, purge, delete one, delete several) as scripts call
 * them (JSON, no token) and as browser forms post them (token, redirects, form errors), against
 * fauxqs behind a credential-checking proxy, including every error path.
 */
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import {
  AKID,
  BAD_KEY,
  basic,
  call,
  type CallOptions,
  createUpstreamQueue,
  DENIED_KEY,
  eventually,
  type Reply,
  sameOriginBrowser,
  SECRET,
  startCredentialProxy,
  startUiDaemon,
  tokenIn,
  type UiDaemon,
  type Upstream,
  upstreamAttributes,
  upstreamQueueNames,
} from './ui-harness.js';

let emulator: Emulator;
let proxy: Upstream;
let ui: UiDaemon;
const seen: Reply[] = [];

async function req(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const r = await call(ui.url, method, path, options);
  seen.push(r);
  return r;
}

/** A browser form post from one of the daemon's pages: same-origin headers and that page's token. */
async function browserPost(path: string, form: Record<string, string | string[]>, tokenFrom = '/new-queue'): Promise<Reply> {
  const token = tokenIn((await req('GET', tokenFrom, { html: true })).text);
  return req('POST', path, { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: token, ...form } });
}

beforeAll(async () => {
  emulator = await startEmulator();
  proxy = await startCredentialProxy(emulator.endpoint);
  ui = await startUiDaemon(proxy.endpoint);
});

afterAll(async () => {
  await ui?.stop();
  await proxy?.close();
  await emulator?.close();
  for (const r of seen) expect(r.text).not.toContain(SECRET);
  for (const line of ui.logs.raw) expect(line).not.toContain(SECRET);
});

describe('create (POST /queues)', () => {
  it('accepts the 2009 form fields from a script: 201, Location, the queue upstream', async () => {
    const r = await req('POST', '/queues', { form: { queue_name: 'legacy', visibility_timeout: '90' } });
    expect(r.status).toBe(201);
    expect(r.headers.location).toBe('/queues/legacy');
    expect(r.json).toEqual({ name: 'legacy', url: expect.stringMatching(/\/legacy$/), fifo: false, attributes: { VisibilityTimeout: '90' } });
    expect((await upstreamAttributes(ui.daemon, 'legacy')).VisibilityTimeout).toBe('90');
    expect(ui.logs.find('queue created').map((l) => [l.queue, l.by])).toEqual([['legacy', AKID]]);
  });

  it('accepts JSON with every field, units included, and a dead-letter queue', async () => {
    await createUpstreamQueue(ui.daemon, 'all-dlq.fifo', { FifoQueue: 'true' });
    const r = await req('POST', '/queues', {
      json: {
        queue_name: 'all.fifo',
        fifo: true,
        content_based_deduplication: true,
        visibility_timeout: '5m',
        delay_seconds: 10,
        message_retention_period: '2d',
        maximum_message_size: '256 KiB',
        receive_message_wait_time_seconds: '20s',
        dead_letter_queue: 'all-dlq.fifo',
        max_receive_count: 7,
      },
    });
    expect(r.status).toBe(201);
    const a = await upstreamAttributes(ui.daemon, 'all.fifo');
    expect(a).toMatchObject({
      FifoQueue: 'true',
      ContentBasedDeduplication: 'true',
      VisibilityTimeout: '300',
      DelaySeconds: '10',
      MessageRetentionPeriod: '172800',
      MaximumMessageSize: '262144',
      ReceiveMessageWaitTimeSeconds: '20',
    });
    expect(JSON.parse(a.RedrivePolicy as string)).toEqual({ deadLetterTargetArn: 'arn:aws:sqs:us-east-1:000000000000:all-dlq.fifo', maxReceiveCount: 7 });
  });

  it('a name ending in .fifo makes a FIFO queue even without the box (2009 scripts send only the name)', async () => {
    expect((await req('POST', '/queues', { form: { queue_name: 'implied.fifo' } })).json.fifo).toBe(true);
    expect((await upstreamAttributes(ui.daemon, 'implied.fifo')).FifoQueue).toBe('true');
  });

  it('names every invalid field in one 400 (JSON)', async () => {
    const r = await req('POST', '/queues', {
      form: {
        queue_name: 'bad name',
        fifo: 'on',
        visibility_timeout: '43201',
        delay_seconds: 'soon',
        message_retention_period: '59',
        maximum_message_size: '2 MiB',
        receive_message_wait_time_seconds: '21',
        max_receive_count: '3',
      },
    });
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('InvalidQueueSettings');
    expect(Object.keys(r.json.error.details.fields).sort()).toEqual(
      ['delay_seconds', 'max_receive_count', 'maximum_message_size', 'message_retention_period', 'queue_name', 'receive_message_wait_time_seconds', 'visibility_timeout'].sort(),
    );
    expect(r.json.error.details.fields.visibility_timeout).toBe('Must be from 0 seconds to 12 hours; 12 hours 1 second is outside.');
    expect(r.json.error.details.fields.maximum_message_size).toBe('Must be from 1 KiB to 1 MiB; 2 MiB is outside.');
    expect(await upstreamQueueNames(ui.daemon)).not.toContain('bad name');
  });

  it.each([
    [{ queue_name: '' }, 'queue_name', 'Give the queue a name.'],
    [{ queue_name: 'x'.repeat(81) }, 'queue_name', 'Use 1 to 80'],
    [{ queue_name: 'plain', fifo: 'on' }, 'queue_name', 'must end in ".fifo"'],
    [{ queue_name: 'plain', content_based_deduplication: 'on' }, 'content_based_deduplication', 'only for FIFO'],
    [{ queue_name: 'q1', dead_letter_queue: 'q1' }, 'dead_letter_queue', 'its own dead-letter queue'],
    [{ queue_name: 'q1', dead_letter_queue: 'dlq.fifo' }, 'dead_letter_queue', 'standard dead-letter queue'],
    [{ queue_name: 'q1.fifo', dead_letter_queue: 'dlq' }, 'dead_letter_queue', 'FIFO dead-letter queue'],
    [{ queue_name: 'q1', dead_letter_queue: 'dl q' }, 'dead_letter_queue', 'Not a valid queue name.'],
    [{ queue_name: 'q1', dead_letter_queue: 'dlq', max_receive_count: '1001' }, 'max_receive_count', 'from 1 to 1000'],
  ])('refuses %j: error on %s', async (form, fieldName, text) => {
    const r = await req('POST', '/queues', { form });
    expect(r.status).toBe(400);
    expect(r.json.error.details.fields[fieldName]).toContain(text);
  });

  it('a dead-letter queue that does not exist is an error on that field; one that does is used by ARN', async () => {
    const missing = await req('POST', '/queues', { form: { queue_name: 'needs-dlq', dead_letter_queue: 'no-such-dlq' } });
    expect([missing.status, missing.json.error.code]).toEqual([400, 'DeadLetterQueueDoesNotExist']);
    expect(missing.json.error.details.fields.dead_letter_queue).toContain('There is no queue named no-such-dlq');
    await createUpstreamQueue(ui.daemon, 'std-dlq');
    const ok = await req('POST', '/queues', { form: { queue_name: 'with-dlq', dead_letter_queue: 'std-dlq' } });
    expect(ok.status).toBe(201);
    expect(JSON.parse(ok.json.attributes.RedrivePolicy)).toEqual({ deadLetterTargetArn: expect.stringMatching(/:std-dlq$/), maxReceiveCount: 5 });
    expect(await upstreamQueueNames(ui.daemon)).not.toContain('needs-dlq');
  });

  it('409 with SQS\'s code when the name exists with other attributes', async () => {
    await createUpstreamQueue(ui.daemon, 'taken', { VisibilityTimeout: '30' });
    const r = await req('POST', '/queues', { form: { queue_name: 'taken', visibility_timeout: '60' } });
    expect(r.status).toBe(409);
    expect(r.json.error).toEqual({ code: 'QueueNameExists', message: expect.stringContaining('SQS refused (QueueNameExists)'), details: { fields: { queue_name: expect.stringContaining('QueueNameExists') } } });
  });

  it('from a browser: 303 to the new queue\'s page', async () => {
    const r = await browserPost('/queues', { queue_name: 'from-browser', visibility_timeout: '' });
    expect(r.status).toBe(303);
    expect(r.headers.location).toBe('/queues/from-browser?created=1');
    expect(await upstreamQueueNames(ui.daemon)).toContain('from-browser');
  });

  it('from a browser, errors come back beside the fields with what was typed, escaped', async () => {
    const r = await browserPost('/queues', { queue_name: '<img src=x>', visibility_timeout: '99999', content_based_deduplication: 'on' });
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(r.text).toContain('value="&lt;img src=x&gt;"');
    expect(r.text).not.toContain('<img src=x>');
    expect(r.text).toMatch(/<div class="field invalid"><input type="text" id="visibility_timeout" name="visibility_timeout" value="99999"[^>]*aria-invalid="true"[^>]*><div class="error" id="visibility_timeout-error">Must be from 0 seconds to 12 hours/);
    expect(r.text).toContain('<div class="error" id="content_based_deduplication-error">Content-based deduplication exists only for FIFO queues.</div>');
    expect(r.text).toContain('name="content_based_deduplication" value="on" checked');
    expect(r.text).toContain('Some fields need attention');
    // A fresh token is in the redrawn form, so the user can fix and resubmit.
    expect(tokenIn(r.text)).toMatch(/^v1\./);
  });

  it('from a browser, an SQS refusal is shown on the form with its code', async () => {
    const r = await browserPost('/queues', { queue_name: 'taken', visibility_timeout: '61' });
    expect(r.status).toBe(409);
    expect(r.text).toContain('<div class="error" id="queue_name-error">SQS refused (QueueNameExists)');
    proxy.faults.set('CreateQueue', { status: 400, code: 'InvalidAttributeValue', message: 'Invalid value for the parameter Policy.' });
    try {
      const other = await browserPost('/queues', { queue_name: 'policy-refused' });
      expect(other.status).toBe(400);
      expect(other.text).toContain('<div class="flash error" role="alert">SQS refused (InvalidAttributeValue): Invalid value for the parameter Policy.</div>');
    } finally {
      proxy.faults.delete('CreateQueue');
    }
  });

  it('SQS errors that are not about the input: 401, 403, 503 with the code', async () => {
    const bad = await req('POST', '/queues', { form: { queue_name: 'x1' }, headers: { authorization: basic(BAD_KEY, SECRET) } });
    expect([bad.status, bad.json.error.code, bad.headers['www-authenticate']]).toEqual([401, 'InvalidClientTokenId', expect.stringContaining('Basic')]);
    const denied = await req('POST', '/queues', { form: { queue_name: 'x1' }, headers: { authorization: basic(DENIED_KEY, 'x') } });
    expect([denied.status, denied.json.error.code]).toEqual([403, 'AccessDenied']);
    proxy.faults.set('CreateQueue', { status: 500, code: 'InternalError', message: 'boom' });
    try {
      const down = await req('POST', '/queues', { html: true, form: { queue_name: 'x1' } });
      expect([down.status, down.headers['retry-after']]).toEqual([503, '2']);
      expect(down.text).toContain('InternalError');
    } finally {
      proxy.faults.delete('CreateQueue');
    }
  });

  it('415 for a body that is neither a form nor JSON; 400 for malformed JSON; 401 before either', async () => {
    expect((await req('POST', '/queues', { body: 'queue_name=x', headers: { 'content-type': 'text/plain' } })).status).toBe(415);
    const malformed = await req('POST', '/queues', { body: '{', headers: { 'content-type': 'application/json' } });
    expect([malformed.status, malformed.json.error.code]).toEqual([400, 'MalformedJson']);
    expect((await req('POST', '/queues', { json: ['x'] })).json.error.code).toBe('MalformedJson');
    expect((await req('POST', '/queues', { json: { queue_name: { nested: 1 } } })).json.error.code).toBe('InvalidField');
    expect((await req('POST', '/queues', { body: '{', headers: { 'content-type': 'application/json', authorization: undefined } })).status).toBe(401);
  });
});

describe('purge', () => {
  it('GET asks for confirmation (with the count) and POST purges: JSON for scripts', async () => {
    await createUpstreamQueue(ui.daemon, 'to-purge');
    for (const body of ['a', 'b', 'c']) expect((await req('POST', '/queues/to-purge', { form: { message_body: body } })).status).toBe(202);
    await eventually(async () => (await upstreamAttributes(ui.daemon, 'to-purge')).ApproximateNumberOfMessages === '3', 3000, 'three messages upstream');
    const confirm = await req('GET', '/queues/to-purge/purge', { html: true });
    expect(confirm.text).toContain('<h1>Purge to-purge?</h1>');
    expect(confirm.text).toContain('(about 3 available)');
    expect(confirm.text).toMatch(/<form method="post" action="\/queues\/to-purge\/purge" class="card">\s*<input type="hidden" name="_csrf"/);
    expect((await req('GET', '/queues/to-purge/purge')).json).toEqual({ name: 'to-purge', visible: 3, backlog: 0, confirm: { method: 'POST', path: '/queues/to-purge/purge' } });
    const r = await req('POST', '/queues/to-purge/purge');
    expect([r.status, r.json]).toEqual([200, { purged: 'to-purge' }]);
    expect((await upstreamAttributes(ui.daemon, 'to-purge')).ApproximateNumberOfMessages).toBe('0');
  });

  it('from a browser: 303 back to the queue page with a confirmation', async () => {
    const r = await browserPost('/queues/to-purge/purge', {}, '/queues/to-purge/purge');
    expect([r.status, r.headers.location]).toEqual([303, '/queues/to-purge?purged=1']);
  });

  it('409 PurgeQueueInProgress, 404 for a missing queue, 400 for a bad name', async () => {
    proxy.faults.set('PurgeQueue', { status: 403, code: 'PurgeQueueInProgress', message: 'Only one PurgeQueue operation on to-purge is allowed every 60 seconds.' });
    try {
      const r = await req('POST', '/queues/to-purge/purge', { html: true });
      expect(r.status).toBe(409);
      expect(r.text).toContain('PurgeQueueInProgress');
      expect(r.text).toContain('href="/queues/to-purge">Back to queue to-purge</a>');
    } finally {
      proxy.faults.delete('PurgeQueue');
    }
    expect((await req('POST', '/queues/nope/purge')).json.error.code).toBe('QueueDoesNotExist');
    expect((await req('GET', '/queues/nope/purge')).status).toBe(404);
    expect((await req('POST', '/queues/bad%20name/purge')).status).toBe(400);
  });
});

describe('delete one queue', () => {
  it('DELETE /queues/:name for scripts, and the send cache forgets the queue', async () => {
    await createUpstreamQueue(ui.daemon, 'doomed');
    expect((await req('POST', '/queues/doomed', { form: { message_body: 'before' } })).status).toBe(202); // resolves and caches the queue
    const r = await req('DELETE', '/queues/doomed');
    expect([r.status, r.json]).toEqual([200, { deleted: 'doomed' }]);
    expect(await upstreamQueueNames(ui.daemon)).not.toContain('doomed');
    // Without invalidation the cached destination would accept this (202) and dead-letter it later.
    const after = await req('POST', '/queues/doomed', { form: { message_body: 'after' } });
    expect([after.status, after.json.error.code]).toEqual([404, 'QueueDoesNotExist']);
  });

  it('GET /queues/:name/delete confirms, with the daemon backlog warning; a browser POST redirects to the list', async () => {
    await createUpstreamQueue(ui.daemon, 'doomed2');
    // SQS failing for a while: the message stays in the daemon's backlog, and the page says what deleting means for it.
    proxy.faults.set('SendMessageBatch', { status: 500, code: 'InternalError', message: 'try later' });
    let confirm: Reply;
    try {
      expect((await req('POST', '/queues/doomed2', { form: { message_body: 'held' } })).status).toBe(202);
      confirm = await req('GET', '/queues/doomed2/delete', { html: true });
    } finally {
      proxy.faults.delete('SendMessageBatch');
    }
    expect(confirm.text).toContain('The 1 message this daemon still holds for it will be refused by SQS and dead-lettered.');
    await eventually(() => (ui.daemon.deps.pipeline.stats('doomed2')?.sent ?? 0) === 1, 3000, 'the held message delivered');
    expect(confirm.text).toContain('<h1>Delete doomed2?</h1>');
    expect(confirm.text).toContain('action="/queues/doomed2/delete"');
    expect((await req('GET', '/queues/doomed2/delete')).json.confirm).toEqual({ method: 'DELETE', path: '/queues/doomed2' });
    const r = await browserPost('/queues/doomed2/delete', {}, '/queues/doomed2/delete');
    expect([r.status, r.headers.location]).toEqual([303, '/queues?deleted=doomed2']);
    expect(await upstreamQueueNames(ui.daemon)).not.toContain('doomed2');
  });

  it('404 for a missing queue, 403 AccessDenied, 401 without credentials', async () => {
    const missing = await req('DELETE', '/queues/never-was', { html: true });
    expect(missing.status).toBe(404);
    expect(missing.text).toContain('QueueDoesNotExist');
    await createUpstreamQueue(ui.daemon, 'protected');
    expect((await req('DELETE', '/queues/protected', { headers: { authorization: basic(DENIED_KEY, 'x') } })).json.error.code).toBe('AccessDenied');
    expect((await req('DELETE', '/queues/protected', { headers: { authorization: undefined } })).status).toBe(401);
    expect(await upstreamQueueNames(ui.daemon)).toContain('protected');
  });
});

describe('delete several (GET and POST /delete-queues)', () => {
  it('GET lists what would be deleted (missing ones marked) and deletes nothing', async () => {
    await createUpstreamQueue(ui.daemon, 'many-a');
    await createUpstreamQueue(ui.daemon, 'many-b');
    const r = await req('GET', '/delete-queues?name=many-a&name=many-b&name=many-missing&name=many-a');
    expect(r.json.queues).toEqual([
      { name: 'many-a', exists: true, visible: 0, backlog: 0 },
      { name: 'many-b', exists: true, visible: 0, backlog: 0 },
      { name: 'many-missing', exists: false, backlog: 0 },
    ]);
    const html = await req('GET', '/delete-queues?name=many-a&name=many-b', { html: true });
    expect(html.text).toContain('<h1>Delete 2 queues?</h1>');
    expect(html.text).toContain('<input type="hidden" name="name" value="many-a">');
    expect(await upstreamQueueNames(ui.daemon)).toEqual(expect.arrayContaining(['many-a', 'many-b']));
  });

  it('a browser POST deletes them all and redirects to the list with a confirmation', async () => {
    const r = await browserPost('/delete-queues', { name: ['many-a', 'many-b'] }, '/delete-queues?name=many-a&name=many-b');
    expect([r.status, r.headers.location]).toEqual([303, '/queues?deleted=many-a&deleted=many-b']);
    const names = await upstreamQueueNames(ui.daemon);
    expect(names).not.toContain('many-a');
    expect(names).not.toContain('many-b');
  });

  it('a script POST (JSON names) reports each result; one missing does not stop the others', async () => {
    await createUpstreamQueue(ui.daemon, 'many-c');
    const r = await req('POST', '/delete-queues', { json: { names: ['many-c', 'many-gone'] } });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({
      deleted: 1,
      failed: 1,
      results: [
        { name: 'many-c', deleted: true },
        { name: 'many-gone', deleted: false, error: { code: 'QueueDoesNotExist', message: expect.stringContaining('does not exist'), status: 404 } },
      ],
    });
    const none = await req('POST', '/delete-queues', { json: { names: ['many-gone'] } });
    expect(none.status).toBe(404);
  });

  it('a browser sees a results page when some could not be deleted', async () => {
    await createUpstreamQueue(ui.daemon, 'many-d');
    const r = await browserPost('/delete-queues', { name: ['many-d', 'many-gone'] });
    expect(r.status).toBe(200);
    expect(r.text).toContain('1 of 2 could not be deleted.');
    expect(r.text).toMatch(/<td>many-gone<\/td><td><strong>not deleted<\/strong>: <code>QueueDoesNotExist<\/code>/);
  });

  it('400 without names, with too many or invalid names; 401 for refused credentials', async () => {
    expect((await req('GET', '/delete-queues')).json.error.code).toBe('NoQueuesSelected');
    expect((await req('POST', '/delete-queues', { form: {} })).json.error.code).toBe('NoQueuesSelected');
    const many = Array.from({ length: 101 }, (_, i) => `q${i}`);
    expect((await req('POST', '/delete-queues', { json: { names: many } })).json.error.code).toBe('TooManyQueues');
    expect((await req('GET', '/delete-queues?name=%3Cx%3E')).json.error.code).toBe('InvalidQueueName');
    await createUpstreamQueue(ui.daemon, 'many-e');
    const bad = await req('POST', '/delete-queues', { json: { names: ['many-e'] }, headers: { authorization: basic(BAD_KEY, SECRET) } });
    expect([bad.status, bad.json.error.code]).toEqual([401, 'InvalidClientTokenId']);
    expect(await upstreamQueueNames(ui.daemon)).toContain('many-e');
  });
});
