import type { Logger } from 'pino';
import type { AppDeps } from './http/deps.js';

/** Each readiness check by state only: nothing a local process could not already learn. */
export interface ReadinessChecks {
  /** `ok`, or `down` while starting (spool recovery) or stopping. */
  listener: 'ok' | 'down';
  /** `ok`; `unwritable` (disk full, permissions) or `full` (--max-spool-bytes reached): sends get 503. */
  spool: 'ok' | 'unwritable' | 'full';
  /** `ok`, or `full`: sends get 503 + Retry-After until SQS catches up. */
  backlog: 'ok' | 'full';
  /** From the daemon's own SQS requests: `unknown` until the first, then `reachable` or `unreachable`. */
  upstream: 'unknown' | 'reachable' | 'unreachable';
  /** Only with --credentials chain: `ok`, `unknown` (not fetched yet), `unavailable` or `refused` (by SQS). */
  credentials?: 'ok' | 'unknown' | 'unavailable' | 'refused';
}

export type CheckName = keyof ReadinessChecks;

const OK = new Set(['ok', 'unknown', 'reachable']);

export interface Readiness {
  ready: boolean;
  checks: ReadinessChecks;
  /** Why not ready, in words, one clause per failing check; absent when ready. */
  reason?: string;
}

export function readinessChecks(deps: AppDeps): ReadinessChecks {
  const info = deps.store.info();
  const checks: ReadinessChecks = {
    listener: (deps.ready?.() ?? true) ? 'ok' : 'down',
    spool: !info.writable ? 'unwritable' : deps.pipeline.spoolRefusing(info.spoolBytes) ? 'full' : 'ok',
    backlog: deps.pipeline.hasRoom(1, 0) ? 'ok' : 'full',
    // With failover upstreams: reachable while any of them is healthy (messages go there).
    upstream: deps.upstreams ? (deps.upstreams.anyHealthy() ? 'reachable' : 'unreachable') : (deps.metrics?.upstream ?? 'unknown'),
  };
  const health = deps.auth.daemonCredentials?.health?.();
  if (health) checks.credentials = health.state;
  return checks;
}

/** The checks, whether all that are not excluded pass, and why not. */
export function readiness(deps: AppDeps, exclude: ReadonlySet<string> = new Set()): Readiness {
  const checks = readinessChecks(deps);
  const reasons: string[] = [];
  for (const [name, state] of Object.entries(checks) as Array<[CheckName, string]>) {
    if (exclude.has(name) || OK.has(state)) continue;
    reasons.push(describe(deps, name, state));
  }
  return reasons.length === 0 ? { ready: true, checks } : { ready: false, checks, reason: reasons.join('; ') };
}

function describe(deps: AppDeps, name: CheckName, state: string): string {
  switch (name) {
    case 'listener':
      return 'listener down (starting or stopping)';
    case 'spool':
      return state === 'full' ? 'spool full (--max-spool-bytes): sends get 503 SpoolFull' : 'spool not writable (disk full or I/O error): sends get 503 SpoolUnavailable';
    case 'backlog':
      return 'backlog full (--max-backlog-messages or --max-backlog-bytes): sends get 503 BacklogFull';
    case 'upstream': {
      if (deps.upstreams) return `every upstream is down (${deps.upstreams.list.map((u) => `${u.config.name}: ${u.health.snapshot().lastError?.code ?? 'down'}`).join(', ')}): messages are accepted and kept`;
      const code = deps.metrics?.lastUpstreamError;
      return `SQS unreachable (consecutive requests failed${code ? `, last ${code}` : ''}): messages are accepted and kept`;
    }
    case 'credentials': {
      const detail = deps.auth.daemonCredentials?.health?.().detail ?? '';
      return state === 'refused'
        ? `SQS refuses the daemon's AWS credentials (${detail})`
        : `the daemon's AWS credentials cannot be had${detail ? ` (${detail})` : ''}: sends get 503 CredentialsUnavailable`;
    }
  }
}

/**
 * Logs readiness when it changes, one line per change (not ready, with the reason; ready again),
 * checking every `intervalMs` and whenever /readyz is asked. Not ready while starting or stopping
 * is the lifecycle's own business and logged by it, so the listener check is left out here.
 */
export class ReadinessMonitor {
  private last = '';
  private timer: NodeJS.Timeout | undefined;
  private deps: AppDeps | undefined;

  constructor(private readonly log: Logger) {}

  /** The parts it reads (they hold the monitor too, so they come after it). */
  attach(deps: AppDeps): void {
    this.deps = deps;
  }

  start(intervalMs = 1000): void {
    this.check();
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  check(): void {
    if (!this.deps) return;
    const r = readiness(this.deps, LIFECYCLE);
    const now = r.reason ?? '';
    if (now === this.last) return;
    const was = this.last;
    this.last = now;
    if (now !== '') this.log.warn({ checks: r.checks, reason: now }, `not ready: ${now}`);
    else if (was !== '') this.log.info({ checks: r.checks }, 'ready again');
  }
}

const LIFECYCLE: ReadonlySet<string> = new Set(['listener']);
