import type Router from '@koa/router';
import type { Context } from 'koa';
import { DaemonError } from '../../errors.js';
import { type BatchResults, checkQueueName, entriesSource, type EntryResult, type IngestEntry } from '../../ingest/index.js';
import { type Destination, isVerified } from '../../sqs/resolver.js';
import type { CredentialSource } from '../../sqs/credentials.js';
import type { TraceInput } from '../../sqs/trace.js';
import { credentialsFor, credentialsNow } from '../auth.js';
import { type BodyContext, bodyPending, decodeUtf8Sliced, formNow, requestPartsSliced, requestTextSliced } from '../body.js';
import { isRawBody, readRawBody } from '../large-body.js';
import { newMessageId } from '../../delivery/envelope.js';
import { type OffloadPolicy, thresholdFor } from '../../ingest/offload.js';
import { type FramedBatch, formEntry, frameSendSliced, type ParsedSend, partsCut } from '../decode.js';
import type { AppDeps } from '../deps.js';
import { formFieldName, withFormFieldNames } from '../form-names.js';
import { checkWaitRoom, waitedResult, wantsWait } from './messages.js';
import { batchReplyJson } from './send-batch.js';

const FORM = 'application/x-www-form-urlencoded';
/** Awaited to let the current turn finish (one reaction, no new promise). */
const NEXT_TURN = Promise.resolve();

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
  router.post('/queues/:name', async (ctx) => {
    const name = ctx.params.name as string;
    const mime = ctx.request.type.trim().toLowerCase(); // koa keeps the case and spaces as sent; media types are case-insensitive
    const wait = wantsWait(ctx);
    const sent = await acceptSend(deps, {
      name,
      mime,
      charset: ctx.request.charset.toLowerCase(), // charset names are case-insensitive (RFC 9110)
      credentials: () => credentialsNow(ctx, deps),
      body: ctx,
      trace: traceFrom(ctx),
      ...(wait ? { beforeSend: (n: number) => checkWaitRoom(deps, n) } : {}),
    });
    if (wait && (sent.batch ? sent.results.accepted > 0 : sent.results[0]?.ok)) {
      await answerWaited(ctx, deps, name, sent);
      return;
    }
    const answer = sendAnswer(name, mime, sent);
    if (!sent.batch && answer.status === 202 && ctx.accepts('json', 'html') === 'html') {
      // A browser form: back to the queue page (post/redirect/get).
      ctx.set(answer.headers);
      ctx.status = 303;
      ctx.redirect(`/queues/${encodeURIComponent(name)}?sent=${encodeURIComponent((sent.results[0] as { id: string }).id)}`);
      return;
    }
    ctx.set(answer.headers);
    ctx.status = answer.status;
    if (answer.json === undefined) ctx.body = answer.body;
    else {
      // The same Content-Type Koa gives an object body.
      ctx.type = 'application/json; charset=utf-8';
      ctx.body = await answer.json;
    }
  });
}

/** What `POST /queues/:name` needs of a request, whichever server parsed it (Koa, or fast-send.ts). */
export interface SendRequest {
  name: string;
  /** Media type, lower case, no parameters. */
  mime: string;
  /** The charset parameter, lower case ('' when none). */
  charset: string;
  /** The request's credentials: at once, or a promise when they take a check (credentialsNow). Throws or rejects with the refusal. */
  credentials: () => CredentialSource | Promise<CredentialSource>;
  body: BodyContext;
  trace: TraceInput | undefined;
  /** Called with the number of entries once they are decoded, before they are sent (?wait=1's room check). */
  beforeSend?: (entries: number) => void;
}

/** A single message's result, or a batch's results (compact: BatchResults). */
export type SendAccepted = { dest: Destination; batch: false; results: EntryResult[] } | { dest: Destination; batch: true; results: BatchResults };

/**
 * The route up to ingest: queue name, charset, credentials and queue (before any body byte: a
 * wrong password must not learn anything from validation), the body decoded once by content
 * type (a browser form may have been read by the CSRF guard already; other bodies are decoded
 * and split in slices, so a large batch never holds the event loop), then ingest. Throws
 * DaemonErrors for whole-request problems.
 */
export async function acceptSend(deps: Pick<AppDeps, 'config' | 'ingest' | 's3'>, r: SendRequest): Promise<SendAccepted> {
  const { config, ingest } = deps;
  checkQueueName(r.name);
  const charset = r.charset;
  if (charset !== '' && charset !== 'utf-8' && charset !== 'utf8' && charset !== 'us-ascii') {
    throw new DaemonError('UnsupportedCharset', `charset ${JSON.stringify(charset)} is not supported; send UTF-8`);
  }
  // Awaited only when they must be: a cached queue and known credentials cost no promise (issue 14).
  const c = r.credentials();
  const credentials = typeof (c as { then?: unknown }).then === 'function' ? await c : (c as CredentialSource);
  const dest = ingest.cachedDestination(credentials, r.name) ?? (await ingest.destination(credentials, r.name));
  // With --s3-bucket a raw body past the S3 threshold is streamed to its payload file instead.
  const policy = deps.s3?.policy;
  // A form is one message (`one`); other bodies are decoded into `parsed`: one message or a batch.
  let one: IngestEntry | undefined;
  let parsed: ParsedSend | FramedBatch | undefined;
  if (policy && isRawBody(r.mime) && !hasBody(r.body)) parsed = await rawOrStreamed(r.body, policy, dest, config.maxRequestBytes);
  else if (r.mime === FORM) {
    // The route starts as the headers are parsed, before the body they came with: a turn later
    // a small form is all in the request's buffer, read at once (formNow), without the body
    // read's listeners and promise (issue 14).
    if (bodyPending(r.body)) await NEXT_TURN;
    const form = formNow(r.body, config.maxRequestBytes);
    one = formEntry(form instanceof Promise ? await form : form);
  } else {
    // NDJSON, JSON text sequences and JSON in parts, never joined whole (decodeUtf8Parts); a raw body is one text.
    const cut = partsCut(r.mime);
    parsed = await frameSendSliced(r.mime, cut === undefined ? await requestTextSliced(r.body, config.maxRequestBytes) : await requestPartsSliced(r.body, config.maxRequestBytes, cut), config.maxBatchEntries);
  }
  if (parsed === undefined || !parsed.batch) {
    const entries = parsed?.entries;
    r.beforeSend?.(entries === undefined ? 1 : entries.length);
    if (entries?.length === 1) one = entries[0];
    // One message valid as it is: appended and awaited here (an async layer less, issue 14);
    // anything else through ingest.send, which validates it again and answers its refusal.
    const v = one !== undefined ? ingest.validSingle(dest, one, r.trace) : undefined;
    if (v === undefined) return { dest, batch: false, results: await ingest.send(dest, entries ?? [one as IngestEntry], { trace: r.trace }) };
    const accepted = ingest.appendOne(dest, v);
    let ids: string[];
    try {
      ids = await accepted;
    } catch (err) {
      throw ingest.appendFailure(err, dest);
    }
    return { dest, batch: false, results: [{ ok: true, id: ids[0] as string, message: v.message }] };
  }
  // A batch is decoded, validated and recorded a piece at a time (Ingest.sendBatch).
  const source = 'source' in parsed ? parsed.source : entriesSource(parsed.entries);
  if (source.count === 0) throw new DaemonError('EmptyBatch');
  r.beforeSend?.(source.count);
  return { dest, batch: true, results: await ingest.sendBatch(dest, source, { trace: r.trace }) };
}

/** A send's answer: an object to write as JSON, or (a batch's) the JSON text itself, when it is built. */
export type SendAnswer = { status: number; headers: Record<string, string>; body: object; json?: undefined } | { status: number; headers: Record<string, string>; body?: undefined; json: Promise<string> };

/**
 * The answer to an accepted send: 202 with the id (one message; its refusal is thrown as the
 * DaemonError it is), or per entry (a batch: 202 when any entry was accepted, else 400). A queue
 * SQS could not be asked about yet is said so (`queueVerified: false`).
 */
export function sendAnswer(name: string, mime: string, sent: SendAccepted): SendAnswer {
  const { dest } = sent;
  // SQS could not be asked about this queue yet: accepted, verified before delivery.
  const unverified = !isVerified(dest);
  if (!sent.batch) {
    const only = sent.results[0] as EntryResult;
    if (!only.ok) {
      const e = only.error;
      // A form's error names the form's fields (group_id), a JSON send's the JSON names (groupId).
      const form = mime === FORM;
      const field = e.field && form ? formFieldName(e.field) : e.field;
      throw new DaemonError(e.code, form ? withFormFieldNames(e.message) : e.message, { status: e.status, ...(field ? { details: { field } } : {}) });
    }
    const headers: Record<string, string> = { 'x-message-id': only.id };
    if (unverified) headers['x-queue-verified'] = 'false';
    const answer: Record<string, unknown> = unverified ? { id: only.id, queue: name, queueVerified: false } : { id: only.id, queue: name };
    if (only.offload) answer.s3 = { bucket: only.offload.bucket, key: only.offload.key, bytes: only.offload.bytes };
    return { status: 202, headers, body: answer };
  }
  // A batch's answer is its JSON text, built a slice of entries a turn (batchReplyJson).
  const accepted = sent.results.accepted;
  return {
    status: accepted === 0 ? 400 : 202,
    headers: unverified && accepted > 0 ? { 'x-queue-verified': 'false' } : {},
    json: batchReplyJson(name, sent.results, unverified),
  };
}

/** Has an earlier reader (the CSRF guard) read the body already? */
function hasBody(ctx: BodyContext): boolean {
  return (ctx.state as { body?: unknown }).body !== undefined;
}

/**
 * A raw body with --s3-bucket: the ordinary single message while it is within the queue's S3
 * threshold, else streamed into the payload file of a new message id (src/http/large-body.ts).
 */
async function rawOrStreamed(ctx: BodyContext, policy: OffloadPolicy, dest: Destination, maxRequestBytes: number): Promise<ParsedSend> {
  const id = newMessageId();
  const r = await readRawBody(ctx.req, { memLimit: Math.min(thresholdFor(policy, dest.limits), maxRequestBytes), payloads: policy.payloads, id, maxPayloadBytes: policy.maxPayloadBytes });
  if ('payloadBytes' in r) return { batch: false, entries: [{ input: {}, id, payloadBytes: r.payloadBytes }] };
  if (r.buf.length > maxRequestBytes) throw new DaemonError('RequestTooLarge', `request body is larger than ${maxRequestBytes} bytes (--max-request-bytes)`);
  return { batch: false, entries: [{ input: { body: await decodeUtf8Sliced(r.buf) } }] };
}

/** Trace context of the request: X-Amzn-Trace-Id and the W3C traceparent/tracestate headers (`get` gives '' when absent, as Koa's ctx.get). */
export function traceFrom(headers: { get(name: string): string }): TraceInput | undefined {
  const amzn = headers.get('x-amzn-trace-id');
  const parent = headers.get('traceparent');
  if (amzn === '' && parent === '') return undefined;
  const t: TraceInput = {};
  if (amzn !== '') t.amznTraceId = amzn;
  if (parent !== '') t.traceparent = parent;
  const state = headers.get('tracestate');
  if (state !== '') t.tracestate = state;
  return t;
}

/**
 * `?wait=1`: the messages went through spool and batcher as always; the answer waits until SQS
 * accepted or refused each (at most --wait-timeout-ms). One message: 201 with SQS's MessageId (and
 * SequenceNumber), SQS's refusal as an error, or 202 with the state so far. A batch: 201 when every
 * accepted entry was delivered, else 202, with each entry's outcome.
 */
async function answerWaited(ctx: Context, deps: AppDeps, name: string, sent: SendAccepted): Promise<void> {
  const ids: string[] = [];
  const n = sent.batch ? sent.results.count : sent.results.length;
  for (let i = 0; i < n; i++) {
    const id = sent.batch ? sent.results.id(i) : (sent.results[i] as EntryResult).ok ? (sent.results[i] as { id: string }).id : undefined;
    if (id !== undefined) ids.push(id);
  }
  const statuses = await (deps.tracker as NonNullable<AppDeps['tracker']>).wait(ids, deps.config.waitTimeoutMs);
  const outcomes = statuses.map(waitedResult);
  if (!sent.batch) {
    const only = outcomes[0] as ReturnType<typeof waitedResult>;
    ctx.set('x-message-id', ids[0] as string);
    if (only.status === 201 && typeof only.body.messageId === 'string') ctx.set('x-sqs-message-id', only.body.messageId);
    ctx.status = only.status;
    const first = sent.results[0];
    // Where the payload went, as the 202 without ?wait says it.
    const s3 = first?.ok && first.offload ? { s3: { bucket: first.offload.bucket, key: first.offload.key, bytes: first.offload.bytes } } : {};
    ctx.body = { ...only.body, queue: name, ...s3 };
    return;
  }
  const results = sent.results;
  let k = 0;
  const out = new Array<unknown>(results.count);
  for (let i = 0; i < results.count; i++) {
    const e = results.error(i);
    out[i] = e === undefined ? (outcomes[k++] as ReturnType<typeof waitedResult>).body : { error: e.message === undefined ? { code: e.code } : { code: e.code, message: e.message } };
  }
  const delivered = outcomes.filter((o) => o.status === 201).length;
  ctx.status = delivered === outcomes.length ? 201 : 202;
  ctx.body = { queue: name, accepted: ids.length, delivered, rejected: results.count - ids.length, results: out };
}
