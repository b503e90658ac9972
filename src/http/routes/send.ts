import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Validated } from '../../delivery/pipeline.js';
import { ACCESS_DENIED_CODES, BAD_CREDENTIAL_CODES, isSqsError } from '../../sqs/errors.js';
import { validateMessage } from '../../sqs/limits.js';
import { type TraceInput, withTrace } from '../../sqs/trace.js';
import { type Destination, isVerified } from '../../sqs/resolver.js';
import { credentialsFor } from '../auth.js';
import { decodeUtf8 } from '../body.js';
import { requestBody } from '../csrf.js';
import type { AppDeps } from '../deps.js';
import { BASIC_CHALLENGE, HttpError } from '../errors.js';
import { parseSend } from '../ingest.js';
import { addFormAttributeRows } from '../ui/form.js';
import { checkWaitRoom, waitedResult, wantsWait } from './messages.js';

/** SQS queue names: 1-80 of [A-Za-z0-9_-], FIFO ones ending in ".fifo" (within the 80). */
export const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$/;

export function checkQueueName(name: string): void {
  if (!QUEUE_NAME.test(name)) {
    throw new HttpError(400, 'InvalidQueueName', `queue name ${JSON.stringify(name.slice(0, 100))} is not valid: 1-80 letters, digits, "-" or "_", FIFO queues end in ".fifo"`);
  }
}

/** Resolves a queue for these credentials, turning SQS's refusals into HTTP answers. */
export async function destinationFor(deps: AppDeps, ctx: Context, queueName: string): Promise<Destination> {
  const creds = await credentialsFor(ctx, deps);
  const hit = deps.resolver.cached(creds, queueName);
  if (hit) return hit;
  try {
    // SQS unreachable or throttling: an unverified destination, verified before delivery.
    return await deps.resolver.resolveForSend(creds, queueName);
  } catch (err) {
    throw sqsToHttp(err, queueName);
  }
}

/** Maps an SQS failure seen while serving a request to an HTTP error. */
export function sqsToHttp(err: unknown, queueName?: string): HttpError {
  if (!isSqsError(err)) {
    return new HttpError(503, 'CredentialsUnavailable', 'could not load the daemon\'s AWS credentials', { headers: { 'retry-after': '5' } });
  }
  if (err.queueMissing) return new HttpError(404, 'QueueDoesNotExist', `queue ${JSON.stringify(queueName ?? '')} does not exist (or is not visible to these credentials)`);
  if (BAD_CREDENTIAL_CODES.has(err.code)) {
    return new HttpError(401, err.code, `SQS refused the credentials (${err.code}): check the access key id and secret`, { headers: { 'www-authenticate': BASIC_CHALLENGE } });
  }
  if (ACCESS_DENIED_CODES.has(err.code)) return new HttpError(403, err.code, `SQS denied access (${err.code}): ${err.message}`);
  if (err.disposition === 'retry') {
    return new HttpError(503, err.code, `SQS is not answering right now (${err.code}); try again`, { headers: { 'retry-after': '2' } });
  }
  return new HttpError(502, err.code, `SQS answered ${err.code}: ${err.message}`);
}

export function registerSendRoutes(router: Router, deps: AppDeps): void {
  const { config, pipeline } = deps;
  const defaultGroup = config.fifoDefaultGroupId === '' ? undefined : { defaultGroupId: config.fifoDefaultGroupId };

  router.post('/queues/:name', async (ctx) => {
    const name = ctx.params.name as string;
    checkQueueName(name);
    const mime = ctx.request.type.trim().toLowerCase(); // koa keeps the case and spaces as sent; media types are case-insensitive
    const charset = ctx.request.charset.toLowerCase(); // charset names are case-insensitive (RFC 9110)
    if (charset !== '' && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      throw new HttpError(415, 'UnsupportedCharset', `charset ${JSON.stringify(charset)} is not supported; send UTF-8`);
    }
    // Credentials and queue first: a wrong password must not learn anything from validation.
    const dest = await destinationFor(deps, ctx, name);
    // requestBody: the CSRF guard may already have read a browser form's body.
    const text = decodeUtf8(await requestBody(ctx, config.maxRequestBytes));
    const parsed = parseSend(mime, text);
    if (mime === 'application/x-www-form-urlencoded') addFormAttributeRows(parsed, text);

    const wait = wantsWait(ctx);
    if (wait) checkWaitRoom(deps, parsed.entries.length);
    const trace = traceFrom(ctx);
    const traceOptions = { attributes: config.traceAttributes === 'on' };
    const valid: Validated[] = [];
    const slots: Array<number | { code: string; message: string }> = [];
    let rechecked = false;
    for (const entry of parsed.entries) {
      if ('error' in entry) {
        slots.push(entry.error);
        continue;
      }
      let v = validateMessage(entry.input, dest.limits, defaultGroup);
      if (!v.ok && v.status === 413 && !rechecked && dest.limits.maxMessageBytes < config.maxMessageBytes) {
        // Over the queue's MaximumMessageSize as last read: it may have been raised since. Ask SQS
        // (at most once a second per queue) before refusing, so a raised limit counts at once.
        rechecked = true;
        await deps.resolver.recheck(dest);
        v = validateMessage(entry.input, dest.limits, defaultGroup);
      }
      if (v.ok) v = withTrace(v, { ...trace, awsTraceHeader: entry.input.awsTraceHeader }, dest.limits, traceOptions);
      if (v.ok) {
        slots.push(valid.length);
        valid.push({ message: v.message, bytes: v.bytes });
      } else if (!parsed.batch) {
        throw new HttpError(v.status, v.code, v.message, v.field ? { details: { field: v.field } } : {});
      } else {
        slots.push({ code: v.code, message: v.message });
      }
    }
    if (parsed.batch && parsed.entries.length === 0) throw new HttpError(400, 'EmptyBatch', 'the batch holds no messages');

    let ids: string[] = [];
    if (valid.length > 0) {
      const accepted = pipeline.accept(dest, valid);
      if (accepted === false) {
        throw new HttpError(503, 'BacklogFull', 'the daemon\'s backlog is full (SQS slow or unreachable); retry later', { headers: { 'retry-after': '1' } });
      }
      try {
        ids = await accepted;
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ETOOMANYDESTINATIONS') {
          throw new HttpError(503, 'TooManyDestinations', (err as Error).message, { headers: { 'retry-after': '5' } });
        }
        if ((err as { code?: unknown }).code === 'ESPOOLFULL') {
          throw new HttpError(503, 'SpoolFull', 'the daemon\'s spool is full (SQS slow or unreachable); nothing was accepted, retry later', { headers: { 'retry-after': '5' } });
        }
        // The spool logs once when it stops being writable (and once when it works again);
        // a line per refused request would flood the log exactly when the disk is full.
        if ((err as { code?: unknown }).code !== 'ESPOOLWRITE') deps.log.error({ err: (err as Error).message, queue: name }, 'could not record accepted messages');
        throw new HttpError(503, 'SpoolUnavailable', 'the daemon could not write the message to its spool (disk full or unwritable); nothing was accepted', { headers: { 'retry-after': '5' } });
      }
    }

    if (wait && ids.length > 0) {
      await answerWaited(ctx, deps, name, parsed.batch, ids, slots);
      return;
    }
    ctx.status = valid.length === 0 ? 400 : 202;
    // SQS could not be asked about this queue yet: accepted, verified before delivery.
    const unverified = !isVerified(dest);
    if (unverified) ctx.set('x-queue-verified', 'false');
    if (!parsed.batch) {
      const id = ids[0] as string;
      ctx.set('x-message-id', id);
      if (ctx.accepts('json', 'html') === 'html') {
        // A browser form: back to the queue page (post/redirect/get).
        ctx.status = 303;
        ctx.redirect(`/queues/${encodeURIComponent(name)}?sent=${encodeURIComponent(id)}`);
        return;
      }
      ctx.body = unverified ? { id, queue: name, queueVerified: false } : { id, queue: name };
      return;
    }
    const results = slots.map((s) => (typeof s === 'number' ? { id: ids[s] as string } : { error: s }));
    ctx.body = { queue: name, ...(unverified ? { queueVerified: false } : {}), accepted: valid.length, rejected: results.length - valid.length, results };
  });
}

/** Trace context of the request: X-Amzn-Trace-Id and the W3C traceparent/tracestate headers. */
function traceFrom(ctx: Context): TraceInput {
  const t: TraceInput = {};
  const amzn = ctx.get('x-amzn-trace-id');
  if (amzn !== '') t.amznTraceId = amzn;
  const parent = ctx.get('traceparent');
  if (parent !== '') t.traceparent = parent;
  const state = ctx.get('tracestate');
  if (state !== '') t.tracestate = state;
  return t;
}

/**
 * `?wait=1`: the messages went through spool and batcher as always; the answer waits until SQS
 * accepted or refused each (at most --wait-timeout-ms). One message: 201 with SQS's MessageId (and
 * SequenceNumber), SQS's refusal as an error, or 202 with the state so far. A batch: 201 when every
 * accepted entry was delivered, else 202, with each entry's outcome.
 */
async function answerWaited(ctx: Context, deps: AppDeps, name: string, batch: boolean, ids: string[], slots: ReadonlyArray<number | { code: string; message: string }>): Promise<void> {
  const statuses = await (deps.tracker as NonNullable<AppDeps['tracker']>).wait(ids, deps.config.waitTimeoutMs);
  const outcomes = statuses.map(waitedResult);
  if (!batch) {
    const only = outcomes[0] as ReturnType<typeof waitedResult>;
    ctx.set('x-message-id', ids[0] as string);
    if (only.status === 201 && typeof only.body.messageId === 'string') ctx.set('x-sqs-message-id', only.body.messageId);
    ctx.status = only.status;
    ctx.body = { ...only.body, queue: name };
    return;
  }
  const results = slots.map((s) => (typeof s === 'number' ? (outcomes[s] as ReturnType<typeof waitedResult>).body : { error: s }));
  const delivered = outcomes.filter((o) => o.status === 201).length;
  ctx.status = delivered === outcomes.length ? 201 : 202;
  ctx.body = { queue: name, accepted: ids.length, delivered, rejected: slots.length - ids.length, results };
}
