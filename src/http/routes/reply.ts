import type Router from '@koa/router';
import type { Context } from 'koa';
import { newMessageId } from '../../delivery/envelope.js';
import { DaemonError } from '../../errors.js';
import { checkQueueName } from '../../ingest/index.js';
import type { Reply } from '../../worker/reply-hub.js';
import { credentialsFor } from '../auth.js';
import { requestText } from '../body.js';
import { parseSend } from '../decode.js';
import type { AppDeps } from '../deps.js';
import { destinationFor } from './send.js';

/**
 * Request/reply: `POST /queues/:name?reply=<seconds>` sends one message with `ReplyTo` = this
 * daemon's reply queue and `CorrelationId` = the message's id, and answers once the reply comes
 * (200, the reply's body, its attributes as `X-Reply-Attr-*` headers) or when the wait is over
 * (504 ReplyTimeout with the id). `GET /replies/:id` reads a reply that came too late.
 * Without `?reply` the request goes on to the ordinary send route.
 */

const ID = /^[A-Za-z0-9-]{1,80}$/;

function answerReply(ctx: Context, r: Reply): void {
  ctx.status = 200;
  ctx.set('x-message-id', r.id);
  for (const [k, v] of Object.entries(r.attributes)) {
    // Headers cannot carry every attribute value; the name must be a token.
    if (/^[A-Za-z0-9_.-]+$/.test(k) && /^[\t\x20-\x7e]*$/.test(v)) ctx.set(`x-reply-attr-${k}`, v);
  }
  ctx.type = r.attributes['content-type'] ?? 'text/plain; charset=utf-8';
  ctx.body = r.body;
}

export function registerReplyRoutes(router: Router, deps: AppDeps): void {
  const { config } = deps;

  router.post('/queues/:name', async (ctx, next) => {
    const raw = ctx.query.reply;
    if (raw === undefined) return next();
    const hub = deps.replies;
    if (!hub) throw new DaemonError('NotImplemented', 'request/reply is not available in this daemon');
    const name = ctx.params.name as string;
    checkQueueName(name);
    if (typeof raw !== 'string' || !/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > config.replyMaxWaitSeconds) {
      throw new DaemonError('InvalidReplyWait', `reply must be whole seconds from 1 to ${config.replyMaxWaitSeconds} (--reply-max-wait); got ${JSON.stringify(String(raw).slice(0, 20))}`);
    }
    const waitMs = Number(raw) * 1000;
    const creds = await credentialsFor(ctx, deps);
    const dest = await destinationFor(deps, ctx, name);
    const mime = ctx.request.type.trim().toLowerCase();
    const parsed = parseSend(mime, await requestText(ctx, config.maxRequestBytes));
    const entry = parsed.entries[0];
    if (parsed.batch || parsed.entries.length !== 1 || !entry) throw new DaemonError('ReplyNeedsOneMessage');
    if ('error' in entry) throw new DaemonError(entry.error.code, entry.error.message, { status: entry.error.status });
    const attrs = entry.input.attributes;
    if (attrs !== undefined && (attrs === null || typeof attrs !== 'object' || Array.isArray(attrs))) {
      throw new DaemonError('InvalidAttributes', 'attributes must be an object mapping names to values', { status: 400 });
    }
    const id = newMessageId();
    const input = { ...entry.input, attributes: { ...(attrs as Record<string, unknown> | undefined), ReplyTo: hub.queueName, CorrelationId: id } };
    try {
      await hub.prepare(creds);
    } catch (err) {
      const e = err as { code?: string; message?: string };
      if (e.code === 'TooManyWaiting') throw new DaemonError('TooManyWaiting', 'too many requests are waiting for replies; retry later');
      throw new DaemonError('ReplyQueueUnavailable', `${e.message ?? 'the reply queue is unavailable'}; retry later`);
    }
    // Listen first: a fast worker's reply must not arrive before anyone waits for it.
    const replied = hub.wait(creds, id, waitMs);
    try {
      const [result] = await deps.ingest.send(dest, [{ input, id }]);
      if (result && !result.ok) {
        const e = result.error;
        throw new DaemonError(e.code, e.message, { status: e.status, ...(e.field ? { details: { field: e.field } } : {}) });
      }
    } catch (err) {
      hub.cancel(creds, id);
      throw err;
    }
    const reply = await replied;
    if (!reply) {
      throw new DaemonError('ReplyTimeout', `no reply within ${raw} s; the message ${id} was sent and a later reply stays readable at GET /replies/${id} for ${config.replyKeepSeconds} s`, {
        headers: { 'x-message-id': id },
        details: { id },
      });
    }
    answerReply(ctx, reply);
  });

  router.get('/replies/:id', async (ctx) => {
    const id = ctx.params.id as string;
    if (!ID.test(id)) throw new DaemonError('InvalidId');
    const creds = await credentialsFor(ctx, deps);
    const reply = deps.replies?.lateReply(creds, id);
    if (!reply) throw new DaemonError('ReplyNotFound', `no reply for ${id} (not yet, expired after ${config.replyKeepSeconds} s, or sent with other credentials)`);
    answerReply(ctx, reply);
  });
}
