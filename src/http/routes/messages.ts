import type Router from '@koa/router';
import type { Context } from 'koa';
import type { MessageStatus } from '../../delivery/tracker.js';
import { ACCESS_DENIED_CODES, BAD_CREDENTIAL_CODES, QUEUE_MISSING_CODES } from '../../sqs/errors.js';
import { credentialsFor } from '../auth.js';
import type { AppDeps } from '../deps.js';
import { DaemonError } from '../../errors.js';

/** Messages waited for at once (POST ...?wait=1), all requests together; past it, 503. */
export const MAX_WAITING = 100_000;

/**
 * `GET /messages/:id`: what became of a recent message, from a bounded window in memory
 * (--message-window): spooled, in flight, delivered (with SQS's MessageId and SequenceNumber), or
 * dead-lettered (with the reason). Only the credentials that sent it see it (in pass-through mode).
 */
export function registerMessageRoutes(router: Router, deps: AppDeps): void {
  router.get('/messages/:id', async (ctx) => {
    const id = ctx.params.id as string;
    const owner = (await credentialsFor(ctx, deps)).key;
    const status = deps.tracker?.get(id, owner);
    if (!status) {
      throw new DaemonError('UnknownMessage', `no recent message with id ${JSON.stringify(id.slice(0, 100))} sent with these credentials: the daemon keeps the state of its last ${deps.config.messageWindow} messages in memory, since it started`);
    }
    ctx.set('cache-control', 'no-store');
    ctx.body = status;
  });
}

/** Does this send ask to wait for SQS's answer (`?wait=1`, `?wait=true`)? */
export function wantsWait(ctx: Context): boolean {
  const w = ctx.query.wait;
  return w === '1' || w === 'true';
}

/** Refuses a ?wait=1 send before anything is accepted when too many messages are waited for already. */
export function checkWaitRoom(deps: AppDeps, count: number): void {
  if (!deps.tracker) throw new DaemonError('WaitUnavailable');
  if (deps.tracker.waiters + count > MAX_WAITING) {
    throw new DaemonError('TooManyWaiting', `${MAX_WAITING} messages are already waited for (?wait=1); retry later, or send without wait`);
  }
}

/** What a send that waited answers for one message: SQS's ids, SQS's refusal, or the state so far. */
export function waitedResult(s: MessageStatus): { status: number; body: Record<string, unknown> } {
  if (s.state === 'delivered') {
    return { status: 201, body: { id: s.id, messageId: s.messageId, ...(s.sequenceNumber !== undefined ? { sequenceNumber: s.sequenceNumber } : {}) } };
  }
  if (s.state === 'dead-lettered') {
    const code = s.error?.code ?? 'Unknown';
    return { status: refusalStatus(code), body: { id: s.id, state: s.state, error: { code, message: s.error?.message ?? '' } } };
  }
  // Not answered by SQS within --wait-timeout-ms: still accepted, still on its way.
  return { status: 202, body: { id: s.id, state: s.state, ...(s.error ? { lastError: s.error } : {}) } };
}

function refusalStatus(code: string): number {
  if (QUEUE_MISSING_CODES.has(code)) return 404;
  if (BAD_CREDENTIAL_CODES.has(code)) return 401;
  if (ACCESS_DENIED_CODES.has(code)) return 403;
  if (code === 'MessageTooLong') return 413;
  if (code === 'InvalidMessageContents' || code === 'InvalidParameterValue') return 400;
  return 502;
}
