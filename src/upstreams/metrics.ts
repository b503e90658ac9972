import { Counter, Gauge, type Registry } from 'prom-client';
import type { Upstreams } from './router.js';

/**
 * Failover's metrics, read from the router at scrape time: each upstream's health, failures and
 * deliveries (label `upstream`: the configured names, a bounded set), which upstream each queue
 * uses and why (at most `maxQueues` queue names), queue moves and possible duplicates.
 */
export function registerUpstreamMetrics(registry: Registry, upstreams: Upstreams, queueNames: () => Iterable<string>, maxQueues: number): void {
  const p = 'sqs_accelerator_';
  const registers = [registry];
  const perUpstream = (kind: 'counter' | 'gauge', name: string, help: string, read: (s: ReturnType<Upstreams['status']>[number]) => number) => {
    const Ctor = kind === 'counter' ? Counter : Gauge;
    new Ctor({
      name: `${p}${name}`,
      help,
      labelNames: ['upstream'],
      registers,
      collect() {
        this.reset();
        for (const s of upstreams.status()) (this as Gauge<'upstream'>).inc({ upstream: s.name }, read(s));
      },
    });
  };
  perUpstream('gauge', 'upstream_up', 'Failover: 1 while the upstream is healthy, 0 while it is down (judged from delivery: connection errors, timeouts, 5xx).', (s) => (s.state === 'healthy' ? 1 : 0));
  perUpstream('counter', 'upstream_failures_total', 'Failover: requests to the upstream that failed at the connection, timed out or got a 5xx.', (s) => s.failuresTotal);
  perUpstream('counter', 'upstream_down_total', 'Failover: times the upstream was judged down.', (s) => s.downTotal);
  perUpstream('counter', 'upstream_messages_sent_total', 'Failover: messages the upstream confirmed.', (s) => s.sent);
  new Gauge({
    name: `${p}queue_upstream`,
    help: 'Failover: 1 for the upstream each queue\'s new batches go to now, with the reason (primary, failover, fifo-stays, queue-missing, no-healthy-upstream).',
    labelNames: ['queue', 'upstream', 'reason'],
    registers,
    collect() {
      this.reset();
      const routed = new Map<string, { upstream: string; reason: string }>();
      for (const r of upstreams.routedQueues()) if (!routed.has(r.queueName)) routed.set(r.queueName, r);
      const primary = upstreams.primary.config.name;
      let n = 0;
      for (const queue of queueNames()) {
        if (n++ >= maxQueues) break;
        const r = routed.get(queue);
        this.set({ queue, upstream: r?.upstream ?? primary, reason: r?.reason ?? 'primary' }, 1);
      }
    },
  });
  new Counter({
    name: `${p}failover_queue_switches_total`,
    help: 'Failover: times a queue moved from one upstream to another (away, or back).',
    registers,
    collect() {
      this.reset();
      this.inc(upstreams.switches);
    },
  });
  new Counter({
    name: `${p}failover_possible_duplicates_total`,
    help: 'Failover: messages delivered by one upstream after a request to another failed in a way that may have stored them there (answer lost): possible duplicates (at-least-once).',
    registers,
    collect() {
      this.reset();
      this.inc(upstreams.possibleDuplicates);
    },
  });
}
