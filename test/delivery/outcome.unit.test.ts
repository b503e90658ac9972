/**
 * sortUndelivered (src/delivery/outcome.ts): what becomes of the entries of a finished batch
 * that were not delivered: sent again, or dead-lettered per code, and whether credentials
 * must be refreshed first.
 */
import type { Envelope } from '../../src/delivery/envelope.js';
import { type DeadGroup, REFRESH_CREDENTIALS, sortUndelivered } from '../../src/delivery/outcome.js';
import type { BatchOutcome } from '../../src/delivery/sender.js';
import { type Disposition, SqsError } from '../../src/sqs/errors.js';
import type { Destination } from '../../src/sqs/resolver.js';
import { captureLogger, makeDest, makeEnvelope, refreshableCredentials } from '../support/delivery-harness.js';

const err = (code: string, disposition: Disposition, message = `${code} (unit)`) => new SqsError(code, message, 400, undefined, disposition);

function sort(outcome: Partial<BatchOutcome>, dest: Destination, options: { started?: number; maxAgeMs?: number } = {}) {
  const logs = captureLogger();
  const retry: Envelope[] = [];
  const dead = new Map<string, DeadGroup>();
  const full: BatchOutcome = { delivered: [], failed: [], md5Mismatch: [], ...outcome };
  const todo = sortUndelivered(full, dest, options.started ?? 1000, options.maxAgeMs ?? 0, logs.log, retry, dead);
  const refresh = (todo & REFRESH_CREDENTIALS) !== 0;
  const deadSummary = [...dead].map(([code, g]) => ({ code, ids: g.envs.map((e) => e.id), message: g.error.message }));
  return { refresh, retry: retry.map((e) => e.id), dead: deadSummary, logs };
}

describe('sortUndelivered', () => {
  it('retryable failures are sent again; permanent ones are dead-lettered, grouped by code', () => {
    const d = makeDest('q');
    const [a, b, c, e] = ['a', 'b', 'c', 'e'].map((x) => makeEnvelope(d, x)) as [Envelope, Envelope, Envelope, Envelope];
    const r = sort(
      {
        failed: [
          { env: a, error: err('InternalError', 'retry') },
          { env: b, error: err('InvalidParameterValue', 'permanent', 'too big') },
          { env: c, error: err('AccessDenied', 'permanent', 'denied') },
          { env: e, error: err('InvalidParameterValue', 'permanent', 'too big') },
        ],
      },
      d,
    );
    expect(r.retry).toEqual([a.id]);
    expect(r.dead).toEqual([
      { code: 'InvalidParameterValue', ids: [b.id, e.id], message: 'too big' },
      { code: 'AccessDenied', ids: [c.id], message: 'denied' },
    ]);
    expect(r.refresh).toBe(false);
    // Each entry remembers why it failed (dead letters and the status page show it).
    expect([a.lastError, b.lastError]).toEqual([
      { code: 'InternalError', message: 'InternalError (unit)' },
      { code: 'InvalidParameterValue', message: 'too big' },
    ]);
  });

  it("a failed attempt's start time is the entry's last attempt, and its first the first failed one's (dead letters show both)", () => {
    const d = makeDest('q');
    const [a, b] = ['a', 'b'].map((x) => makeEnvelope(d, x)) as [Envelope, Envelope];
    expect(a.tries).toBeUndefined();
    sort({ failed: [{ env: a, error: err('InternalError', 'retry') }], md5Mismatch: [b] }, d, { started: 1000 });
    expect([a.tries, b.tries]).toEqual([
      { firstAt: 1000, lastAt: 1000 },
      { firstAt: 1000, lastAt: 1000 },
    ]);
    sort({ failed: [{ env: a, error: err('AccessDenied', 'permanent') }] }, d, { started: 2500 });
    expect(a.tries).toEqual({ firstAt: 1000, lastAt: 2500 });
  });

  it('an MD5 mismatch is sent again and logged with the message id, never the body', () => {
    const d = makeDest('q');
    const env = makeEnvelope(d, 'secret body');
    const r = sort({ md5Mismatch: [env] }, d);
    expect(r.retry).toEqual([env.id]);
    expect(env.lastError).toEqual({ code: 'MD5Mismatch', message: 'MD5OfMessageBody did not match the body sent' });
    expect(r.logs.find('mismatching MD5')).toEqual([expect.objectContaining({ msgId: env.id, queue: 'q', level: 'warn' })]);
    expect(JSON.stringify(r.logs.lines)).not.toContain('secret body');
  });

  it('expired credentials: with refreshable ones, retry after a refresh; with a fixed pair, dead-letter', () => {
    const chain = makeDest('q', { credentials: refreshableCredentials() });
    const one = makeEnvelope(chain, 'x');
    const r1 = sort({ failed: [{ env: one, error: err('ExpiredToken', 'refresh-credentials') }] }, chain);
    expect(r1).toMatchObject({ refresh: true, retry: [one.id], dead: [] });

    const fixed = makeDest('q');
    const two = makeEnvelope(fixed, 'y');
    const r2 = sort({ failed: [{ env: two, error: err('ExpiredToken', 'refresh-credentials', 'expired') }] }, fixed);
    expect(r2).toMatchObject({ refresh: false, retry: [], dead: [{ code: 'ExpiredToken', ids: [two.id], message: 'expired' }] });
  });

  it('past the maximum age a retryable failure is dead-lettered as MaxAgeExceeded; a permanent one keeps its own code', () => {
    const d = makeDest('q');
    const young = makeEnvelope(d, 'young', { accepted: { at: 500 } });
    const old = makeEnvelope(d, 'old', { accepted: { at: 0 } });
    const oldAndRefused = makeEnvelope(d, 'refused', { accepted: { at: 0 } });
    const r = sort(
      {
        failed: [
          { env: young, error: err('ServiceUnavailable', 'retry', 'down') },
          { env: old, error: err('ServiceUnavailable', 'retry', 'down') },
          { env: oldAndRefused, error: err('AccessDenied', 'permanent', 'denied') },
        ],
      },
      d,
      { started: 1000, maxAgeMs: 999 },
    );
    expect(r.retry).toEqual([young.id]); // 500 ms old: not past 999
    expect(r.dead).toEqual([
      { code: 'MaxAgeExceeded', ids: [old.id], message: 'undelivered after 999 ms; last error ServiceUnavailable: down' },
      { code: 'AccessDenied', ids: [oldAndRefused.id], message: 'denied' },
    ]);
  });

  it('exactly at the maximum age is not past it, and 0 means no maximum', () => {
    const d = makeDest('q');
    const env = makeEnvelope(d, 'x', { accepted: { at: 0 } });
    expect(sort({ failed: [{ env, error: err('InternalError', 'retry') }] }, d, { started: 1000, maxAgeMs: 1000 }).retry).toEqual([env.id]);
    expect(sort({ failed: [{ env, error: err('InternalError', 'retry') }] }, d, { started: 1e12, maxAgeMs: 0 }).retry).toEqual([env.id]);
  });

  it('leaves delivered entries alone', () => {
    const d = makeDest('q');
    const env = makeEnvelope(d, 'ok');
    const r = sort({ delivered: [env] }, d);
    expect(r).toMatchObject({ retry: [], dead: [], refresh: false });
    expect(env.lastError).toBeUndefined();
  });
});
