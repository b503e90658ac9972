import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Pipeline } from '../delivery/pipeline.js';
import type { Ingest } from '../ingest/index.js';
import type { MessageStore } from '../delivery/store.js';
import type { Metrics } from '../metrics.js';
import type { SqsClient } from '../sqs/client.js';
import type { CredentialSource } from '../sqs/credentials.js';
import type { QueueResolver } from '../sqs/resolver.js';
import type { Workers } from '../worker/index.js';
import type { CallerKeys } from '../sqsapi/sigv4.js';
import type { LocalUsers } from './users.js';

/** Everything the HTTP side needs, built once in main and injected (tests build their own). */
export interface AppDeps {
  config: Readonly<Config>;
  client: SqsClient;
  /** The SQS API door's client for forwarded calls (its own pool, so long polls never hold delivery's connections); default `client`. */
  apiClient?: SqsClient;
  resolver: QueueResolver;
  pipeline: Pipeline;
  /** The step every door hands decoded entries to (validate, append, one result per entry). */
  ingest: Ingest;
  store: MessageStore;
  log: Logger;
  /** The daemon's own credentials when config.credentials is 'chain'. */
  daemonCredentials?: CredentialSource;
  /** Local Basic-auth users (--users-file) checked in chain mode. */
  localUsers?: LocalUsers;
  /** Keys whose SigV4 signatures the SQS API door accepts (--sqs-api-keys-file). */
  callerKeys?: CallerKeys;
  startedAt: number;
  /** True once the spool is recovered and the listener is up (readiness). */
  ready?: () => boolean;
  /** Prometheus metrics and what is known of the upstream (GET /metrics, /readyz). */
  metrics?: Metrics;
  /** The worker side, for /status, the UI and /metrics. */
  workers?: Workers;
}
