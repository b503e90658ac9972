import { createHash, createHmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { signRequest } from '../../src/sqs/sign.js';
import type { Credentials } from '../../src/sqs/types.js';

/** The SDK's signer wants a Checksum constructor; node:crypto is what the SDK uses on Node too. */
class Sha256 {
  private h;
  constructor(private readonly secret?: string | Uint8Array) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data: string | Uint8Array): void {
    this.h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
  reset(): void {
    this.h = this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret);
  }
}

/** What @smithy/signature-v4 puts in Authorization for the same request, time and credentials. */
async function sdkHeaders(host: string, region: string, target: string, body: string, credentials: Credentials, now: Date): Promise<Record<string, string>> {
  // applyChecksum false: SigV4 makes x-amz-content-sha256 optional outside S3 and we do not send it.
  const signer = new SignatureV4({ service: 'sqs', region, credentials, sha256: Sha256 as never, uriEscapePath: true, applyChecksum: false });
  const request: HttpRequest = {
    method: 'POST',
    protocol: 'https:',
    hostname: host,
    path: '/',
    query: {},
    headers: { host, 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': target },
    body,
  };
  const signed = await signer.sign(request, { signingDate: now });
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(signed.headers)) out[k.toLowerCase()] = v;
  return out;
}

const base: Credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const now = new Date('2026-11-21T18:43:25.123Z');

describe('signRequest matches the AWS SDK signer', () => {
  const cases: Array<[string, string, string, string, string, Credentials]> = [
    ['SendMessageBatch, no session token', 'AmazonSQS.SendMessageBatch', 'sqs.eu-west-1.amazonaws.com', 'eu-west-1', JSON.stringify({ QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/1/q', Entries: [{ Id: '0', MessageBody: 'héllo ✓ 😀' }] }), base],
    ['GetQueueUrl with a session token', 'AmazonSQS.GetQueueUrl', 'sqs.us-east-1.amazonaws.com', 'us-east-1', JSON.stringify({ QueueName: 'orders' }), { ...base, sessionToken: 'FwoGZXIvYXdzEBYaDH+token/with=chars' }],
    ['a local endpoint with a port', 'AmazonSQS.GetQueueAttributes', '127.0.0.1:4566', 'us-east-1', '{}', base],
    ['an empty body, China region', 'AmazonSQS.SendMessageBatch', 'sqs.cn-north-1.amazonaws.com.cn', 'cn-north-1', '', { ...base, sessionToken: 't' }],
  ];
  it.each(cases)('%s', async (_name, target, host, region, body, credentials) => {
    const ours = signRequest({ host, region, target, body, credentials, now });
    const sdk = await sdkHeaders(host, region, target, body, credentials, now);
    expect(ours.authorization).toBe(sdk.authorization);
    expect(ours['x-amz-date']).toBe(sdk['x-amz-date']);
    expect(ours['x-amz-date']).toBe('20261121T184325Z');
    if (credentials.sessionToken) {
      expect(ours['x-amz-security-token']).toBe(credentials.sessionToken);
      expect(sdk['x-amz-security-token']).toBe(credentials.sessionToken);
      expect(ours.authorization).toContain('SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target,');
    } else {
      expect(ours['x-amz-security-token']).toBeUndefined();
    }
    expect(ours.authorization).toMatch(new RegExp(`^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261121/${region}/sqs/aws4_request, SignedHeaders=[a-z;-]+, Signature=[0-9a-f]{64}$`));
  });

  it('changes the signature when anything signed changes, and caches keys per secret and day', async () => {
    const one = signRequest({ host: 'h', region: 'us-east-1', target: 'AmazonSQS.SendMessageBatch', body: 'a', credentials: base, now });
    const variants = [
      signRequest({ host: 'h', region: 'us-east-1', target: 'AmazonSQS.SendMessageBatch', body: 'b', credentials: base, now }),
      signRequest({ host: 'h2', region: 'us-east-1', target: 'AmazonSQS.SendMessageBatch', body: 'a', credentials: base, now }),
      signRequest({ host: 'h', region: 'us-east-1', target: 'AmazonSQS.GetQueueUrl', body: 'a', credentials: base, now }),
      signRequest({ host: 'h', region: 'us-east-1', target: 'AmazonSQS.SendMessageBatch', body: 'a', credentials: { ...base, secretAccessKey: 'other' }, now }),
      signRequest({ host: 'h', region: 'us-east-1', target: 'AmazonSQS.SendMessageBatch', body: 'a', credentials: base, now: new Date('2026-11-22T00:00:01Z') }),
    ];
    const sig = (h: Record<string, string>) => /Signature=([0-9a-f]+)/.exec(h.authorization as string)?.[1];
    const seen = new Set([sig(one), ...variants.map(sig)]);
    expect(seen.size).toBe(6);
    // Same secret, next day, against the SDK: the cached key of the previous day is not reused.
    const nextDay = new Date('2026-11-22T00:00:01Z');
    const sdk = await sdkHeaders('h', 'us-east-1', 'AmazonSQS.SendMessageBatch', 'a', base, nextDay);
    expect(variants[4]?.authorization).toBe(sdk.authorization);
  });

  it('never puts the secret in any header', () => {
    const h = signRequest({ host: 'h', region: 'us-east-1', target: 'AmazonSQS.SendMessageBatch', body: 'x', credentials: { ...base, sessionToken: 'tok' }, now });
    for (const v of Object.values(h)) expect(v).not.toContain(base.secretAccessKey);
  });
});
