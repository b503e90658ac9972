import { createHash, createHmac } from 'node:crypto';
import { amzDate, signingKey } from '../sigv4.js';
import type { Credentials } from '../sqs/types.js';

/**
 * AWS Signature Version 4 for S3 requests (service `s3`): any method, path and query, the
 * payload's SHA-256 (or `UNSIGNED-PAYLOAD`) in `x-amz-content-sha256`. The SQS signer
 * (src/sqs/sign.ts) stays the hot path's own; this one is used only for offloaded payloads.
 */
export interface S3SignInput {
  method: string;
  host: string;
  /** The path as sent: already URI-encoded (encodeKeyPath). */
  path: string;
  /** Query parameters (unencoded); signed in canonical order. */
  query?: Record<string, string>;
  region: string;
  /** Hex SHA-256 of the body, or UNSIGNED-PAYLOAD. */
  payloadHash: string;
  credentials: Credentials;
  /** Extra headers to sign (lower-case names), e.g. content-type. */
  headers?: Record<string, string>;
  now?: Date;
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - . _ ~ percent-encoded. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** An object key as a URL path: each segment encoded, the slashes kept (S3 signs the path as sent). */
export function encodeKeyPath(key: string): string {
  return key.split('/').map(uriEncode).join('/');
}

/** The canonical query string: names and values encoded, sorted by name. */
export function canonicalQuery(query: Record<string, string> | undefined): string {
  if (!query) return '';
  return Object.keys(query)
    .sort()
    .map((k) => `${uriEncode(k)}=${uriEncode(query[k] as string)}`)
    .join('&');
}

/** Returns the headers to send (lower-case names), authorization included. */
export function signS3(input: S3SignInput): Record<string, string> {
  const xAmzDate = amzDate(input.now ?? new Date());
  const date = xAmzDate.slice(0, 8);
  const headers: Record<string, string> = { ...input.headers, host: input.host, 'x-amz-content-sha256': input.payloadHash, 'x-amz-date': xAmzDate };
  if (input.credentials.sessionToken) headers['x-amz-security-token'] = input.credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const canonicalHeaders = names.map((n) => `${n}:${String(headers[n]).trim()}\n`).join('');
  const signedHeaders = names.join(';');
  const canonicalRequest = `${input.method}\n${input.path}\n${canonicalQuery(input.query)}\n${canonicalHeaders}\n${signedHeaders}\n${input.payloadHash}`;
  const scope = `${date}/${input.region}/s3/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${xAmzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const signature = createHmac('sha256', signingKey(input.credentials.secretAccessKey, date, input.region, 's3')).update(stringToSign).digest('hex');
  headers.authorization = `AWS4-HMAC-SHA256 Credential=${input.credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}
