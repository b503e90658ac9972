import type Router from '@koa/router';
import type { Context } from 'koa';
import type { Owner } from '../../delivery/store.js';
import type { Credentials } from '../../sqs/types.js';
import { credentialsFor } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { DaemonError } from '../../errors.js';

/**
 * Dead letters as JSON (the UI's status page renders the same store). In pass-through mode a
 * caller sees only the letters sent with its own key pair: bodies are message content, and one
 * daemon may serve several apps with different credentials.
 */
export function registerDeadLetterRoutes(router: Router, deps: AppDeps): void {
  const ownerOf = async (ctx: Context): Promise<Owner | undefined> => {
    const source = await credentialsFor(ctx, deps);
    if (deps.config.credentials === 'chain') return undefined;
    const c = (await source.get()) as Credentials;
    return { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey };
  };
  const storeOf = () => {
    const dl = deps.store.deadLetters;
    if (!dl) throw new DaemonError('NoDeadLetterStore', 'this daemon runs with --durability memory: it keeps no dead letters (they are logged)');
    return dl;
  };

  router.get('/dead-letters', async (ctx) => {
    const owner = await ownerOf(ctx);
    const dl = storeOf();
    const limit = intParam(ctx.query.limit, 100, 1, 1000, 'limit');
    const offset = intParam(ctx.query.offset, 0, 0, Number.MAX_SAFE_INTEGER, 'offset');
    const queue = typeof ctx.query.queue === 'string' && ctx.query.queue !== '' ? ctx.query.queue : undefined;
    const listed = dl.list({ limit, offset, ...(queue ? { queue } : {}), ...(owner ? { owner } : {}) });
    ctx.body = { total: listed.total, offset, limit, items: listed.items };
  });

  router.get('/dead-letters/:id', async (ctx) => {
    const owner = await ownerOf(ctx);
    const letter = storeOf().get(ctx.params.id as string, owner);
    if (!letter) throw new DaemonError('NoSuchDeadLetter', `no dead letter ${JSON.stringify(String(ctx.params.id).slice(0, 80))} for these credentials`);
    ctx.body = letter;
  });
}

function intParam(raw: unknown, fallback: number, min: number, max: number, name: string): number {
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) throw new DaemonError('InvalidParameter', `${name} must be a whole number from ${min} to ${max}`);
  return n;
}
