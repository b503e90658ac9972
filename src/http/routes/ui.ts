import type Router from '@koa/router';
import type { Context } from 'koa';
import pLimit from 'p-limit';
import type { Owner } from '../../delivery/store.js';
import { DaemonError, isDaemonError, sqsFailure } from '../../errors.js';
import { checkQueueName, QUEUE_NAME } from '../../ingest/index.js';
import { createQueue, deleteQueue, describeQueue, listQueues, MAX_RECEIVE_COUNT, purgeQueue, QUEUE_ATTRIBUTE_RULES, queueArn } from '../../sqs/admin.js';
import { BAD_CREDENTIAL_CODES, isSqsError } from '../../sqs/errors.js';
import type { Credentials } from '../../sqs/types.js';
import { csrfToken } from '../csrf.js';
import type { AppDeps } from '../deps.js';
import { type CreateValues, checkCreate, createPage, emptyValues, type FieldErrors, NUMBER_FIELDS, valuesFrom } from '../ui/create-form.js';
import { readFields } from '../ui/form.js';
import { type Flash, sendHtml, wantsHtml } from '../ui/layout.js';
import { homePage, type HomeData } from '../ui/pages/home.js';
import { EMPTY_STATS, type QueueData, confirmQueueActionPage, queuePage } from '../ui/pages/queue.js';
import { type DeleteResult, type QueueListData, confirmDeleteManyPage, deleteResultsPage, queueListPage } from '../ui/pages/queues.js';
import { type StatusData, statusPage } from '../ui/pages/status.js';
import { statusQueues } from '../ui/status-queues.js';
import { adminError, credentialsOf, deadLetterOwner, intQuery, query, queryAll, userLabel, verifyCredentials } from '../ui/request.js';
import { ICON_SVG, STYLESHEET, STYLESHEET_VERSION } from '../ui/style.js';
import { html } from '../ui/template.js';

const PREFIX = /^[A-Za-z0-9_.-]{0,80}$/;
/** Most queues one request may delete. */
const MAX_DELETE = 100;
const DEAD_LETTERS_PER_PAGE = 20;

/**
 * Browser UI and queue management. Every route answers HTML to browsers and JSON otherwise
 * (`Accept: application/json`); the HTML forms post to the same routes scripts use. Paths that
 * are not under /queues/:name (`/new-queue`, `/delete-queues`) are so because "new" and
 * "delete" are valid queue names, and POST /queues/:name sends a message.
 */
export function registerUiRoutes(router: Router, deps: AppDeps): void {
  const log = deps.log.child({ mod: 'ui' });

  router.get('/ui/style.css', (ctx) => {
    ctx.type = 'text/css; charset=utf-8';
    ctx.set('cache-control', query(ctx, 'v') === STYLESHEET_VERSION ? 'public, max-age=31536000, immutable' : 'no-cache');
    ctx.body = STYLESHEET;
  });
  router.get('/ui/icon.svg', (ctx) => {
    ctx.type = 'image/svg+xml';
    ctx.set('cache-control', 'public, max-age=86400');
    ctx.body = ICON_SVG;
  });

  router.get('/', async (ctx) => {
    const creds = await credentialsOf(ctx, deps);
    const sqs = await verifyCredentials(deps, creds);
    const data: HomeData = {
      service: 'sqs-accelerator',
      upstream: { endpoint: deps.client.endpoint, region: deps.client.region },
      credentials: deps.config.credentials,
      startedAt: new Date(deps.startedAt).toISOString(),
      uptimeSeconds: uptimeSeconds(deps),
      durability: deps.store.info().durability,
      sqs,
      links: { queues: '/queues', newQueue: '/new-queue', status: '/status' },
    };
    if (wantsHtml(ctx)) sendHtml(ctx, homePage(data, { user: userLabel(ctx, deps), origin: `${ctx.protocol}://${ctx.host}` }));
    else ctx.body = data;
  });

  router.get('/queues', async (ctx) => {
    const prefix = query(ctx, 'prefix').trim();
    if (!PREFIX.test(prefix)) throw new DaemonError('InvalidParameter', 'query parameter prefix must be up to 80 letters, digits, ".", "-" or "_"');
    const limit = intQuery(ctx, 'limit', 50, 1, 1000);
    const next = query(ctx, 'next');
    const creds = await credentialsOf(ctx, deps);
    let page: Awaited<ReturnType<typeof listQueues>>;
    try {
      page = await listQueues(deps.client, creds, { prefix, maxResults: limit, ...(next ? { nextToken: next } : {}) });
    } catch (err) {
      throw adminError(err);
    }
    const data: QueueListData = {
      prefix,
      limit,
      queues: page.queues.map((qu) => {
        const s = deps.pipeline.stats(qu.name);
        return { ...qu, daemon: { backlog: s?.backlog ?? 0, inFlight: s?.inFlight ?? 0 } };
      }),
      paged: next !== '',
      ...(page.nextToken ? { nextToken: page.nextToken } : {}),
    };
    if (!wantsHtml(ctx)) {
      ctx.body = data;
      return;
    }
    const deleted = queryAll(ctx, 'deleted');
    const flashes: Flash[] = deleted.length === 0 ? [] : [{ kind: 'ok', text: `Deleted ${deleted.length === 1 ? 'queue' : 'queues'} ${deleted.join(', ')}. SQS may list ${deleted.length === 1 ? 'it' : 'them'} for up to a minute more.` }];
    sendHtml(ctx, queueListPage(data, { user: userLabel(ctx, deps), flashes }));
  });

  router.get('/new-queue', async (ctx) => {
    await credentialsOf(ctx, deps);
    if (wantsHtml(ctx)) {
      const values: CreateValues = { ...emptyValues(), fifo: query(ctx, 'fifo') === '1' };
      sendHtml(ctx, createPage({ values, errors: {}, token: csrfToken(ctx), user: userLabel(ctx, deps) }));
      return;
    }
    ctx.body = {
      action: { method: 'POST', path: '/queues', contentTypes: ['application/x-www-form-urlencoded', 'application/json'] },
      fields: {
        queue_name: { required: true, pattern: QUEUE_NAME.source },
        fifo: { type: 'boolean' },
        content_based_deduplication: { type: 'boolean', fifoOnly: true },
        ...Object.fromEntries(NUMBER_FIELDS.map((f) => [f.name, { attribute: f.attribute, ...QUEUE_ATTRIBUTE_RULES[f.attribute] }])),
        dead_letter_queue: { type: 'queue name' },
        max_receive_count: { ...MAX_RECEIVE_COUNT, default: 5 },
      },
    };
  });

  router.post('/queues', async (ctx) => {
    const creds = await credentialsOf(ctx, deps); // credentials first, as every route
    const values = valuesFrom(await readFields(ctx));
    const checked = checkCreate(values);
    if (!checked.ok) return formFailure(ctx, deps, 400, values, checked.errors, 'InvalidQueueSettings', 'some fields are not valid; see details.fields');
    const request = checked.request;
    const attributes = { ...request.attributes };
    if (request.deadLetter) {
      const { queueName, maxReceiveCount } = request.deadLetter;
      try {
        const target = await queueArn(deps.client, creds, queueName);
        if (target.fifo !== request.fifo) {
          const message = `${queueName} is a ${target.fifo ? 'FIFO' : 'standard'} queue; the dead-letter queue must be of the same type.`;
          return formFailure(ctx, deps, 400, values, { dead_letter_queue: message }, 'InvalidDeadLetterQueue', message);
        }
        attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: target.arn, maxReceiveCount });
      } catch (err) {
        if (isSqsError(err) && err.queueMissing) {
          const message = `There is no queue named ${queueName}: create the dead-letter queue first.`;
          return formFailure(ctx, deps, 400, values, { dead_letter_queue: message }, 'DeadLetterQueueDoesNotExist', message);
        }
        throw adminError(err);
      }
    }
    let url: string;
    try {
      url = await createQueue(deps.client, creds, request.name, attributes);
    } catch (err) {
      const e = adminError(err, request.name);
      if (!isDaemonError(e) || (e.status !== 400 && e.status !== 409)) throw e;
      const errors: FieldErrors = /QueueNameExists|QueueAlreadyExists|QueueDeletedRecently/.test(e.code) ? { queue_name: e.message } : {};
      return formFailure(ctx, deps, e.status, values, errors, e.code, e.message);
    }
    log.info({ queue: request.name, by: userLabel(ctx, deps) }, 'queue created');
    const location = `/queues/${encodeURIComponent(request.name)}`;
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`${location}?created=1`);
      return;
    }
    ctx.status = 201;
    ctx.set('location', location);
    ctx.body = { name: request.name, url, fifo: request.fifo, attributes };
  });

  router.get('/queues/:name', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    let described: Awaited<ReturnType<typeof describeQueue>>;
    try {
      described = await describeQueue(deps.client, creds, name);
    } catch (err) {
      throw adminError(err, name);
    }
    const data: QueueData = {
      name,
      url: described.url,
      fifo: described.attributes.FifoQueue === 'true' || name.endsWith('.fifo'),
      attributes: described.attributes,
      daemon: { ...(deps.pipeline.stats(name) ?? EMPTY_STATS) },
      deadLetters: deps.store.deadLetters ? deps.store.deadLetters.list({ queue: name, limit: 1, ...ownerOption(deps, creds) }).total : null,
    };
    if (!wantsHtml(ctx)) {
      ctx.body = data;
      return;
    }
    const flashes: Flash[] = [];
    const sent = query(ctx, 'sent');
    if (sent) flashes.push({ kind: 'ok', text: html`Message <code>${sent}</code> accepted. The daemon delivers it to SQS in the background; SQS's counts below are approximate and may lag a few seconds.` });
    if (query(ctx, 'created')) flashes.push({ kind: 'ok', text: `Queue ${name} created.` });
    if (query(ctx, 'purged')) flashes.push({ kind: 'ok', text: `Purge of ${name} requested. SQS deletes the messages within about a minute.` });
    sendHtml(ctx, queuePage(data, { user: userLabel(ctx, deps), token: csrfToken(ctx), flashes }));
  });

  for (const action of ['purge', 'delete'] as const) {
    router.get(`/queues/:name/${action}`, async (ctx) => {
      const name = queueParam(ctx);
      const creds = await credentialsOf(ctx, deps);
      let visible: number | undefined;
      try {
        const described = await describeQueue(deps.client, creds, name);
        const n = Number(described.attributes.ApproximateNumberOfMessages);
        if (Number.isFinite(n)) visible = n;
      } catch (err) {
        throw adminError(err, name);
      }
      const data = { name, visible, backlog: deps.pipeline.stats(name)?.backlog ?? 0 };
      if (wantsHtml(ctx)) sendHtml(ctx, confirmQueueActionPage(action, data, { user: userLabel(ctx, deps), token: csrfToken(ctx) }));
      else ctx.body = { ...data, confirm: { method: action === 'delete' ? 'DELETE' : 'POST', path: `/queues/${encodeURIComponent(name)}${action === 'delete' ? '' : '/purge'}` } };
    });
  }

  router.post('/queues/:name/purge', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    try {
      await purgeQueue(deps.client, creds, name);
    } catch (err) {
      throw adminError(err, name);
    }
    log.info({ queue: name, by: userLabel(ctx, deps) }, 'queue purged');
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`/queues/${encodeURIComponent(name)}?purged=1`);
      return;
    }
    ctx.body = { purged: name };
  });

  const deleteOne = async (ctx: Context): Promise<void> => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    try {
      await deleteQueue(deps.client, creds, name);
    } catch (err) {
      throw adminError(err, name);
    }
    deps.resolver.invalidateQueue(name);
    log.info({ queue: name, by: userLabel(ctx, deps) }, 'queue deleted');
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`/queues?deleted=${encodeURIComponent(name)}`);
      return;
    }
    ctx.body = { deleted: name };
  };
  router.delete('/queues/:name', deleteOne);
  router.post('/queues/:name/delete', deleteOne);

  router.get('/delete-queues', async (ctx) => {
    const names = selectedNames(queryAll(ctx, 'name'));
    const creds = await credentialsOf(ctx, deps);
    const limit = pLimit(8);
    const queues = await Promise.all(
      names.map((name) =>
        limit(async () => {
          const backlog = deps.pipeline.stats(name)?.backlog ?? 0;
          try {
            const described = await describeQueue(deps.client, creds, name);
            const n = Number(described.attributes.ApproximateNumberOfMessages);
            return Number.isFinite(n) ? { name, exists: true, visible: n, backlog } : { name, exists: true, backlog };
          } catch (err) {
            if (isSqsError(err) && err.queueMissing) return { name, exists: false, backlog };
            throw adminError(err, name);
          }
        }),
      ),
    );
    if (wantsHtml(ctx)) sendHtml(ctx, confirmDeleteManyPage({ queues }, { user: userLabel(ctx, deps), token: csrfToken(ctx) }));
    else ctx.body = { queues, confirm: { method: 'POST', path: '/delete-queues' } };
  });

  router.post('/delete-queues', async (ctx) => {
    const creds = await credentialsOf(ctx, deps);
    const fields = await readFields(ctx);
    const names = selectedNames([...(fields.get('name') ?? []), ...(fields.get('names') ?? [])]);
    const results = await deleteMany(deps, creds, names);
    const deleted = results.filter((r) => r.deleted).map((r) => r.name);
    if (deleted.length > 0) log.info({ queues: deleted, by: userLabel(ctx, deps) }, 'queues deleted');
    const firstFailure = results.find((r) => !r.deleted);
    if (wantsHtml(ctx)) {
      if (!firstFailure) {
        ctx.status = 303;
        ctx.redirect(`/queues?${deleted.map((n) => `deleted=${encodeURIComponent(n)}`).join('&')}`);
        return;
      }
      sendHtml(ctx, deleteResultsPage(results, { user: userLabel(ctx, deps) }), deleted.length > 0 ? 200 : failureStatus(firstFailure));
      return;
    }
    ctx.status = deleted.length > 0 || !firstFailure ? 200 : failureStatus(firstFailure);
    ctx.body = { deleted: deleted.length, failed: results.length - deleted.length, results };
  });

  router.get('/status', async (ctx) => {
    const creds = await credentialsOf(ctx, deps);
    const sqs = await verifyCredentials(deps, creds);
    const offset = intQuery(ctx, 'dl_offset', 0, 0, 1_000_000_000);
    const queueOffset = intQuery(ctx, 'q_offset', 0, 0, 1_000_000_000);
    const queueFilter = query(ctx, 'queue');
    if (queueFilter !== '') checkQueueName(queueFilter);
    const p = deps.pipeline;
    const up = uptimeSeconds(deps);
    const per = (n: number): number => (up > 0 ? n / up : 0);
    let deadLetters: StatusData['deadLetters'] = null;
    const dl = deps.store.deadLetters;
    if (dl) {
      const owner = ownerOption(deps, creds);
      const listed = dl.list({ limit: DEAD_LETTERS_PER_PAGE, offset, ...(queueFilter ? { queue: queueFilter } : {}), ...owner });
      deadLetters = {
        scope: owner.owner ? 'yours' : 'all',
        total: listed.total,
        offset,
        limit: DEAD_LETTERS_PER_PAGE,
        items: listed.items,
        ...(queueFilter ? { queue: queueFilter } : {}),
      };
    }
    const data: StatusData & { sqs: typeof sqs } = {
      startedAt: new Date(deps.startedAt).toISOString(),
      uptimeSeconds: up,
      upstream: { endpoint: deps.client.endpoint, region: deps.client.region },
      backlog: { messages: p.backlogMessages, bytes: p.backlogBytes },
      inFlightRequests: p.inFlightRequests,
      totals: { ...p.totals },
      rates: { acceptedPerSecond: per(p.totals.accepted), sentPerSecond: per(p.totals.sent), requestsPerSecond: per(p.totals.requests) },
      store: deps.store.info(),
      ...statusQueues(deps, creds, queueOffset),
      workers: deps.workers?.status() ?? [],
      deadLetters,
      sqs,
    };
    if (!wantsHtml(ctx)) {
      ctx.body = data;
      return;
    }
    const flashes: Flash[] = sqs.ok ? [] : [{ kind: 'warn', text: html`${sqs.message} (<code>${sqs.code}</code>).` }];
    sendHtml(ctx, statusPage(data, { user: userLabel(ctx, deps), flashes }));
  });
}

function ownerOption(deps: AppDeps, creds: Credentials): { owner?: Owner } {
  const owner = deadLetterOwner(deps, creds);
  return owner ? { owner } : {};
}

function uptimeSeconds(deps: AppDeps): number {
  return Math.max(0, Math.floor((Date.now() - deps.startedAt) / 1000));
}

function queueParam(ctx: Context): string {
  const name = ctx.params.name as string;
  checkQueueName(name);
  return name;
}

/** Checked, de-duplicated queue names for a multi-delete; 400 when none or too many. */
function selectedNames(raw: string[]): string[] {
  const names = [...new Set(raw.map((n) => n.trim()).filter((n) => n !== ''))];
  if (names.length === 0) throw new DaemonError('NoQueuesSelected', 'select at least one queue to delete (parameter name, repeated)');
  if (names.length > MAX_DELETE) throw new DaemonError('TooManyQueues', `at most ${MAX_DELETE} queues can be deleted at once`);
  for (const n of names) checkQueueName(n);
  return names;
}

async function deleteMany(deps: AppDeps, creds: Credentials, names: string[]): Promise<DeleteResult[]> {
  const limit = pLimit(4);
  const results = await Promise.all(
    names.map((name) =>
      limit(async (): Promise<DeleteResult> => {
        try {
          await deleteQueue(deps.client, creds, name);
          deps.resolver.invalidateQueue(name);
          return { name, deleted: true };
        } catch (err) {
          // Every deletion would fail the same way: ask for credentials again.
          if (isSqsError(err) && BAD_CREDENTIAL_CODES.has(err.code)) throw sqsFailure(err);
          const e = adminError(err, name);
          if (!isDaemonError(e)) throw e;
          return { name, deleted: false, error: { code: e.code, message: e.message, status: e.status } };
        }
      }),
    ),
  );
  return results;
}

function failureStatus(r: DeleteResult): number {
  return r.error?.status ?? 502;
}

/** A create request that cannot proceed: the form again with the errors (browsers), or a JSON error. */
function formFailure(ctx: Context, deps: AppDeps, status: number, values: CreateValues, errors: FieldErrors, code: string, message: string): void {
  if (!wantsHtml(ctx)) throw new DaemonError(code, message, { status, details: { fields: errors } });
  const problem = Object.keys(errors).length > 0 ? 'Some fields need attention: see the messages beside them.' : `${message}`;
  sendHtml(ctx, createPage({ values, errors, token: csrfToken(ctx), user: userLabel(ctx, deps), problem }), status);
}
