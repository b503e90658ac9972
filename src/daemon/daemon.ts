import { EventEmitter } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { type Config, defineConfig, OPTIONS } from '../config.js';
import type { MessageStore } from '../delivery/store.js';
import { createApp } from '../http/app.js';
import { fastSend } from '../http/fast-send.js';
import { createHttpServer, httpServerStats } from '../http/server.js';
import type { AppDeps } from '../http/deps.js';
import { createLogger } from '../log.js';
import type { CredentialProvider } from '../sqs/credentials.js';
import type { Workers } from '../worker/index.js';
import type { ReadinessMonitor } from '../health.js';
import { compose } from './compose.js';
import { type DaemonEvents, eventObserver } from './events.js';

export interface DaemonOptions {
  /**
   * The options, keyed as in the config file (`{ region: 'eu-west-1', port: 0 }`), each checked
   * as there; a `Config` from `loadConfig()` (flags, environment, file) is used as it is.
   * Default: all defaults, which need `region` or `endpoint`.
   */
  config?: Partial<Config> | Readonly<Config>;
  /** Where logs go; default JSON lines on stdout at config.logLevel. */
  log?: Logger;
  /** Replace the store; default from config.durability (the spool, or memory). */
  store?: MessageStore;
  /** Credential provider for `credentials: 'chain'`; default the AWS default provider chain. */
  credentialProvider?: CredentialProvider;
  /** Credentials of a named profile (a failover upstream's "profile", chain mode); default the AWS provider chain with that profile. */
  profileProvider?: (name: string) => Promise<CredentialProvider>;
}

/** The running daemon's address, once started. */
export interface DaemonAddress {
  host: string;
  port: number;
  family: string;
}

/**
 * The daemon as a value: `createDaemon(options)` checks the options at once (ConfigError) and
 * does no I/O; `start()` builds every part, recovers the spool and listens; `close()` stops
 * gracefully. Events: see DaemonEvents.
 */
export interface Daemon extends EventEmitter<DaemonEvents> {
  readonly config: Readonly<Config>;
  /** `http://127.0.0.1:9292`; throws before start(). */
  readonly url: string;
  /** Where it listens; undefined before start() and after close(). */
  readonly address: DaemonAddress | undefined;
  /** The HTTP server; throws before start(). */
  readonly server: Server;
  /** Its parts (pipeline, store, client...), for tests and tools; throws before start(). */
  readonly deps: AppDeps;
  /** The worker side: one consumer per configured queue (none without --worker); throws before start(). */
  readonly workers: Workers;
  /**
   * Builds the parts, recovers the spool into the pipeline, then listens. Rejects with
   * ConfigError (bad users file), SpoolError (spool unusable or locked) or the listen error
   * (EADDRINUSE...); see exitCodeFor(). Once only.
   */
  start(): Promise<this>;
  /**
   * Graceful stop: no new messages (/readyz 503), deliver for up to shutdownGraceMs, leave the
   * rest in the spool, close connections, the pool and the store. Idempotent; resolves with the
   * messages left undelivered.
   */
  close(): Promise<{ remaining: number }>;
  /** The same as close(). */
  stop(): Promise<{ remaining: number }>;
  /**
   * Applies what can change without a restart (options marked reloadable: the log level) and
   * names the changed options that need one.
   */
  reload(next: Readonly<Config>): { applied: string[]; needRestart: string[] };
}

export function createDaemon(options: DaemonOptions = {}): Daemon {
  return new DaemonImpl(options);
}

class DaemonImpl extends EventEmitter<DaemonEvents> implements Daemon {
  readonly config: Readonly<Config>;
  private readonly log: Logger;
  private parts: { deps: AppDeps; server: Server; releaseHeld: () => void; url: string; address: DaemonAddress } | undefined;
  private starting: Promise<this> | undefined;
  private stopping: Promise<{ remaining: number }> | undefined;
  private listening = false;
  private current: Readonly<Config>;

  constructor(private readonly options: DaemonOptions) {
    super();
    this.config = defineConfig(options.config);
    this.current = this.config;
    this.log = options.log ?? createLogger(this.config.logLevel);
  }

  get url(): string {
    return this.started().url;
  }

  get address(): DaemonAddress | undefined {
    return this.listening ? this.parts?.address : undefined;
  }

  get server(): Server {
    return this.started().server;
  }

  get deps(): AppDeps {
    return this.started().deps;
  }

  get workers(): Workers {
    return this.started().deps.workers;
  }

  private started(): NonNullable<DaemonImpl['parts']> {
    if (!this.parts) throw new Error('the daemon is not started: call start() first');
    return this.parts;
  }

  start(): Promise<this> {
    this.starting ??= this.listen();
    return this.starting;
  }

  private async listen(): Promise<this> {
    const { config, log } = this;
    const deps = await compose(config, {
      log,
      store: this.options.store,
      credentialProvider: this.options.credentialProvider,
      profileProvider: this.options.profileProvider,
      observer: eventObserver(this, log.child({ mod: 'events' })),
      ready: () => this.listening,
    });
    let server: Server;
    let send: ReturnType<typeof fastSend>;
    try {
      // createApp can refuse too (an unreadable --metrics-token-file): nothing is left open then either.
      // POST /queues/:name from apps is served ahead of Koa (src/http/fast-send.ts); everything else by Koa.
      send = fastSend(deps, createApp(deps).callback());
      server = createHttpServer(send, config, log.child({ mod: 'http' })).listen({ host: config.host, port: config.port });
      const httpStats = httpServerStats(server);
      if (httpStats) deps.metrics?.attachHttp(httpStats);
      await new Promise<void>((resolve, reject) => {
        server.once('listening', resolve);
        server.once('error', reject);
      });
    } catch (err) {
      await deps.pipeline.close(0);
      await deps.client.close();
      await deps.upstreams?.close();
      await deps.apiClient?.close();
      await deps.store.close();
      await closeS3(deps);
      throw err;
    }
    const addr = server.address() as AddressInfo;
    const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
    this.parts = { deps, server, releaseHeld: send.releaseHeld, url: `http://${host}:${addr.port}`, address: { host: addr.address, port: addr.port, family: addr.family } };
    this.listening = true;
    this.startWatching(deps);
    log.info({ url: this.parts.url, upstream: deps.client.endpoint, region: config.region, credentialMode: config.credentials, durable: deps.store.durable }, 'sqs-accelerator listening');
    deps.history?.start();
    await deps.workers.start();
    return this;
  }

  close(): Promise<{ remaining: number }> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  stop(): Promise<{ remaining: number }> {
    return this.close();
  }

  private async shutdown(): Promise<{ remaining: number }> {
    if (this.starting) await this.starting.catch(() => undefined);
    if (!this.parts) return { remaining: 0 };
    const { deps, server, releaseHeld } = this.parts;
    const { log, config } = this;
    const { pipeline, client, store } = deps;
    this.stopWatching(deps);
    this.listening = false;
    deps.history?.stop();
    log.info({ backlog: pipeline.backlogMessages, graceMs: config.shutdownGraceMs }, 'shutting down: no new messages, flushing');
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    releaseHeld(); // held login refusals (src/http/tarpit.ts) are answered now, their connections closed
    // Workers first: their replies still go through the pipeline, which flushes next, while the
    // workers wait for their receives in flight (whose messages they hand back).
    const graceEnd = Date.now() + config.shutdownGraceMs;
    await deps.workers.quiesce(graceEnd);
    deps.replies?.close(); // requests still waiting for a reply are answered now
    const [result] = await Promise.all([pipeline.close(Math.max(0, graceEnd - Date.now())), deps.workers.stop(graceEnd)]);
    server.closeAllConnections();
    await closed;
    // Requests still in flight finish first, so their completion marks reach the store.
    await client.close();
    await deps.upstreams?.close();
    await deps.apiClient?.close();
    await store.close();
    await closeS3(deps);
    if (result.remaining > 0) {
      log.warn({ remaining: result.remaining, durable: store.durable }, store.durable ? 'undelivered messages stay in the spool for the next start' : 'undelivered messages are lost (memory-only mode)');
    } else {
      log.info('all accepted messages delivered');
    }
    return result;
  }

  private credentialProbe: NodeJS.Timeout | undefined;

  /**
   * Readiness logged once per change; the resolver's re-reads of queue settings; in chain mode the
   * credentials tried now, so a machine without any says why at start (and in /readyz), and again
   * every 5 s while none can be had.
   */
  private startWatching(deps: AppDeps): void {
    deps.resolver.start();
    deps.upstreams?.start();
    const monitor = deps.readinessMonitor as ReadinessMonitor | undefined;
    monitor?.start();
    const chain = deps.auth.daemonCredentials;
    if (!chain) return;
    const probe = () => void Promise.resolve().then(() => chain.get()).catch(() => undefined);
    probe();
    this.credentialProbe = setInterval(() => {
      if (chain.health?.().state === 'unavailable') probe();
    }, 5000);
    this.credentialProbe.unref();
  }

  private stopWatching(deps: AppDeps): void {
    (deps.readinessMonitor as ReadinessMonitor | undefined)?.stop();
    if (this.credentialProbe) clearInterval(this.credentialProbe);
    deps.resolver.stop();
    deps.upstreams?.stop();
  }

  reload(next: Readonly<Config>): { applied: string[]; needRestart: string[] } {
    const applied: string[] = [];
    const needRestart: string[] = [];
    for (const o of OPTIONS) {
      if (JSON.stringify(this.current[o.key]) !== JSON.stringify(next[o.key])) (o.reloadable ? applied : needRestart).push(o.key);
    }
    this.log.info({ applied, needRestart }, needRestart.length > 0 ? 'configuration reloaded; restart to apply the options in needRestart' : 'configuration reloaded');
    if (applied.includes('logLevel')) this.log.level = next.logLevel;
    this.current = { ...this.current, logLevel: next.logLevel };
    return { applied, needRestart };
  }
}

/** The S3 client's connections, and (memory-only mode) the temporary payload directory. */
async function closeS3(deps: AppDeps): Promise<void> {
  if (!deps.s3) return;
  await deps.s3.policy?.payloads.close();
  await deps.s3.client.close();
}
