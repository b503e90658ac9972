import type Router from '@koa/router';
import type { Context } from 'koa';
import { DaemonError, isDaemonError } from '../../../errors.js';
import { QUEUE_NAME } from '../../../ingest/index.js';
import { createQueue, MAX_RECEIVE_COUNT, QUEUE_ATTRIBUTE_RULES } from '../../../sqs/admin.js';
import { csrfToken } from '../../csrf.js';
import type { AppDeps } from '../../deps.js';
import { type CreateValues, checkCreate, createPage, emptyValues, type FieldErrors, NUMBER_FIELDS, valuesFrom } from '../../ui/create-form.js';
import { readFields } from '../../ui/form.js';
import { sendHtml, wantsHtml } from '../../ui/layout.js';
import { deadLetterTarget } from './redrive-target.js';
import { adminError, credentialsOf, query, userLabel } from './request.js';

/** `/new-queue` (the form, or its fields as JSON) and `POST /queues` (create). */
export function registerNewQueueRoutes(router: Router, deps: AppDeps): void {
  const log = deps.log.child({ mod: 'ui' });

  router.get('/new-queue', async (ctx) => {
    await credentialsOf(ctx, deps);
    if (wantsHtml(ctx)) {
      const values: CreateValues = { ...emptyValues(), fifo: query(ctx, 'fifo') === '1' };
      sendHtml(ctx, createPage({ values, errors: {}, token: csrfToken(ctx), user: userLabel(ctx, deps) }));
      return;
    }
    ctx.body = {
      action: { method: 'POST', path: '/queues', contentTypes: ['application/x-www-form-urlencoded', 'application/json'] },
      fields: {
        queue_name: { required: true, pattern: QUEUE_NAME.source },
        fifo: { type: 'boolean' },
        content_based_deduplication: { type: 'boolean', fifoOnly: true },
        ...Object.fromEntries(NUMBER_FIELDS.map((f) => [f.name, { attribute: f.attribute, ...QUEUE_ATTRIBUTE_RULES[f.attribute] }])),
        dead_letter_queue: { type: 'queue name' },
        max_receive_count: { ...MAX_RECEIVE_COUNT, default: 5 },
      },
    };
  });

  router.post('/queues', async (ctx) => {
    const creds = await credentialsOf(ctx, deps); // credentials first, as every route
    const values = valuesFrom(await readFields(ctx));
    const checked = checkCreate(values);
    if (!checked.ok) {
      // A missing dead-letter queue is reported with the other errors, not after they are fixed.
      const fifo = values.fifo || values.queue_name.endsWith('.fifo');
      const dlq = checked.deadLetter ? await deadLetterTarget(deps, creds, checked.deadLetter.queueName, fifo) : undefined;
      const errors = dlq && !dlq.ok ? { ...checked.errors, dead_letter_queue: dlq.message } : checked.errors;
      return formFailure(ctx, deps, 400, values, errors, 'InvalidQueueSettings', 'some fields are not valid; see details.fields');
    }
    const request = checked.request;
    const attributes = { ...request.attributes };
    if (request.deadLetter) {
      const { queueName, maxReceiveCount } = request.deadLetter;
      const target = await deadLetterTarget(deps, creds, queueName, request.fifo);
      if (!target.ok) return formFailure(ctx, deps, 400, values, { dead_letter_queue: target.message }, target.code, target.message);
      attributes.RedrivePolicy = JSON.stringify({ deadLetterTargetArn: target.arn, maxReceiveCount });
    }
    let url: string;
    try {
      url = await createQueue(deps.client, creds, request.name, attributes);
    } catch (err) {
      const e = adminError(err, request.name);
      if (!isDaemonError(e) || (e.status !== 400 && e.status !== 409)) throw e;
      const errors: FieldErrors = /QueueNameExists|QueueAlreadyExists|QueueDeletedRecently/.test(e.code) ? { queue_name: e.message } : {};
      return formFailure(ctx, deps, e.status, values, errors, e.code, e.message);
    }
    log.info({ queue: request.name, by: userLabel(ctx, deps) }, 'queue created');
    const location = `/queues/${encodeURIComponent(request.name)}`;
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`${location}?created=1`);
      return;
    }
    ctx.status = 201;
    ctx.set('location', location);
    ctx.body = { name: request.name, url, fifo: request.fifo, attributes };
  });
}

/** A create request that cannot proceed: the form again with the errors (browsers), or a JSON error. */
function formFailure(ctx: Context, deps: AppDeps, status: number, values: CreateValues, errors: FieldErrors, code: string, message: string): void {
  if (!wantsHtml(ctx)) throw new DaemonError(code, message, { status, details: { fields: errors } });
  const problem = Object.keys(errors).length > 0 ? 'Some fields need attention: see the messages beside them.' : `${message}`;
  sendHtml(ctx, createPage({ values, errors, token: csrfToken(ctx), user: userLabel(ctx, deps), problem }), status);
}
