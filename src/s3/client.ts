import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher } from 'undici';
import type { Credentials } from '../sqs/types.js';
import { fromS3NetworkError, fromS3Response, isS3Error, S3Error } from './errors.js';
import { EMPTY_SHA256, encodeKeyPath, signS3, uriEncode } from './sign.js';
import { type S3Op, S3Stats } from './stats.js';

export interface S3ClientOptions {
  region: string;
  /** Origin of an S3-compatible endpoint (emulators, MinIO); empty: AWS's for the region. */
  endpoint?: string;
  /** Requests time out after this (headers, then between body chunks). ms. Default 30000. */
  timeoutMs?: number;
  /** Objects above this are uploaded in parts of this size (S3's multipart upload). Default 8 MiB. */
  partBytes?: number;
  dispatcher?: Dispatcher;
}

export interface S3Object {
  /** Content-Length of the object. */
  bytes: number;
  body: Readable;
}

const MiB = 1_048_576;

/**
 * A small S3 client for the payloads of large messages: put (from a file, streamed, in parts
 * above `partBytes`), get (streamed), head and delete, signed with SigV4 over undici. AWS's own
 * endpoint is addressed virtual-hosted style (`<bucket>.s3.<region>.amazonaws.com`, path style for
 * bucket names with dots, which TLS cannot cover); a configured endpoint path style
 * (`<endpoint>/<bucket>/<key>`), as emulators and most S3-compatible servers want.
 */
export class S3Client {
  readonly region: string;
  private readonly endpoint: URL | undefined;
  private readonly timeoutMs: number;
  readonly partBytes: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  /** Objects uploaded, read and deleted, bytes, failures by code (for /metrics and /status). */
  readonly stats = new S3Stats();

  constructor(options: S3ClientOptions) {
    this.region = options.region;
    this.endpoint = options.endpoint ? new URL(options.endpoint) : undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.partBytes = Math.max(5 * MiB, options.partBytes ?? 8 * MiB);
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ connections: 16, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  /** Where a request for `bucket`/`key` goes: origin, host header and the encoded path. */
  locate(bucket: string, key: string): { origin: string; host: string; path: string } {
    const keyPath = key === '' ? '' : encodeKeyPath(key);
    if (this.endpoint) {
      const base = this.endpoint.pathname.replace(/\/$/, '');
      return { origin: this.endpoint.origin, host: this.endpoint.host, path: `${base}/${uriEncode(bucket)}/${keyPath}` };
    }
    const suffix = this.region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
    const s3Host = `s3.${this.region}.${suffix}`;
    if (bucket.includes('.')) return { origin: `https://${s3Host}`, host: s3Host, path: `/${uriEncode(bucket)}/${keyPath}` };
    const host = `${bucket}.${s3Host}`;
    return { origin: `https://${host}`, host, path: `/${keyPath}` };
  }

  /** s3://bucket/key as a URL for messages and logs (never signed, never a secret). */
  describe(bucket: string, key: string): string {
    return `s3://${bucket}/${key}`;
  }

  private async send(
    what: string,
    method: 'GET' | 'PUT' | 'POST' | 'DELETE' | 'HEAD',
    bucket: string,
    key: string,
    credentials: Credentials,
    options: { query?: Record<string, string>; payloadHash?: string; body?: Readable | string; bytes?: number; headers?: Record<string, string>; signal?: AbortSignal } = {},
  ): Promise<Dispatcher.ResponseData> {
    const { origin, host, path } = this.locate(bucket, key);
    const query = options.query;
    const qs = query ? Object.keys(query).map((k) => (query[k] === '' ? uriEncode(k) : `${uriEncode(k)}=${uriEncode(query[k] as string)}`)).join('&') : '';
    const headers = signS3({ method, host, path, region: this.region, payloadHash: options.payloadHash ?? EMPTY_SHA256, credentials, ...(query ? { query } : {}), ...(options.headers ? { headers: options.headers } : {}) });
    if (options.bytes !== undefined) headers['content-length'] = String(options.bytes);
    try {
      return await this.dispatcher.request({
        origin,
        path: qs === '' ? path : `${path}?${qs}`,
        method,
        headers,
        ...(options.body !== undefined ? { body: options.body } : {}),
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        ...(options.signal ? { signal: options.signal } : {}),
      });
    } catch (err) {
      if (options.body !== undefined && typeof options.body !== 'string') options.body.destroy();
      throw fromS3NetworkError(err, what);
    }
  }

  private async expectOk(res: Dispatcher.ResponseData, what: string): Promise<string> {
    const rid = res.headers['x-amz-request-id'];
    const text = await res.body.text().catch(() => '');
    if (res.statusCode < 200 || res.statusCode >= 300) throw fromS3Response(res.statusCode, text, what, typeof rid === 'string' ? rid : undefined);
    return text;
  }

  /**
   * Uploads `bytes` bytes of the file at `path` as `bucket`/`key`, overwriting what is there (a
   * retry after a crash rewrites the same object). Streamed from disk: a part is hashed (SigV4's
   * payload hash, which S3 checks) and then sent, never held in memory.
   */
  async putFile(bucket: string, key: string, path: string, bytes: number, credentials: Credentials): Promise<void> {
    await this.counted('upload', this.putFileOnce(bucket, key, path, bytes, credentials));
    this.stats.uploads += 1;
    this.stats.uploadedBytes += bytes;
  }

  /** Counts a failed request under `op` with its S3 code, and passes the failure on. */
  private async counted<T>(op: S3Op, work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      this.stats.failed(op, isS3Error(err) ? err.code : 'UnexpectedError');
      throw err;
    }
  }

  private async putFileOnce(bucket: string, key: string, path: string, bytes: number, credentials: Credentials): Promise<void> {
    const what = `the upload of ${this.describe(bucket, key)}`;
    if (bytes <= this.partBytes) {
      const hash = await hashRange(path, 0, bytes);
      const res = await this.send(what, 'PUT', bucket, key, credentials, { payloadHash: hash, body: rangeStream(path, 0, bytes), bytes, headers: { 'content-type': 'text/plain; charset=utf-8' } });
      await this.expectOk(res, what);
      return;
    }
    const created = await this.expectOk(await this.send(what, 'POST', bucket, key, credentials, { query: { uploads: '' }, headers: { 'content-type': 'text/plain; charset=utf-8' } }), what);
    const uploadId = /<UploadId>([^<]+)<\/UploadId>/.exec(created)?.[1];
    if (!uploadId) throw new S3Error('BadResponse', `S3 answered CreateMultipartUpload for ${this.describe(bucket, key)} without an UploadId`, 200, 'retry');
    try {
      const etags: string[] = [];
      for (let part = 1, start = 0; start < bytes; part++, start += this.partBytes) {
        const len = Math.min(this.partBytes, bytes - start);
        const hash = await hashRange(path, start, len);
        const res = await this.send(what, 'PUT', bucket, key, credentials, { query: { partNumber: String(part), uploadId }, payloadHash: hash, body: rangeStream(path, start, len), bytes: len });
        await this.expectOk(res, what);
        const etag = res.headers.etag;
        if (typeof etag !== 'string') throw new S3Error('BadResponse', `S3 answered UploadPart without an ETag (${this.describe(bucket, key)})`, 200, 'retry');
        etags.push(etag);
      }
      const xml = `<CompleteMultipartUpload>${etags.map((e, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;
      const res = await this.send(what, 'POST', bucket, key, credentials, { query: { uploadId }, payloadHash: createHash('sha256').update(xml).digest('hex'), body: xml, bytes: Buffer.byteLength(xml), headers: { 'content-type': 'application/xml' } });
      const text = await this.expectOk(res, what);
      // S3 may answer 200 with an error body for CompleteMultipartUpload.
      if (text.includes('<Error>')) throw fromS3Response(500, text, what);
    } catch (err) {
      await this.send(what, 'DELETE', bucket, key, credentials, { query: { uploadId } }).then((r) => r.body.dump(), () => undefined);
      throw err;
    }
  }

  /** The object, streamed. Rejects with an S3Error (NoSuchKey, NoSuchBucket, AccessDenied...). */
  async get(bucket: string, key: string, credentials: Credentials, signal?: AbortSignal): Promise<S3Object> {
    const what = `reading ${this.describe(bucket, key)}`;
    const res = await this.counted('download', this.send(what, 'GET', bucket, key, credentials, signal ? { signal } : {}));
    if (res.statusCode !== 200) await this.counted('download', this.expectOk(res, what));
    const length = Number(res.headers['content-length']);
    const bytes = Number.isFinite(length) ? length : -1;
    this.stats.downloads += 1;
    // Listening for 'end' and 'error' leaves the stream paused: the reader still pulls at its pace.
    res.body.once('end', () => (this.stats.downloadedBytes += Math.max(0, bytes)));
    res.body.once('error', (err) => this.stats.failed('download', fromS3NetworkError(err, what).code));
    return { bytes, body: res.body };
  }

  /** The object's size, or undefined when there is no such object. */
  async head(bucket: string, key: string, credentials: Credentials): Promise<number | undefined> {
    const what = `looking up ${this.describe(bucket, key)}`;
    const res = await this.counted('head', this.send(what, 'HEAD', bucket, key, credentials));
    await res.body.dump().catch(() => undefined);
    if (res.statusCode === 404) return undefined;
    if (res.statusCode !== 200) {
      const err = fromS3Response(res.statusCode, '', what);
      this.stats.failed('head', err.code);
      throw err;
    }
    return Number(res.headers['content-length']);
  }

  /** Deletes the object (S3 answers 204 also when there was none). */
  async delete(bucket: string, key: string, credentials: Credentials): Promise<void> {
    const what = `deleting ${this.describe(bucket, key)}`;
    await this.counted('delete', (async () => this.expectOk(await this.send(what, 'DELETE', bucket, key, credentials), what))());
    this.stats.deletes += 1;
  }

  /** Creates a bucket (tests and the embedded emulator of npm start). */
  async createBucket(bucket: string, credentials: Credentials): Promise<void> {
    const what = `creating bucket ${bucket}`;
    const res = await this.send(what, 'PUT', bucket, '', credentials);
    const text = await res.body.text().catch(() => '');
    if ((res.statusCode < 200 || res.statusCode >= 300) && !text.includes('BucketAlreadyOwnedByYou')) throw fromS3Response(res.statusCode, text, what);
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

function rangeStream(path: string, start: number, len: number): Readable {
  return createReadStream(path, { start, end: start + len - 1, highWaterMark: 256 * 1024 });
}

/** SHA-256 (hex) of `len` bytes of a file from `start`, streamed. */
export async function hashRange(path: string, start: number, len: number): Promise<string> {
  const h = createHash('sha256');
  if (len === 0) return h.digest('hex');
  for await (const chunk of rangeStream(path, start, len)) h.update(chunk as Buffer);
  return h.digest('hex');
}
