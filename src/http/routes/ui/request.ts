import type { Context } from 'koa';
import type { Owner } from '../../../delivery/store.js';
import { DaemonError, sqsFailure } from '../../../errors.js';
import { checkQueueName } from '../../../ingest/index.js';
import { listQueueUrls } from '../../../sqs/admin.js';
import { BAD_CREDENTIAL_CODES, isSqsError } from '../../../sqs/errors.js';
import type { Credentials } from '../../../sqs/types.js';
import { credentialsFor } from '../../auth.js';
import { basicUser } from '../../csrf.js';
import type { AppDeps } from '../../deps.js';

/** The credentials this request signs with (401 without Basic auth in pass-through mode). */
export async function credentialsOf(ctx: Context, deps: AppDeps): Promise<Credentials> {
  const source = await credentialsFor(ctx, deps);
  try {
    return await source.get();
  } catch (err) {
    throw sqsFailure(err);
  }
}

/**
 * Whose dead letters this request may see: in pass-through mode only the letters sent with
 * this exact credential pair (they hold message bodies); with the daemon's own credentials, all.
 */
export function deadLetterOwner(deps: AppDeps, creds: Credentials): Owner | undefined {
  return deps.config.credentials === 'chain' ? undefined : { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey };
}

/** Who the header says is signed in: the access key id, never the secret. */
export function userLabel(ctx: Context, deps: AppDeps): string {
  if (deps.config.credentials === 'chain') return 'daemon credentials';
  return basicUser(ctx);
}

/**
 * SQS failures of management calls: the caller's own mistakes (name taken, invalid attribute,
 * purge too soon) as 400/409 with SQS's code; the rest as every SQS failure (src/errors.ts).
 */
export function adminError(err: unknown, queueName?: string): Error {
  return sqsFailure(err, queueName === undefined ? { management: true } : { queueName, management: true });
}

export type Verified = { ok: true } | { ok: false; code: string; message: string };

/**
 * One cheap call (ListQueues, 1 result) to learn whether SQS accepts these credentials. Wrong
 * credentials throw 401 (the browser asks again); an unreachable or refusing SQS is reported,
 * not thrown, so pages about the daemon itself still work during an outage.
 */
export async function verifyCredentials(deps: AppDeps, creds: Credentials): Promise<Verified> {
  try {
    await listQueueUrls(deps.client, creds, { maxResults: 1 });
    return { ok: true };
  } catch (err) {
    if (!isSqsError(err)) throw err;
    if (BAD_CREDENTIAL_CODES.has(err.code)) throw sqsFailure(err);
    // With failover upstreams the pages manage the primary's queues; delivery may be going elsewhere meanwhile.
    const up = deps.upstreams;
    const unreachable = up
      ? `the primary upstream ${up.primary.config.name} could not be reached just now${up.anyHealthy() ? '; messages go to the next healthy upstream (Daemon status, Upstreams)' : ''}`
      : 'SQS could not be reached just now';
    const message = err.disposition === 'retry' ? unreachable : `SQS answered: ${err.message}`;
    return { ok: false, code: err.code, message };
  }
}

/** All values of a query parameter. */
export function queryAll(ctx: Context, name: string): string[] {
  const v = ctx.query[name];
  if (v === undefined) return [];
  return Array.isArray(v) ? v : [v];
}

/** First value of a query parameter, or ''. */
export function query(ctx: Context, name: string): string {
  return queryAll(ctx, name)[0] ?? '';
}

/** An integer query parameter within bounds; 400 naming the parameter otherwise. */
export function intQuery(ctx: Context, name: string, fallback: number, min: number, max: number): number {
  const raw = query(ctx, name);
  if (raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new DaemonError('InvalidParameter', `query parameter ${name} must be a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

/**
 * The one error wrapper of the UI routes: runs a management call, turning SQS's refusals into
 * the daemon's answers (src/errors.ts sqsFailure, as management calls: 400/409 for the caller's
 * own mistakes, 404 naming the queue). Bugs pass unchanged (500, logged with their stack).
 */
export async function managed<T>(call: () => Promise<T>, queueName?: string): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw adminError(err, queueName);
  }
}

/** The checked `:name` of the route. */
export function queueParam(ctx: Context): string {
  const name = ctx.params.name as string;
  checkQueueName(name);
  return name;
}

/** Whole seconds since the daemon started. */
export function uptimeSeconds(deps: Pick<AppDeps, 'startedAt'>): number {
  return Math.max(0, Math.floor((Date.now() - deps.startedAt) / 1000));
}

/** `{ owner }` for dead-letter listings in pass-through mode, `{}` with the daemon's credentials. */
export function ownerOption(deps: AppDeps, creds: Credentials): { owner?: Owner } {
  const owner = deadLetterOwner(deps, creds);
  return owner ? { owner } : {};
}
