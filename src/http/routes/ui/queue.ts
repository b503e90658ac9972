import type Router from '@koa/router';
import type { Context } from 'koa';
import { deleteQueue, describeQueue, purgeQueue } from '../../../sqs/admin.js';
import { csrfToken } from '../../csrf.js';
import type { AppDeps } from '../../deps.js';
import { type Flash, sendHtml, wantsHtml } from '../../ui/layout.js';
import { confirmQueueActionPage, queuePage } from '../../ui/pages/queue.js';
import { html } from '../../ui/template.js';
import { queueData } from './live.js';
import { credentialsOf, managed, ownerOption, query, queueParam, userLabel } from './request.js';

/**
 * One queue: `GET /queues/:name` (attributes, daemon counters, send form), the purge and
 * delete confirmations, and the purge and delete themselves. (`POST /queues/:name` sends a
 * message: routes/send.ts.)
 */
export function registerQueueRoutes(router: Router, deps: AppDeps): void {
  const log = deps.log.child({ mod: 'ui' });

  router.get('/queues/:name', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    const data = await queueData(deps, creds, name, async () => (deps.store.deadLetters ? (await deps.store.deadLetters.list({ queue: name, limit: 1, ...ownerOption(deps, creds) })).total : null));
    if (!wantsHtml(ctx)) {
      ctx.body = data;
      return;
    }
    const flashes: Flash[] = [];
    const sent = query(ctx, 'sent');
    if (sent) flashes.push({ kind: 'ok', text: html`Message <code>${sent}</code> accepted. The daemon delivers it to SQS in the background; SQS's counts below are approximate and may lag a few seconds.` });
    if (query(ctx, 'created')) flashes.push({ kind: 'ok', text: `Queue ${name} created.` });
    const deletedMessage = query(ctx, 'deleted_message');
    if (deletedMessage) flashes.push({ kind: 'ok', text: html`Message <code>${deletedMessage.slice(0, 100)}</code> deleted from SQS.` });
    if (query(ctx, 'updated')) flashes.push({ kind: 'ok', text: `Settings of ${name} saved. SQS may take up to a minute to apply them everywhere.` });
    if (query(ctx, 'purged')) flashes.push({ kind: 'ok', text: `Purge of ${name} requested. SQS deletes the messages within about a minute.` });
    sendHtml(ctx, queuePage(data, { user: userLabel(ctx, deps), token: csrfToken(ctx), flashes }));
  });

  for (const action of ['purge', 'delete'] as const) {
    router.get(`/queues/:name/${action}`, async (ctx) => {
      const name = queueParam(ctx);
      const creds = await credentialsOf(ctx, deps);
      const described = await managed(() => describeQueue(deps.client, creds, name), name);
      const n = Number(described.attributes.ApproximateNumberOfMessages);
      const visible = Number.isFinite(n) ? n : undefined;
      const data = { name, visible, backlog: deps.pipeline.stats(name)?.backlog ?? 0 };
      if (wantsHtml(ctx)) sendHtml(ctx, confirmQueueActionPage(action, data, { user: userLabel(ctx, deps), token: csrfToken(ctx) }));
      else ctx.body = { ...data, confirm: { method: action === 'delete' ? 'DELETE' : 'POST', path: `/queues/${encodeURIComponent(name)}${action === 'delete' ? '' : '/purge'}` } };
    });
  }

  router.post('/queues/:name/purge', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    await managed(() => purgeQueue(deps.client, creds, name), name);
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
    await managed(() => deleteQueue(deps.client, creds, name), name);
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
}
