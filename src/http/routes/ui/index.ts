import type Router from '@koa/router';
import type { AppDeps } from '../../deps.js';
import { registerDeadLetterRoutes } from './dead-letters.js';
import { registerHomeRoutes } from './home.js';
import { registerLiveRoutes } from './live.js';
import { registerMessageRoutes } from './messages.js';
import { registerPayloadRoutes } from './payloads.js';
import { registerNewQueueRoutes } from './new-queue.js';
import { registerQueueRoutes } from './queue.js';
import { registerQueueListRoutes } from './queues.js';
import { registerRedriveRoutes } from './redrive.js';
import { registerSettingsRoutes } from './settings.js';
import { registerStatusRoutes } from './status.js';

/**
 * Browser UI and queue management, one file per page. Every route answers HTML to browsers
 * and JSON otherwise (`Accept: application/json`); the HTML forms post to the same routes
 * scripts use. SQS's refusals go through one wrapper (request.ts `managed`), which maps them
 * once (src/errors.ts sqsFailure). Views live in ../../ui/ and import no route.
 */
export function registerUiRoutes(router: Router, deps: AppDeps): void {
  registerHomeRoutes(router, deps);
  registerQueueListRoutes(router, deps);
  registerNewQueueRoutes(router, deps);
  registerQueueRoutes(router, deps);
  registerStatusRoutes(router, deps);
  registerMessageRoutes(router, deps);
  registerPayloadRoutes(router, deps);
  registerSettingsRoutes(router, deps);
  registerRedriveRoutes(router, deps);
  registerLiveRoutes(router, deps);
  registerDeadLetterRoutes(router, deps);
}
