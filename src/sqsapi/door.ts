/**
 * The SQS API door: AWS JSON 1.0 (`POST /`, `X-Amz-Target: AmazonSQS.<Action>`) and Query
 * (`Action=...` in a form body or the query string, at `/` or at a queue URL's path) on the
 * daemon's port. SendMessage and SendMessageBatch are answered here (send.ts); everything else
 * is forwarded to SQS (forward.ts). Both protocols share one handler: Query requests are
 * decoded to the JSON shapes and the JSON results encoded back to XML (query.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import { readBody } from '../http/body.js';
import type { AppDeps } from '../http/deps.js';
import { fromBrowser } from '../http/guards.js';
import { isSqsApiError, SqsApiError } from './errors.js';
import { forward } from './forward.js';
import { errorXml, jsonToXml, parseQuery, queryToJson } from './query.js';
import { sendMessage, sendMessageBatch, type SendDeps } from './send.js';
import { type CallerKeys, verifySignature } from './sigv4.js';
import { QueueUrls } from './urls.js';

export type Protocol = 'json' | 'query';

const JSON_TYPE = 'application/x-amz-json-1.0';
/** The daemon's own two-segment routes (/queues/:name, /ui/..., /dead-letters/:id): never a queue URL path. */
const OWN_PREFIXES = new Set(['queues', 'ui', 'dead-letters']);
const TARGET_PREFIX = 'AmazonSQS.';
/**
 * Largest SQS API request body (or --max-request-bytes if lower). SQS's own requests carry at
 * most 1 MiB of messages; JSON escaping (\u0001 is six characters) or Query percent-encoding
 * (nine characters for a three-byte character) can make that up to about 6 MiB on the wire.
 */
export const SQS_API_MAX_BODY_BYTES = 8 * 1_048_576;

/** Which SQS protocol a request speaks, or undefined when it is for another route. */
export function protocolOf(ctx: Context): Protocol | undefined {
  const path = ctx.path;
  if (ctx.method === 'POST' && ctx.get('x-amz-target').startsWith(TARGET_PREFIX)) return path === '/' || isQueuePath(path) ? 'json' : undefined;
  if (path !== '/' && !isQueuePath(path)) return undefined;
  if (ctx.method === 'GET') return typeof ctx.query.Action === 'string' ? 'query' : undefined;
  if (ctx.method === 'POST') {
    // At "/" every form POST is a Query call (no other route takes one there); at a queue path too.
    const type = ctx.request.type.trim().toLowerCase();
    return type === 'application/x-www-form-urlencoded' || typeof ctx.query.Action === 'string' ? 'query' : undefined;
  }
  return undefined;
}

function isQueuePath(path: string): boolean {
  const m = /^\/([^/]+)\/[^/]+\/?$/.exec(path);
  return m !== null && !OWN_PREFIXES.has(m[1] as string);
}

export interface SqsApiOptions {
  /** Callers allowed, by SigV4 signature; undefined admits any local caller. */
  keys?: CallerKeys | undefined;
}

/** Koa middleware serving the SQS API; other requests pass through to the next middleware. */
export function sqsApi(deps: AppDeps, options: SqsApiOptions = {}) {
  const { config, log } = deps;
  const client = deps.apiClient ?? deps.client;
  const urls = new QueueUrls(client.endpoint, config.allowedHosts);
  const { ingest } = deps;
  const keys = options.keys ?? deps.callerKeys;

  return async function serveSqsApi(ctx: Context, next: Next): Promise<void> {
    const protocol = protocolOf(ctx);
    if (protocol === undefined) return next();
    const requestId = randomUUID();
    let action = '';
    try {
      if (fromBrowser(ctx)) {
        // A web page could post a Query form here; SDKs never send Origin, Referer or Sec-Fetch-Site.
        throw new SqsApiError(403, 'AccessDenied', 'SQS API requests from a web browser are refused (cross-site request protection); use an AWS SDK or the AWS CLI.');
      }
      const daemonCredentials = config.credentials === 'chain' ? deps.auth.daemonCredentials : undefined;
      if (!daemonCredentials) {
        throw new SqsApiError(
          403,
          'DaemonCredentialsRequired',
          'The SQS API needs the daemon\'s own AWS credentials: an SDK signs with a secret the daemon never sees, so it cannot sign onward with it. Start sqs-accelerator with --credentials chain (this daemon runs with pass-through credentials).',
        );
      }
      // With --s3-bucket an SDK may send messages past SQS's limit (they go through S3): up to --max-request-bytes.
      const limit = deps.s3?.policy ? config.maxRequestBytes : Math.min(config.maxRequestBytes, SQS_API_MAX_BODY_BYTES);
      const body = await readBody(ctx.req, limit).catch((err: unknown) => {
        const e = err as { status?: number; message?: string };
        // --max-inflight-body-bytes: SDKs retry ServiceUnavailable with backoff.
        if (e.status === 503) throw new SqsApiError(503, 'ServiceUnavailable', e.message ?? 'retry shortly', { headers: { 'retry-after': '1' } });
        throw new SqsApiError(e.status === 413 ? 413 : 400, e.status === 413 ? 'RequestEntityTooLarge' : 'InvalidRequest', e.message ?? 'could not read the request');
      });
      if (keys) verifySignature({ method: ctx.method, url: ctx.url, headers: ctx.req.headers, body }, keys);

      let params: Record<string, unknown>;
      if (protocol === 'json') {
        action = ctx.get('x-amz-target').slice(TARGET_PREFIX.length);
        params = parseJsonBody(body);
      } else {
        const form = parseQuery(ctx.querystring);
        if (ctx.method === 'POST') for (const [k, v] of parseQuery(utf8(body))) form.set(k, v);
        action = form.get('Action') ?? '';
        if (action === '') throw new SqsApiError(400, 'MissingAction', 'The request must contain the parameter Action.');
        params = queryToJson(action, form);
        // Older SDKs post to the queue URL itself and leave QueueUrl out.
        if (params.QueueUrl === undefined && ctx.path !== '/') params.QueueUrl = `${ctx.protocol}://${ctx.get('host') || ctx.host}${ctx.path}`;
      }
      const localOrigin = `http://${ctx.get('host') || `${config.host}:${config.port}`}`;
      const sendDeps: SendDeps = { credentials: daemonCredentials, ingest, urls, log, offload: deps.s3?.policy !== undefined };
      let result: Record<string, unknown> | 'forward' = 'forward';
      if (action === 'SendMessage' || action === 'SendMessageBatch') {
        (ctx.state as { ackedSend?: boolean }).ackedSend = true; // ack latency metric, as for POST /queues/:name
        result = action === 'SendMessage' ? await sendMessage(sendDeps, params) : await sendMessageBatch(sendDeps, params);
      }
      if (result === 'forward') {
        result = await forward({ client, credentials: daemonCredentials, urls, requestTimeoutMs: config.requestTimeoutMs }, action, params, localOrigin);
      }
      ctx.status = 200;
      ctx.set('x-amzn-requestid', requestId);
      if (protocol === 'json') {
        ctx.type = JSON_TYPE;
        ctx.body = JSON.stringify(result);
      } else {
        ctx.type = 'text/xml';
        ctx.body = jsonToXml(action, result, requestId);
      }
    } catch (err) {
      let e: SqsApiError;
      if (isSqsApiError(err)) e = err;
      else {
        log.error({ err: { name: (err as Error)?.name, message: (err as Error)?.message, stack: (err as Error)?.stack }, action }, 'unexpected error while serving an SQS API call');
        e = new SqsApiError(500, 'InternalFailure', 'internal error; see the daemon log');
      }
      ctx.status = e.status;
      ctx.set(e.headers);
      ctx.set('x-amzn-requestid', requestId);
      if (protocol === 'json') {
        ctx.set('x-amzn-query-error', `${e.queryCode};${e.fault}`);
        ctx.type = JSON_TYPE;
        ctx.body = JSON.stringify({ __type: e.type, message: e.message });
      } else {
        ctx.type = 'text/xml';
        ctx.body = errorXml(e, requestId);
      }
    }
  };
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function utf8(body: Buffer): string {
  try {
    return decoder.decode(body);
  } catch {
    throw new SqsApiError(400, 'MalformedQueryString', 'the request body is not valid UTF-8');
  }
}

function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8(body));
  } catch (err) {
    if (isSqsApiError(err)) throw err;
    throw new SqsApiError(400, 'SerializationException', 'the request body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new SqsApiError(400, 'SerializationException', 'the request body must be a JSON object');
  return parsed as Record<string, unknown>;
}
