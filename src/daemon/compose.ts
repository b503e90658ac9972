import { History } from '../delivery/history.js';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { type Config, ConfigError } from '../config.js';
import { Pipeline, type PipelineObserver } from '../delivery/pipeline.js';
import { MemoryStore, type MessageStore } from '../delivery/store.js';
import type { AppDeps } from '../http/deps.js';
import { LocalUsers } from '../http/users.js';
import { Ingest } from '../ingest/index.js';
import { Metrics } from '../metrics.js';
import { endpointFor, SqsClient } from '../sqs/client.js';
import { type CredentialProvider, type CredentialSource, providerCredentials, staticCredentials } from '../sqs/credentials.js';
import { QueueResolver } from '../sqs/resolver.js';
import { MessageTracker } from '../delivery/tracker.js';
import { ReadinessMonitor } from '../health.js';
import { BAD_CREDENTIAL_CODES } from '../sqs/errors.js';
import { KnownQueues } from '../sqs/known-queues.js';
import { checkSpoolDir, Spool } from '../spool/spool.js';
import { CallerKeys } from '../sqsapi/sigv4.js';
import { createWorkers, type ReplySender } from '../worker/index.js';
import { ReplyHub } from '../worker/reply-hub.js';
import { createUpstreams } from '../upstreams/index.js';
import { PayloadUploader } from '../delivery/payloads.js';
import type { OffloadPolicy } from '../ingest/offload.js';
import { S3Client } from '../s3/client.js';
import { LargePayloads } from '../spool/large.js';

export interface ComposeOptions {
  log: Logger;
  /** Replace the store (the spool); default from config.durability. */
  store?: MessageStore | undefined;
  /** Credential provider for chain mode; default the AWS default provider chain. */
  credentialProvider?: CredentialProvider | undefined;
  /** Called for pipeline events, after the metrics (the daemon's typed events). */
  observer?: PipelineObserver | undefined;
  /** Credentials of a named AWS profile (an upstream's "profile"); default the AWS provider chain with that profile. */
  profileProvider?: ((name: string) => Promise<CredentialProvider>) | undefined;
  /** Readiness of the listener, owned by the daemon's lifecycle. */
  ready: () => boolean;
}

/**
 * Builds every part of the daemon from its config, once, in dependency order: SQS client and
 * resolver, store (spool or memory), credentials, metrics, pipeline, ingest. The spool's backlog
 * is recovered into the pipeline here, before anything can listen, so recovered messages go
 * first in their original order. Throws ConfigError (bad users file) or SpoolError (spool
 * directory unusable, locked). The result is frozen: nothing is added to it later.
 */
export async function compose(config: Readonly<Config>, options: ComposeOptions): Promise<AppDeps> {
  const { log } = options;
  const endpoint = endpointFor(config.region, config.endpoint || undefined);
  let localUsers: LocalUsers | undefined;
  if (config.usersFile !== '') {
    try {
      localUsers = LocalUsers.fromFile(config.usersFile);
    } catch (err) {
      throw new ConfigError(`--users-file: ${(err as Error).message}`);
    }
  } else if (config.credentials === 'chain') {
    log.warn('--credentials chain without --users-file: any local process can send and manage queues with the daemon\'s AWS credentials');
  }
  let callerKeys: CallerKeys | undefined;
  if (config.sqsApiKeysFile !== '') {
    try {
      callerKeys = CallerKeys.fromFile(config.sqsApiKeysFile);
    } catch (err) {
      throw new ConfigError(`--sqs-api-keys-file: ${(err as Error).message}`);
    }
  } else if (config.credentials === 'chain') {
    log.warn('SQS API without --sqs-api-keys-file: any local process can call it, and it signs with the daemon\'s AWS credentials');
  }
  let daemonCredentials: CredentialSource | undefined;
  if (config.credentials === 'chain') daemonCredentials = providerCredentials(await chainProvider(options.credentialProvider), log.child({ mod: 'credentials' }));
  let spool: Spool | undefined;
  let store: MessageStore;
  if (options.store) store = options.store;
  else if (config.durability === 'memory') store = new MemoryStore(log.child({ mod: 'store' }));
  else {
    checkSpoolDir(config.spoolDir);
    spool = new Spool({ dir: config.spoolDir, durability: config.durability, maxSpoolBytes: config.maxSpoolBytes, segmentBytes: config.spoolSegmentBytes, maxDeadLetters: config.maxDeadLetters, log: log.child({ mod: 'spool' }) });
    store = spool;
  }
  try {
    return await build(config, options, store, spool, daemonCredentials, localUsers, callerKeys, endpoint);
  } catch (err) {
    await spool?.close(); // the lock is not left held by a daemon that never started
    throw err;
  }
}

async function build(
  config: Readonly<Config>,
  options: ComposeOptions,
  store: MessageStore,
  spool: Spool | undefined,
  daemonCredentials: CredentialSource | undefined,
  localUsers: LocalUsers | undefined,
  callerKeys: CallerKeys | undefined,
  endpoint: string,
): Promise<AppDeps> {
  const { log } = options;
  const client = new SqsClient({ endpoint, region: config.region, connections: config.connections, requestTimeoutMs: config.requestTimeoutMs });
  // The SQS API door forwards on its own pool: its long polls never hold delivery's connections.
  const apiClient = new SqsClient({ endpoint, region: config.region, connections: config.connections, requestTimeoutMs: config.requestTimeoutMs });
  const resolverLog = log.child({ mod: 'resolver' });
  // With a spool, queue URLs and settings survive a restart: known queues take sends at once, SQS up or not.
  const known = spool ? new KnownQueues(join(spool.dir, 'queues.json'), resolverLog) : undefined;
  const resolver = new QueueResolver(client, { maxMessageBytes: config.maxMessageBytes, refreshMs: config.queueRefreshMs, log: resolverLog, ...(known ? { known } : {}) });
  // Recent messages' states (GET /messages/:id, ?wait=1).
  const tracker = new MessageTracker(config.messageWindow);
  const metrics = new Metrics({ log: log.child({ mod: 'metrics' }) });
  // Failover upstreams (none: the pipeline sends through `client` alone, as a single-upstream daemon).
  const upstreams = await createUpstreams(config, { client, resolver, log: log.child({ mod: 'upstreams' }), profile: options.profileProvider ?? profileProvider });
  // S3 (issue 16): the client whenever payloads may be read (workers) or written (--s3-bucket).
  const s3Client = config.s3Bucket !== '' || config.workers.length > 0 ? new S3Client({ region: config.region, ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}), timeoutMs: Math.max(30_000, config.requestTimeoutMs) }) : undefined;
  let policy: OffloadPolicy | undefined;
  if (config.s3Bucket !== '' && s3Client) {
    const payloads = new LargePayloads({ ...(spool ? { spoolDir: spool.dir } : {}), fsync: config.durability === 'fsync', maxBytes: config.maxSpoolBytes, log: log.child({ mod: 'payloads' }) });
    policy = { bucket: config.s3Bucket, prefix: config.s3Prefix, thresholdBytes: config.s3ThresholdBytes, always: config.s3Always === 'on', maxPayloadBytes: config.maxLargeMessageBytes, payloads };
    if (spool) spool.deadLetters.removePayload = (id) => payloads.remove(id);
  }
  const uploader = policy && s3Client
    ? new PayloadUploader({ s3: s3Client, payloads: policy.payloads, retryBaseMs: config.retryBaseMs, retryMaxMs: config.retryMaxMs, maxMessageAgeMs: config.maxMessageAgeMs, log: log.child({ mod: 'payloads' }) })
    : undefined;
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
      maxInMemoryBytes: config.maxInMemoryBytes,
      fifoMaxPerGroup: config.fifoMaxPerGroup,
      maxDestinations: config.maxDestinations,
      ...(upstreams ? { send: upstreams.send } : {}),
      ...(uploader ? { payloads: uploader } : {}),
    },
    log.child({ mod: 'delivery' }),
    resolver,
    options.observer ? both(metrics.observer, options.observer) : metrics.observer,
    tracker,
  );
  metrics.attach({ pipeline, store, client });
  // Every upstream down: batches wait behind the outage hold's probe; one found healthy again by the router's probe ends that wait.
  if (upstreams) upstreams.onRecovered = () => pipeline.outage.probeNow();
  // Every SQS request tells what is known of SQS (reachable?) and of the daemon's own credentials.
  client.observer = (action, err) => {
    metrics.noteCall(action, err);
    if (daemonCredentials && (err === undefined || BAD_CREDENTIAL_CODES.has(err.code))) daemonCredentials.noteAnswer?.(err?.code);
  };
  // Workers configured with "chain" share the daemon's provider chain. In pass-through mode it is
  // made only when a worker uses it: before recovery, which needs it for their spooled replies.
  let ownChain: CredentialSource | undefined = daemonCredentials;
  if (!ownChain && config.workers.some((w) => w.credentials.kind === 'chain')) ownChain = providerCredentials(await chainProvider(options.credentialProvider));
  if (spool) {
    // Before the listener opens: recovered messages go first, in their original order.
    // Payload files of finished messages (or of none: a crash before the accept) go, unless a dead letter keeps them.
    const unclaimed = policy ? new Set(policy.payloads.ids()) : undefined;
    // A message stored without credentials was signed with the provider chain: the daemon's own
    // (--credentials chain), or in pass-through mode a chain worker's reply. Either way it goes
    // out with the chain again; only when nothing here uses the chain does it wait in the spool.
    const recovered = spool.recover((stored) => (stored ? staticCredentials(stored) : ownChain), unclaimed);
    for (const id of unclaimed ?? []) if (!spool.deadLetters.has(id)) policy?.payloads.remove(id);
    // In pass-through mode every list of dead letters is a caller's own: learn whose each is now, in the background.
    if (config.credentials !== 'chain') {
      spool.deadLetters.learnOwners().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'could not read the dead letters\' owners; the first list will'));
    }
    // New sends to a queue with messages in the spool use its destination at once.
    for (const r of recovered) resolver.adopt(r.dest);
    pipeline.restore(recovered);
  }
  const ingest = new Ingest({ pipeline, resolver, fifoDefaultGroupId: config.fifoDefaultGroupId, maxMessageBytes: config.maxMessageBytes, maxSpoolBytes: config.durability === 'memory' ? Infinity : config.maxSpoolBytes, traceAttributes: config.traceAttributes === 'on', ...(policy ? { offload: policy } : {}), log: log.child({ mod: 'ingest' }) });
  const workers = createWorkers(config.workers, {
    client,
    ...(upstreams ? { upstreams: upstreams.list } : {}),
    log: log.child({ mod: 'worker' }),
    sendReply: replySender(ingest),
    ...(s3Client ? { s3: { client: s3Client, keep: config.s3KeepReceived === 'on' } } : {}),
    chain: async () => {
      ownChain ??= providerCredentials(await chainProvider(options.credentialProvider));
      return ownChain;
    },
  });
  metrics.attachWorkers(workers);
  if (upstreams) metrics.attachUpstreams(upstreams, pipeline);
  if (s3Client) metrics.attachS3(s3Client.stats, uploader ? () => uploader.backlog() : undefined);
  const replies = new ReplyHub({
    client,
    log: log.child({ mod: 'replies' }),
    queueName: config.replyQueueName,
    keepMs: config.replyKeepSeconds * 1000,
    maxKept: config.repliesMaxCount,
    maxKeptBytes: config.repliesMaxBytes,
    maxWaiters: config.repliesMaxCount,
  });
  // The live charts' numbers: sampled in memory (daemon.ts starts and stops the timer), bounded by a 15-minute window and 200 queues.
  const history = new History(pipeline);
  const readinessMonitor = new ReadinessMonitor(log.child({ mod: 'health' }));
  const deps: AppDeps = Object.freeze({
    config,
    log,
    client,
    apiClient,
    resolver,
    pipeline,
    ingest,
    store,
    auth: Object.freeze({ daemonCredentials, localUsers }),
    callerKeys,
    metrics,
    startedAt: Date.now(),
    ready: options.ready,
    workers,
    replies,
    history,
    tracker,
    readinessMonitor,
    upstreams,
    s3: s3Client ? Object.freeze({ client: s3Client, policy, ...(uploader ? { uploads: () => uploader.backlog() } : {}) }) : undefined,
  });
  readinessMonitor.attach(deps);
  return deps;
}

/** The AWS default provider chain for a named profile (loaded only when an upstream names one). */
async function profileProvider(name: string): Promise<CredentialProvider> {
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  return fromNodeProviderChain({ profile: name }) as CredentialProvider;
}

/** The given provider, else the AWS default provider chain (loaded only when needed). */
async function chainProvider(given: CredentialProvider | undefined): Promise<CredentialProvider> {
  if (given) return given;
  const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
  return fromNodeProviderChain() as CredentialProvider;
}

/**
 * Worker replies are one more door onto ingest: resolve the queue, validate, append (durable)
 * before the task is deleted. A refusal rejects with the entry's or the daemon's error code.
 */
function replySender(ingest: Ingest): ReplySender {
  return async (reply) => {
    const dest = await ingest.destination(reply.credentials, reply.queue);
    const [result] = await ingest.send(dest, [{ input: reply.input }]);
    if (result && !result.ok) throw Object.assign(new Error(result.error.message), { code: result.error.code });
  };
}

/** One observer calling `a` then `b` for every hook either has. */
function both(a: PipelineObserver, b: PipelineObserver): PipelineObserver {
  const out: PipelineObserver = {};
  for (const k of ['accepted', 'batchDone', 'retried', 'deadLettered', 'delivered', 'unexpectedError'] as const) {
    const fa = a[k] as ((...args: unknown[]) => void) | undefined;
    const fb = b[k] as ((...args: unknown[]) => void) | undefined;
    if (fa && fb) {
      (out as Record<string, unknown>)[k] = (...args: unknown[]) => {
        fa(...args);
        fb(...args);
      };
    } else if (fa || fb) (out as Record<string, unknown>)[k] = fa ?? fb;
  }
  return out;
}
