import Router from '@koa/router';
import Koa, { type Context, type Next } from 'koa';
import type { AppDeps } from './deps.js';
import { HttpError, isHttpError } from './errors.js';
import { csrfGuard } from './csrf.js';
import { hostGuard } from './guards.js';
import { registerDeadLetterRoutes } from './routes/dead-letters.js';
import { registerMessageRoutes } from './routes/messages.js';
import { observeRequests, registerOpsRoutes } from './routes/ops.js';
import { registerSendRoutes } from './routes/send.js';
import { registerUiRoutes } from './routes/ui.js';
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
  app.use(csrfGuard({ maxRequestBytes: deps.config.maxRequestBytes }));
  const router = new Router();
  registerOpsRoutes(router, deps);
  registerSendRoutes(router, deps);
  registerMessageRoutes(router, deps);
  registerUiRoutes(router, deps);
  registerDeadLetterRoutes(router, deps);
  app.use(router.routes());
  // 501 from koa/router is an http-errors error with expose false: make it ours, or it is logged and answered as a 500.
  app.use(router.allowedMethods({ throw: true, notImplemented: () => new HttpError(501, 'NotImplemented', 'this HTTP method is not supported') }));
  return app;
}

function errorHandler(deps: AppDeps) {
  return async function handleErrors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError(404, 'NotFound', `no route for ${ctx.method} ${ctx.path.slice(0, 200)}`);
    } catch (err) {
      let e: HttpError;
      if (isHttpError(err)) e = err;
      else if (typeof (err as { status?: unknown })?.status === 'number' && (err as { expose?: boolean }).expose) {
        // koa/router's own (405 Method Not Allowed, 501): safe to show.
        const ke = err as { status: number; message: string; headers?: Record<string, string> };
        e = new HttpError(ke.status, ke.status === 405 ? 'MethodNotAllowed' : 'BadRequest', ke.message, ke.headers ? { headers: ke.headers } : {});
      } else {
        deps.log.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack }, method: ctx.method, path: ctx.path }, 'unexpected error while serving a request');
        e = new HttpError(500, 'InternalError', 'internal error; see the daemon log');
      }
      ctx.status = e.status;
      ctx.set(e.headers);
      const payload = { error: { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) } };
      if (ctx.accepts('json', 'html') === 'html') {
        ctx.type = 'html';
        ctx.body = errorPage(e, ctx.path);
      } else {
        ctx.body = payload;
      }
    }
  };
}
