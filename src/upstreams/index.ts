/**
 * Independent upstreams (issue 17): an ordered list of SQS regions or endpoints; delivery goes to
 * the first healthy one that has the queue. `createUpstreams` builds them from the config, the
 * primary on the daemon's own client and resolver; the daemon composes the router into the
 * pipeline (`PipelineOptions.send`) and the worker side reads every upstream's queue.
 */
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { endpointFor, SqsClient } from '../sqs/client.js';
import { type CredentialProvider, type CredentialSource, providerCredentials } from '../sqs/credentials.js';
import { QueueResolver } from '../sqs/resolver.js';
import { primaryUpstream } from './options.js';
import { type Upstream, Upstreams } from './router.js';

export { Upstreams, type RouteReason, type RouteView, type Upstream, type UpstreamStatus } from './router.js';
export type { UpstreamConfig } from './options.js';
export type { HealthSnapshot, UpstreamState } from './health.js';

export interface UpstreamsDeps {
  /** The primary's client and resolver (the daemon's own). */
  client: SqsClient;
  resolver: QueueResolver;
  log: Logger;
  /** Credentials of an upstream's profile (chain mode); asked once per upstream that names one. */
  profile: (name: string) => Promise<CredentialProvider>;
}

/** The credentials an upstream's profile names, keyed apart from the default chain. */
async function profileCredentials(name: string, deps: UpstreamsDeps, log: Logger): Promise<CredentialSource> {
  const source = providerCredentials(await deps.profile(name), log);
  return { ...source, key: `profile\0${name}` };
}

/** Undefined when no failover upstream is configured: the daemon then runs exactly as a single-upstream one. */
export async function createUpstreams(config: Readonly<Config>, deps: UpstreamsDeps): Promise<Upstreams | undefined> {
  if (config.upstreams.length === 0) return undefined;
  const log = deps.log;
  const healthOptions = { afterFailures: config.failoverAfterFailures, afterMs: config.failoverAfterMs, probeMs: config.failoverProbeMs, probeMaxMs: config.failoverProbeMaxMs };
  let router: Upstreams | undefined;
  const list: Upstream[] = [];
  const all = [primaryUpstream(config.region, config.endpoint), ...config.upstreams];
  for (let index = 0; index < all.length; index++) {
    const c = all[index]!;
    const client =
      index === 0 ? deps.client : new SqsClient({ endpoint: endpointFor(c.region, c.endpoint || undefined), region: c.region, connections: config.connections, requestTimeoutMs: config.requestTimeoutMs });
    const resolver = index === 0 ? deps.resolver : new QueueResolver(client, { maxMessageBytes: config.maxMessageBytes, refreshMs: config.queueRefreshMs, log: log.child({ upstream: c.name }) });
    const health = Upstreams.health(c.name, healthOptions, log, () => router?.scheduleProbe(index), () => router?.recovered());
    const credentials = c.profile === '' ? undefined : await profileCredentials(c.profile, deps, log.child({ upstream: c.name }));
    list.push({ index, config: c, client, resolver, health, credentials });
  }
  router = new Upstreams(list, { ...healthOptions, fifo: config.failoverFifo === 'on', log });
  return router;
}
