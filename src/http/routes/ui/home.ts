import type Router from '@koa/router';
import type { AppDeps } from '../../deps.js';
import { sendHtml, wantsHtml } from '../../ui/layout.js';
import { homePage, type HomeData } from '../../ui/pages/home.js';
import { ICON_SVG, STYLESHEET, STYLESHEET_VERSION } from '../../ui/style.js';
import { credentialsOf, query, uptimeSeconds, userLabel, verifyCredentials } from './request.js';

/** `/`: the daemon, its upstream and whether SQS takes these credentials; and the static assets. */
export function registerHomeRoutes(router: Router, deps: AppDeps): void {
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
}
