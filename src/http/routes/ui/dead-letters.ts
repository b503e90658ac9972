import type Router from '@koa/router';
import type { Context } from 'koa';
import type { DeadLetter, DeadLetterStore, Owner } from '../../../delivery/store.js';
import { payloadUploader, replayDeadLetters } from '../../../spool/replay.js';
import { type PurgeResult, purgeDeadLetters } from '../../../spool/purge.js';
import { csrfToken } from '../../csrf.js';
import type { AppDeps } from '../../deps.js';
import { answerError } from './answer.js';
import { type Fields, field, flag, readFields } from '../../ui/form.js';
import { type Flash, sendHtml, wantsHtml } from '../../ui/layout.js';
import { confirmDeadLettersPage, type DeadLetterListData, deadLetterListPage, deadLetterPage, replayResultsPage, type Selection } from '../../ui/pages/dead-letters.js';
import { credentialsOf, deadLetterOwner, intQuery, query, queryAll, userLabel } from './request.js';
import { checkQueueName } from '../../../ingest/index.js';

/** Most letters one replay or purge request acts on ("all" takes the oldest this many). */
export const MAX_DEAD_LETTERS_PER_ACTION = 1000;
/** Letters named on a confirmation page (the rest are counted). */
const CONFIRM_LISTED = 50;
/**
 * Most body characters in one page of the list (JSON or HTML): past them the page ends early
 * (`items` shorter than `limit`; page on from `offset` + the items got). 1,000 letters of 1 MiB
 * each were a gigabyte built in memory for one answer.
 */
export const LIST_BODY_CHARS = 8 * 1024 * 1024;
const PER_PAGE = 50;
const ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * Dead letters: the list (HTML or JSON), one letter, and replay and purge of chosen ones or all
 * (of a queue), each behind a confirmation page and the CSRF guard for browsers. In pass-through
 * mode a caller sees and acts on only the letters sent with its own key pair: bodies are message
 * content, and one daemon may serve several apps with different credentials. Replay goes through
 * src/spool/replay.ts, as the CLI's does, with the caller's credentials (in pass-through mode the
 * same pair the letter was sent with).
 */
export function registerDeadLetterRoutes(router: Router, deps: AppDeps): void {
  const log = deps.log.child({ mod: 'dead-letters' });
  const ownerOf = async (ctx: Context): Promise<{ owner?: Owner }> => {
    const creds = await credentialsOf(ctx, deps);
    const owner = deadLetterOwner(deps, creds);
    return owner ? { owner } : {};
  };
  const storeOf = (): DeadLetterStore => {
    const dl = deps.store.deadLetters;
    if (!dl) throw answerError(404, 'NoDeadLetterStore', 'this daemon runs with --durability memory: it keeps no dead letters (they are logged)');
    return dl;
  };

  router.get('/dead-letters', async (ctx) => {
    const o = await ownerOf(ctx);
    const html = wantsHtml(ctx);
    const limit = intQuery(ctx, 'limit', html ? PER_PAGE : 100, 1, 1000);
    const offset = intQuery(ctx, 'offset', 0, 0, 1_000_000_000);
    const queue = queueFilter(ctx);
    const dl = deps.store.deadLetters;
    if (!dl && html) {
      sendHtml(ctx, deadLetterListPage({ scope: 'all', total: 0, offset: 0, limit, items: [] }, { user: userLabel(ctx, deps), flashes: [], memoryOnly: true }));
      return;
    }
    const listed = await storeOf().list({ limit, offset, maxBodyChars: LIST_BODY_CHARS, ...(queue ? { queue } : {}), ...o });
    if (!html) {
      ctx.body = { total: listed.total, offset, limit, items: listed.items };
      return;
    }
    const data: DeadLetterListData = { scope: o.owner ? 'yours' : 'all', total: listed.total, offset, limit, items: listed.items, ...(queue ? { queue } : {}) };
    sendHtml(ctx, deadLetterListPage(data, { user: userLabel(ctx, deps), flashes: resultFlashes(ctx), memoryOnly: false }));
  });

  router.get('/dead-letters/:id', async (ctx) => {
    const o = await ownerOf(ctx);
    const letter = await storeOf().get(ctx.params.id as string, o.owner);
    if (!letter) throw answerError(404, 'NoSuchDeadLetter', `no dead letter ${JSON.stringify(String(ctx.params.id).slice(0, 80))} for these credentials`);
    if (wantsHtml(ctx)) sendHtml(ctx, deadLetterPage(letter, { user: userLabel(ctx, deps) }));
    else ctx.body = letter;
  });

  for (const action of ['replay', 'purge'] as const) {
    router.get(`/${action}-dead-letters`, async (ctx) => {
      const o = await ownerOf(ctx);
      const selection = selectionOf(new Map([['id', queryAll(ctx, 'id')], ['all', queryAll(ctx, 'all')], ['queue', queryAll(ctx, 'queue')]]));
      const store = storeOf();
      const { ids, total } = await chosen(store, selection, o.owner);
      if (total === 0) throw answerError(404, 'NoSuchDeadLetter', 'none of the chosen dead letters exist for these credentials (already replayed or purged?)');
      if (!wantsHtml(ctx)) {
        ctx.body = { total, ids, confirm: { method: 'POST', path: `/${action}-dead-letters` } };
        return;
      }
      // Only the letters the page names are read.
      const letters = (await Promise.all(ids.slice(0, CONFIRM_LISTED).map((id) => store.get(id, o.owner)))).filter((l): l is DeadLetter => l !== undefined);
      const data = { selection, letters, total, max: MAX_DEAD_LETTERS_PER_ACTION };
      sendHtml(ctx, confirmDeadLettersPage(action, data, { user: userLabel(ctx, deps), token: csrfToken(ctx) }));
    });
  }

  router.post('/replay-dead-letters', async (ctx) => {
    const creds = await credentialsOf(ctx, deps);
    const owner = deadLetterOwner(deps, creds);
    const store = storeOf();
    const { ids } = await chosen(store, selectionOf(await readFields(ctx)), owner);
    const spoolDir = deps.store.info().dir;
    const uploadPayload = deps.s3 && spoolDir ? payloadUploader(deps.s3.client, spoolDir) : undefined;
    const results = await replayDeadLetters(store, ids, { client: deps.client, credentials: () => creds, ...(uploadPayload ? { uploadPayload } : {}) });
    const replayed = results.filter((r) => r.ok).length;
    log.info({ replayed, failed: results.length - replayed, by: userLabel(ctx, deps) }, 'dead letters replayed');
    const failed = results.length - replayed;
    if (wantsHtml(ctx)) {
      if (failed === 0) {
        ctx.status = 303;
        ctx.redirect(`/dead-letters?replayed=${replayed}`);
        return;
      }
      sendHtml(ctx, replayResultsPage(results, { user: userLabel(ctx, deps) }), replayed > 0 ? 200 : 502);
      return;
    }
    ctx.status = failed > 0 && replayed === 0 ? 502 : 200;
    ctx.body = { replayed, failed, results };
  });

  router.post('/purge-dead-letters', async (ctx) => {
    const creds = await credentialsOf(ctx, deps);
    const owner = deadLetterOwner(deps, creds);
    const store = storeOf();
    const { ids } = await chosen(store, selectionOf(await readFields(ctx)), owner);
    // A large message the daemon offloaded takes its S3 object along, deleted with the caller's credentials (as replay sends).
    const s3 = deps.s3 ? { client: deps.s3.client, credentials: () => creds } : undefined;
    const results = await purgeDeadLetters(store, ids, s3 ? { s3 } : {});
    const purged = results.filter((r) => r.ok).length;
    const objects = results.filter((r) => r.ok && r.deletedObject !== undefined).length;
    const failed = results.filter((r): r is Extract<PurgeResult, { ok: false }> => !r.ok);
    log.info({ purged, objects, failed: failed.length, by: userLabel(ctx, deps) }, 'dead letters purged');
    for (const f of failed) log.warn({ id: f.id, code: f.code, reason: f.message }, 'dead letter kept: its S3 object could not be deleted');
    if (wantsHtml(ctx)) {
      ctx.status = 303;
      ctx.redirect(`/dead-letters?purged=${purged}${objects > 0 ? `&objects=${objects}` : ''}${failed.length > 0 ? `&kept=${failed.length}` : ''}`);
      return;
    }
    ctx.status = failed.length > 0 && purged === 0 ? 502 : 200;
    ctx.body = { purged, deletedObjects: objects, failed: failed.map((f) => ({ id: f.id, code: f.code, message: f.message })) };
  });
}

function queueFilter(ctx: Context): string | undefined {
  const queue = query(ctx, 'queue').trim();
  if (queue === '') return undefined;
  checkQueueName(queue);
  return queue;
}

/** `id` (repeated; `ids` too, for JSON) or `all` (+ optional `queue`); 400 when neither or both. */
function selectionOf(fields: Fields): Selection {
  const ids = [...new Set([...(fields.get('id') ?? []), ...(fields.get('ids') ?? [])].map((s) => s.trim()).filter((s) => s !== ''))];
  const all = flag(fields, 'all');
  if (all && ids.length > 0) throw answerError(400, 'InvalidParameter', 'give dead-letter ids (id, repeated) or all, not both');
  if (all) {
    const queue = field(fields, 'queue');
    if (queue !== '') checkQueueName(queue);
    return queue ? { all: true, queue } : { all: true };
  }
  if (ids.length === 0) throw answerError(400, 'NoDeadLettersSelected', 'select at least one dead letter (parameter id, repeated), or all');
  if (ids.length > MAX_DEAD_LETTERS_PER_ACTION) throw answerError(400, 'TooManyDeadLetters', `at most ${MAX_DEAD_LETTERS_PER_ACTION} dead letters per request`);
  for (const id of ids) if (!ID.test(id)) throw answerError(400, 'InvalidParameter', `${JSON.stringify(id.slice(0, 80))} is not a dead-letter id`);
  return { ids };
}

/**
 * The ids of the letters a selection means that the caller may act on, oldest first, at most MAX
 * per request; `total` before the cap. From the store's index: no letter is read for it.
 */
async function chosen(store: DeadLetterStore, sel: Selection, owner: Owner | undefined): Promise<{ ids: string[]; total: number }> {
  if ('ids' in sel) {
    const ids = await store.owned(sel.ids, owner);
    return { ids, total: ids.length };
  }
  return store.select({ limit: MAX_DEAD_LETTERS_PER_ACTION, ...(sel.queue ? { queue: sel.queue } : {}), ...(owner ? { owner } : {}) });
}

function resultFlashes(ctx: Context): Flash[] {
  const flashes: Flash[] = [];
  const replayed = query(ctx, 'replayed');
  const purged = query(ctx, 'purged');
  if (/^\d{1,6}$/.test(replayed)) flashes.push({ kind: 'ok', text: `Replayed ${replayed} dead letter${replayed === '1' ? '' : 's'}: SQS accepted ${replayed === '1' ? 'it' : 'them'} again.` });
  const objects = query(ctx, 'objects');
  const kept = query(ctx, 'kept');
  if (/^\d{1,6}$/.test(purged)) flashes.push({ kind: 'ok', text: `Purged ${purged} dead letter${purged === '1' ? '' : 's'}${/^\d{1,6}$/.test(objects) ? ` and ${objects} payload object${objects === '1' ? '' : 's'} in S3` : ''}.` });
  if (/^\d{1,6}$/.test(kept)) flashes.push({ kind: 'warn', text: `Kept ${kept} dead letter${kept === '1' ? '' : 's'}: ${kept === '1' ? 'its' : 'their'} S3 object could not be deleted (see the daemon's log); try again later.` });
  return flashes;
}
