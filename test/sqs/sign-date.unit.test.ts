/**
 * signRequest's X-Amz-Date without an explicit clock: made once a second (src/sqs/sign.ts), it must
 * still be the current second's whenever the clock moves, forward or back, and sign that date.
 */
import { jest } from '@jest/globals';
import { signRequest } from '../../src/sqs/sign.js';

const input = { host: 'sqs.eu-west-1.amazonaws.com', region: 'eu-west-1', target: 'AmazonSQS.SendMessageBatch', body: '{}', credentials: { accessKeyId: 'AKID', secretAccessKey: 'secret' } };

afterEach(() => jest.useRealTimers());

describe('signRequest without a clock', () => {
  it('stamps the current second as the clock moves, and signs what it stamps', () => {
    jest.useFakeTimers({ now: new Date('2026-12-01T18:40:05.100Z') });
    const a = signRequest(input);
    expect(a['x-amz-date']).toBe('20261201T184005Z');
    jest.setSystemTime(new Date('2026-12-01T18:40:05.999Z'));
    expect(signRequest(input)).toEqual(a); // same second, same signature
    jest.setSystemTime(new Date('2026-12-01T18:40:06.000Z'));
    expect(signRequest(input)['x-amz-date']).toBe('20261201T184006Z');
    jest.setSystemTime(new Date('2026-12-01T23:59:59.500Z'));
    const late = signRequest(input);
    expect(late['x-amz-date']).toBe('20261201T235959Z');
    jest.setSystemTime(new Date('2026-12-02T00:00:00.000Z')); // a new day: a new scope
    const next = signRequest(input);
    expect(next['x-amz-date']).toBe('20261202T000000Z');
    expect(next.authorization).toContain('/20261202/eu-west-1/sqs/aws4_request');
    jest.setSystemTime(new Date('2026-12-01T18:40:05.500Z')); // back in time
    expect(signRequest(input)).toEqual(a);
    // The same as with the clock given explicitly.
    expect(signRequest({ ...input, now: new Date('2026-12-01T18:40:05.500Z') })).toEqual(a);
  });
});
