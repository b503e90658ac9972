/**
 * Failover's benchmark (issue 17): the daemon (its own process, default settings) in front of two
 * fake SQS servers as two regions (20 ms per call, in this process), a steady offered load of
 * single-message POSTs; the primary is unplugged (nothing listening) and later plugged in again.
 * Measured per trial: the time from the outage to the first delivery in the secondary (goal ≤ 2 s
 * with default settings), from the primary's return to its first delivery again, the delivery rate
 * (msg/s confirmed by either upstream) before, during and after the switch, and every acknowledged
 * message counted in the two upstreams (lost must be 0; duplicates are reported).
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/failover.js [--quick] [--rate N] [--trials N]
 *
 * Phases per trial: 5 s before (3 s with --quick), 5 s during, 5 s after the primary answers again.
 * Offered rate default 1,000 msg/s (--rate). The median of the trials (default 3; --quick 1) is printed.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startFakeSqs, type FakeSqs } from '../test/support/fake-sqs.js';
import { Child } from './lib/proc.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
const REPO = resolve(HERE, '../..');
const quick = process.argv.includes('--quick');
const arg = (name: string, dflt: number): number => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const RATE = arg('--rate', 1000);
const TRIALS = arg('--trials', quick ? 1 : 3);
const PHASE_MS = quick ? 3000 : 5000;
const cpus = availableParallelism();
const daemonCpu = cpus >= 2 ? 0 : undefined;
const tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-failover-bench-'));
const log = (s: string) => process.stderr.write(`${s}\n`);
const AUTH = `Basic ${Buffer.from('AKIDBENCH:benchsecret').toString('base64')}`;

interface Trial {
  outageToSecondaryMs: number;
  returnToPrimaryMs: number;
  rateBefore: number;
  rateDuring: number;
  rateAfter: number;
  acked: number;
  lost: number;
  duplicates: number;
  refused: number;
}

const delivered = (a: FakeSqs, b: FakeSqs): number => a.messageCount('bench') + b.messageCount('bench');

async function startDaemon(primary: FakeSqs, secondary: FakeSqs): Promise<{ child: Child; url: string }> {
  let resolveUrl: (u: string) => void = () => undefined;
  const url = new Promise<string>((r) => (resolveUrl = r));
  const child = new Child({
    name: 'daemon',
    args: [join(REPO, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', primary.endpoint, '--failover-endpoint', secondary.endpoint, '--durability', 'memory', '--log-level', 'info'],
    cpu: daemonCpu,
    ipc: false,
    logFile: join(tmp, 'daemon.log'),
    cwd: REPO,
    onLine: (line) => {
      try {
        const j = JSON.parse(line) as { msg?: string; url?: string };
        if (j.msg === 'sqs-accelerator listening' && j.url) resolveUrl(j.url);
      } catch {
        // not JSON
      }
    },
  });
  const u = await Promise.race([url, sleep(20_000).then(() => { throw new Error(`daemon did not start; see ${tmp}/daemon.log`); })]);
  return { child, url: u };
}

async function trial(n: number): Promise<Trial> {
  const primary = await startFakeSqs({ queues: ['bench'], latencyMs: 20, seed: n });
  const secondary = await startFakeSqs({ queues: ['bench'], latencyMs: 20, seed: n + 100 });
  const { child, url } = await startDaemon(primary, secondary);
  const pool = new Pool(url, { connections: 64 });
  const acked = new Set<string>();
  let refused = 0;
  let seq = 0;
  let sending = true;
  const inflight = new Set<Promise<void>>();
  // Offered load: RATE msg/s in 10 ms ticks, at most 256 requests outstanding; bounded by time (the phases).
  const load = (async () => {
    const perTick = RATE / 100;
    let owed = 0;
    while (sending) {
      owed += perTick;
      while (owed >= 1 && inflight.size < 256) {
        owed -= 1;
        const body = `b-${n}-${seq++}`;
        const p = pool
          .request({ path: '/queues/bench', method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body })
          .then(async (res) => {
            await res.body.text();
            if (res.statusCode === 202) acked.add(body);
            else refused += 1;
          }, () => {
            refused += 1;
          })
          .finally(() => inflight.delete(p));
        inflight.add(p);
      }
      await sleep(10);
    }
    await Promise.all(inflight);
  })();
  const rate = async (ms: number): Promise<number> => {
    const from = delivered(primary, secondary);
    const t = Date.now();
    await sleep(ms);
    return ((delivered(primary, secondary) - from) * 1000) / (Date.now() - t);
  };
  await sleep(1000); // warm-up: queue resolved, pool open
  const rateBefore = await rate(PHASE_MS);
  const outageAt = Date.now();
  await primary.unplug();
  await secondary.waitFor(() => secondary.messageCount('bench') > 0, 60_000);
  const outageToSecondaryMs = Date.now() - outageAt;
  const rateDuring = await rate(PHASE_MS);
  const backAt = Date.now();
  const inPrimary = primary.messageCount('bench');
  await primary.plugIn();
  await primary.waitFor(() => primary.messageCount('bench') > inPrimary, 60_000);
  const returnToPrimaryMs = Date.now() - backAt;
  const rateAfter = await rate(PHASE_MS);
  sending = false;
  await load;
  // Every acknowledged body in one upstream or the other. Not "as many stored as acked": the
  // duplicates a switch may make would count for messages still on their way.
  const tally = (): { lost: number; duplicates: number } => {
    const a = primary.countByBody('bench');
    const b = secondary.countByBody('bench');
    let lost = 0;
    let duplicates = 0;
    for (const body of acked) {
      const c = (a.get(body) ?? 0) + (b.get(body) ?? 0);
      if (c === 0) lost += 1;
      else duplicates += c - 1;
    }
    return { lost, duplicates };
  };
  await primary.waitFor(() => tally().lost === 0, 30_000).catch(() => undefined);
  const { lost, duplicates } = tally();
  await pool.close();
  await child.stop(15_000);
  await primary.close();
  await secondary.close();
  const t: Trial = { outageToSecondaryMs, returnToPrimaryMs, rateBefore, rateDuring, rateAfter, acked: acked.size, lost, duplicates, refused };
  log(`trial ${n}: outage -> first delivery in the secondary ${outageToSecondaryMs} ms; primary back -> first delivery there ${returnToPrimaryMs} ms; ` +
    `delivered msg/s before ${rateBefore.toFixed(0)}, during ${rateDuring.toFixed(0)}, after ${rateAfter.toFixed(0)}; ${t.acked} acked, ${lost} lost, ${duplicates} duplicates, ${refused} refused`);
  return t;
}

log(`offered ${RATE} msg/s, phases ${PHASE_MS} ms, ${TRIALS} trials, fake SQS 20 ms per call; load average ${loadavg()[0]?.toFixed(2)}`);
const trials: Trial[] = [];
for (let i = 1; i <= TRIALS; i++) trials.push(await trial(i));
const median = (k: keyof Trial): number => {
  const v = trials.map((t) => t[k]).sort((x, y) => x - y);
  return v[Math.floor(v.length / 2)] as number;
};
const correct = trials.every((t) => t.lost === 0);
const report = { at: new Date().toISOString(), quick, rate: RATE, phaseMs: PHASE_MS, loadAverage: loadavg(), trials, correct };
const out = join(tmp, 'failover-bench.json');
writeFileSync(out, JSON.stringify(report, null, 2));
process.stdout.write(
  `| outage → first in secondary | primary back → first there | msg/s before | during | after | lost | duplicates |\n|---|---|---|---|---|---|---|\n` +
    `| ${median('outageToSecondaryMs')} ms | ${median('returnToPrimaryMs')} ms | ${median('rateBefore').toFixed(0)} | ${median('rateDuring').toFixed(0)} | ${median('rateAfter').toFixed(0)} | ${trials.reduce((s, t) => s + t.lost, 0)} | ${trials.reduce((s, t) => s + t.duplicates, 0)} |\n\n` +
    `medians of ${TRIALS} trials (goal: outage → first delivery in the secondary ≤ 2,000 ms); results in ${out}\n`,
);
process.exit(correct ? 0 : 1);
