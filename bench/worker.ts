/**
 * The worker side's benchmark (issue 13): messages per second from a queue of the fake SQS
 * (20 ms per call, long polling) to a local app answering in 1 ms, and the CPU the consumer spends
 * per message, for the daemon (`--worker`) and for a hand-written `sqs-consumer` + AWS SDK
 * consumer, in the same sitting; then the request/reply round trip through one daemon. Every
 * process is started and stopped here by PID; the fake and the app share one core, the consumer
 * under test gets the other.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/worker.js [options]
 *
 *   --quick              10,000 messages per drain, 200 round trips (default 30,000 and 500)
 *   --messages N         messages per drain
 *   --round-trips N      request/reply round trips
 *   --only a,b           phases: daemon, sqs-consumer, reply (default all three)
 *   --profile            the daemon's drain under --cpu-prof; summary printed, file kept
 *   --daemon-arg X       one more argument for the daemon under test (repeatable)
 *   --daemon-rev REV     run that commit's daemon (exported with git archive and built in a temporary
 *                        directory) instead of this checkout's: A/B against another revision in one sitting
 *   --node-http-app      the app as a node:http server (default: a lean HTTP/1.1 one, see servers/worker-app.ts)
 *
 * Each drain empties a pre-filled queue of N messages. Timing and CPU run from the first message
 * at the app to the last delete; a drain counts only when the app got every message and the queue
 * is empty afterwards. The CPU of the fake and of the app is measured over the same window, so a
 * drain limited by them (not by the consumer) shows it.
 */
import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { Child, cpuMs } from './lib/proc.js';
import { type CpuProfile, summarise } from './lib/profile.js';
import { exportRev } from './lib/rev.js';
import { workerStages } from './lib/worker-stages.js';
import { percentiles, type Percentiles } from './lib/stats.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
const REPO = resolve(HERE, '../..');
const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const arg = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const N = Number(arg('--messages') ?? (quick ? 10_000 : 30_000));
const ROUND_TRIPS = Number(arg('--round-trips') ?? (quick ? 200 : 500));
const only = new Set((arg('--only') ?? 'daemon,sqs-consumer,reply').split(','));
const profile = argv.includes('--profile');
const daemonArgs = argv.flatMap((a, i) => (a === '--daemon-arg' ? [argv[i + 1] as string] : []));
const daemonRev = arg('--daemon-rev');
const LATENCY_MS = 20;
const APP_MS = 1;

/** The issue's goals. */
const GOALS = { perSecond: 5000, cpuUsPerMessage: 60, ratioPerCpuSecond: 3, roundTripFactor: 2 };

const cpus = availableParallelism();
const [serverCpu, otherCpu] = cpus >= 2 ? [1, 0] : [undefined, undefined];
const tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-worker-bench-'));
const log = (s: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${s}\n`);
// The daemon's worker signs with the default provider chain: the environment, here (the fake accepts any key).
process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCH';
process.env.AWS_SECRET_ACCESS_KEY = 'benchsecret';

// Built before the fake and the app start (a first export builds for a minute).
const DAEMON_DIR = daemonRev ? exportRev(REPO, daemonRev, log) : REPO;
const profDir = join(tmp, 'prof');
mkdirSync(profDir, { recursive: true });
const profArgs = (name: string): string[] => (profile ? ['--cpu-prof', '--cpu-prof-dir', join(profDir, name)] : []);
const fake = new Child({ name: 'fake-sqs', args: [join(HERE, 'fake-server.js'), String(LATENCY_MS), '--long-polling'], nodeArgs: profArgs('fake'), cpu: otherCpu, ipc: true, logFile: join(tmp, 'fake.log') });
const endpoint = String((await fake.nextMessage(15_000)).endpoint);
const app = new Child({ name: 'app', args: [join(HERE, 'servers', 'worker-app.js'), String(APP_MS), ...(argv.includes('--node-http-app') ? ['--node-http'] : [])], nodeArgs: profArgs('app'), cpu: otherCpu, ipc: true, logFile: join(tmp, 'app.log') });
const appUrl = String((await app.nextMessage(15_000)).url);
const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'benchsecret' } });
log(`daemon from ${daemonRev ? `${daemonRev} (${DAEMON_DIR})` : 'this checkout'}`);
log(`fake SQS ${endpoint} (${LATENCY_MS} ms, long polling), app ${appUrl} (${APP_MS} ms); ${N} messages per drain; load average ${loadavg()[0]?.toFixed(2)}`);

async function fill(queue: string): Promise<string> {
  const url = String(await fake.call('createQueue', { name: queue }));
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < N) {
      const from = next;
      next += 10;
      const Entries = Array.from({ length: Math.min(10, N - from) }, (_, j) => ({ Id: String(j), MessageBody: `{"task":${from + j},"pad":"${'x'.repeat(150)}"}` }));
      await sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries }));
    }
  }));
  return url;
}

async function remaining(url: string): Promise<number> {
  const a = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
  return Number(a.Attributes?.ApproximateNumberOfMessages) + Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible);
}

interface Drain {
  name: string;
  messages: number;
  seconds: number;
  perSecond: number;
  cpuMs: number;
  cpuUsPerMessage: number;
  perCpuSecond: number;
  /** The fake's and the app's CPU over the same window, µs per message. */
  fakeCpuUsPerMessage: number;
  appCpuUsPerMessage: number;
  /** SQS calls per message the fake answered over the drain, by action. */
  callsPerMessage: Record<string, number>;
  appGot: number;
  left: number;
}

const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

async function drain(name: string, start: (queueUrl: string, queue: string) => Child): Promise<Drain & { window: [number, number] }> {
  const queue = `wb-${name}`;
  const url = await fill(queue);
  await app.call('reset');
  const child = start(url, queue);
  // From the first message at the app to the last delete.
  const startBy = Date.now() + 30_000;
  while ((await app.call<number>('count')) === 0) {
    if (Date.now() > startBy || !child.running) throw new Error(`${name}: no message reached the app within 30 s; see ${tmp}`);
    await sleep(5);
  }
  const t0 = performance.now();
  const m0 = monoUs();
  const c0 = [cpuMs(child.pid), cpuMs(fake.pid), cpuMs(app.pid)] as const;
  const s0 = await fake.call<{ byAction: Record<string, number> }>('stats');
  const deadline = Date.now() + 300_000;
  let got = 0;
  while (Date.now() < deadline) {
    got = await app.call<number>('count');
    if (got >= N && (await remaining(url)) === 0) break;
    await sleep(got >= N ? 10 : 50);
  }
  const seconds = (performance.now() - t0) / 1000;
  const c1 = [cpuMs(child.pid), cpuMs(fake.pid), cpuMs(app.pid)] as const;
  const m1 = monoUs();
  const s1 = await fake.call<{ byAction: Record<string, number> }>('stats');
  const left = await remaining(url);
  await child.stop(30_000);
  const cpu = c1[0] - c0[0];
  const callsPerMessage: Record<string, number> = {};
  for (const [a, n] of Object.entries(s1.byAction)) {
    const d = n - (s0.byAction[a] ?? 0);
    if (d > 0 && a !== 'GetQueueAttributes') callsPerMessage[a] = Math.round((d / N) * 1000) / 1000;
  }
  const r = {
    name, messages: N, seconds, perSecond: N / seconds, cpuMs: cpu, cpuUsPerMessage: (cpu * 1000) / N, perCpuSecond: N / (cpu / 1000),
    fakeCpuUsPerMessage: ((c1[1] - c0[1]) * 1000) / N, appCpuUsPerMessage: ((c1[2] - c0[2]) * 1000) / N,
    callsPerMessage, appGot: got, left, window: [m0, m1] as [number, number],
  };
  log(`${name}: ${r.perSecond.toFixed(0)} msg/s, ${r.cpuUsPerMessage.toFixed(1)} µs CPU/msg (fake ${r.fakeCpuUsPerMessage.toFixed(1)}, app ${r.appCpuUsPerMessage.toFixed(1)}), ${r.perCpuSecond.toFixed(0)} msg per CPU-second; app got ${got}, ${left} left; SQS calls/msg ${JSON.stringify(callsPerMessage)}`);
  return r;
}

function daemon(name: string, extra: readonly string[], nodeArgs: readonly string[] = []): Child {
  return new Child({
    name,
    args: [join(DAEMON_DIR, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', endpoint, '--durability', 'memory', '--log-level', 'warn', ...extra, ...daemonArgs],
    nodeArgs,
    cpu: serverCpu,
    ipc: false,
    logFile: join(tmp, `${name}.log`),
    cwd: DAEMON_DIR,
  });
}

/** The daemon's port, from its "listening" log line. */
async function daemonOrigin(name: string): Promise<string> {
  const file = join(tmp, `${name}.log`);
  const by = Date.now() + 15_000;
  while (Date.now() < by) {
    const line = (existsSync(file) ? readFileSync(file, 'utf8') : '').split('\n').find((l) => l.includes('sqs-accelerator listening'));
    if (line) return String((JSON.parse(line) as { url: string }).url).replace(/\/$/, '');
    await sleep(50);
  }
  throw new Error(`${name}: no listening address in ${file}`);
}

interface RoundTrips { count: number; ms: Percentiles; failed: number }

/** Request/reply: POST /queues/rb-tasks?reply=10, one after the other; the worker of the same daemon answers through the app. */
async function roundTrips(): Promise<RoundTrips> {
  await fake.call('createQueue', { name: 'rb-tasks' });
  const name = 'daemon-reply';
  const child = daemon(name, ['--log-level', 'info', '--worker', `rb-tasks=${appUrl.replace(/\/work$/, '/reply')}`, '--reply-queue-name', 'rb-replies']);
  try {
    const origin = await daemonOrigin(name);
    const auth = `Basic ${Buffer.from('AKIDBENCH:benchsecret').toString('base64')}`;
    const once = async (i: number): Promise<number> => {
      const t0 = performance.now();
      const res = await request(`${origin}/queues/rb-tasks?reply=10`, { method: 'POST', headers: { authorization: auth, 'content-type': 'text/plain' }, body: `ping ${i}` });
      const text = await res.body.text();
      if (res.statusCode !== 200 || text !== `pong ping ${i}`) throw new Error(`round trip ${i}: ${res.statusCode} ${text.slice(0, 200)}`);
      return performance.now() - t0;
    };
    for (let i = 0; i < 20; i++) await once(-1 - i); // warm-up: reply queue created, listener polling
    const ms: number[] = [];
    let failed = 0;
    for (let i = 0; i < ROUND_TRIPS; i++) {
      try {
        ms.push(await once(i));
      } catch (err) {
        failed += 1;
        if (failed === 1) log(String(err));
      }
    }
    const p = percentiles(ms);
    log(`request/reply: p50 ${p.p50.toFixed(1)} ms, p90 ${p.p90.toFixed(1)} ms, p99 ${p.p99.toFixed(1)} ms over ${p.count} round trips (${failed} failed); the fake's two round trips: ${2 * LATENCY_MS} ms`);
    return { count: p.count, ms: p, failed };
  } finally {
    await child.stop(30_000);
  }
}

const drains: Drain[] = [];
let rr: RoundTrips | undefined;
let daemonWindow: [number, number] | undefined;
try {
  if (only.has('daemon')) {
    const { window, ...d } = await drain('daemon', (_url, queue) => daemon('daemon', ['--worker', `${queue}=${appUrl}`], profArgs('daemon')));
    drains.push(d);
    daemonWindow = window;
  }
  if (only.has('sqs-consumer')) {
    const { window: _w, ...c } = await drain('sqs-consumer', (url) => new Child({ name: 'sqs-consumer', args: [join(HERE, 'servers', 'sqs-consumer.js'), endpoint, url, appUrl, '5'], cpu: serverCpu, ipc: false, logFile: join(tmp, 'consumer.log') }));
    drains.push(c);
  }
  if (only.has('reply')) rr = await roundTrips();
} finally {
  sqs.destroy();
  await app.stop(5000);
  await fake.stop(5000);
}

/** Each profiled process's samples within the daemon's drain (the fake's and the app's too: the same window). */
const profiles: Array<{ name: string; file: string; summary: ReturnType<typeof summarise>; stages?: ReturnType<typeof workerStages> }> = [];
if (profile && daemonWindow) {
  for (const name of ['daemon', 'fake', 'app']) {
    const dir = join(profDir, name);
    const file = existsSync(dir) ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile')) : undefined;
    if (!file) continue;
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    profiles.push({ name, file: join(dir, file), summary: summarise(prof, 30, daemonWindow), ...(name === 'daemon' ? { stages: workerStages(prof, N, daemonWindow) } : {}) });
  }
}

const d = drains.find((r) => r.name === 'daemon');
const c = drains.find((r) => r.name === 'sqs-consumer');
const ratio = d && c ? d.perCpuSecond / c.perCpuSecond : undefined;
const correct = drains.every((r) => r.appGot >= N && r.left === 0) && (rr === undefined || rr.failed === 0);
const fmt = (v: number | undefined, digits = 0): string => (v === undefined || !Number.isFinite(v) ? 'not measured' : v.toFixed(digits));
const met = (v: number | undefined, ok: (x: number) => boolean): string => (v === undefined || !Number.isFinite(v) ? 'not measured' : ok(v) ? 'met' : 'not met');
const goals = [
  ['messages/s delivered to the app (daemon)', `≥ ${GOALS.perSecond.toLocaleString('en-US')}`, fmt(d?.perSecond), met(d?.perSecond, (x) => x >= GOALS.perSecond)],
  ['daemon CPU per message', `≤ ${GOALS.cpuUsPerMessage} µs`, d ? `${fmt(d.cpuUsPerMessage, 1)} µs` : 'not measured', met(d?.cpuUsPerMessage, (x) => x <= GOALS.cpuUsPerMessage)],
  ['messages per CPU-second, daemon / sqs-consumer', `≥ ${GOALS.ratioPerCpuSecond}×`, ratio === undefined ? 'not measured' : `${ratio.toFixed(2)}×`, met(ratio, (x) => x >= GOALS.ratioPerCpuSecond)],
  ['request/reply round trip p50', `≤ ${GOALS.roundTripFactor} × ${2 * LATENCY_MS} ms = ${GOALS.roundTripFactor * 2 * LATENCY_MS} ms`, rr ? `${fmt(rr.ms.p50, 1)} ms` : 'not measured', met(rr?.ms.p50, (x) => x <= GOALS.roundTripFactor * 2 * LATENCY_MS)],
];
const report = { at: new Date().toISOString(), quick, messages: N, roundTrips: ROUND_TRIPS, latencyMs: LATENCY_MS, appMs: APP_MS, daemonRev: daemonRev ?? null, daemonArgs, daemonWindow, loadAverage: loadavg(), drains, ratioPerCpuSecond: ratio, requestReply: rr, goals, correct, profiles };
const out = join(tmp, 'worker-bench.json');
writeFileSync(out, JSON.stringify(report, null, 2));
const lines = [
  '| consumer | msg/s | CPU µs/msg | msg per CPU-second | fake CPU µs/msg | app CPU µs/msg | SQS calls/msg |',
  '|---|---|---|---|---|---|---|',
  ...drains.map((r) => `| ${r.name} | ${r.perSecond.toFixed(0)} | ${r.cpuUsPerMessage.toFixed(1)} | ${r.perCpuSecond.toFixed(0)} | ${r.fakeCpuUsPerMessage.toFixed(1)} | ${r.appCpuUsPerMessage.toFixed(1)} | ${Object.entries(r.callsPerMessage).map(([a, n]) => `${a} ${n}`).join(', ')} |`),
  '',
  ...(rr ? [`request/reply round trip over ${rr.count}: p50 ${rr.ms.p50.toFixed(1)} ms, p90 ${rr.ms.p90.toFixed(1)} ms, p99 ${rr.ms.p99.toFixed(1)} ms, max ${rr.ms.max.toFixed(1)} ms`, ''] : []),
  '| goal | target | measured | |',
  '|---|---|---|---|',
  ...goals.map((g) => `| ${g.join(' | ')} |`),
  '',
];
for (const p of profiles) {
  const s = p.summary;
  const rows = p.name === 'daemon' ? 30 : 12;
  lines.push(`${p.name} CPU profile over the daemon's drain (${p.file}): busy ${s.busyMs.toFixed(0)} ms of ${s.wallMs.toFixed(0)} ms`, '');
  if (p.stages) {
    lines.push('| stage (samples by the daemon frame nearest the leaf) | % of busy | µs/msg under the profiler |', '|---|---|---|');
    for (const r of p.stages.rows.filter((x) => x.pct >= 0.3)) lines.push(`| ${r.stage} | ${r.pct.toFixed(1)} | ${r.usPerMessage.toFixed(1)} |`);
    lines.push('');
  }
  lines.push('| area | self % |', '|---|---|');
  for (const a of s.areas.slice(0, rows / 2)) lines.push(`| ${a.area} | ${a.pct.toFixed(1)} |`);
  lines.push('', '| function | where | self % | total % |', '|---|---|---|---|');
  for (const f of s.topSelf.slice(0, rows)) lines.push(`| ${f.fn} | ${f.where} | ${f.selfPct.toFixed(1)} | ${f.totalPct.toFixed(1)} |`);
  lines.push('');
}
lines.push(`${correct ? 'every message reached the app and the queues are empty' : 'INCORRECT: messages missing or left in a queue'}; results in ${out}`);
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(correct ? 0 : 1);
