import type Router from '@koa/router';
import pLimit from 'p-limit';
import { DaemonError, isDaemonError, sqsFailure } from '../../../errors.js';
import { checkQueueName } from '../../../ingest/index.js';
import { deleteQueue, describeQueue, listQueues } from '../../../sqs/admin.js';
import { BAD_CREDENTIAL_CODES, isSqsError } from '../../../sqs/errors.js';
import type { Credentials } from '../../../sqs/types.js';
import { csrfToken } from '../../csrf.js';
import type { AppDeps } from '../../deps.js';
import { readFields } from '../../ui/form.js';
import { type Flash, sendHtml, wantsHtml } from '../../ui/layout.js';
import { type DeleteResult, type QueueListData, confirmDeleteManyPage, deleteResultsPage, queueListPage } from '../../ui/pages/queues.js';
import { adminError, credentialsOf, intQuery, managed, query, queryAll, userLabel } from './request.js';

const PREFIX = /^[A-Za-z0-9_.-]{0,80}$/;
/** Most queues one request may delete. */
const MAX_DELETE = 100;

/**
 * The queue list (`GET /queues`: prefix filter, paging, this daemon's backlog per queue) and
 * deleting several (`/delete-queues`: confirmation, then delete). Not under /queues/:name
 * because "delete" is a valid queue name.
 */
export function registerQueueListRoutes(router: Router, deps: AppDeps): void {
  const log = deps.log.child({ mod: 'ui' });

  router.get('/queues', async (ctx) => {
    const prefix = query(ctx, 'prefix').trim();
    if (!PREFIX.test(prefix)) throw new DaemonError('InvalidParameter', 'query parameter prefix must be up to 80 letters, digits, ".", "-" or "_"');
    const limit = intQuery(ctx, 'limit', 50, 1, 1000);
    const next = query(ctx, 'next');
    const creds = await credentialsOf(ctx, deps);
    const page = await managed(() => listQueues(deps.client, creds, { prefix, maxResults: limit, ...(next ? { nextToken: next } : {}) }));
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
  return Promise.all(
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
}

function failureStatus(r: DeleteResult): number {
  return r.error?.status ?? 502;
}
