import type { Logger } from 'pino';
import { attemptBatch } from '../delivery/attempt.js';
import type { Envelope } from '../delivery/envelope.js';
import type { BatchOutcome } from '../delivery/sender.js';
import type { SqsClient } from '../sqs/client.js';
import type { CredentialSource } from '../sqs/credentials.js';
import { isSqsError, mayHaveArrived, SqsError, upstreamFault } from '../sqs/errors.js';
import type { Destination, QueueResolver } from '../sqs/resolver.js';
import { type HealthOptions, type HealthSnapshot, UpstreamHealth } from './health.js';
import type { UpstreamConfig } from './options.js';

/** One upstream as the daemon runs it: its own client (pool), resolver and health. */
export interface Upstream {
  readonly index: number;
  readonly config: UpstreamConfig;
  readonly client: SqsClient;
  readonly resolver: QueueResolver;
  readonly health: UpstreamHealth;
  /** Chain mode with a profile: what signs here instead of the daemon's own chain. */
  readonly credentials: CredentialSource | undefined;
}

/**
 * Why a queue uses the upstream it uses: `primary` (the first, healthy), `failover` (the ones
 * before it are down), `fifo-stays` (a FIFO queue waits on its down upstream, --failover-fifo off),
 * `queue-missing` (the next healthy upstream has no such queue: it waits, spooled),
 * `no-healthy-upstream` (every upstream is down: it waits, spooled).
 */
export type RouteReason = 'primary' | 'failover' | 'fifo-stays' | 'queue-missing' | 'no-healthy-upstream';

export interface RouteView {
  upstream: string;
  reason: RouteReason;
  /** In words, for people: which upstream is down, which lacks the queue. */
  detail: string;
  since: string;
}

interface Route {
  readonly dest: Destination;
  index: number;
  reason: RouteReason;
  detail: string;
  since: number;
  usedAt: number;
  /** The same queue resolved in other upstreams, by upstream index. */
  readonly targets: Map<number, Destination>;
  /** Upstreams known to lack the queue, until when (Date.now() ms) before asking again. */
  readonly missing: Map<number, number>;
}

export interface UpstreamStatus extends HealthSnapshot {
  name: string;
  region: string;
  /** '' = the region's AWS endpoint. */
  endpoint: string;
  primary: boolean;
  /** Queues the router tracks whose new batches go here now: moved here, or waiting here while it is down (a queue simply on a healthy primary is not counted). */
  queues: number;
  sent: number;
}

export interface UpstreamsOptions extends HealthOptions {
  /** FIFO queues move too (--failover-fifo on). */
  fifo: boolean;
  log: Logger;
}

/** A queue missing in an upstream is asked about again after this (it may have been created). ms. */
const MISSING_RECHECK_MS = 30_000;
/** Routes of queues not sent to in this long are forgotten (they start again on the primary). ms. */
const ROUTE_IDLE_MS = 600_000;
/** Most routes kept (one per destination sent to while its upstream was down); the oldest goes first. */
const MAX_ROUTES = 10_000;

/**
 * Failover across an ordered list of independent upstreams (issue 17). Batches of a queue go to
 * the first healthy upstream that has the queue (resolved there on first use); its health comes
 * from the outcomes it sees (src/sqs/errors.ts `upstreamFault`); a down upstream is probed with
 * backoff, and queues return to it at their next batch once it answers. Entries whose request
 * failed on one upstream and are then delivered by another are counted as possible duplicates
 * when the first may have stored them. While the primary is healthy and no queue was moved,
 * `send` is one Map lookup more than a single-upstream daemon.
 */
export class Upstreams {
  private readonly routes = new Map<string, Route>();
  /** Envelopes whose last request failed where it may have arrived: the upstream's index. */
  private readonly suspects = new WeakMap<Envelope, number>();
  private suspectCount = 0;
  private readonly probeTimers = new Map<number, NodeJS.Timeout>();
  /** The last queue and credentials seen failing per upstream: what its probe asks about. */
  private readonly probeTargets = new Map<number, { queueName: string; credentials: CredentialSource }>();
  private readonly sentBy: number[];
  private sweepTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** Entries delivered by one upstream after a failed request to another that may have stored them. */
  possibleDuplicates = 0;
  /** Queue moves from one upstream to another (either way). */
  switches = 0;
  readonly send = (batch: readonly Envelope[]): Promise<BatchOutcome> => this.attempt(batch);

  constructor(
    readonly list: readonly Upstream[],
    private readonly options: UpstreamsOptions,
  ) {
    this.sentBy = list.map(() => 0);
  }

  /** Builds the health of upstream `index`, logging each change once; the router's probes follow it. */
  static health(name: string, options: HealthOptions, log: Logger, onDown: () => void, onUp: () => void = () => undefined): UpstreamHealth {
    return new UpstreamHealth(options, (state, why) => {
      if (state === 'down') log.warn({ upstream: name, code: why?.code, failures: why?.failures }, `upstream ${name} is down; new batches of its queues go to the next healthy upstream`);
      else log.info({ upstream: name }, `upstream ${name} answers again; its queues return to it`);
      if (state === 'down') onDown();
      else onUp();
    });
  }

  /**
   * Told each time an upstream is healthy again (its probe or a batch was answered). The
   * pipeline's outage hold listens: with every upstream down it waits up to seconds between its
   * own probes, and a recovered upstream is where its next batch can go now.
   */
  onRecovered: () => void = () => undefined;

  /** @internal createUpstreams' health callback. */
  recovered(): void {
    if (!this.stopped) this.onRecovered();
  }

  get primary(): Upstream {
    return this.list[0] as Upstream;
  }

  /** Is any upstream healthy (readiness)? */
  anyHealthy(): boolean {
    return this.list.some((u) => u.health.healthy);
  }

  start(): void {
    for (const u of this.list) if (u.index > 0) u.resolver.start();
    this.sweepTimer = setInterval(() => this.sweep(Date.now() - ROUTE_IDLE_MS), 60_000);
    this.sweepTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    for (const t of this.probeTimers.values()) clearTimeout(t);
    this.probeTimers.clear();
    for (const u of this.list) if (u.index > 0) u.resolver.stop();
  }

  /** Closes the failover upstreams' pools (the primary's client belongs to the daemon). */
  async close(): Promise<void> {
    this.stop();
    await Promise.all(this.list.filter((u) => u.index > 0).map((u) => u.client.close()));
  }

  sweep(before: number): void {
    for (const [k, r] of this.routes) if (r.usedAt < before) this.routes.delete(k);
  }

  /** Which upstream the destination with this key uses now, and why. */
  routeOf(destKey: string): RouteView {
    const r = this.routes.get(destKey);
    if (!r) {
      const p = this.primary;
      return { upstream: p.config.name, reason: 'primary', detail: p.health.healthy ? 'the primary upstream' : `the primary upstream (${p.config.name}, down; its upstream is chosen again at its next batch)`, since: p.health.snapshot().since };
    }
    return { upstream: (this.list[r.index] as Upstream).config.name, reason: r.reason, detail: r.detail, since: new Date(r.since).toISOString() };
  }

  status(): UpstreamStatus[] {
    const queues = this.list.map(() => 0);
    for (const r of this.routes.values()) queues[r.index] = (queues[r.index] ?? 0) + 1;
    return this.list.map((u) => ({
      name: u.config.name,
      region: u.config.region,
      endpoint: u.config.endpoint,
      primary: u.index === 0,
      ...u.health.snapshot(),
      queues: queues[u.index] ?? 0,
      sent: this.sentBy[u.index] ?? 0,
    }));
  }

  /** Routed queues (those not simply on a healthy primary): for metrics. */
  *routedQueues(): Iterable<{ queueName: string; upstream: string; reason: RouteReason }> {
    for (const r of this.routes.values()) yield { queueName: r.dest.queueName, upstream: (this.list[r.index] as Upstream).config.name, reason: r.reason };
  }

  private async attempt(batch: readonly Envelope[]): Promise<BatchOutcome> {
    const dest = (batch[0] as Envelope).dest;
    let route = this.routes.get(dest.key);
    if (route === undefined && this.primary.health.healthy) {
      const outcome = await attemptBatch(this.primary.client, this.primary.resolver, batch);
      this.observe(this.primary, batch, outcome, undefined);
      return outcome;
    }
    if (route === undefined) {
      // Bounded: a forgotten route only means the queue is chosen again from the primary at its next batch.
      if (this.routes.size >= MAX_ROUTES) this.routes.delete(this.routes.keys().next().value as string);
      route = { dest, index: 0, reason: 'primary', detail: 'the primary upstream', since: Date.now(), usedAt: 0, targets: new Map(), missing: new Map() };
      this.routes.set(dest.key, route);
    }
    route.usedAt = Date.now();
    const index = await this.choose(route);
    const u = this.list[index] as Upstream;
    const target = index === 0 ? dest : (route.targets.get(index) as Destination);
    const outcome = await attemptBatch(u.client, u.resolver, batch, target);
    this.observe(u, batch, outcome, route);
    // Back on a healthy primary: the queue needs no route any more.
    if (route.index === 0 && this.primary.health.healthy && this.routes.get(dest.key) === route) this.routes.delete(dest.key);
    return outcome;
  }

  /** The upstream the route's next batch goes to: the first healthy one that has the queue (and may take it). */
  private async choose(route: Route): Promise<number> {
    const fifoStays = route.dest.limits.fifo && !this.options.fifo;
    let skipped: 'fifo' | 'missing' | undefined;
    let missingIn = '';
    for (const u of this.list) {
      if (!u.health.healthy) continue;
      if (u.index === route.index) {
        this.settle(route, u);
        return u.index;
      }
      if (u.index !== 0 && fifoStays) {
        skipped = 'fifo';
        break;
      }
      if (u.index !== 0 && !(await this.targetIn(route, u))) {
        if (route.missing.has(u.index)) {
          skipped ??= 'missing';
          missingIn ||= u.config.name;
        }
        continue;
      }
      this.move(route, u);
      return u.index;
    }
    const here = (this.list[route.index] as Upstream).config.name;
    if (skipped === 'fifo') this.mark(route, 'fifo-stays', `${here} is down; a FIFO queue stays and waits, spooled (--failover-fifo off)`);
    else if (skipped === 'missing') this.mark(route, 'queue-missing', `${here} is down and ${missingIn} has no queue ${route.dest.queueName}; its messages wait, spooled`);
    else this.mark(route, 'no-healthy-upstream', `${here} is down and no other upstream is healthy; its messages wait, spooled`);
    return route.index;
  }

  /** The queue resolved in upstream `u` (cached in the route), or undefined: missing there or not resolvable now. */
  private async targetIn(route: Route, u: Upstream): Promise<Destination | undefined> {
    const have = route.targets.get(u.index);
    if (have) return have;
    const until = route.missing.get(u.index);
    if (until !== undefined && until > Date.now()) return undefined;
    const credentials = u.credentials && route.dest.credentials.refreshable ? u.credentials : route.dest.credentials;
    try {
      const t = await u.resolver.resolve(credentials, route.dest.queueName);
      route.missing.delete(u.index);
      route.targets.set(u.index, t);
      return t;
    } catch (err) {
      const e = isSqsError(err) ? err : undefined;
      if (e && upstreamFault(e)) {
        u.health.fault(e);
        this.probeTargets.set(u.index, { queueName: route.dest.queueName, credentials });
        return undefined;
      }
      if (e?.httpStatus) u.health.answered();
      // Missing, or refused there (access denied...): not a place for this queue; asked again later.
      route.missing.set(u.index, Date.now() + MISSING_RECHECK_MS);
      this.options.log.warn({ queue: route.dest.queueName, upstream: u.config.name, code: e?.code ?? 'unknown' }, `queue ${route.dest.queueName} cannot move to upstream ${u.config.name} (${e?.code ?? 'error'}); it stays and waits`);
      return undefined;
    }
  }

  private move(route: Route, u: Upstream): void {
    if (route.index === u.index) return; // another batch of the queue moved it meanwhile
    const from = this.list[route.index] as Upstream;
    const back = u.index < route.index;
    route.index = u.index;
    this.switches += 1;
    if (u.index === 0) this.mark(route, 'primary', 'the primary upstream');
    else this.mark(route, 'failover', `${this.downBefore(u.index)} down`);
    this.options.log.warn({ queue: route.dest.queueName, from: from.config.name, to: u.config.name, reason: route.detail }, back ? `queue ${route.dest.queueName} returns from upstream ${from.config.name} to ${u.config.name}` : `queue ${route.dest.queueName} moves from upstream ${from.config.name} to ${u.config.name} (${route.detail})`);
  }

  /** Still on a healthy upstream: say so (it may have been waiting). */
  private settle(route: Route, u: Upstream): void {
    if (u.index === 0) this.mark(route, 'primary', 'the primary upstream');
    else if (route.reason !== 'failover') this.mark(route, 'failover', `${this.downBefore(u.index)} down`);
  }

  private mark(route: Route, reason: RouteReason, detail: string): void {
    if (route.reason === reason && route.detail === detail) return;
    route.reason = reason;
    route.detail = detail;
    route.since = Date.now();
  }

  private downBefore(index: number): string {
    return this.list.slice(0, index).map((x) => x.config.name).join(', ');
  }

  /** Health, possible duplicates, and a queue that vanished from a failover upstream. */
  private observe(u: Upstream, batch: readonly Envelope[], outcome: BatchOutcome, route: Route | undefined): void {
    const err = outcome.requestError;
    if (err && upstreamFault(err)) {
      u.health.fault(err);
      if (this.healthyElsewhere(u, batch[0]!.dest)) outcome.elsewhere = true;
      this.probeTargets.set(u.index, { queueName: batch[0]!.dest.queueName, credentials: u.credentials && batch[0]!.dest.credentials.refreshable ? u.credentials : batch[0]!.dest.credentials });
      if (mayHaveArrived(err)) {
        for (const env of batch) {
          if (!this.suspects.has(env)) this.suspectCount += 1;
          this.suspects.set(env, u.index);
        }
      }
    } else if (!err || err.httpStatus > 0) u.health.answered();
    this.sentBy[u.index] = (this.sentBy[u.index] ?? 0) + outcome.delivered.length;
    if (this.suspectCount > 0) {
      for (const env of outcome.delivered) {
        const at = this.suspects.get(env);
        if (at === undefined) continue;
        this.suspects.delete(env);
        this.suspectCount -= 1;
        if (at !== u.index) this.possibleDuplicates += 1;
      }
    }
    if (route && u.index !== 0 && err?.queueMissing) this.vanished(route, u, outcome, err);
  }

  /**
   * Could the destination's next batch go to an upstream other than `u`, the one that just failed?
   * (Then the pipeline does not hold its batches as if SQS were down: outage.ts.) A FIFO queue that
   * stays (--failover-fifo off) can only return to the primary.
   */
  private healthyElsewhere(u: Upstream, dest: Destination): boolean {
    const fifoStays = dest.limits.fifo && !this.options.fifo;
    for (const x of this.list) {
      if (x === u || !x.health.healthy) continue;
      if (fifoStays && x.index !== 0) continue;
      return true;
    }
    return false;
  }

  /**
   * The queue was deleted in a failover upstream after it was resolved there: not a reason to
   * dead-letter (the primary may still have it). The entries are retried; the upstream is not
   * asked again for a while.
   */
  private vanished(route: Route, u: Upstream, outcome: BatchOutcome, err: SqsError): void {
    const gone = route.targets.get(u.index);
    if (gone) u.resolver.invalidate(gone);
    route.targets.delete(u.index);
    route.missing.set(u.index, Date.now() + MISSING_RECHECK_MS);
    const retry = new SqsError('QueueMissingInUpstream', `queue ${route.dest.queueName} does not exist in upstream ${u.config.name} (${err.code}); kept and retried`, 0, err.requestId, 'retry');
    outcome.requestError = retry;
    for (const f of outcome.failed) if (f.error === err) f.error = retry;
    this.options.log.warn({ queue: route.dest.queueName, upstream: u.config.name }, `queue ${route.dest.queueName} is gone from upstream ${u.config.name}; its messages are kept and retried elsewhere`);
  }

  /** Called when an upstream goes down: probe it with backoff until it answers. */
  scheduleProbe(index: number): void {
    const u = this.list[index];
    if (!u || this.stopped || this.probeTimers.has(index)) return;
    const delay = u.health.probeDelayMs();
    u.health.nextProbeAt = Date.now() + delay;
    const timer = setTimeout(() => {
      this.probeTimers.delete(index);
      void this.probe(u);
    }, delay);
    timer.unref();
    this.probeTimers.set(index, timer);
  }

  /** GetQueueUrl of the last queue that failed there: any answer that is not a fault means it is back. */
  private async probe(u: Upstream): Promise<void> {
    if (this.stopped || u.health.healthy) return;
    const t = this.probeTargets.get(u.index);
    try {
      if (!t) throw new SqsError('NoProbeTarget', 'nothing to probe with', 0, undefined, 'retry');
      await u.client.getQueueUrl(t.queueName, await t.credentials.get());
      u.health.answered();
    } catch (err) {
      if (isSqsError(err) && !upstreamFault(err) && err.httpStatus > 0) u.health.answered();
      else {
        u.health.probeFailed();
        this.scheduleProbe(u.index);
      }
    }
  }
}
