/**
 * The worker side (issue 13): per configured queue, a Consumer that long-polls it and POSTs each
 * message to a local app, sqsd-style. `createWorkers` builds them from the config; the daemon
 * starts them after it listens and stops them before it flushes its own backlog.
 */
import type { Logger } from 'pino';
import type { SqsClient } from '../sqs/client.js';
import { type CredentialProvider, type CredentialSource, providerCredentials, staticCredentials } from '../sqs/credentials.js';
import { Consumer, type ConsumerEvents, type WorkerStatus } from './consumer.js';
import type { WorkerConfig, WorkerCredentials } from './options.js';
import type { ReplySender } from './reply.js';
import type { WorkerS3 } from './payload.js';

export { Consumer, errorVisibilitySeconds, type ConsumerEvents, type WorkerStatus } from './consumer.js';
export type { WorkerConfig, WorkerCredentials } from './options.js';
export type { ReplySender, WorkerReply } from './reply.js';

export interface WorkersDeps {
  client: SqsClient;
  log: Logger;
  sendReply?: ReplySender;
  /** Credentials of workers configured with "chain" (the daemon's own provider chain). */
  chain: () => Promise<CredentialSource>;
  /** S3 for Extended Client pointers (src/worker/payload.ts). */
  s3?: WorkerS3;
  /** Provider for a named profile (tests inject one). */
  profile?: (name: string) => Promise<CredentialProvider>;
  /**
   * Failover upstreams: every worker reads its queue in each of them (one consumer per upstream),
   * so messages are consumed wherever delivery put them. An upstream's profile signs there in
   * place of the daemon's chain. Default: only `client`.
   */
  upstreams?: ReadonlyArray<{ readonly client: SqsClient; readonly config: { readonly name: string }; readonly credentials: CredentialSource | undefined }>;
}

export interface Workers {
  readonly consumers: readonly Consumer[];
  start(): Promise<void>;
  /**
   * Stops receiving and lets deliveries in flight finish within the deadline (Date.now() ms);
   * once it resolves no worker hands the daemon another reply. See Consumer.quiesce.
   */
  quiesce(deadline: number): Promise<void>;
  /** Stops every worker within the deadline: quiesce, then the receives in flight. See Consumer.stop. */
  stop(deadline: number): Promise<void>;
  status(): WorkerStatus[];
  on<K extends keyof ConsumerEvents & string>(event: K, listener: (...args: ConsumerEvents[K]) => void): void;
}

async function credentialsFor(c: WorkerCredentials, deps: WorkersDeps): Promise<CredentialSource> {
  switch (c.kind) {
    case 'static':
      return staticCredentials(c.sessionToken ? { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } : { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey });
    case 'profile': {
      if (deps.profile) return providerCredentials(await deps.profile(c.profile));
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      return providerCredentials(fromNodeProviderChain({ profile: c.profile }) as CredentialProvider);
    }
    default:
      return deps.chain();
  }
}

export function createWorkers(configs: readonly WorkerConfig[], deps: WorkersDeps): Workers {
  const listeners: Array<(c: Consumer) => void> = [];
  const consumers: Consumer[] = [];
  return {
    consumers,
    async start() {
      for (const config of configs) {
        const credentials = await credentialsFor(config.credentials, deps);
        const reply = { ...(deps.sendReply ? { sendReply: deps.sendReply } : {}), ...(deps.s3 ? { s3: deps.s3 } : {}) };
        const targets = deps.upstreams ?? [undefined];
        for (const u of targets) {
          const own = u?.credentials !== undefined && config.credentials.kind === 'chain' ? u.credentials : credentials;
          const c = new Consumer(config, { client: u?.client ?? deps.client, credentials: own, log: deps.log, ...reply, ...(u ? { upstream: u.config.name } : {}) });
          for (const l of listeners) l(c);
          consumers.push(c);
          c.start();
        }
      }
    },
    async quiesce(deadline) {
      await Promise.all(consumers.map((c) => c.quiesce(deadline)));
    },
    async stop(deadline) {
      await Promise.all(consumers.map((c) => c.stop(deadline)));
    },
    status: () => consumers.map((c) => c.status()),
    on(event, listener) {
      listeners.push((c) => c.on(event, listener));
      for (const c of consumers) c.on(event, listener);
    },
  };
}
