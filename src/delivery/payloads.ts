import type { Logger } from 'pino';
import { describeBug } from '../errors.js';
import type { S3Client } from '../s3/client.js';
import { isS3Error } from '../s3/errors.js';
import type { UploadBacklog } from '../s3/stats.js';
import type { LargePayloads } from '../spool/large.js';
import type { Envelope } from './envelope.js';
import { backoffMs } from './retry.js';

export type UploadOutcome = { ok: true } | { ok: false; code: string; message: string };

/** What the pipeline needs of the S3 stage: upload before the pointer goes out, clean up once it went. */
export interface PayloadStage {
  /** Resolves once the payload is in S3, or with why it never will be (a dead letter). Never rejects. */
  upload(env: Envelope): Promise<UploadOutcome>;
  /** SQS accepted these messages: their payload files are of no more use. */
  delivered(envs: readonly Envelope[]): void;
  /** Payloads accepted and not yet in S3 (for /status and /metrics). */
  backlog(): UploadBacklog;
  close(): void;
}

export interface PayloadUploaderOptions {
  s3: S3Client;
  payloads: LargePayloads;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Dead-letter a payload still not uploaded this long after its message was accepted. 0 = never. ms. */
  maxMessageAgeMs: number;
  /** Uploads at once (each streams its file; a part is at most 8 MiB on the wire). Default 4. */
  concurrency?: number;
  log: Logger;
}

/**
 * Uploads large messages' payloads from their spool files to S3, before their pointers go
 * through the batcher: a bounded number at once, each retried with backoff on throttling, 5xx
 * and network errors (credentials fetched again when S3 refuses the daemon's own), and
 * dead-lettered when S3 refuses for good (no such bucket, access denied). The object key comes
 * from the message id, so an upload repeated after a crash rewrites the same object.
 */
export class PayloadUploader implements PayloadStage {
  private active = 0;
  /** Messages inside upload() (waiting, uploading or between retries) and their payload bytes. */
  private pending = 0;
  private pendingBytes = 0;
  /** Uploads on the wire now (not between retries). */
  private trying = 0;
  private readonly waiting: Array<() => void> = [];
  private closed = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly concurrency: number;

  constructor(private readonly options: PayloadUploaderOptions) {
    this.concurrency = options.concurrency ?? 4;
  }

  async upload(env: Envelope): Promise<UploadOutcome> {
    const bytes = env.offload?.bytes ?? 0;
    this.pending += 1;
    this.pendingBytes += bytes;
    try {
      return await this.slot(env);
    } finally {
      this.pending -= 1;
      this.pendingBytes -= bytes;
    }
  }

  backlog(): UploadBacklog {
    return { waiting: this.pending - this.trying, uploading: this.trying, bytes: this.pendingBytes };
  }

  private async slot(env: Envelope): Promise<UploadOutcome> {
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active += 1;
    try {
      for (let attempt = 1; ; attempt++) {
        if (this.closed) return { ok: false, code: 'Closed', message: 'the daemon is stopping; the message stays in the spool' };
        this.trying += 1;
        const r = await this.once(env).finally(() => (this.trying -= 1));
        if (r === undefined) return { ok: true };
        if ('permanent' in r) return { ok: false, code: r.code, message: r.message };
        const age = Date.now() - env.accepted.at;
        if (this.options.maxMessageAgeMs > 0 && age > this.options.maxMessageAgeMs) {
          return { ok: false, code: 'MaxAgeExceeded', message: `payload not uploaded after ${this.options.maxMessageAgeMs} ms; last error ${r.code}: ${r.message}` };
        }
        this.options.log.debug({ msgId: env.id, code: r.code, attempt }, 'payload upload to S3 failed; retrying');
        await this.sleep(backoffMs(attempt, { baseMs: this.options.retryBaseMs, maxMs: this.options.retryMaxMs }));
      }
    } finally {
      this.active -= 1;
      this.waiting.shift()?.();
    }
  }

  /** One try: undefined when the payload is in S3, else the failure (retryable or permanent). */
  private async once(env: Envelope): Promise<{ code: string; message: string; permanent?: true } | undefined> {
    const { bucket, key, bytes } = env.offload as NonNullable<Envelope['offload']>;
    const { s3, payloads } = this.options;
    const source = env.dest.credentials;
    try {
      const creds = await source.get();
      if (!payloads.has(env.id)) {
        // The local copy goes only once SQS accepted the pointer; without it the message was most
        // likely sent just before a crash (its completion mark lost). Send the pointer again if the
        // object is there (at least once), else say so: nothing can be uploaded.
        const size = await s3.head(bucket, key, creds);
        if (size === bytes) return undefined;
        return { code: 'PayloadMissing', message: `the payload file of this message is gone from the spool and s3://${bucket}/${key} ${size === undefined ? 'does not exist' : `holds ${size} bytes, not ${bytes}`}`, permanent: true };
      }
      await s3.putFile(bucket, key, payloads.pathOf(env.id), bytes, creds);
      return undefined;
    } catch (err) {
      if (isS3Error(err)) {
        if (err.disposition === 'refresh-credentials' && source.refreshable) {
          await source.refresh().catch(() => undefined);
          return { code: err.code, message: err.message };
        }
        if (err.disposition === 'retry') return { code: err.code, message: err.message };
        return { code: err.code, message: err.message, permanent: true };
      }
      const code = (err as { code?: unknown }).code;
      if (code === 'CredentialsUnavailable') return { code, message: (err as Error).message };
      if (code === 'ENOENT') return { code: 'PayloadMissing', message: 'the payload file of this message is gone from the spool', permanent: true };
      // A bug or a local I/O error: logged with its stack, retried (the message is kept).
      this.options.log.error({ err: describeBug(err), msgId: env.id }, 'unexpected error uploading a payload to S3; retrying');
      return { code: 'UnexpectedError', message: 'unexpected error uploading the payload' };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  delivered(envs: readonly Envelope[]): void {
    for (const e of envs) if (e.offload !== undefined) this.options.payloads.remove(e.id);
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
