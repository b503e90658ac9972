import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';

/** Health, readiness and metrics (issue 5). Filled in by the operations work. */
export function registerOpsRoutes(_router: Router, _deps: AppDeps): void {}
