import type Router from '@koa/router';
import type { Context } from 'koa';
import { describeQueue } from '../../../sqs/admin.js';
import { RECEIVE_LIMITS, redrivePolicyOf } from '../../../sqs/browse.js';
import { deleteMessageBatch, receiveMessages } from '../../../sqs/consume.js';
import { isSqsError, RECEIPT_GONE_CODES } from '../../../sqs/errors.js';
import { csrfToken } from '../../csrf.js';
import type { AppDeps } from '../../deps.js';
import { answerError } from './answer.js';
import { type Fields, field, readFields } from '../../ui/form.js';
import { sendHtml, wantsHtml } from '../../ui/layout.js';
import { messagesPage } from '../../ui/pages/messages.js';
import { adminError, credentialsOf, userLabel } from './request.js';
import { checkQueueName } from '../../../ingest/index.js';

/** Receipt handles are opaque; SQS's are up to 1024 characters. */
const MAX_RECEIPT_HANDLE = 4096;

/**
 * Looking at a queue's messages from the browser (or a script): POST /queues/:name/receive takes
 * up to 10 with a chosen visibility timeout (0 = look and put back), POST
 * /queues/:name/delete-message deletes one by its receipt handle. Both change SQS's state (a
 * receive counts toward a redrive policy's maxReceiveCount), so both are POSTs behind the CSRF
 * guard, and the browser form says so.
 */
export function registerMessageRoutes(router: Router, deps: AppDeps): void {
  const log = deps.log.child({ mod: 'messages' });

  router.post('/queues/:name/receive', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    const fields = await readFields(ctx);
    const maxMessages = intField(fields, 'max_messages', 10, RECEIVE_LIMITS.maxMessages);
    const visibilityTimeout = intField(fields, 'visibility_timeout', 0, RECEIVE_LIMITS.visibilityTimeout);
    let described: Awaited<ReturnType<typeof describeQueue>>;
    let messages: Awaited<ReturnType<typeof receiveMessages>>;
    try {
      described = await describeQueue(deps.client, creds, name);
      messages = await receiveMessages(deps.client, described.url, creds, { maxMessages, waitTimeSeconds: 0, visibilityTimeoutSeconds: visibilityTimeout, timeoutMs: deps.config.requestTimeoutMs });
    } catch (err) {
      throw adminError(err, name);
    }
    const policy = redrivePolicyOf(described.attributes);
    const redrive = policy ? { deadLetterQueue: policy.deadLetterQueue, maxReceiveCount: policy.maxReceiveCount } : undefined;
    log.debug({ queue: name, received: messages.length, visibilityTimeout, by: userLabel(ctx, deps) }, 'messages received from the browser');
    if (!wantsHtml(ctx)) {
      ctx.body = { queue: name, visibilityTimeout, ...(redrive ? { redrive } : {}), messages };
      return;
    }
    const fifo = described.attributes.FifoQueue === 'true' || name.endsWith('.fifo');
    sendHtml(ctx, messagesPage({ name, fifo, maxMessages, visibilityTimeout, messages, ...(redrive ? { redrive } : {}) }, { user: userLabel(ctx, deps), token: csrfToken(ctx), flashes: [] }));
  });

  router.post('/queues/:name/delete-message', async (ctx) => {
    const name = queueParam(ctx);
    const creds = await credentialsOf(ctx, deps);
    const fields = await readFields(ctx);
    const handle = fields.get('receipt_handle')?.[0] ?? '';
    if (handle === '' || handle.length > MAX_RECEIPT_HANDLE) throw answerError(400, 'InvalidParameter', `field receipt_handle must be a receipt handle from a receive (1 to ${MAX_RECEIPT_HANDLE} characters)`);
    const messageId = field(fields, 'message_id').slice(0, 100);
    let outcome: Awaited<ReturnType<typeof deleteMessageBatch>>[number] | undefined;
    try {
      const described = await describeQueue(deps.client, creds, name);
      [outcome] = await deleteMessageBatch(deps.client, described.url, creds, [handle]);
    } catch (err) {
      // Some endpoints refuse the whole call for a bad handle rather than the entry.
      if (!isSqsError(err) || !RECEIPT_GONE_CODES.has(err.code)) throw adminError(err, name);
      outcome = { ok: false, code: err.code, message: err.message, disposition: err.disposition, gone: true };
    }
    if (outcome && !outcome.ok) {
      if (outcome.gone) {
        throw answerError(409, outcome.code, 'SQS no longer takes this receipt handle: the message was deleted, or received again by another consumer after its visibility timeout. Receive it again to delete it.');
      }
      throw answerError(outcome.disposition === 'retry' ? 503 : 502, outcome.code, `SQS did not delete the message (${outcome.code}): ${outcome.message}`);
    }
    log.info({ queue: name, messageId, by: userLabel(ctx, deps) }, 'message deleted from the browser');
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`/queues/${encodeURIComponent(name)}?deleted_message=${encodeURIComponent(messageId || 'a message')}`);
      return;
    }
    ctx.body = { deleted: true, ...(messageId ? { messageId } : {}) };
  });
}

function queueParam(ctx: Context): string {
  const name = ctx.params.name as string;
  checkQueueName(name);
  return name;
}

/** A whole number field within bounds (empty: the fallback); 400 naming the form field otherwise. */
function intField(fields: Fields, name: string, fallback: number, range: { min: number; max: number }): number {
  const raw = field(fields, name);
  if (raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < range.min || Number(raw) > range.max) {
    throw answerError(400, 'InvalidParameter', `field ${name} must be a whole number from ${range.min} to ${range.max}`);
  }
  return Number(raw);
}
