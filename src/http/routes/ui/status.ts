import type Router from '@koa/router';
import { checkQueueName } from '../../../ingest/index.js';
import type { AppDeps } from '../../deps.js';
import { type Flash, sendHtml, wantsHtml } from '../../ui/layout.js';
import { type StatusData, type StatusS3, statusPage } from '../../ui/pages/status.js';
import { statusQueues } from '../../ui/status-queues.js';
import { html } from '../../ui/template.js';
import { historyOf } from './live.js';
import { LIST_BODY_CHARS } from './dead-letters.js';
import { credentialsOf, intQuery, ownerOption, query, uptimeSeconds, userLabel, verifyCredentials } from './request.js';

const DEAD_LETTERS_PER_PAGE = 20;

/** `/status`: backlog, requests in flight, totals and rates, the spool, and the caller's dead letters. */
export function registerStatusRoutes(router: Router, deps: AppDeps): void {
  router.get('/status', async (ctx) => {
    const creds = await credentialsOf(ctx, deps);
    const sqs = await verifyCredentials(deps, creds);
    const offset = intQuery(ctx, 'dl_offset', 0, 0, 1_000_000_000);
    const queueOffset = intQuery(ctx, 'q_offset', 0, 0, 1_000_000_000);
    const queueFilter = query(ctx, 'queue');
    if (queueFilter !== '') checkQueueName(queueFilter);
    const history = historyOf(deps);
    const p = deps.pipeline;
    const up = uptimeSeconds(deps);
    const per = (n: number): number => (up > 0 ? n / up : 0);
    let deadLetters: StatusData['deadLetters'] = null;
    const dl = deps.store.deadLetters;
    if (dl) {
      const owner = ownerOption(deps, creds);
      const listed = await dl.list({ limit: DEAD_LETTERS_PER_PAGE, offset, maxBodyChars: LIST_BODY_CHARS, ...(queueFilter ? { queue: queueFilter } : {}), ...owner });
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
      ...(deps.upstreams ? { upstreams: deps.upstreams.status(), possibleDuplicates: deps.upstreams.possibleDuplicates } : {}),
      backlog: { messages: p.backlogMessages, bytes: p.backlogBytes },
      inFlightRequests: p.inFlightRequests,
      delivery: p.outage.snapshot(),
      totals: { ...p.totals },
      rates: { acceptedPerSecond: per(p.totals.accepted), sentPerSecond: per(p.totals.sent), requestsPerSecond: per(p.totals.requests) },
      store: deps.store.info(),
      ...statusQueues(deps, creds, queueOffset),
      workers: deps.workers.status(),
      deadLetters,
      sqs,
      ...(history ? { history } : {}),
      ...(deps.s3 ? { s3: s3Status(deps.s3, deps.config.s3Bucket) } : {}),
    };
    if (!wantsHtml(ctx)) {
      ctx.body = data;
      return;
    }
    const flashes: Flash[] = sqs.ok ? [] : [{ kind: 'warn', text: html`${sqs.message} (<code>${sqs.code}</code>).` }];
    sendHtml(ctx, statusPage(data, { user: userLabel(ctx, deps), flashes, refresh: query(ctx, 'refresh') !== 'off' }));
  });
}

function s3Status(s3: NonNullable<AppDeps['s3']>, bucket: string): StatusS3 {
  const st = s3.client.stats;
  return {
    bucket: bucket === '' ? null : bucket,
    uploadBacklog: s3.uploads ? s3.uploads() : null,
    uploaded: st.uploads,
    uploadedBytes: st.uploadedBytes,
    downloaded: st.downloads,
    downloadedBytes: st.downloadedBytes,
    deleted: st.deletes,
    failures: st.failureTotal(),
  };
}
