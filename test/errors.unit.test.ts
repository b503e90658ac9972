import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonError, ERRORS, EXIT, exitCodeFor, isDaemonError, sqsFailure } from '../src/errors.js';
import { ConfigError } from '../src/config.js';
import { SqsError } from '../src/sqs/errors.js';

describe('the table of codes', () => {
  it('gives every code an error status and a meaning', () => {
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect([code, spec.status >= 400 && spec.status <= 599, spec.message.length > 0]).toEqual([code, true, true]);
      if (spec.status === 503) expect([code, (spec as { retryAfterSeconds?: number }).retryAfterSeconds]).toEqual([code, expect.any(Number)]);
    }
  });

  it('names every validation code src/sqs/ returns (the codes an SQS-API door maps)', () => {
    const dir = join(import.meta.dirname, '../src/sqs');
    const codes = new Set<string>();
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8');
      for (const m of text.matchAll(/(?:fail|attrFail)\(\s*(?:[a-z]+,\s*)?'([A-Za-z]+)'/g)) codes.add(m[1] as string);
      for (const m of text.matchAll(/status: 413,\s*code: '([A-Za-z]+)'/g)) codes.add(m[1] as string);
    }
    expect(codes.size).toBeGreaterThan(10);
    expect([...codes].filter((c) => !(c in ERRORS))).toEqual([]);
  });
});

describe('DaemonError', () => {
  it('takes status and Retry-After from the table, a message of its own, and keeps its cause', () => {
    const cause = new Error('disk');
    const e = new DaemonError('SpoolFull', undefined, { cause });
    expect([e.code, e.status, e.retryAfterSeconds, e.message, e.cause]).toEqual(['SpoolFull', 503, 5, ERRORS.SpoolFull.message, cause]);
    expect(new DaemonError('InvalidQueueName', 'queue "x y" is not valid').message).toBe('queue "x y" is not valid');
    expect(isDaemonError(e)).toBe(true);
    expect(isDaemonError(Object.assign(new Error('x'), { code: 'SpoolFull', status: 503 }))).toBe(false);
  });
});

describe('sqsFailure: the one mapping from SQS failures to answers', () => {
  const sqs = (code: string, status: number) => new SqsError(code, `${code} from SQS`, status, 'req-42');
  it.each([
    ['QueueDoesNotExist', 400, 404, 'QueueDoesNotExist'],
    ['AWS.SimpleQueueService.NonExistentQueue', 400, 404, 'QueueDoesNotExist'],
    ['InvalidClientTokenId', 403, 401, 'InvalidClientTokenId'],
    ['SignatureDoesNotMatch', 403, 401, 'SignatureDoesNotMatch'],
    ['AccessDenied', 403, 403, 'AccessDenied'],
    ['ThrottlingException', 400, 503, 'ThrottlingException'],
    ['InternalError', 500, 503, 'InternalError'],
    ['InvalidParameterValue', 400, 502, 'InvalidParameterValue'],
  ])('%s (HTTP %i) -> %i %s', (code, httpStatus, status, answered) => {
    const e = sqsFailure(sqs(code, httpStatus), { queueName: 'q' }) as DaemonError;
    expect([e.status, e.code]).toEqual([status, answered]);
    expect(e.cause).toMatchObject({ requestId: 'req-42' });
  });

  it('management calls: the caller\'s own mistakes answer 400/409 with SQS\'s code', () => {
    expect(sqsFailure(sqs('QueueNameExists', 400), { management: true })).toMatchObject({ status: 409, code: 'QueueNameExists' });
    expect(sqsFailure(sqs('InvalidParameterValue', 400), { management: true })).toMatchObject({ status: 400, code: 'InvalidParameterValue' });
    expect(sqsFailure(sqs('QueueDoesNotExist', 400), { management: true })).toMatchObject({ status: 404 });
  });

  it('credentials that cannot be loaded: 503 CredentialsUnavailable, the provider\'s words not shown', () => {
    const e = sqsFailure(new SqsError('CredentialsUnavailable', 'could not load AWS credentials: IMDS timed out', 0, undefined, 'retry')) as DaemonError;
    expect([e.status, e.code, e.retryAfterSeconds]).toEqual([503, 'CredentialsUnavailable', 5]);
    expect(e.message).not.toContain('IMDS');
  });

  it('never relabels a bug: anything that is not an SQS or daemon error comes back unchanged', () => {
    const bug = new TypeError('cannot read properties of undefined');
    expect(sqsFailure(bug)).toBe(bug);
    const mine = new DaemonError('BacklogFull');
    expect(sqsFailure(mine)).toBe(mine);
  });
});

describe('exit codes', () => {
  it('2 for what a restart cannot fix, 1 for anything else', () => {
    expect(exitCodeFor(new ConfigError('bad'))).toBe(EXIT.badConfig);
    for (const code of ['EADDRINUSE', 'EACCES', 'ESPOOLWRITE', 'ESPOOLLOCKED']) expect(exitCodeFor(Object.assign(new Error(code), { code }))).toBe(2);
    expect(exitCodeFor(new TypeError('bug'))).toBe(EXIT.crash);
    expect(exitCodeFor(undefined)).toBe(1);
  });
});
