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
 *   --daemon-node-arg X  one more Node option for the daemon under test (repeatable), e.g. --max-semi-space-size=32
 *   --warm-messages N    the warm mark (default a quarter of the drain): CPU is also given for the messages after it
 *
 * Each drain empties a pre-filled queue of N messages. Timing and CPU run from the first message
 * at the app to the last delete; a drain counts only when the app got every message and the queue
 * is empty afterwards. The CPU of the fake and of the app is measured over the same window, so a
 * drain limited by them (not by the consumer) shows it. Past the warm mark the same figures are
 * given again: a fresh process spends its first seconds compiling its hot code and growing its
 * heap (on threads besides the main one too), which a long-running daemon does once; the split
 * by user, kernel and thread says where the CPU went.
 */
import { GetQueueAttributesCommand, SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { Child, cpuMs, cpuSplitMs } from './lib/proc.js';
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
/** The warm mark: CPU is also reported for the messages after this many reached the app (a long-running process's cost per message, without its start's JIT compiling and heap growth). */
const WARM = Number(arg('--warm-messages') ?? Math.floor(N / 4));
const ROUND_TRIPS = Number(arg('--round-trips') ?? (quick ? 200 : 500));
const only = new Set((arg('--only') ?? 'daemon,sqs-consumer,reply').split(','));
const profile = argv.includes('--profile');
const daemonArgs = argv.flatMap((a, i) => (a === '--daemon-arg' ? [argv[i + 1] as string] : []));
const daemonRev = arg('--daemon-rev');
const daemonNodeArgs = argv.flatMap((a, i) => (a === '--daemon-node-arg' ? [argv[i + 1] as string] : []));
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

interface DrainSpan {
  messages: number;
  seconds: number;
  perSecond: number;
  cpuMs: number;
  cpuUsPerMessage: number;
  perCpuSecond: number;
  /** The fake's and the app's CPU over the same window, µs per message. */
  fakeCpuUsPerMessage: number;
  appCpuUsPerMessage: number;
  /** The consumer's CPU split, µs per message: user and kernel time of the process, and of its main (JavaScript) thread alone. */
  split: { userUs: number; sysUs: number; mainUserUs: number; mainSysUs: number; threads: Record<string, number> };
}

interface Drain extends DrainSpan {
  name: string;
  /** The same figures after the warm mark (the first WARM messages at the app): the process's hot code compiled, its heap sized. */
  warm?: DrainSpan;
  /** SQS calls per message the fake answered over the drain, by action. */
  callsPerMessage: Record<string, number>;
  appGot: number;
  left: number;
}

/** CPU (user + kernel) ms of each of a process's threads, summed by thread name (main thread: "main"). */
function threadCpuMs(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    let name = 'main';
    try {
      if (Number(tid) !== pid) name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const { user, sys } = cpuSplitMs(pid, Number(tid));
    if (Number.isFinite(user)) out.set(name, (out.get(name) ?? 0) + user + sys);
  }
  return out;
}

const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

/** What a consumer's process and the harness have used so far (a drain subtracts two of these). */
interface Snap {
  at: number;
  mono: number;
  got: number;
  cpu: readonly [number, number, number];
  split: readonly [{ user: number; sys: number }, { user: number; sys: number }];
  threads: Map<string, number>;
}

async function snap(pid: number, got: number): Promise<Snap> {
  return {
    at: performance.now(), mono: monoUs(), got,
    cpu: [cpuMs(pid), cpuMs(fake.pid), cpuMs(app.pid)], split: [cpuSplitMs(pid), cpuSplitMs(pid, pid)], threads: threadCpuMs(pid),
  };
}

/** The CPU figures between two snapshots, per message handled between them. */
function span(a: Snap, b: Snap, messages: number): DrainSpan {
  const cpu = b.cpu[0] - a.cpu[0];
  const per = (ms: number): number => (ms * 1000) / messages;
  const threads: Record<string, number> = {};
  for (const [k, v] of b.threads) {
    const d = per(v - (a.threads.get(k) ?? 0));
    if (d > 0) threads[k] = Math.round(d * 10) / 10;
  }
  const seconds = (b.at - a.at) / 1000;
  return {
    messages, seconds, perSecond: messages / seconds, cpuMs: cpu, cpuUsPerMessage: per(cpu), perCpuSecond: messages / (cpu / 1000),
    fakeCpuUsPerMessage: per(b.cpu[1] - a.cpu[1]), appCpuUsPerMessage: per(b.cpu[2] - a.cpu[2]),
    split: {
      userUs: per(b.split[0].user - a.split[0].user), sysUs: per(b.split[0].sys - a.split[0].sys),
      mainUserUs: per(b.split[1].user - a.split[1].user), mainSysUs: per(b.split[1].sys - a.split[1].sys),
      threads,
    },
  };
}

const describe = (r: DrainSpan): string => `${r.perSecond.toFixed(0)} msg/s, ${r.cpuUsPerMessage.toFixed(1)} µs CPU/msg (fake ${r.fakeCpuUsPerMessage.toFixed(1)}, app ${r.appCpuUsPerMessage.toFixed(1)}; user ${r.split.userUs.toFixed(1)} + kernel ${r.split.sysUs.toFixed(1)}, main thread ${r.split.mainUserUs.toFixed(1)} + ${r.split.mainSysUs.toFixed(1)}; by thread ${JSON.stringify(r.split.threads)}), ${r.perCpuSecond.toFixed(0)} msg per CPU-second`;

async function drain(name: string, start: (queueUrl: string, queue: string) => Child): Promise<Drain & { window: [number, number] }> {
  const queue = `wb-${name}`;
  const url = await fill(queue);
  await app.call('reset');
  const child = start(url, queue);
  // From the first message at the app to the last delete.
  const startBy = Date.now() + 30_000;
  let got = 0;
  while ((got = await app.call<number>('count')) === 0) {
    if (Date.now() > startBy || !child.running) throw new Error(`${name}: no message reached the app within 30 s; see ${tmp}`);
    await sleep(5);
  }
  const a = await snap(child.pid, got);
  const s0 = await fake.call<{ byAction: Record<string, number> }>('stats');
  const deadline = Date.now() + 300_000;
  let w: Snap | undefined;
  while (Date.now() < deadline) {
    got = await app.call<number>('count');
    // The warm mark: the process has compiled its hot code and sized its heap by now.
    if (!w && got >= WARM) w = await snap(child.pid, got);
    if (got >= N && (await remaining(url)) === 0) break;
    await sleep(got >= N || !w ? 10 : 50);
  }
  const b = await snap(child.pid, got);
  const s1 = await fake.call<{ byAction: Record<string, number> }>('stats');
  const left = await remaining(url);
  await child.stop(30_000);
  const callsPerMessage: Record<string, number> = {};
  for (const [k, n] of Object.entries(s1.byAction)) {
    const d = n - (s0.byAction[k] ?? 0);
    if (d > 0 && k !== 'GetQueueAttributes') callsPerMessage[k] = Math.round((d / N) * 1000) / 1000;
  }
  const all = span(a, b, N);
  const warm = w && N - w.got > 0 ? span(w, b, N - w.got) : undefined;
  const r = { name, ...all, ...(warm ? { warm } : {}), callsPerMessage, appGot: got, left, window: [a.mono, b.mono] as [number, number] };
  log(`${name}: ${describe(all)}; app got ${got}, ${left} left; SQS calls/msg ${JSON.stringify(callsPerMessage)}`);
  if (warm) log(`${name}, the last ${warm.messages} (after the first ${(w as Snap).got}): ${describe(warm)}`);
  return r;
}

function daemon(name: string, extra: readonly string[], nodeArgs: readonly string[] = []): Child {
  return new Child({
    name,
    args: [join(DAEMON_DIR, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', endpoint, '--durability', 'memory', '--log-level', 'warn', ...extra, ...daemonArgs],
    nodeArgs: [...daemonNodeArgs, ...nodeArgs],
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
const warmRatio = d?.warm && c?.warm ? d.warm.perCpuSecond / c.warm.perCpuSecond : undefined;
const correct = drains.every((r) => r.appGot >= N && r.left === 0) && (rr === undefined || rr.failed === 0);
const fmt = (v: number | undefined, digits = 0): string => (v === undefined || !Number.isFinite(v) ? 'not measured' : v.toFixed(digits));
const met = (v: number | undefined, ok: (x: number) => boolean): string => (v === undefined || !Number.isFinite(v) ? 'not measured' : ok(v) ? 'met' : 'not met');
const goals = [
  ['messages/s delivered to the app (daemon)', `≥ ${GOALS.perSecond.toLocaleString('en-US')}`, fmt(d?.perSecond), met(d?.perSecond, (x) => x >= GOALS.perSecond)],
  ['daemon CPU per message', `≤ ${GOALS.cpuUsPerMessage} µs`, d ? `${fmt(d.cpuUsPerMessage, 1)} µs` : 'not measured', met(d?.cpuUsPerMessage, (x) => x <= GOALS.cpuUsPerMessage)],
  ['daemon CPU per message after the warm mark', `≤ ${GOALS.cpuUsPerMessage} µs`, d?.warm ? `${fmt(d.warm.cpuUsPerMessage, 1)} µs (the last ${d.warm.messages})` : 'not measured', met(d?.warm?.cpuUsPerMessage, (x) => x <= GOALS.cpuUsPerMessage)],
  ['messages per CPU-second, daemon / sqs-consumer', `≥ ${GOALS.ratioPerCpuSecond}×`, ratio === undefined ? 'not measured' : `${ratio.toFixed(2)}×`, met(ratio, (x) => x >= GOALS.ratioPerCpuSecond)],
  ['the same after the warm mark', `≥ ${GOALS.ratioPerCpuSecond}×`, warmRatio === undefined ? 'not measured' : `${warmRatio.toFixed(2)}×`, met(warmRatio, (x) => x >= GOALS.ratioPerCpuSecond)],
  ['request/reply round trip p50', `≤ ${GOALS.roundTripFactor} × ${2 * LATENCY_MS} ms = ${GOALS.roundTripFactor * 2 * LATENCY_MS} ms`, rr ? `${fmt(rr.ms.p50, 1)} ms` : 'not measured', met(rr?.ms.p50, (x) => x <= GOALS.roundTripFactor * 2 * LATENCY_MS)],
];
const report = { at: new Date().toISOString(), quick, messages: N, roundTrips: ROUND_TRIPS, latencyMs: LATENCY_MS, appMs: APP_MS, daemonRev: daemonRev ?? null, daemonArgs, daemonNodeArgs, warmMessages: WARM, daemonWindow, loadAverage: loadavg(), drains, ratioPerCpuSecond: ratio, warmRatioPerCpuSecond: warmRatio, requestReply: rr, goals, correct, profiles };
const out = join(tmp, 'worker-bench.json');
writeFileSync(out, JSON.stringify(report, null, 2));
const lines = [
  `| consumer | msg/s | CPU µs/msg | msg per CPU-second | fake CPU µs/msg | app CPU µs/msg | after the first ${WARM}: CPU µs/msg (user + kernel; main thread) | SQS calls/msg |`,
  '|---|---|---|---|---|---|---|---|',
  ...drains.map((r) => `| ${r.name} | ${r.perSecond.toFixed(0)} | ${r.cpuUsPerMessage.toFixed(1)} | ${r.perCpuSecond.toFixed(0)} | ${r.fakeCpuUsPerMessage.toFixed(1)} | ${r.appCpuUsPerMessage.toFixed(1)} | ${r.warm ? `${r.warm.cpuUsPerMessage.toFixed(1)} (${r.warm.split.userUs.toFixed(1)} + ${r.warm.split.sysUs.toFixed(1)}; ${(r.warm.split.mainUserUs + r.warm.split.mainSysUs).toFixed(1)})` : '—'} | ${Object.entries(r.callsPerMessage).map(([a, n]) => `${a} ${n}`).join(', ')} |`),
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
