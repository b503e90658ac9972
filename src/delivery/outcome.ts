import type { Logger } from 'pino';
import type { SqsError } from '../sqs/errors.js';
import type { Destination } from '../sqs/resolver.js';
import { type Envelope, unpinned } from './envelope.js';
import type { BatchOutcome } from './sender.js';

/** Entries of one batch dead-lettered with one code, and the error they are recorded with. */
export interface DeadGroup {
  envs: Envelope[];
  error: SqsError;
}

/** What must happen before the retry: credentials fetched again, the queue's settings re-read. */
export const REFRESH_CREDENTIALS = 1;
export const RECHECK_QUEUE = 2;

/**
 * Sorts the entries of a finished batch that were not delivered: into `retry` (sent again) or
 * into `dead` (per code: dead-lettered). Returns what to do before the retry (REFRESH_CREDENTIALS,
 * RECHECK_QUEUE, or both, as bits). The caller passes the containers in, so sorting allocates
 * nothing of its own.
 */
export function sortUndelivered(
  outcome: BatchOutcome,
  dest: Destination,
  started: number,
  maxMessageAgeMs: number,
  log: Logger,
  retry: Envelope[],
  dead: Map<string, DeadGroup>,
): number {
  let todo = 0;
  for (const env of outcome.md5Mismatch) {
    // SQS stored something other than what we sent: send this entry again, not the batch.
    tried(env, started);
    env.lastError = { code: 'MD5Mismatch', message: 'MD5OfMessageBody did not match the body sent' };
    log.warn({ msgId: env.id, queue: dest.queueName }, 'SQS answered with a mismatching MD5 of the body; resending that entry');
    retry.push(env);
  }
  for (const { env, error } of outcome.failed) {
    tried(env, started);
    env.lastError = { code: error.code, message: error.message };
    let disposition = error.disposition;
    if (disposition === 'refresh-credentials') {
      if (dest.credentials.refreshable) todo |= REFRESH_CREDENTIALS;
      else disposition = 'permanent';
    } else if (disposition === 'recheck-queue') {
      // Once per message: the settings re-read, then the limits check before sending says why.
      if (env.rechecked) disposition = 'permanent';
      else {
        env.rechecked = true;
        todo |= RECHECK_QUEUE;
      }
    } else if (disposition === 'split') disposition = 'permanent'; // the sender splits; a leftover is the entry's own
    
    const tooOld = maxMessageAgeMs > 0 && started - env.accepted.at > maxMessageAgeMs;
    if (disposition === 'permanent' || tooOld) {
      const code = tooOld && disposition !== 'permanent' ? 'MaxAgeExceeded' : error.code;
      const message = code === 'MaxAgeExceeded' ? `undelivered after ${maxMessageAgeMs} ms; last error ${error.code}: ${error.message}` : error.message;
      let entry = dead.get(code);
      if (!entry) dead.set(code, (entry = { envs: [], error: { ...error, code, message } as SqsError }));
      entry.envs.push(env);
    } else {
      retry.push(env);
    }
  }
  return todo;
}

/** An attempt of `env` that started at `started` failed: its first and last attempt times (dead letters show them); at the first, its body in a string of its own (unpinned). */
function tried(env: Envelope, started: number): void {
  if (env.tries === undefined) {
    env.tries = { firstAt: started, lastAt: started };
    env.message = unpinned(env.message);
  } else env.tries.lastAt = started;
}
