import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { AppDeps } from './deps.js';
import { DaemonError, describeBug } from '../errors.js';
import { errorHeaders, toHttpError } from './errors.js';
import { credentialsFor } from './auth.js';
import { csrfGuard } from './csrf.js';
import { hostGuard } from './guards.js';
import { registerMessageRoutes } from './routes/messages.js';
import { observeRequests, registerOpsRoutes } from './routes/ops.js';
import { registerReplyRoutes } from './routes/reply.js';
import { registerSendRoutes } from './routes/send.js';
import { registerUiRoutes } from './routes/ui/index.js';
import { errorPage } from './ui/error-page.js';
import { securityHeaders } from './ui/layout.js';
import { sqsApi } from '../sqsapi/door.js';

/**
 * Builds the daemon's Koa app as a value; only main() listens. Tests call
 * `createApp(deps).callback()` with their own deps.
 */
export function createApp(deps: AppDeps): Koa {
  const app = new Koa({ proxy: false });
  app.silent = true; // errors are logged by errorHandler, once, without secrets
  app.use(observeRequests(deps)); // outermost: ack latency and the debug access log see the final status
  app.use(errorHandler(deps));
  app.use(securityHeaders);
  app.use(hostGuard(deps.config.allowedHosts));
  // AWS SDKs: before the CSRF guard and the routes, which never see these requests.
  app.use(sqsApi(deps));
  // Credentials before any body byte: a browser form's token is looked for only after them.
  app.use(csrfGuard({ maxRequestBytes: deps.config.maxRequestBytes, authenticate: (ctx) => credentialsFor(ctx, deps) }));
  const router = new Router();
  registerOpsRoutes(router, deps);
  registerReplyRoutes(router, deps); // before send: handles POST /queues/:name?reply=, passes the rest on
  registerSendRoutes(router, deps);
  registerMessageRoutes(router, deps);
  registerUiRoutes(router, deps);
  app.use(router.routes());
  // 501 from koa/router is an http-errors error with expose false: make it ours, or it is logged and answered as a 500.
  app.use(router.allowedMethods({ throw: true, notImplemented: () => new DaemonError('NotImplemented') }));
  return app;
}

function errorHandler(deps: AppDeps) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new DaemonError('NotFound', `no route for ${ctx.method} ${ctx.path.slice(0, 200)}`);
    } catch (err) {
      const { error: e, payload } = failureAnswer(deps, err, ctx.method, ctx.path);
      ctx.status = e.status;
      ctx.set(errorHeaders(e));
      if (ctx.accepts('json', 'html') === 'html') {
        ctx.type = 'html';
        ctx.body = errorPage(e, ctx.path);
      } else {
        ctx.body = payload;
      }
    }
  };
}

/**
 * Anything thrown while serving a request, as its answer (the error and its JSON body), logged
 * as it deserves: a bug with its stack (and counted), an SQS refusal with its request id.
 * Shared by Koa's error handler and the send fast path (fast-send.ts).
 */
export function failureAnswer(deps: Pick<AppDeps, 'log' | 'metrics'>, err: unknown, method: string, path: string): { error: DaemonError; payload: object } {
  const { error: e, unexpected } = toHttpError(err);
  if (unexpected) {
    // A bug: logged with its stack and counted; the answer shows nothing of it.
    deps.log.error({ err: describeBug(err), method, path: path.slice(0, 200) }, 'unexpected error while serving a request');
    deps.metrics?.unexpectedError('http');
  } else if (e.status === 502) {
    // SQS answered something the daemon cannot turn into a better answer: the request id is what AWS support asks for.
    deps.log.warn({ code: e.code, requestId: (e.cause as { requestId?: unknown } | undefined)?.requestId, method, path: path.slice(0, 200) }, 'SQS refused a request');
  }
  return { error: e, payload: { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } } };
}
