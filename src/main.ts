import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { type Config, ConfigError, OPTIONS } from './config.js';
import { Pipeline } from './delivery/pipeline.js';
import { MemoryStore, type MessageStore } from './delivery/store.js';
import { createApp } from './http/app.js';
import { createHttpServer } from './http/server.js';
import { LocalUsers } from './http/users.js';
import { Ingest } from './ingest/index.js';
import type { AppDeps } from './http/deps.js';
import { createLogger } from './log.js';
import { Metrics } from './metrics.js';
import { endpointFor, SqsClient } from './sqs/client.js';
import { type CredentialProvider, type CredentialSource, providerCredentials, staticCredentials } from './sqs/credentials.js';
import { QueueResolver } from './sqs/resolver.js';
import { CallerKeys } from './sqsapi/sigv4.js';
import { checkSpoolDir, Spool } from './spool/spool.js';
import { validateMessage } from './sqs/limits.js';
import { createWorkers, type ReplySender, type Workers } from './worker/index.js';

export interface Daemon {
  readonly server: Server;
  readonly url: string;
  readonly deps: AppDeps;
  /** The worker side: one consumer per configured queue (none without --worker). */
  readonly workers: Workers;
  /** Graceful stop: stop accepting, flush, wait up to the grace period. Idempotent. */
  stop(): Promise<{ remaining: number }>;
  /**
   * SIGHUP: applies what can change without a restart (options marked `reloadable`: the log
   * level) and names the changed options that need one.
   */
  reload(next: Readonly<Config>): { applied: string[]; needRestart: string[] };
}

export interface StartOptions {
  log?: Logger;
  /** Replace the store (the spool); default memory-only. */
  store?: MessageStore;
  /** Credential provider for chain mode; default the AWS default provider chain. */
  credentialProvider?: CredentialProvider;
}

/** Builds every part from the config, starts listening, and returns a handle. */
export async function startDaemon(config: Readonly<Config>, options: StartOptions = {}): Promise<Daemon> {
  const log = options.log ?? createLogger(config.logLevel);
  const endpoint = endpointFor(config.region, config.endpoint || undefined);
  const client = new SqsClient({ endpoint, region: config.region, connections: config.connections, requestTimeoutMs: config.requestTimeoutMs });
  // The SQS API door forwards on its own pool: its long polls never hold delivery's connections.
  const apiClient = new SqsClient({ endpoint, region: config.region, connections: config.connections, requestTimeoutMs: config.requestTimeoutMs });
  const resolver = new QueueResolver(client, { maxMessageBytes: config.maxMessageBytes });
  let spool: Spool | undefined;
  let store: MessageStore;
  if (options.store) store = options.store;
  else if (config.durability === 'memory') store = new MemoryStore(log.child({ mod: 'store' }));
  else {
    checkSpoolDir(config.spoolDir);
    spool = new Spool({ dir: config.spoolDir, durability: config.durability, maxSpoolBytes: config.maxSpoolBytes, segmentBytes: config.spoolSegmentBytes, log: log.child({ mod: 'spool' }) });
    store = spool;
  }
  let daemonCredentials: CredentialSource | undefined;
  if (config.credentials === 'chain') {
    let provider = options.credentialProvider;
    if (!provider) {
      const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
      provider = fromNodeProviderChain() as CredentialProvider;
    }
    daemonCredentials = providerCredentials(provider);
  }
  const metrics = new Metrics({ log: log.child({ mod: 'metrics' }) });
  const pipeline = new Pipeline(
    client,
    store,
    {
      lingerMs: config.lingerMs,
      maxConcurrency: config.maxConcurrency,
      maxBacklogMessages: config.maxBacklogMessages,
      maxBacklogBytes: config.maxBacklogBytes,
      retryBaseMs: config.retryBaseMs,
      retryMaxMs: config.retryMaxMs,
      maxMessageAgeMs: config.maxMessageAgeMs,
      maxInMemoryMessages: config.maxInMemoryMessages,
      fifoMaxPerGroup: config.fifoMaxPerGroup,
      maxDestinations: config.maxDestinations,
    },
    log.child({ mod: 'delivery' }),
    resolver,
    metrics.observer,
  );
  metrics.attach({ pipeline, store, client });
  if (spool) {
    // Before the listener opens: recovered messages go first, in their original order.
    pipeline.restore(spool.recover((stored) => (stored ? staticCredentials(stored) : daemonCredentials)));
  }
  let listening = false;
  const ingest = new Ingest({ pipeline, resolver, fifoDefaultGroupId: config.fifoDefaultGroupId, log: log.child({ mod: 'ingest' }) });
  const deps: AppDeps = { config, client, apiClient, resolver, pipeline, ingest, store, log, startedAt: Date.now(), ready: () => listening };
  if (daemonCredentials) deps.daemonCredentials = daemonCredentials;
  if (config.usersFile !== '') {
    try {
      deps.localUsers = LocalUsers.fromFile(config.usersFile);
    } catch (err) {
      throw new ConfigError(`--users-file: ${(err as Error).message}`);
    }
  }
  else if (config.credentials === 'chain') {
    log.warn('--credentials chain without --users-file: any local process can send and manage queues with the daemon\'s AWS credentials');
  }
  if (config.sqsApiKeysFile !== '') {
    try {
      deps.callerKeys = CallerKeys.fromFile(config.sqsApiKeysFile);
    } catch (err) {
      throw new ConfigError(`--sqs-api-keys-file: ${(err as Error).message}`);
    }
  } else if (config.credentials === 'chain') {
    log.warn('SQS API without --sqs-api-keys-file: any local process can call it, and it signs with the daemon\'s AWS credentials');
  }
  deps.metrics = metrics;
  let workerChain: CredentialSource | undefined = daemonCredentials;
  const workers = createWorkers(config.workers, {
    client,
    log: log.child({ mod: 'worker' }),
    sendReply: replySender(resolver, pipeline, config),
    chain: async () => {
      if (!workerChain) {
        let provider = options.credentialProvider;
        if (!provider) {
          const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
          provider = fromNodeProviderChain() as CredentialProvider;
        }
        workerChain = providerCredentials(provider);
      }
      return workerChain;
    },
  });
  deps.workers = workers;
  metrics.attachWorkers(workers);
  const app = createApp(deps);
  const server = createHttpServer(app.callback(), config, log.child({ mod: 'http' })).listen({ host: config.host, port: config.port });
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  listening = true;
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  const url = `http://${host}:${addr.port}`;
  log.info({ url, upstream: endpoint, region: config.region, credentialMode: config.credentials, durable: store.durable }, 'sqs-accelerator listening');
  await workers.start();

  let stopping: Promise<{ remaining: number }> | undefined;
  const stop = (): Promise<{ remaining: number }> => {
    stopping ??= (async () => {
      listening = false;
      log.info({ backlog: pipeline.backlogMessages, graceMs: config.shutdownGraceMs }, 'shutting down: no new messages, flushing');
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // Workers first: their replies still go through the pipeline, which flushes next.
      const graceEnd = Date.now() + config.shutdownGraceMs;
      await workers.stop(graceEnd);
      const result = await pipeline.close(Math.max(0, graceEnd - Date.now()));
      server.closeAllConnections();
      await closed;
      // Requests still in flight finish first, so their completion marks reach the store.
      await client.close();
      await apiClient.close();
      await store.close();
      if (result.remaining > 0) {
        log.warn({ remaining: result.remaining, durable: store.durable }, store.durable ? 'undelivered messages stay in the spool for the next start' : 'undelivered messages are lost (memory-only mode)');
      } else {
        log.info('all accepted messages delivered');
      }
      return result;
    })();
    return stopping;
  };

  let current = config;
  const reload = (next: Readonly<Config>): { applied: string[]; needRestart: string[] } => {
    const applied: string[] = [];
    const needRestart: string[] = [];
    for (const o of OPTIONS) {
      if (JSON.stringify(current[o.key]) !== JSON.stringify(next[o.key])) (o.reloadable ? applied : needRestart).push(o.key);
    }
    log.info({ applied, needRestart }, needRestart.length > 0 ? 'configuration reloaded; restart to apply the options in needRestart' : 'configuration reloaded');
    if (applied.includes('logLevel')) log.level = next.logLevel;
    current = { ...current, logLevel: next.logLevel };
    return { applied, needRestart };
  };
  return { server, url, deps, workers, stop, reload };
}

/**
 * Worker replies enter the same path as every other send: resolve the queue, validate, accept
 * into the pipeline (spooled) and resolve once the store has them, before the task is deleted.
 */
function replySender(resolver: QueueResolver, pipeline: Pipeline, config: Readonly<Config>): ReplySender {
  const defaultGroup = config.fifoDefaultGroupId === '' ? undefined : { defaultGroupId: config.fifoDefaultGroupId };
  return async (reply) => {
    const dest = await resolver.resolve(reply.credentials, reply.queue);
    const v = validateMessage(reply.input, dest.limits, defaultGroup);
    if (!v.ok) throw Object.assign(new Error(v.message), { code: v.code });
    const accepted = pipeline.accept(dest, [{ message: v.message, bytes: v.bytes }]);
    if (accepted === false) throw Object.assign(new Error('the daemon\'s backlog is full'), { code: 'BacklogFull' });
    await accepted;
  };
}
