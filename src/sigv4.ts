/**
 * The parts of AWS Signature Version 4 every signer here shares (SQS's in src/sqs/sign.ts, S3's
 * in src/s3/sign.ts): the request's timestamp and the derived signing key, cached per secret,
 * day, region and service, so a signature costs two HMACs instead of six.
 */
import { createHmac } from 'node:crypto';

const keyCache = new Map<string, Buffer>();

/** kSigning = HMAC chain of "AWS4" + secret over date (YYYYMMDD), region, service, "aws4_request". */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const cacheKey = `${date}\0${region}\0${service}\0${secret}`;
  let key = keyCache.get(cacheKey);
  if (key === undefined) {
    const kDate = createHmac('sha256', `AWS4${secret}`).update(date).digest();
    const kRegion = createHmac('sha256', kDate).update(region).digest();
    const kService = createHmac('sha256', kRegion).update(service).digest();
    key = createHmac('sha256', kService).update('aws4_request').digest();
    // Yesterday's keys are useless: keep the cache from growing with days x secrets.
    if (keyCache.size > 1000) keyCache.clear();
    keyCache.set(cacheKey, key);
  }
  return key;
}

/** 2026-11-21T18:43:25.123Z -> 20261121T184325Z (the X-Amz-Date format). */
export function amzDate(now: Date): string {
  const iso = now.toISOString();
  return `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}T${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`;
}
