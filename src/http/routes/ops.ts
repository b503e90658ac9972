import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Router from '@koa/router';
import type { Context, Next } from 'koa';
import { type Config, ConfigError } from '../../config.js';
import { readiness } from '../../health.js';
import type { AppDeps } from '../deps.js';

/**
 * Health, readiness and metrics for sysadmins and their tools. No credentials (except a
 * bearer token for /metrics when configured), and nothing in the answers that a local process
 * could not already learn: states, not details. The Host guard still applies (a DNS-rebinding
 * page must not read /metrics).
 */
export function registerOpsRoutes(router: Router, deps: AppDeps): void {
  /** Alive: the process answers HTTP. Nothing else is checked. */
  router.get('/healthz', (ctx) => {
    ctx.set('cache-control', 'no-store');
    ctx.body = { status: 'ok' };
  });

  /**
   * Ready to take messages: listener up and spool recovered (not starting or stopping), spool
   * writable, backlog not full, and SQS not known to be unreachable. `?exclude=upstream,backlog`
   * leaves checks out (the systemd start-up gate does: a daemon that buffers is ready to
   * accept even while SQS is away).
   */
  router.get('/readyz', (ctx) => {
    const exclude = new Set(([] as string[]).concat(ctx.query.exclude ?? []).flatMap((s) => s.split(',')).map((s) => s.trim()));
    const r = readiness(deps, exclude);
    deps.readinessMonitor?.check();
    ctx.set('cache-control', 'no-store');
    ctx.status = r.ready ? 200 : 503;
    ctx.body = r.ready ? { status: 'ready', checks: r.checks } : { status: 'not ready', reason: r.reason, checks: r.checks };
  });

  const authorized = metricsGuard(deps.config.metricsTokenFile);
  router.get('/metrics', async (ctx) => {
    if (!authorized(ctx.get('authorization'))) {
      ctx.status = 401;
      ctx.set('www-authenticate', 'Bearer realm="sqs-accelerator metrics"');
      ctx.body = { error: { code: 'MetricsTokenRequired', message: 'this daemon runs with --metrics-token-file: send Authorization: Bearer <token>' } };
      return;
    }
    const { metrics } = deps;
    if (!metrics) {
      ctx.status = 404;
      ctx.body = { error: { code: 'NotFound', message: 'metrics are not enabled in this process' } };
      return;
    }
    ctx.set('cache-control', 'no-store');
    ctx.type = metrics.contentType;
    ctx.body = await metrics.render();
  });
}

/**
 * With --metrics-token-file, /metrics needs `Authorization: Bearer <token>` (compared in
 * constant time); without, it is open. The file is read once, at start: unreadable or empty
 * is a configuration error (exit 2), never an open /metrics by mistake.
 */
function metricsGuard(tokenFile: string): (header: string) => boolean {
  if (tokenFile === '') return () => true;
  let token: string;
  try {
    token = readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    throw new ConfigError(`--metrics-token-file: cannot read ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  if (token === '') throw new ConfigError(`--metrics-token-file: ${tokenFile} is empty`);
  const expected = digest(token);
  return (header) => {
    const m = /^Bearer +(\S+) *$/i.exec(header);
    return m !== null && timingSafeEqual(digest(m[1] as string), expected);
  };
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

const SEND_PATH = /^\/queues\/[^/]+\/?$/;

/**
 * Outermost middleware: times every request, feeds POST /queues/:name into the ack-latency
 * histogram, and logs one line per request at debug level (method, path, status, ms; never
 * headers or query strings, which can carry credentials or tokens).
 */
export function observeRequests(deps: AppDeps) {
  const log = deps.log.child({ mod: 'http' });
  return async function observe(ctx: Context, next: Next): Promise<void> {
    const start = process.hrtime.bigint();
    try {
      await next();
    } finally {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      // The REST send route, and SendMessage(Batch) answered by the SQS API door (it marks them).
      if ((ctx.method === 'POST' && SEND_PATH.test(ctx.path)) || (ctx.state as { ackedSend?: boolean }).ackedSend) deps.metrics?.observeAck(ctx.status, seconds);
      if (log.isLevelEnabled('debug')) log.debug({ method: ctx.method, path: ctx.path.slice(0, 200), status: ctx.status, ms: Math.round(seconds * 10_000) / 10 }, 'request');
    }
  };
}
