import type Router from '@koa/router';
import type { Context } from 'koa';
import { describeQueue } from '../../../sqs/admin.js';
import { redrivePolicyOf, setQueueAttributes } from '../../../sqs/browse.js';
import { csrfToken } from '../../csrf.js';
import type { AppDeps } from '../../deps.js';
import { isDaemonError } from '../../../errors.js';
import { answerError } from './answer.js';
import type { FieldErrors } from '../../ui/create-form.js';
import { readFields } from '../../ui/form.js';
import { sendHtml, wantsHtml } from '../../ui/layout.js';
import { checkSettings, currentSettings, settingsFrom, settingsPage, type SettingsValues } from '../../ui/settings-form.js';
import { adminError, credentialsOf, userLabel } from './request.js';
import { deadLetterTarget } from './redrive-target.js';
import { checkQueueName } from '../../../ingest/index.js';

/**
 * Queue settings after creation: GET /queues/:name/settings (the form, or the current values as
 * JSON), POST the same path to change them with SetQueueAttributes. Errors are shown beside
 * their fields with what was typed kept; a missing dead-letter queue is reported with the others.
 */
export function registerSettingsRoutes(router: Router, deps: AppDeps): void {
  const log = deps.log.child({ mod: 'settings' });

  router.get('/queues/:name/settings', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    let attributes: Record<string, string>;
    try {
      attributes = (await describeQueue(deps.client, creds, name)).attributes;
    } catch (err) {
      throw adminError(err, name);
    }
    const values = currentSettings(attributes);
    const fifo = attributes.FifoQueue === 'true' || name.endsWith('.fifo');
    if (wantsHtml(ctx)) sendHtml(ctx, settingsPage({ name, fifo, values, errors: {}, token: csrfToken(ctx), user: userLabel(ctx, deps) }));
    else ctx.body = { name, fifo, values, action: { method: 'POST', path: `/queues/${encodeURIComponent(name)}/settings` } };
  });

  router.post('/queues/:name/settings', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    const values = settingsFrom(await readFields(ctx));
    let url: string;
    let current: Record<string, string>;
    try {
      ({ url, attributes: current } = await describeQueue(deps.client, creds, name));
    } catch (err) {
      throw adminError(err, name);
    }
    const fifo = current.FifoQueue === 'true' || name.endsWith('.fifo');
    const change = checkSettings(values, { name, fifo, hadRedrive: redrivePolicyOf(current) !== undefined });
    const errors: FieldErrors = { ...change.errors };
    if (change.deadLetter) {
      const target = await deadLetterTarget(deps, creds, change.deadLetter.queueName, fifo);
      if (target.ok) change.attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: target.arn, maxReceiveCount: change.deadLetter.maxReceiveCount });
      else errors.dead_letter_queue = target.message;
    }
    if (Object.keys(errors).length > 0) return failure(ctx, deps, name, fifo, values, errors, 400, 'InvalidQueueSettings', 'some fields are not valid; see details.fields');
    try {
      if (Object.keys(change.attributes).length > 0) await setQueueAttributes(deps.client, url, creds, change.attributes);
    } catch (err) {
      const e = adminError(err, name);
      if (!isDaemonError(e) || e.status !== 400) throw e;
      return failure(ctx, deps, name, fifo, values, {}, 400, e.code, e.message);
    }
    deps.resolver.invalidateQueue(name); // the daemon's cached limits (MaximumMessageSize) follow
    log.info({ queue: name, attributes: Object.keys(change.attributes), by: userLabel(ctx, deps) }, 'queue settings changed');
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`/queues/${encodeURIComponent(name)}?updated=1`);
      return;
    }
    ctx.body = { name, changed: change.attributes };
  });
}

function failure(ctx: Context, deps: AppDeps, name: string, fifo: boolean, values: SettingsValues, errors: FieldErrors, status: number, code: string, message: string): void {
  if (!wantsHtml(ctx)) throw answerError(status, code, message, { details: { fields: errors } });
  const problem = Object.keys(errors).length > 0 ? 'Some fields need attention: see the messages beside them.' : message;
  sendHtml(ctx, settingsPage({ name, fifo, values, errors, token: csrfToken(ctx), user: userLabel(ctx, deps), problem }), status);
}

function queueParam(ctx: Context): string {
  const name = ctx.params.name as string;
  checkQueueName(name);
  return name;
}
