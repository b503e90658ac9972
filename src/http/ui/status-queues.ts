import type { QueueStats } from '../../delivery/pipeline.js';
import { staticCredentials } from '../../sqs/credentials.js';
import type { Credentials } from '../../sqs/types.js';
import type { RouteView } from '../../upstreams/index.js';
import type { AppDeps } from '../deps.js';

/** A row of /status's queue table; `route` (failover upstreams only): which upstream its new batches go to, and why. */
export type StatusQueue = { name: string; route?: RouteView } & QueueStats;

/** Queues listed per page of /status (`q_offset` pages on). */
export const QUEUES_PER_PAGE = 100;

export interface QueuesPage {
  /** 'yours': only queues and counters of the caller's own credentials (pass-through); 'all': chain mode. */
  scope: 'yours' | 'all';
  total: number;
  offset: number;
  limit: number;
}

/**
 * The queue table of /status: one page of it, sorted by name, and in pass-through mode only
 * what was sent with the caller's own credentials, so one app cannot read the names and
 * counters of another's queues (as with dead letters). Chain mode shows all: every caller
 * signs with the daemon's credentials.
 */
export function statusQueues(deps: AppDeps, creds: Credentials, offset: number): { queues: StatusQueue[]; queuesPage: QueuesPage } {
  const owner = deps.config.credentials === 'chain' ? undefined : staticCredentials(creds).key;
  const all = [...deps.pipeline.allStats(owner)].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const up = deps.upstreams;
  // A destination's key is its credentials' key and the queue name (src/sqs/resolver.ts); chain mode's is "chain".
  const queues = all.slice(offset, offset + QUEUES_PER_PAGE).map(([name, s]) => (up ? { name, ...s, route: up.routeOf(`${owner ?? 'chain'}\0${name}`) } : { name, ...s }));
  return { queues, queuesPage: { scope: owner === undefined ? 'all' : 'yours', total: all.length, offset, limit: QUEUES_PER_PAGE } };
}
