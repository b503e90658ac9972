/**
 * Checks the SigV4 signature an AWS SDK put on a request to the SQS API, against the secret
 * the keys file (--sqs-api-keys-file) gives for its access key id. The daemon signs onward with
 * its own credentials; this only decides who may use them.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { SqsApiError } from './errors.js';
import { nameValueLines } from '../name-value-lines.js';

/** How far a request's X-Amz-Date may be from our clock (SQS allows 15 minutes too). */
const MAX_SKEW_MS = 15 * 60_000;

export interface SignedRequest {
  method: string;
  /** Path and query string as sent (`/`, `/123/orders?Action=...`). */
  url: string;
  /** Header values by lower-case name; repeated headers as arrays. */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  body: Buffer;
}

/** The keys file: `ACCESS_KEY_ID:SECRET` lines, `#` comments. Must not be readable by others. */
export class CallerKeys {
  private readonly secrets = new Map<string, string>();

  constructor(text: string, source = 'keys file') {
    for (const { lineNo, name: id, value: secret } of nameValueLines(text)) {
      if (!/^[A-Za-z0-9]{1,128}$/.test(id) || secret === '') throw new Error(`${source} line ${lineNo}: expected ACCESS_KEY_ID:SECRET (letters and digits, a colon, a non-empty secret)`);
      this.secrets.set(id, secret);
    }
    if (this.secrets.size === 0) throw new Error(`${source} names no keys`);
  }

  static fromFile(path: string): CallerKeys {
    const st = statSync(path);
    if ((st.mode & 0o077) !== 0) {
      // Secrets in clear: refuse rather than warn.
      throw new Error(`${path} is readable by group or others (mode ${(st.mode & 0o777).toString(8)}); chmod 600 it`);
    }
    return new CallerKeys(readFileSync(path, 'utf8'), path);
  }

  get size(): number {
    return this.secrets.size;
  }

  secretOf(accessKeyId: string): string | undefined {
    return this.secrets.get(accessKeyId);
  }
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function canonicalQuery(query: string): string {
  if (query === '') return '';
  const pairs: Array<[string, string]> = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    pairs.push([uriEncode(safeDecode(k.replace(/\+/g, ' '))), uriEncode(safeDecode(v.replace(/\+/g, ' ')))]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Each path segment URI-encoded once more (SigV4 for services other than S3). */
function canonicalPath(path: string): string {
  if (path === '' || path === '/') return '/';
  return path.split('/').map((seg) => uriEncode(seg)).join('/');
}

function headerValue(v: string | readonly string[] | undefined): string {
  const values = v === undefined ? [] : typeof v === 'string' ? [v] : v;
  return values.map((s) => s.trim().replace(/\s+/g, ' ')).join(',');
}

const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

const refused = (code: string, message: string): SqsApiError => new SqsApiError(403, code, message);

/**
 * Throws the SqsApiError SQS would answer (MissingAuthenticationToken, IncompleteSignature,
 * InvalidClientTokenId, SignatureDoesNotMatch), or returns the caller's access key id.
 */
export function verifySignature(req: SignedRequest, keys: CallerKeys, now = Date.now()): string {
  const auth = headerValue(req.headers.authorization);
  if (auth === '') throw refused('MissingAuthenticationToken', 'Request is missing Authentication Token: this daemon checks SigV4 signatures (--sqs-api-keys-file); sign with one of its keys.');
  const m = AUTH.exec(auth);
  if (!m) throw refused('IncompleteSignature', 'The Authorization header is not a complete AWS4-HMAC-SHA256 signature (Credential, SignedHeaders, Signature).');
  const [, accessKeyId, date, region, service, signedHeaders, signature] = m as unknown as [string, string, string, string, string, string, string];
  const secret = keys.secretOf(accessKeyId);
  if (secret === undefined) throw refused('InvalidClientTokenId', 'The security token included in the request is invalid.');
  const amzDate = headerValue(req.headers['x-amz-date']);
  if (!/^\d{8}T\d{6}Z$/.test(amzDate) || amzDate.slice(0, 8) !== date) throw refused('IncompleteSignature', 'X-Amz-Date is missing or does not match the date of the credential scope.');
  const t = Date.UTC(Number(amzDate.slice(0, 4)), Number(amzDate.slice(4, 6)) - 1, Number(amzDate.slice(6, 8)), Number(amzDate.slice(9, 11)), Number(amzDate.slice(11, 13)), Number(amzDate.slice(13, 15)));
  if (Math.abs(now - t) > MAX_SKEW_MS) {
    throw refused('SignatureDoesNotMatch', `Signature expired: ${amzDate} is more than 15 minutes from the daemon's clock (${new Date(now).toISOString()}).`);
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) throw refused('SignatureDoesNotMatch', 'The signature must cover the Host header.');
  const q = req.url.indexOf('?');
  const path = q < 0 ? req.url : req.url.slice(0, q);
  const query = q < 0 ? '' : req.url.slice(q + 1);
  const given = headerValue(req.headers['x-amz-content-sha256']);
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  const payloadHash = given !== '' ? given : bodyHash;
  const canonicalHeaders = names.map((n) => `${n}:${headerValue(req.headers[n])}\n`).join('');
  const canonicalRequest = `${req.method}\n${canonicalPath(path)}\n${canonicalQuery(query)}\n${canonicalHeaders}\n${signedHeaders}\n${payloadHash}`;
  const scope = `${date}/${region}/${service}/aws4_request`;
  const stringToSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${createHash('sha256').update(canonicalRequest).digest('hex')}`;
  const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  const kSigning = createHmac('sha256', kService).update('aws4_request').digest();
  const expected = createHmac('sha256', kSigning).update(stringToSign).digest();
  const ok = timingSafeEqual(expected, Buffer.from(signature, 'hex'));
  // A payload hash the body does not match (UNSIGNED-PAYLOAD included) leaves the body unsigned: refused.
  const bodyOk = payloadHash === bodyHash;
  if (!ok || !bodyOk) {
    throw refused('SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.');
  }
  return accessKeyId;
}
