/**
 * Bounded work per caller (issue 11): the ack latency of a steady trickle of 200 messages/s
 * while other clients misbehave. Phases, each `--seconds` long (default 20; --quick: 5):
 *   baseline   the trickle alone
 *   passwords  20 clients sending wrong passwords as fast as the daemon answers
 *   batch      one client posting a 10,000-entry batch, again and again (closed loop: as fast as
 *              the daemon answers; on a 2-core machine this saturates the daemon with delivery)
 *   batch1s    one client posting a 10,000-entry batch once a second (open loop: what "one
 *              client posts a 10,000-entry batch" costs the trickle when the daemon is not saturated)
 *   slow       1,000 connections sending their headers one byte every 500 ms
 * Goal: the trickle's p99 stays under 5 ms in each.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/abuse.js [--quick] [--seconds N] [--out DIR] [--profile] [--phases a,b] [--daemon-rev REV | --daemon-dir DIR] [--no-floors] [--daemon-node-args "ARGS"] [--keep-log]
 *
 * Floors first (unless --no-floors): the same trickle, from the same process, against the
 * bench's bare node:http server and its Koa one (bench/servers/), each in a process of its own
 * as the daemon is: what this machine gives a trivial server at 200 msg/s, beside which the
 * daemon's baseline is judged. --daemon-rev: that commit's daemon (exported and built, see
 * bench/lib/rev.ts) in this same harness, for A/B; --daemon-dir: another built checkout's.
 *
 * --daemon-node-args: node flags for the daemon (e.g. "--trace-gc --max-semi-space-size=4");
 * --keep-log: the daemon's log (its stdout and stderr, so --trace-gc lines too) is copied to DIR.
 *
 * --profile: the daemon runs under `node --cpu-prof`; the profile is written to DIR (for
 * bench/stalls.js or a flame graph) and its path printed. --phases: only these (the baseline
 * always runs first).
 *
 * Each phase starts with the daemon's backlog empty (the batches of the batch phase are
 * delivered before the next phase begins: otherwise the next phase measures their delivery).
 * Per phase it reports, besides the trickle's latency: the daemon's event-loop delay max (from
 * its /metrics, reset by a scrape just before the trickle starts) and its CPU per abuser answer.
 *
 * The daemon runs with --credentials chain and a --users-file (so wrong passwords cost it an
 * scrypt, or a throttle answer), against the fake SQS at 20 ms latency; the trickle logs in
 * with the right password. Every process is started here and stopped by PID.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { hashPassword } from '../src/http/users.js';
import { Child, cpuMs, memory } from './lib/proc.js';
import { exportRev, gitDescribe } from './lib/rev.js';
import { type Percentiles, percentiles } from './lib/stats.js';
import { delayBeyondTick } from './lib/event-loop.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
const REPO = resolve(HERE, '../..');
const RATE = 200;
const PASSWORD = 'right-password';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const flag = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const seconds = Number(flag('--seconds') ?? (quick ? 5 : 20));
const outDir = flag('--out') ?? join(REPO, 'bench/results');
const profile = argv.includes('--profile');
const only = flag('--phases')?.split(',');
const floors = !argv.includes('--no-floors');
const rev = flag('--daemon-rev');
const daemonNodeArgs = (flag('--daemon-node-args') ?? '').split(' ').filter((a) => a !== '');
const keepLog = argv.includes('--keep-log');
const daemonDir = rev ? exportRev(REPO, rev, (l) => process.stderr.write(`${l}\n`)) : resolve(flag('--daemon-dir') ?? REPO);

/** The daemon's /metrics as `name{labels}` -> value. */
async function scrape(origin: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const res = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(10_000) });
  for (const line of (await res.text()).split('\n')) {
    if (line.startsWith('#') || line === '') continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

/** Until the daemon has delivered everything it accepted (at most `ms`); how long that took. */
async function drained(origin: string, ms: number): Promise<number> {
  const t0 = performance.now();
  while (((await scrape(origin)).get('sqs_accelerator_backlog_messages') ?? 0) > 0) {
    if (performance.now() - t0 > ms) throw new Error(`the daemon's backlog did not drain within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return performance.now() - t0;
}

interface Phase {
  name: string;
  trickle: Percentiles;
  trickleStatuses: Record<string, number>;
  abuser: Record<string, number>;
  daemonRssMb: number;
  /** The daemon's event-loop delay max during the trickle (prom-client's monitorEventLoopDelay, less its 10 ms tick: bench/lib/event-loop.ts), ms. */
  eventLoopMaxMs: number;
  /** The daemon's CPU during the trickle, ms per second. */
  daemonCpuMsPerS: number;
  /** The other processes' CPU during the trickle, ms per second: on a 2-core machine they share the cores with the daemon. */
  fakeSqsCpuMsPerS: number;
  abuserCpuMsPerS: number;
  benchCpuMsPerS: number;
  /** The daemon's CPU per request the abusers got an answer to (the trickle's share included), µs. */
  cpuUsPerAbuserAnswer?: number;
  /** How long the daemon took to deliver its backlog after the abuse stopped, ms. */
  drainMs: number;
}

/**
 * The trickle: RATE POSTs per second to /queues/bench-trickle over 16 keep-alive connections,
 * each request's latency counted from its intended send time (a stall is charged to every
 * request behind it). Warmed up first: the queue resolved, the password verified once,
 * connections open.
 */
async function trickleAgainst(origin: string): Promise<{ run: (ms: number) => Promise<Trickle>; close: () => Promise<void> }> {
  const pool = new Pool(origin, { connections: 16, pipelining: 1 });
  const auth = `Basic ${Buffer.from(`app:${PASSWORD}`).toString('base64')}`;
  const send = async (): Promise<number> => {
    const res = await pool.request({ path: '/queues/bench-trickle', method: 'POST', headers: { authorization: auth, 'content-type': 'text/plain' }, body: 'trickle' });
    await res.body.dump();
    return res.statusCode;
  };
  for (let i = 0; i < 50; i++) await send();
  const run = async (ms: number): Promise<Trickle> => {
    const n = Math.round((RATE * ms) / 1000);
    const latency: number[] = [];
    const statuses: Record<string, number> = {};
    const t0 = performance.now();
    const pending: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      const due = t0 + (i * 1000) / RATE;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      pending.push(
        send().then(
          (s) => {
            latency.push(performance.now() - due); // from the intended time: a stall is charged to every request behind it
            statuses[s] = (statuses[s] ?? 0) + 1;
          },
          (err: unknown) => {
            statuses[(err as { code?: string }).code ?? 'error'] = (statuses[(err as { code?: string }).code ?? 'error'] ?? 0) + 1;
          },
        ),
      );
    }
    await Promise.all(pending);
    return { latency, statuses };
  };
  return { run, close: () => pool.destroy() };
}

interface Trickle {
  latency: number[];
  statuses: Record<string, number>;
}

interface Floor {
  name: string;
  trickle: Percentiles;
  trickleStatuses: Record<string, number>;
  serverCpuMsPerS: number;
}

/** The trickle alone against a floor server (bench/servers/<script>), started here and stopped by PID. */
async function floor(name: string, script: string, tmp: string): Promise<Floor> {
  const server = new Child({ name, args: [join(HERE, 'servers', script)], ipc: true, logFile: join(tmp, `${name}.log`) });
  try {
    const port = Number((await server.nextMessage(15_000)).port);
    const load = await trickleAgainst(`http://127.0.0.1:${port}`);
    const cpu0 = cpuMs(server.pid);
    const t0 = performance.now();
    const t = await load.run(seconds * 1000);
    const cpu = cpuMs(server.pid) - cpu0;
    const wall = performance.now() - t0;
    await load.close();
    const f = { name, trickle: percentiles(t.latency), trickleStatuses: t.statuses, serverCpuMsPerS: (1000 * cpu) / wall };
    process.stdout.write(`floor ${name.padEnd(5)} trickle p50 ${f.trickle.p50.toFixed(2)} ms  p99 ${f.trickle.p99.toFixed(2)} ms  max ${f.trickle.max.toFixed(1)} ms  ${JSON.stringify(f.trickleStatuses)}  server CPU ${f.serverCpuMsPerS.toFixed(0)} ms/s\n`);
    return f;
  } finally {
    await server.stop(5000);
  }
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-abuse-'));
  const users = join(tmp, 'users');
  writeFileSync(users, `${hashPassword('app', PASSWORD)}\n`, { mode: 0o600 });
  const fake = new Child({ name: 'fake-sqs', args: [join(HERE, 'fake-server.js'), '20'], ipc: true, logFile: join(tmp, 'fake-sqs.log') });
  const endpoint = String((await fake.nextMessage(15_000)).endpoint);
  await fake.call('createQueue', { name: 'bench-trickle' });
  await fake.call('createQueue', { name: 'bench-abuse' });
  const abuser = new Child({ name: 'abuser', args: [join(HERE, 'abuser.js')], ipc: true, logFile: join(tmp, 'abuser.log') });
  await abuser.nextMessage(15_000);
  // The floors, before the daemon starts, with the fake SQS and the abuser process idle beside them.
  const floorResults = floors ? [await floor('bare', 'bare.js', tmp), await floor('koa', 'koa-app.js', tmp)] : [];
  let onUrl: (u: string) => void = () => {};
  const url = new Promise<string>((r) => (onUrl = r));
  process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCHABUSE';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench-abuse-secret';
  const daemon = new Child({
    name: 'daemon',
    args: [join(daemonDir, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', endpoint, '--credentials', 'chain', '--users-file', users, '--durability', 'write', '--spool-dir', join(tmp, 'spool')],
    ipc: false,
    nodeArgs: [...daemonNodeArgs, ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${outDir}`] : [])],
    logFile: join(tmp, 'daemon.log'),
    onLine: (line) => {
      if (line.includes('listening')) onUrl((JSON.parse(line) as { url: string }).url);
    },
  });
  const daemonStarted = performance.now();
  const origin = await Promise.race([url, new Promise<string>((_, rej) => setTimeout(() => rej(new Error('daemon did not start')), 20_000))]);

  const load = await trickleAgainst(origin);
  const trickle = load.run;

  const phases: Phase[] = [];
  for (const name of ['baseline', 'passwords', 'batch', 'batch1s', 'slow'].filter((n) => n === 'baseline' || !only || only.includes(n))) {
    if (name !== 'baseline') await abuser.call('start', { kind: name, origin, auth: `app:${PASSWORD}` });
    await new Promise((r) => setTimeout(r, 500)); // let the abuse get going
    await scrape(origin); // resets the event-loop delay histogram
    const from = (performance.now() - daemonStarted) / 1000;
    const cpu0 = cpuMs(daemon.pid);
    const others0 = [cpuMs(fake.pid), cpuMs(abuser.pid), cpuMs(process.pid)];
    const t0 = performance.now();
    const t = await trickle(seconds * 1000);
    const cpu = cpuMs(daemon.pid) - cpu0;
    const others = [cpuMs(fake.pid), cpuMs(abuser.pid), cpuMs(process.pid)].map((c, i) => c - (others0[i] as number));
    const wall = performance.now() - t0;
    const lagMax = delayBeyondTick(((await scrape(origin)).get('nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000);
    if (profile || keepLog) process.stdout.write(`${name}: ${from.toFixed(1)}–${((performance.now() - daemonStarted) / 1000).toFixed(1)} s after the daemon started\n`);
    const rss = memory(daemon.pid).rssBytes / 1_048_576;
    const abuse = name === 'baseline' ? {} : await abuser.call<Record<string, number>>('stop', {}, 60_000);
    const answers = Object.entries(abuse).reduce((n, [k, v]) => (/^\d{3}$/.test(k) ? n + v : n), 0);
    const drainMs = await drained(origin, 300_000);
    phases.push({
      name,
      trickle: percentiles(t.latency),
      trickleStatuses: t.statuses,
      abuser: abuse,
      daemonRssMb: Math.round(rss),
      eventLoopMaxMs: lagMax,
      daemonCpuMsPerS: (1000 * cpu) / wall,
      fakeSqsCpuMsPerS: (1000 * (others[0] as number)) / wall,
      abuserCpuMsPerS: (1000 * (others[1] as number)) / wall,
      benchCpuMsPerS: (1000 * (others[2] as number)) / wall,
      ...(answers > 0 ? { cpuUsPerAbuserAnswer: (1000 * cpu) / answers } : {}),
      drainMs: Math.round(drainMs),
    });
    const p = phases[phases.length - 1] as Phase;
    process.stdout.write(
      `${name.padEnd(10)} trickle p50 ${p.trickle.p50.toFixed(2)} ms  p99 ${p.trickle.p99.toFixed(2)} ms  max ${p.trickle.max.toFixed(1)} ms  ${JSON.stringify(p.trickleStatuses)}  abuser ${JSON.stringify(abuse)}  ` +
        `daemon: event-loop max ${lagMax.toFixed(1)} ms, CPU ${p.daemonCpuMsPerS.toFixed(0)} ms/s${p.cpuUsPerAbuserAnswer !== undefined ? ` (${p.cpuUsPerAbuserAnswer.toFixed(0)} µs per abuser answer)` : ''}, RSS ${p.daemonRssMb} MB, drained in ${p.drainMs} ms; CPU ms/s fake SQS ${p.fakeSqsCpuMsPerS.toFixed(0)}, abuser ${p.abuserCpuMsPerS.toFixed(0)}, bench ${p.benchCpuMsPerS.toFixed(0)}\n`,
    );
    await new Promise((r) => setTimeout(r, 1000));
  }
  await load.close();
  await abuser.stop(5000);
  await daemon.stop(20_000);
  await fake.stop(5000);
  mkdirSync(outDir, { recursive: true });
  const stamp = `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-abuse${quick ? '-quick' : ''}`;
  if (keepLog) copyFileSync(join(tmp, 'daemon.log'), join(outDir, `${stamp}-daemon.log`));
  rmSync(tmp, { recursive: true, force: true });

  const file = join(outDir, `${stamp}.json`);
  writeFileSync(file, `${JSON.stringify({ command: `node dist-bench/bench/abuse.js ${argv.join(' ')}`.trim(), daemonNodeArgs, rate: RATE, seconds, loadavg: loadavg(), goalP99Ms: 5, daemon: gitDescribe(daemonDir), floors: floorResults, phases }, null, 2)}\n`);
  process.stdout.write(`written ${file}\n`);
}

await main();
