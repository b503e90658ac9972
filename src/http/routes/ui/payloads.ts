import type Router from '@koa/router';
import { DaemonError } from '../../../errors.js';
import { isS3Error } from '../../../s3/errors.js';
import type { AppDeps } from '../../deps.js';
import { credentialsOf } from './request.js';

/** S3 allows keys of up to 1024 bytes; bucket names are 3-63 characters. */
const MAX_KEY = 1024;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * `GET /payload?bucket=<b>&key=<k>`: the payload of a large message (an Extended Client
 * pointer), read from S3 through the daemon and streamed as text, for the message view's
 * "fetch the payload" link. Pass-through mode signs with the caller's own pair (S3 decides what
 * it may read); with the daemon's credentials (chain) only objects of --s3-bucket are served, so
 * a local user cannot read whatever the daemon's role can.
 */
export function registerPayloadRoutes(router: Router, deps: AppDeps): void {
  router.get('/payload', async (ctx) => {
    const s3 = deps.s3;
    if (!s3) throw new DaemonError('NoSuchPayload', 'this daemon has no S3 configured (--s3-bucket, or a --worker)');
    const bucket = typeof ctx.query.bucket === 'string' ? ctx.query.bucket : '';
    const key = typeof ctx.query.key === 'string' ? ctx.query.key : '';
    if (!BUCKET.test(bucket) || key === '' || Buffer.byteLength(key) > MAX_KEY) throw new DaemonError('NoSuchPayload', 'give ?bucket=<S3 bucket name>&key=<object key> of a message\'s pointer');
    if (deps.config.credentials === 'chain' && bucket !== deps.config.s3Bucket) {
      throw new DaemonError('PayloadNotAllowed', `with the daemon's own credentials only objects of --s3-bucket${deps.config.s3Bucket ? ` (${deps.config.s3Bucket})` : ''} are served`);
    }
    const creds = await credentialsOf(ctx, deps);
    let obj;
    try {
      obj = await s3.client.get(bucket, key, creds);
    } catch (err) {
      if (isS3Error(err) && (err.code === 'NoSuchKey' || err.code === 'NoSuchBucket' || err.code === 'NotFound')) throw new DaemonError('NoSuchPayload', err.message);
      if (isS3Error(err) && err.code === 'AccessDenied') throw new DaemonError('PayloadNotAllowed', err.message);
      throw new DaemonError('S3Unavailable', isS3Error(err) ? err.message : undefined, { cause: err });
    }
    ctx.status = 200;
    ctx.type = 'text/plain; charset=utf-8';
    if (obj.bytes >= 0) ctx.length = obj.bytes;
    ctx.set('x-content-type-options', 'nosniff');
    ctx.set('content-disposition', 'inline');
    ctx.body = obj.body;
  });
}
