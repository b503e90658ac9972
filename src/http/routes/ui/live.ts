import type Router from '@koa/router';
import type { Context } from 'koa';
import { describeQueue } from '../../../sqs/admin.js';
import type { Credentials } from '../../../sqs/types.js';
import type { AppDeps } from '../../deps.js';
import { sendHtml, wantsHtml } from '../../ui/layout.js';
import type { HistoryData } from '../../ui/pages/live.js';
import { EMPTY_STATS, liveQueuePage, type QueueData } from '../../ui/pages/queue.js';
import { credentialsOf, managed, queueParam, userLabel } from './request.js';

/** The recent numbers for a page: the daemon's (or one queue's) samples, and SQS's counts of a queue URL. */
export function historyOf(deps: AppDeps, queue?: { name: string; url: string }): HistoryData | undefined {
  const h = deps.history;
  if (!h) return undefined;
  if (!queue) return { intervalMs: h.intervalMs, windowMs: h.windowMs, samples: h.daemon() };
  return { intervalMs: h.intervalMs, windowMs: h.windowMs, samples: h.queue(queue.name), sqs: h.sqsCounts(queue.url) };
}

/** Records SQS's approximate counts of a queue a page just read, for the charts. */
export function recordSqsCounts(deps: AppDeps, url: string, attributes: Record<string, string>): void {
  const n = (k: string): number | undefined => (attributes[k] === undefined || !Number.isFinite(Number(attributes[k])) ? undefined : Number(attributes[k]));
  const visible = n('ApproximateNumberOfMessages');
  const inFlight = n('ApproximateNumberOfMessagesNotVisible');
  const delayed = n('ApproximateNumberOfMessagesDelayed');
  deps.history?.recordSqs(url, { ...(visible !== undefined ? { visible } : {}), ...(inFlight !== undefined ? { inFlight } : {}), ...(delayed !== undefined ? { delayed } : {}) });
}

/**
 * What the queue page and its live view show: SQS's attributes (recorded for the charts), this
 * daemon's counters and the recent samples; `deadLetters` counts the caller's letters, or null.
 */
export async function queueData(deps: AppDeps, creds: Credentials, name: string, deadLetters: () => Promise<number | null> | number | null): Promise<QueueData> {
  const described = await managed(() => describeQueue(deps.client, creds, name), name);
  recordSqsCounts(deps, described.url, described.attributes);
  const history = historyOf(deps, { name, url: described.url });
  return {
    name,
    url: described.url,
    fifo: described.attributes.FifoQueue === 'true' || name.endsWith('.fifo'),
    attributes: described.attributes,
    daemon: { ...(deps.pipeline.stats(name) ?? EMPTY_STATS) },
    deadLetters: await deadLetters(),
    ...(history ? { history } : {}),
  };
}

/**
 * GET /queues/:name/live: the queue's counts and charts alone, reloading themselves every few
 * seconds (a meta refresh: no script). The queue page itself does not reload, since it holds forms.
 */
export function registerLiveRoutes(router: Router, deps: AppDeps): void {
  router.get('/queues/:name/live', async (ctx: Context) => {
    const name = queueParam(ctx);
    const data = await queueData(deps, await credentialsOf(ctx, deps), name, () => null);
    if (wantsHtml(ctx)) sendHtml(ctx, liveQueuePage(data, { user: userLabel(ctx, deps) }));
    else ctx.body = data;
  });
}
