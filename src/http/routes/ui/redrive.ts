import type Router from '@koa/router';
import type { Context } from 'koa';
import { describeQueue, queueNameFromUrl } from '../../../sqs/admin.js';
import { cancelMoveTask, deadLetterSourceQueues, listMoveTasks, startMoveTask, UNSUPPORTED_ACTION_CODES } from '../../../sqs/browse.js';
import { isSqsError } from '../../../sqs/errors.js';
import { csrfToken } from '../../csrf.js';
import type { AppDeps } from '../../deps.js';
import { answerError } from './answer.js';
import { field, readFields } from '../../ui/form.js';
import { type Flash, sendHtml, wantsHtml } from '../../ui/layout.js';
import { type RedriveData, redrivePage } from '../../ui/pages/redrive.js';
import { adminError, credentialsOf, query, userLabel } from './request.js';
import { deadLetterTarget } from './redrive-target.js';
import { checkQueueName } from '../../../ingest/index.js';

/**
 * Dead-letter queue redrive with SQS's message-move tasks: GET /queues/:name/redrive (the source
 * queues, the recent tasks and their progress), POST it to start a task, POST
 * /queues/:name/redrive/cancel to cancel one. An upstream without these actions (fauxqs and other
 * emulators) is said to lack them, on the page and as `unsupported` in JSON; nothing is faked.
 */
export function registerRedriveRoutes(router: Router, deps: AppDeps): void {
  const log = deps.log.child({ mod: 'redrive' });

  router.get('/queues/:name/redrive', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    let data: RedriveData;
    try {
      const { url, attributes } = await describeQueue(deps.client, creds, name);
      const arn = attributes.QueueArn ?? '';
      const visible = Number(attributes.ApproximateNumberOfMessages);
      const [sources, tasks] = await Promise.all([
        unlessUnsupported(async () => ({ queues: (await deadLetterSourceQueues(deps.client, url, creds)).map(queueNameFromUrl).sort() })),
        unlessUnsupported(async () => ({ items: await listMoveTasks(deps.client, arn, creds) })),
      ]);
      data = { name, arn, sources, tasks, ...(Number.isFinite(visible) ? { visible } : {}) };
    } catch (err) {
      throw adminError(err, name);
    }
    if (!wantsHtml(ctx)) {
      ctx.body = data;
      return;
    }
    const flashes: Flash[] = [];
    if (query(ctx, 'started')) flashes.push({ kind: 'ok', text: 'Redrive started. SQS moves the messages in the background; the table shows its progress.' });
    if (query(ctx, 'cancelled')) flashes.push({ kind: 'ok', text: 'Redrive cancelled. Messages already moved stay where they went.' });
    sendHtml(ctx, redrivePage(data, { user: userLabel(ctx, deps), token: csrfToken(ctx), flashes }));
  });

  router.post('/queues/:name/redrive', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    const fields = await readFields(ctx);
    const destination = field(fields, 'destination');
    const rateText = field(fields, 'max_per_second');
    if (rateText !== '' && (!/^\d{1,3}$/.test(rateText) || Number(rateText) < 1 || Number(rateText) > 500)) {
      throw answerError(400, 'InvalidParameter', 'field max_per_second must be a whole number from 1 to 500 (or empty: SQS decides)');
    }
    let taskHandle: string;
    try {
      const { attributes } = await describeQueue(deps.client, creds, name);
      const fifo = attributes.FifoQueue === 'true' || name.endsWith('.fifo');
      let destinationArn: string | undefined;
      if (destination !== '') {
        checkQueueName(destination);
        const target = await deadLetterTarget(deps, creds, destination, fifo);
        if (!target.ok) throw answerError(400, target.code, target.message.replace('the dead-letter queue', 'the destination').replace('create the dead-letter queue first', 'name an existing queue'));
        destinationArn = target.arn;
      }
      taskHandle = await startMoveTask(deps.client, creds, { sourceArn: attributes.QueueArn ?? '', ...(destinationArn ? { destinationArn } : {}), ...(rateText ? { maxPerSecond: Number(rateText) } : {}) });
    } catch (err) {
      throw unsupportedOr(err, name);
    }
    log.info({ queue: name, destination: destination || '(sources)', by: userLabel(ctx, deps) }, 'message-move task started');
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`/queues/${encodeURIComponent(name)}/redrive?started=1`);
      return;
    }
    ctx.status = 202;
    ctx.body = { taskHandle };
  });

  router.post('/queues/:name/redrive/cancel', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    const handle = field(await readFields(ctx), 'task_handle');
    if (handle === '' || handle.length > 4096) throw answerError(400, 'InvalidParameter', 'field task_handle must be the handle of a running task');
    let moved: number;
    try {
      moved = await cancelMoveTask(deps.client, creds, handle);
    } catch (err) {
      throw unsupportedOr(err, name);
    }
    log.info({ queue: name, moved, by: userLabel(ctx, deps) }, 'message-move task cancelled');
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`/queues/${encodeURIComponent(name)}/redrive?cancelled=1`);
      return;
    }
    ctx.body = { cancelled: true, approximateNumberOfMessagesMoved: moved };
  });
}

/** Runs an SQS call; an upstream that lacks the action gives `{ unsupported: code }` instead of an error. */
async function unlessUnsupported<T>(call: () => Promise<T>): Promise<T | { unsupported: string }> {
  try {
    return await call();
  } catch (err) {
    if (isSqsError(err) && UNSUPPORTED_ACTION_CODES.has(err.code)) return { unsupported: err.code };
    throw err;
  }
}

function unsupportedOr(err: unknown, name: string): Error {
  if (isSqsError(err) && UNSUPPORTED_ACTION_CODES.has(err.code)) {
    return answerError(501, 'MessageMoveUnsupported', `the upstream has no message-move tasks (it answered ${err.code}); Amazon SQS has them, emulators such as fauxqs do not`);
  }
  return adminError(err, name);
}

function queueParam(ctx: Context): string {
  const name = ctx.params.name as string;
  checkQueueName(name);
  return name;
}
