import { createHash, createHmac } from 'node:crypto';
import type { Credentials } from './types.js';

/**
 * AWS Signature Version 4 for SQS's JSON protocol: POST / with a JSON body.
 * Hand-built because the hot path signs one request per batch and the SDK's signer
 * costs several times more CPU; the derived signing key is cached per secret, day and
 * region, so a request costs two SHA-256 and two HMACs.
 */
export interface SignInput {
  host: string;
  region: string;
  target: string;
  body: string;
  credentials: Credentials;
  /** Override the clock (tests). */
  now?: Date;
}

const SERVICE = 'sqs';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
const keyCache = new Map<string, Buffer>();

function signingKey(secret: string, date: string, region: string): Buffer {
  const cacheKey = `${date}\0${region}\0${secret}`;
  let key = keyCache.get(cacheKey);
  if (key === undefined) {
    const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(SERVICE).digest();
    key = createHmac('sha256', kService).update('aws4_request').digest();
    // Yesterday's keys are useless: keep the cache from growing with days x secrets.
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

function amzDate(now: Date): string {
  // 2026-11-21T18:43:25.123Z -> 20261121T184325Z
  const iso = now.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}

/** Returns the headers to send (lower-case names), including authorization. */
export function signRequest(input: SignInput): Record<string, string> {
  const { host, region, target, body, credentials } = input;
  const xAmzDate = amzDate(input.now ?? new Date());
  const date = xAmzDate.slice(0, 8);
  const payloadHash = createHash('sha256').update(body, 'utf8').digest('hex');
  const token = credentials.sessionToken;
  const signedHeaders = token
    ? 'content-type;host;x-amz-date;x-amz-security-token;x-amz-target'
    : 'content-type;host;x-amz-date;x-amz-target';
  const canonicalHeaders =
    `content-type:${CONTENT_TYPE}\nhost:${host}\nx-amz-date:${xAmzDate}\n` +
    (token ? `x-amz-security-token:${token}\n` : '') +
    `x-amz-target:${target}\n`;
  const canonicalRequest = `POST\n/\n\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const scope = `${date}/${region}/${SERVICE}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${xAmzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const signature = createHmac('sha256', signingKey(credentials.secretAccessKey, date, region)).update(stringToSign).digest('hex');
  const headers: Record<string, string> = {
    'content-type': CONTENT_TYPE,
    host,
    'x-amz-date': xAmzDate,
    'x-amz-target': target,
    authorization: `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
  if (token) headers['x-amz-security-token'] = token;
  return headers;
}
