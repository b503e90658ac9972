import type Router from '@koa/router';
import type { AppDeps } from '../deps.js';

/** Browser UI and queue management (issue 4). Filled in by the UI work. */
export function registerUiRoutes(_router: Router, _deps: AppDeps): void {}
