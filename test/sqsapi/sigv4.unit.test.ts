/**
 * The SQS API's caller check against requests signed by the AWS SDK's own signer
 * (@smithy/signature-v4): JSON and Query requests, paths, query strings, session tokens.
 */
import { createHash, createHmac } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignatureV4 } from '@smithy/signature-v4';
import type { HttpRequest } from '@smithy/types';
import { CallerKeys, type SignedRequest, verifySignature } from '../../src/sqsapi/sigv4.js';

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

const keys = new CallerKeys('# apps on this host\nAKIDAPP1:secret/one+x\n\nAKIDAPP2:another-secret\n');
const now = new Date('2026-12-01T10:00:00.000Z');

async function signed(options: { secret?: string; accessKeyId?: string; path?: string; query?: Record<string, string>; body: string; contentType: string; target?: string; sessionToken?: string }): Promise<SignedRequest> {
  const credentials = { accessKeyId: options.accessKeyId ?? 'AKIDAPP1', secretAccessKey: options.secret ?? 'secret/one+x', ...(options.sessionToken ? { sessionToken: options.sessionToken } : {}) };
  const signer = new SignatureV4({ service: 'sqs', region: 'eu-west-1', credentials, sha256: Sha256 as never, uriEscapePath: true });
  const headers: Record<string, string> = { host: '127.0.0.1:9292', 'content-type': options.contentType };
  if (options.target) headers['x-amz-target'] = options.target;
  const request: HttpRequest = { method: 'POST', protocol: 'http:', hostname: '127.0.0.1', port: 9292, path: options.path ?? '/', query: options.query ?? {}, headers, body: options.body };
  const out = await signer.sign(request, { signingDate: now });
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) lower[k.toLowerCase()] = v;
  const qs = new URLSearchParams(options.query ?? {}).toString().replace(/\+/g, '%20');
  return { method: 'POST', url: `${options.path ?? '/'}${qs ? `?${qs}` : ''}`, headers: lower, body: Buffer.from(options.body) };
}

const json = { body: '{"QueueUrl":"http://127.0.0.1:9292/1/q","MessageBody":"héllo ✓"}', contentType: 'application/x-amz-json-1.0', target: 'AmazonSQS.SendMessage' };
const query = { body: 'Action=SendMessage&Version=2012-11-05&MessageBody=h%C3%A9llo%20%2B', contentType: 'application/x-www-form-urlencoded; charset=utf-8', path: '/000000000000/orders' };

describe('SigV4 check of SQS API callers', () => {
  test('the right key passes: JSON, Query at a queue path, a query string, a session token', async () => {
    expect(verifySignature(await signed(json), keys, now.getTime())).toBe('AKIDAPP1');
    expect(verifySignature(await signed(query), keys, now.getTime())).toBe('AKIDAPP1');
    expect(verifySignature(await signed({ ...query, query: { Action: 'ListQueues', QueueNamePrefix: "a b*'(x)" } }), keys, now.getTime())).toBe('AKIDAPP1');
    expect(verifySignature(await signed({ ...json, accessKeyId: 'AKIDAPP2', secret: 'another-secret', sessionToken: 'tok/en+=' }), keys, now.getTime())).toBe('AKIDAPP2');
  });

  test('a wrong secret is SignatureDoesNotMatch; an unknown key InvalidClientTokenId', async () => {
    await expect(signed({ ...json, secret: 'wrong' }).then((r) => verifySignature(r, keys, now.getTime()))).rejects.toMatchObject({ code: 'SignatureDoesNotMatch', status: 403 });
    await expect(signed({ ...json, accessKeyId: 'AKIDNOBODY' }).then((r) => verifySignature(r, keys, now.getTime()))).rejects.toMatchObject({ code: 'InvalidClientTokenId', status: 403 });
  });

  test('a request changed after signing is refused: body, path, header', async () => {
    const r = await signed(json);
    expect(() => verifySignature({ ...r, body: Buffer.from(json.body.replace('héllo', 'hello')) }, keys, now.getTime())).toThrow(expect.objectContaining({ code: 'SignatureDoesNotMatch' }));
    const q = await signed(query);
    expect(() => verifySignature({ ...q, url: '/000000000000/other' }, keys, now.getTime())).toThrow(expect.objectContaining({ code: 'SignatureDoesNotMatch' }));
    expect(() => verifySignature({ ...r, headers: { ...r.headers, 'x-amz-target': 'AmazonSQS.DeleteQueue' } }, keys, now.getTime())).toThrow(expect.objectContaining({ code: 'SignatureDoesNotMatch' }));
  });

  test('unsigned, malformed or stale requests are refused', async () => {
    const r = await signed(json);
    const { authorization: _, ...unsigned } = r.headers as Record<string, string>;
    expect(() => verifySignature({ ...r, headers: unsigned }, keys, now.getTime())).toThrow(expect.objectContaining({ code: 'MissingAuthenticationToken' }));
    expect(() => verifySignature({ ...r, headers: { ...r.headers, authorization: 'Basic QUtJRDpzZWNyZXQ=' } }, keys, now.getTime())).toThrow(expect.objectContaining({ code: 'IncompleteSignature' }));
    expect(() => verifySignature(r, keys, now.getTime() + 16 * 60_000)).toThrow(expect.objectContaining({ code: 'SignatureDoesNotMatch' }));
  });
});


describe('the keys file', () => {
  test('must be private, and well-formed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqsapi-keys-'));
    try {
      const file = join(dir, 'keys');
      writeFileSync(file, 'AKIDAPP1:secret\n');
      chmodSync(file, 0o644);
      expect(() => CallerKeys.fromFile(file)).toThrow(/chmod 600/);
      chmodSync(file, 0o600);
      expect(CallerKeys.fromFile(file).size).toBe(1);
      expect(() => new CallerKeys('no colon here\n')).toThrow(/line 1: expected ACCESS_KEY_ID:SECRET/);
      expect(() => new CallerKeys('# only a comment\n')).toThrow(/names no keys/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
