import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { History } from '../delivery/history.js';
import type { Pipeline } from '../delivery/pipeline.js';
import type { MessageStore } from '../delivery/store.js';
import type { MessageTracker } from '../delivery/tracker.js';
import type { Ingest } from '../ingest/index.js';
import type { Metrics } from '../metrics.js';
import type { SqsClient } from '../sqs/client.js';
import type { CredentialSource } from '../sqs/credentials.js';
import type { QueueResolver } from '../sqs/resolver.js';
import type { Workers } from '../worker/index.js';
import type { CallerKeys } from '../sqsapi/sigv4.js';
import type { ReplyHub } from '../worker/reply-hub.js';
import type { Upstreams } from '../upstreams/index.js';
import type { LocalUsers } from './users.js';
import type { OffloadPolicy } from '../ingest/offload.js';
import type { S3Client } from '../s3/client.js';
import type { UploadBacklog } from '../s3/stats.js';

/** Who signs a request's SQS calls, besides the caller's own Basic-auth pair (pass-through). */
export interface AuthDeps {
  /** The daemon's own credentials when config.credentials is 'chain'. */
  readonly daemonCredentials: CredentialSource | undefined;
  /** Local Basic-auth users (--users-file) checked in chain mode. */
  readonly localUsers: LocalUsers | undefined;
}

/**
 * Everything the HTTP side needs: built once by the daemon (src/daemon/compose.ts) and frozen;
 * tests build their own. Nothing here changes after it is built.
 */
export interface AppDeps {
  readonly config: Readonly<Config>;
  readonly log: Logger;
  readonly client: SqsClient;
  /** The SQS API door's client for forwarded calls (its own pool, so long polls never hold delivery's connections); default `client`. */
  readonly apiClient?: SqsClient;
  readonly resolver: QueueResolver;
  readonly pipeline: Pipeline;
  /** The step every door hands decoded entries to (validate, append, one result per entry). */
  readonly ingest: Ingest;
  readonly store: MessageStore;
  readonly auth: AuthDeps;
  /** Keys whose SigV4 signatures the SQS API door accepts (--sqs-api-keys-file); undefined: callers are not checked. */
  readonly callerKeys?: CallerKeys | undefined;
  /** Prometheus metrics and what is known of the upstream (GET /metrics, /readyz); undefined in tests that need none. */
  readonly metrics: Metrics | undefined;
  readonly startedAt: number;
  /** True once the spool is recovered and the listener is up (readiness). */
  readonly ready: () => boolean;
  /** The worker side, for /status, the UI and /metrics (no consumers without --worker). */
  readonly workers: Workers;
  /** The last minutes of the pipeline's numbers and of SQS's counts, for the live charts; absent in tests that build no daemon. */
  readonly history?: History;
  /** Recent messages' states (GET /messages/:id, ?wait=1); undefined in tests that need none. */
  readonly tracker?: MessageTracker | undefined;
  /** Logs readiness changes; /readyz gives it a look too. */
  readonly readinessMonitor?: { check(): void } | undefined;
  /** Request/reply (`?reply=`): this daemon's reply queue listeners and late replies. */
  readonly replies?: ReplyHub | undefined;
  /** Failover upstreams (--failover-region, upstreams): health, and which upstream each queue uses; undefined with one upstream. */
  readonly upstreams?: Upstreams | undefined;
  /** S3 for large messages: the client (also made for workers, which read pointers without --s3-bucket) and, with --s3-bucket, the offload policy and payload files. */
  readonly s3?: { readonly client: S3Client; readonly policy: OffloadPolicy | undefined; readonly uploads?: () => UploadBacklog } | undefined;
}
