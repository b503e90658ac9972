import type Router from '@koa/router';
import type { Context } from 'koa';
import { DaemonError } from '../../errors.js';
import { checkQueueName, type EntryResult } from '../../ingest/index.js';
import type { Destination } from '../../sqs/resolver.js';
import { credentialsFor } from '../auth.js';
import { requestForm, requestText } from '../body.js';
import { decodeForm, type ParsedSend, parseSend } from '../decode.js';
import type { AppDeps } from '../deps.js';
import { formFieldName, withFormFieldNames } from '../form-names.js';

const FORM = 'application/x-www-form-urlencoded';

/** Resolves a queue for this request's credentials (401 without them), through ingest. */
export async function destinationFor(deps: Pick<AppDeps, 'config' | 'auth' | 'ingest'>, ctx: Context, queueName: string): Promise<Destination> {
  return deps.ingest.destination(await credentialsFor(ctx, deps), queueName);
}

/**
 * `POST /queues/:name`: the REST door's adapter onto ingest. Decodes the body once by content
 * type, hands the entries to ingest, and answers 202 with the ids (one message), or per entry
 * (a batch); a browser form is redirected back to the queue page.
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
    // Read once: the CSRF guard may already have read (and parsed) a browser form.
    const parsed: ParsedSend = mime === FORM ? decodeForm(await requestForm(ctx, config.maxRequestBytes)) : parseSend(mime, await requestText(ctx, config.maxRequestBytes));
    if (parsed.batch && parsed.entries.length === 0) throw new DaemonError('EmptyBatch');

    const results = await ingest.send(dest, parsed.entries);

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
      if (ctx.accepts('json', 'html') === 'html') {
        // A browser form: back to the queue page (post/redirect/get).
        ctx.status = 303;
        ctx.redirect(`/queues/${encodeURIComponent(name)}?sent=${encodeURIComponent(only.id)}`);
        return;
      }
      ctx.body = { id: only.id, queue: name };
      return;
    }
    let accepted = 0;
    const out = results.map((r) => {
      if (!r.ok) return { error: { code: r.error.code, message: r.error.message } };
      accepted += 1;
      return { id: r.id };
    });
    ctx.status = accepted === 0 ? 400 : 202;
    ctx.body = { queue: name, accepted, rejected: out.length - accepted, results: out };
  });
}
