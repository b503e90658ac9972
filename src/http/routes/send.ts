import type Router from '@koa/router';
import type { Context } from 'koa';
import { DaemonError } from '../../errors.js';
import { checkQueueName, type EntryResult } from '../../ingest/index.js';
import { type Destination, isVerified } from '../../sqs/resolver.js';
import type { TraceInput } from '../../sqs/trace.js';
import { credentialsFor } from '../auth.js';
import { decodeUtf8Sliced, requestForm, requestTextSliced } from '../body.js';
import { isRawBody, readRawBody } from '../large-body.js';
import { newMessageId } from '../../delivery/envelope.js';
import { type OffloadPolicy, thresholdFor } from '../../ingest/offload.js';
import { decodeForm, type ParsedSend, parseSendSliced } from '../decode.js';
import type { AppDeps } from '../deps.js';
import { formFieldName, withFormFieldNames } from '../form-names.js';
import { checkWaitRoom, waitedResult, wantsWait } from './messages.js';
import { batchReply } from './send-batch.js';

const FORM = 'application/x-www-form-urlencoded';

/** Resolves a queue for this request's credentials (401 without them), through ingest. */
export async function destinationFor(deps: Pick<AppDeps, 'config' | 'auth' | 'ingest'>, ctx: Context, queueName: string): Promise<Destination> {
  return deps.ingest.destination(await credentialsFor(ctx, deps), queueName);
}

/**
 * `POST /queues/:name`: the REST door's adapter onto ingest. Decodes the body once by content
 * type, hands the entries to ingest with the request's trace context, and answers 202 with the
 * ids (one message), or per entry (a batch); a browser form is redirected back to the queue page.
 * A queue SQS could not be asked about yet is said so (`queueVerified: false`). `?wait=1` answers
 * once SQS accepted the messages (see answerWaited).
 */
export function registerSendRoutes(router: Router, deps: AppDeps): void {
  const { config, ingest } = deps;

  router.post('/queues/:name', async (ctx) => {
    const name = ctx.params.name as string;
    checkQueueName(name);
    const mime = ctx.request.type.trim().toLowerCase(); // koa keeps the case and spaces as sent; media types are case-insensitive
    const charset = ctx.request.charset.toLowerCase(); // charset names are case-insensitive (RFC 9110)
    if (charset !== '' && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
      throw new DaemonError('UnsupportedCharset', `charset ${JSON.stringify(charset)} is not supported; send UTF-8`);
    }
    // Credentials and queue first: a wrong password must not learn anything from validation.
    const dest = await destinationFor(deps, ctx, name);
    // Read once: the CSRF guard may already have read (and parsed) a browser form. Other bodies
    // are decoded and split in slices (a large batch never holds the event loop).
    // With --s3-bucket a raw body past the S3 threshold is streamed to its payload file instead.
    const policy = deps.s3?.policy;
    const parsed: ParsedSend =
      policy && isRawBody(mime) && !hasBody(ctx)
        ? await rawOrStreamed(ctx, policy, dest, config.maxRequestBytes)
        : mime === FORM ? decodeForm(await requestForm(ctx, config.maxRequestBytes)) : await parseSendSliced(mime, await requestTextSliced(ctx, config.maxRequestBytes), config.maxBatchEntries);
    if (parsed.batch && parsed.entries.length === 0) throw new DaemonError('EmptyBatch');
    const wait = wantsWait(ctx);
    if (wait) checkWaitRoom(deps, parsed.entries.length);

    const results = await ingest.send(dest, parsed.entries, { trace: traceFrom(ctx) });

    if (wait && results.some((r) => r.ok)) {
      await answerWaited(ctx, deps, name, parsed.batch, results);
      return;
    }
    // SQS could not be asked about this queue yet: accepted, verified before delivery.
    const unverified = !isVerified(dest);
    if (!parsed.batch) {
      const only = results[0] as EntryResult;
      if (!only.ok) {
        const e = only.error;
        // A form's error names the form's fields (group_id), a JSON send's the JSON names (groupId).
        const form = mime === FORM;
        const field = e.field && form ? formFieldName(e.field) : e.field;
        throw new DaemonError(e.code, form ? withFormFieldNames(e.message) : e.message, { status: e.status, ...(field ? { details: { field } } : {}) });
      }
      ctx.status = 202;
      ctx.set('x-message-id', only.id);
      if (unverified) ctx.set('x-queue-verified', 'false');
      if (ctx.accepts('json', 'html') === 'html') {
        // A browser form: back to the queue page (post/redirect/get).
        ctx.status = 303;
        ctx.redirect(`/queues/${encodeURIComponent(name)}?sent=${encodeURIComponent(only.id)}`);
        return;
      }
      const answer: Record<string, unknown> = unverified ? { id: only.id, queue: name, queueVerified: false } : { id: only.id, queue: name };
      if (only.offload) answer.s3 = { bucket: only.offload.bucket, key: only.offload.key, bytes: only.offload.bytes };
      ctx.body = answer;
      return;
    }
    const reply = batchReply(name, results);
    if (unverified && reply.accepted > 0) ctx.set('x-queue-verified', 'false');
    ctx.status = reply.accepted === 0 ? 400 : 202;
    ctx.body = unverified ? { ...reply, queueVerified: false } : reply;
  });
}

/** Has an earlier reader (the CSRF guard) read the body already? */
function hasBody(ctx: Context): boolean {
  return (ctx.state as { body?: unknown }).body !== undefined;
}

/**
 * A raw body with --s3-bucket: the ordinary single message while it is within the queue's S3
 * threshold, else streamed into the payload file of a new message id (src/http/large-body.ts).
 */
async function rawOrStreamed(ctx: Context, policy: OffloadPolicy, dest: Destination, maxRequestBytes: number): Promise<ParsedSend> {
  const id = newMessageId();
  const r = await readRawBody(ctx.req, { memLimit: Math.min(thresholdFor(policy, dest.limits), maxRequestBytes), payloads: policy.payloads, id, maxPayloadBytes: policy.maxPayloadBytes });
  if ('payloadBytes' in r) return { batch: false, entries: [{ input: {}, id, payloadBytes: r.payloadBytes }] };
  if (r.buf.length > maxRequestBytes) throw new DaemonError('RequestTooLarge', `request body is larger than ${maxRequestBytes} bytes (--max-request-bytes)`);
  return { batch: false, entries: [{ input: { body: await decodeUtf8Sliced(r.buf) } }] };
}

/** Trace context of the request: X-Amzn-Trace-Id and the W3C traceparent/tracestate headers. */
function traceFrom(ctx: Context): TraceInput | undefined {
  const amzn = ctx.get('x-amzn-trace-id');
  const parent = ctx.get('traceparent');
  if (amzn === '' && parent === '') return undefined;
  const t: TraceInput = {};
  if (amzn !== '') t.amznTraceId = amzn;
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
async function answerWaited(ctx: Context, deps: AppDeps, name: string, batch: boolean, results: readonly EntryResult[]): Promise<void> {
  const ids: string[] = [];
  for (const r of results) if (r.ok) ids.push(r.id);
  const statuses = await (deps.tracker as NonNullable<AppDeps['tracker']>).wait(ids, deps.config.waitTimeoutMs);
  const outcomes = statuses.map(waitedResult);
  if (!batch) {
    const only = outcomes[0] as ReturnType<typeof waitedResult>;
    ctx.set('x-message-id', ids[0] as string);
    if (only.status === 201 && typeof only.body.messageId === 'string') ctx.set('x-sqs-message-id', only.body.messageId);
    ctx.status = only.status;
    const first = results[0];
    // Where the payload went, as the 202 without ?wait says it.
    const s3 = first?.ok && first.offload ? { s3: { bucket: first.offload.bucket, key: first.offload.key, bytes: first.offload.bytes } } : {};
    ctx.body = { ...only.body, queue: name, ...s3 };
    return;
  }
  let k = 0;
  const out = results.map((r) => (r.ok ? (outcomes[k++] as ReturnType<typeof waitedResult>).body : { error: { code: r.error.code, message: r.error.message } }));
  const delivered = outcomes.filter((o) => o.status === 201).length;
  ctx.status = delivered === outcomes.length ? 201 : 202;
  ctx.body = { queue: name, accepted: ids.length, delivered, rejected: results.length - ids.length, results: out };
}
