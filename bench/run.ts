/**
 * The benchmark suite: `npm run bench` (everything, ~15 min) or `npm run bench -- --quick`
 * (under two minutes). See docs/benchmarks.md for what is measured and the latest numbers.
 *
 * Every process is started here and stopped here by PID: the fake SQS (20 ms latency) and the
 * load generator on one core, the server under test (the daemon, or a baseline) on another.
 * Everything binds 127.0.0.1. Every run that sends messages through to the fake SQS is
 * verified message by message; one lost message fails the benchmark (exit code 1).
 *
 * Options:
 *   --quick                 short runs, 100,000-message backlog
 *   --only a,b              phases: floor, sdk, daemon, sqsapi, tuned (full runs only), backlog, profile,
 *                           backlog-unit (the backlog of a daemon started as systemd/sqs-accelerator.service
 *                           starts it: its node flags, its daemon flags, a config file; see lib/unit.ts),
 *                           heap (only when named: a heap snapshot of the daemon holding the backlog)
 *   --modes a,b             durability modes to run (default: every mode the daemon offers)
 *   --profile / --no-profile  CPU-profile the daemon under sustained load (default: on in full runs)
 *   --profile-scenarios a,b   which profiles: sustained, open-2000, batch (default: all three)
 *   --daemon-scenarios a,b    which runs of the daemon phase: open, sustained, batch, midbatch (default: all;
 *                           midbatch: 2,000 msg/s open loop with one 10,000-entry batch posted half-way)
 *   --wait-quiet <minutes>  wait up to this long for the 1-minute load average to drop below --max-load
 *   --max-load <n>          default 0.5
 *   --max-other-cpu <pct>   a run during which processes outside the benchmark used more than this
 *                           (% of one core, from /proc/stat) is repeated; default 10 (quick: no limit)
 *   --retries <n>           how often at most (default 3)
 *   --pinning <p>           both (default): the open-loop and sustained runs of the floors and the
 *                           daemon are made twice, unpinned (the headline: how it runs in production)
 *                           and pinned with taskset (the stress case: server under test on CPU 0, load
 *                           generator and fake SQS on CPU 1); every other run is made unpinned.
 *                           unpinned: no run pinned; pinned: every run pinned (the bench before issue 14)
 *   --no-pin                the same as --pinning unpinned
 *   --open-pacing <p>       the load generator's open-loop clock: spin (default: setImmediate between
 *                           requests, one core busy) or sleep (a worker thread keeps time and the
 *                           generator sleeps between requests: lib/pacer.ts; docs/benchmarks.md Round 6b)
 *   --daemon-dir <dir>      run bin/sqs-accelerator.js of another checkout (built) instead of this one
 *   --daemon-rev <git rev>  export that commit of this repository (git archive) to a temporary
 *                           directory, build it there and benchmark it: numbers for a commit, not
 *                           for whatever the working tree holds
 *   --rates a,b             open-loop rates for the daemon (default: 500,2000,5000,10000; quick: 500,2000,5000)
 *   --daemon-args "<flags>"       extra daemon flags for every daemon started (experiments; the
 *                                 report says so)
 *   --daemon-node-args "<flags>"  extra node flags for the daemon (e.g. --max-old-space-size=128); a
 *                                 daemon started as the unit gets them after the unit's own (diagnostics
 *                                 such as --trace-gc; the log says they were added)
 *   --turn-probe                  load bench/lib/turn-probe.ts into every daemon (not a unit run): each daemon
 *                                 run's line and the report then say how many of its event-loop turns
 *                                 were longer than 4 ms and how much of their time the daemon's main thread
 *                                 waited for a core or spent in GC (a diagnostic: a 1 ms timer in the daemon)
 *   --fake-node-args "<flags>"   node flags for the fake SQS (e.g. --cpu-prof --cpu-prof-dir /tmp/x: what the
 *                                 fake costs, on a machine whose cores it shares with the daemon)
 *   --daemon-env "A=1 B=2"        extra environment for the daemon alone (not the floors; a daemon
 *                                 started as the unit gets it over the unit's), e.g. MALLOC_ARENA_MAX=2
 *   --backlog-watch a,b     the backlog runs read the daemon's memory again at these seconds after the
 *                           first reading, the backlog still waiting (e.g. 10,30,60): does the heap shrink
 *                           by itself once the ingest stops? Default: 10,30,60 for backlog-unit in full
 *                           runs, none otherwise; `none`: no later readings
 *   --out <dir>             where results go (default bench/results)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { BitSet } from './lib/bodies.js';
import type { LoadResult, LoadSpec } from './lib/load-spec.js';
import { Child, cpuMs, cpuSplitMs, ioStallUs, machineCpuMs, memory, RssSampler } from './lib/proc.js';
import type { HeapSummary } from './heap-summary.js';
import { type CpuProfile, summarise } from './lib/profile.js';
import { latencyChart } from './lib/chart.js';
import { exportRev, gitDescribe } from './lib/rev.js';
import { renderMarkdown } from './lib/report.js';
import { chartFileName } from './lib/report14.js';
import { CLIENT_CPU, type Pin, Pinner, pinVariants, SERVER_CPU } from './lib/pinning.js';
import { type UnitLaunch, unitDurability, unitLaunch } from './lib/unit.js';
import { describeWarmup, type WarmResult, warmUntilSteady } from './lib/warmup.js';
import { sqsApiPhase } from './sqsapi.js';
import type { BacklogReading, BenchReport, Delivery, RunRecord, RuntimeFigures, SqsUse } from './lib/types.js';
import { inProbe, type ProbeFile, shareOfLate, turnsIn } from './lib/turns-summary.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
const REPO = resolve(HERE, '../..');
const AUTH = 'AKIDBENCH:benchsecret';
const BODY_BYTES = 200;
const UPSTREAM_LATENCY_MS = 20;
/** Issue 14: one client's 10,000-entry batch arriving in the middle of a 2,000 msg/s open loop. */
const MID_BATCH = { rate: 2000, entries: 10_000 };

interface Options {
  quick: boolean;
  only: Set<string> | undefined;
  modes: string[] | undefined;
  profile: boolean;
  /** The load generator's open-loop clock (LoadSpec.pacing). */
  openPacing: 'sleep' | 'spin';
  waitQuietMin: number;
  maxLoad: number;
  pinning: 'both' | 'unpinned' | 'pinned';
  daemonDir: string;
  daemonRev: string | undefined;
  outDir: string;
  rates: number[] | undefined;
  maxOtherCpu: number;
  retries: number;
  daemonArgs: string[];
  daemonNodeArgs: string[];
  /** --turn-probe: load bench/lib/turn-probe.ts into each daemon and report its late turns per run. */
  turnProbe: boolean;
  fakeNodeArgs: string[];
  profileScenarios: Set<string> | undefined;
  daemonScenarios: Set<string> | undefined;
  /** undefined: the unit's backlog in full runs is read again at 10, 30 and 60 s, no other. */
  backlogWatchS: number[] | undefined;
  daemonEnv: Record<string, string>;
}

function parseOptions(argv: readonly string[]): Options {
  const o: Options = { quick: false, only: undefined, modes: undefined, profile: true, openPacing: 'spin', waitQuietMin: 0, maxLoad: 0.5, pinning: 'both', daemonDir: REPO, daemonRev: undefined, rates: undefined, maxOtherCpu: NaN, retries: 3, daemonArgs: [], daemonNodeArgs: [], turnProbe: false, fakeNodeArgs: [], profileScenarios: undefined, daemonScenarios: undefined, backlogWatchS: undefined, daemonEnv: {}, outDir: join(REPO, 'bench/results') };
  let profileSet = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--only') o.only = new Set(value().split(','));
    else if (a === '--modes') o.modes = value().split(',');
    else if (a === '--profile') (o.profile = true), (profileSet = true);
    else if (a === '--no-profile') (o.profile = false), (profileSet = true);
    else if (a === '--turn-probe') o.turnProbe = true;
    else if (a === '--profile-scenarios') o.profileScenarios = new Set(value().split(','));
    else if (a === '--daemon-scenarios') o.daemonScenarios = new Set(value().split(','));
    else if (a === '--wait-quiet') o.waitQuietMin = Number(value());
    else if (a === '--max-load') o.maxLoad = Number(value());
    else if (a === '--no-pin') o.pinning = 'unpinned';
    else if (a === '--open-pacing') {
      const v = value();
      if (v !== 'sleep' && v !== 'spin') throw new Error(`--open-pacing: sleep or spin, not ${v}`);
      o.openPacing = v;
    }
    else if (a === '--pinning') {
      const v = value();
      if (v !== 'both' && v !== 'unpinned' && v !== 'pinned') throw new Error(`--pinning ${v}: expected both, unpinned or pinned`);
      o.pinning = v;
    }
    else if (a === '--daemon-dir') o.daemonDir = resolve(value());
    else if (a === '--daemon-rev') o.daemonRev = value();
    else if (a === '--out') o.outDir = resolve(value());
    else if (a === '--rates') o.rates = value().split(',').map(Number);
    else if (a === '--max-other-cpu') o.maxOtherCpu = Number(value());
    else if (a === '--retries') o.retries = Number(value());
    else if (a === '--daemon-args') o.daemonArgs = value().split(/\s+/).filter(Boolean);
    else if (a === '--daemon-node-args') o.daemonNodeArgs = value().split(/\s+/).filter(Boolean);
    else if (a === '--fake-node-args') o.fakeNodeArgs = value().split(/\s+/).filter(Boolean);
    else if (a === '--daemon-env') {
      for (const kv of value().split(/\s+/).filter(Boolean)) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw new Error(`--daemon-env ${kv}: expected NAME=value`);
        o.daemonEnv[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
    }
    else if (a === '--backlog-watch') {
      const v = value();
      const at = v === 'none' ? [] : v.split(',').map(Number);
      o.backlogWatchS = at;
      if (at.some((x, k) => !(x > 0 && x <= 600) || x <= (at[k - 1] ?? 0))) throw new Error(`--backlog-watch: expected increasing seconds in (0, 600], e.g. 10,30,60`);
    }
    else throw new Error(`unknown option ${a} (see the header of bench/run.ts)`);
  }
  if (o.quick && !profileSet) o.profile = false;
  if (Number.isNaN(o.maxOtherCpu)) o.maxOtherCpu = o.quick ? Infinity : 10;
  return o;
}

/** Counts and durations: bounded in both modes. */
function planFor(quick: boolean) {
  return quick
    ? { warmMs: 1000, rateMs: 2000, rates: [500, 2000, 5000], otherModeRates: [2000], floorRates: [2000], floorMaxTotal: 30_000, sdkClosedMs: 3000, sdkOpenRate: 500, sdkOpenMs: 2000, sqsApiRates: [100, 1000], sqsApiDoorRate: 1000, sustainedTotal: 30_000, batchTotal: 60_000, batchPer: 100, backlogTotal: 100_000, backlogSettleMs: 500, warmBatchTotal: 10_000, warmMinChunks: 2, warmMaxChunks: 8, profileTotal: 30_000 }
    : { warmMs: 3000, rateMs: 15_000, rates: [500, 2000, 5000, 10_000], otherModeRates: [500, 2000, 5000, 10_000], floorRates: [2000, 5000, 10_000], floorMaxTotal: 200_000, sdkClosedMs: 15_000, sdkOpenRate: 500, sdkOpenMs: 15_000, sqsApiRates: [100, 1000], sqsApiDoorRate: 1000, sustainedTotal: 300_000, batchTotal: 1_000_000, batchPer: 100, backlogTotal: 1_000_000, backlogSettleMs: 3000, warmBatchTotal: 50_000, warmMinChunks: 3, warmMaxChunks: 12, profileTotal: 200_000 };
}

type Plan = ReturnType<typeof planFor>;

/** The daemon's Prometheus metrics (GET /metrics), as `name{labels}` -> value; empty if unavailable. */
async function scrape(origin: string | undefined): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!origin) return out;
  try {
    const res = await fetch(`${origin}/metrics`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) return out;
    for (const line of (await res.text()).split('\n')) {
      if (line.startsWith('#') || line === '') continue;
      const sp = line.lastIndexOf(' ');
      out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
    }
  } catch {
    // no metrics: leave them out
  }
  return out;
}

/** GC and event-loop figures between two scrapes (prom-client's default metrics). */
function runtimeFigures(before: Map<string, number>, after: Map<string, number>): RuntimeFigures | undefined {
  if (after.size === 0) return undefined;
  const d = (k: string): number => (after.get(k) ?? 0) - (before.get(k) ?? 0);
  const gcMs: Record<string, number> = {};
  let gcCount = 0;
  let gcOver100ms = 0;
  for (const kind of ['major', 'minor', 'incremental', 'weakcb']) {
    gcMs[kind] = d(`nodejs_gc_duration_seconds_sum{kind="${kind}"}`) * 1000;
    gcCount += d(`nodejs_gc_duration_seconds_count{kind="${kind}"}`);
    gcOver100ms += d(`nodejs_gc_duration_seconds_count{kind="${kind}"}`) - d(`nodejs_gc_duration_seconds_bucket{le="0.1",kind="${kind}"}`);
  }
  return {
    gcMs,
    gcCount,
    gcOver100ms,
    eventLoopLagMaxMs: (after.get('nodejs_eventloop_lag_max_seconds') ?? NaN) * 1000,
    eventLoopLagP99Ms: (after.get('nodejs_eventloop_lag_p99_seconds') ?? NaN) * 1000,
    heapUsedBytes: after.get('nodejs_heap_size_used_bytes') ?? NaN,
    heapTotalBytes: after.get('nodejs_heap_size_total_bytes') ?? NaN,
    externalBytes: after.get('nodejs_external_memory_bytes') ?? NaN,
  };
}

/** V8's heap spaces from prom-client's nodejs_heap_space_size_{used,total}_bytes{space=...}; undefined without metrics. */
function heapSpaces(after: Map<string, number>): Record<string, { usedBytes: number; totalBytes: number }> | undefined {
  const out: Record<string, { usedBytes: number; totalBytes: number }> = {};
  for (const [key, value] of after) {
    const m = /^nodejs_heap_space_size_(used|total)_bytes\{space="([^"]+)"\}$/.exec(key);
    if (!m) continue;
    const row = (out[m[2] as string] ??= { usedBytes: 0, totalBytes: 0 });
    if (m[1] === 'used') row.usedBytes = value;
    else row.totalBytes = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** CLOCK_MONOTONIC in µs: the clock V8 stamps --cpu-prof samples with, so runs can be cut out of a profile. */
const monoUs = (): number => Number(process.hrtime.bigint() / 1000n);

const rec0Id = (mode: string, asUnit: boolean): string => `daemon-${mode}-backlog${asUnit ? '-unit' : ''}`;

const log = (line: string): void => {
  process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
};

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(join(REPO, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}

function cpuModel(): string {
  try {
    return /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim() ?? '?';
  } catch {
    return '?';
  }
}

/** Bytes allocated on disk under `dir`. */
function diskUsage(dir: string | undefined): number {
  if (!dir || !existsSync(dir)) return 0;
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    total += statSync(join(e.parentPath, e.name)).blocks * 512;
  }
  return total;
}

/**
 * A fixed CPU-bound workload (JSON, SHA-256, string building) on one core, best of three, in ms.
 * Run at the start and the end of a sitting: the same number means the machine ran at the same
 * speed; a larger one means the host was busier (other VMs), which /proc/stat cannot see.
 */
function calibrate(cpu: number | undefined): number {
  const script = `
    const { createHash } = require('node:crypto');
    const o = { id: 'x', queue: 'bench', body: 'a'.repeat(200), attributes: { a: { DataType: 'String', StringValue: 'v' } } };
    let best = Infinity;
    for (let round = 0; round < 3; round++) {
      const t = process.hrtime.bigint();
      let acc = 0;
      for (let i = 0; i < 60000; i++) {
        const s = JSON.stringify({ ...o, id: 'm' + i });
        acc += JSON.parse(s).id.length;
        acc += createHash('sha256').update(s).digest('hex').length;
      }
      best = Math.min(best, Number(process.hrtime.bigint() - t) / 1e6);
      if (acc === 0) console.log('');
    }
    console.log(best.toFixed(1));`;
  const argv = ['-e', script];
  const r = cpu === undefined ? spawnSync(process.execPath, argv, { encoding: 'utf8' }) : spawnSync('taskset', ['-c', String(cpu), process.execPath, ...argv], { encoding: 'utf8' });
  return Number(r.stdout.trim());
}

/** Durability modes the daemon offers (`--durability <a|b|c>` in --help) and its default. */
function detectModes(daemonDir: string): { modes: string[]; defaultMode: string; spoolFlags: boolean } {
  const r = spawnSync(process.execPath, [join(daemonDir, 'bin/sqs-accelerator.js'), '--help'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`sqs-accelerator --help failed (did npm run build run?): ${r.stderr}`);
  const lines = r.stdout.split('\n');
  const i = lines.findIndex((l) => /^\s*--durability\s/.test(l));
  if (i < 0) return { modes: ['memory'], defaultMode: 'memory', spoolFlags: false };
  const modes = /<([^>]+)>/.exec(lines[i] as string)?.[1]?.split('|') ?? ['memory'];
  let defaultMode = modes[0] as string;
  for (let j = i + 1; j < Math.min(lines.length, i + 12); j++) {
    if (/^\s*--/.test(lines[j] as string)) break;
    const m = /default:\s*([a-z-]+)/.exec(lines[j] as string);
    if (m?.[1]) {
      defaultMode = m[1];
      break;
    }
  }
  return { modes, defaultMode, spoolFlags: true };
}

async function waitQuiet(o: Options): Promise<void> {
  if (o.waitQuietMin <= 0) return;
  const deadline = Date.now() + o.waitQuietMin * 60_000;
  for (;;) {
    const l1 = loadavg()[0] as number;
    if (l1 < o.maxLoad) {
      log(`load average ${l1.toFixed(2)} < ${o.maxLoad}: starting`);
      return;
    }
    if (Date.now() >= deadline) {
      log(`load average still ${l1.toFixed(2)} after ${o.waitQuietMin} min: starting anyway (numbers will be noisy)`);
      return;
    }
    log(`load average ${l1.toFixed(2)} >= ${o.maxLoad}: waiting 30 s`);
    await sleep(30_000);
  }
}

interface MeasureArgs {
  id: string;
  system: string;
  mode?: string;
  scenario: string;
  server: Child;
  spec: LoadSpec;
  queue?: string;
  deliveryTimeoutMs?: number;
  metricsOrigin?: string;
  /** A process the server sends through (the daemon behind an SDK app): its CPU per message is recorded too. */
  behind?: Child;
  /** Layout of the processes during the run; default the sitting's headline (the first of --pinning's). */
  pin?: Pin;
}

export class Bench {
  readonly plan: Plan;
  readonly tmp: string;
  /** Cores of the server under test and of the load generator and fake when pinned (spawn time: the headline layout). */
  readonly serverCpu: number | undefined;
  readonly otherCpu: number | undefined;
  /** The layouts measured, headline first. */
  readonly pins: Pin[];
  readonly pinner = new Pinner();
  fake!: Child;
  loadgen!: Child;
  endpoint = '';
  readonly runs: RunRecord[] = [];
  /** --turn-probe files written so far (each daemon its own). */
  private probes = 0;
  /** Every open-loop warm-up of the sitting (lib/warmup.ts), for the report's JSON. */
  readonly warmups: Array<{ label: string } & WarmResult> = [];
  readonly failures: string[] = [];
  private seq = 0;
  /** Start time of the sitting, in file names. */
  stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
  /** The mode targets are judged on (set by main). */
  defaultMode = 'memory';

  constructor(
    readonly o: Options,
    readonly durability: { modes: string[]; defaultMode: string; spoolFlags: boolean },
  ) {
    this.plan = planFor(o.quick);
    if (o.rates) this.plan.rates = this.plan.otherModeRates = o.rates;
    this.tmp = join(o.outDir, 'tmp');
    mkdirSync(this.tmp, { recursive: true });
    this.pins = pinVariants(o.pinning);
    const pin = this.pins[0] === 'pinned';
    this.serverCpu = pin ? SERVER_CPU : undefined;
    this.otherCpu = pin ? CLIENT_CPU : undefined;
  }

  get headline(): Pin {
    return this.pins[0] as Pin;
  }

  get pinning(): string {
    const pinned = `taskset: server under test (daemon or baseline) on CPU ${SERVER_CPU}; load generator and fake SQS on CPU ${CLIENT_CPU}; orchestrator unpinned (idle while measuring)`;
    if (this.pins.length > 1) return `both layouts in one sitting: unpinned (the headline; plain run ids) and pinned (the stress case; ids ending -pinned, ${pinned}) for the open-loop and sustained runs; every other run unpinned`;
    return this.headline === 'pinned' ? pinned : 'not pinned';
  }

  /** The run id for a layout: plain for the headline, `-pinned` when both are measured. */
  pinId(id: string, pin: Pin): string {
    return pin === 'pinned' && this.pins.length > 1 ? `${id}-pinned` : id;
  }

  async start(): Promise<void> {
    this.fake = new Child({ name: 'fake-sqs', nodeArgs: this.o.fakeNodeArgs, args: [join(HERE, 'fake-server.js'), String(UPSTREAM_LATENCY_MS)], cpu: this.otherCpu, ipc: true, logFile: join(this.tmp, 'fake-sqs.log') });
    this.pinner.add(this.fake, 'client');
    this.endpoint = String((await this.fake.nextMessage(15_000)).endpoint);
    this.loadgen = new Child({ name: 'loadgen', args: [join(HERE, 'loadgen.js')], cpu: this.otherCpu, ipc: true, logFile: join(this.tmp, 'loadgen.log') });
    this.pinner.add(this.loadgen, 'client');
    await this.loadgen.nextMessage(15_000);
    log(`fake SQS ${this.endpoint} (pid ${this.fake.pid}, ${UPSTREAM_LATENCY_MS} ms latency), load generator pid ${this.loadgen.pid}; ${this.pinning}`);
  }

  async stop(): Promise<void> {
    await this.loadgen?.stop(5000);
    await this.fake?.stop(5000);
  }

  tag(): string {
    this.seq += 1;
    return `r${this.seq}x${Math.random().toString(36).slice(2, 6)}`;
  }

  // ---------------------------------------------------------------------------------------
  // Servers

  /** `core`: 'server' (the server under test's core, the default) or 'client' (the load generator's). */
  async startServer(kind: 'bare' | 'koa-app' | 'sdk-app', args: string[] = [], core: 'server' | 'client' = 'server'): Promise<{ child: Child; origin: string }> {
    const child = new Child({ name: kind, args: [join(HERE, 'servers', `${kind}.js`), ...args], cpu: core === 'server' ? this.serverCpu : this.otherCpu, ipc: true, logFile: join(this.tmp, `${kind}.log`) });
    this.pinner.add(child, core);
    const ready = await child.nextMessage(20_000);
    return { child, origin: `http://127.0.0.1:${String(ready.port)}` };
  }

  /**
   * `unit`: start it as the systemd unit does (lib/unit.ts: the unit's node and daemon flags,
   * environment and a config file), ignoring every other argument and --daemon-args.
   */
  async startDaemon(mode: string, extra: string[] = [], nodeArgs: string[] = [], env?: Record<string, string>, unit?: UnitLaunch & { dir: string }): Promise<{ child: Child; origin: string; spoolDir: string | undefined; mode: string; probeFile?: string }> {
    const spoolDir = unit ? unit.dir : this.durability.spoolFlags && mode !== 'memory' ? mkdtempSync(join(tmpdir(), 'sqs-accelerator-bench-')) : undefined;
    const args = unit ? [join(this.o.daemonDir, 'bin/sqs-accelerator.js'), ...unit.args] : [join(this.o.daemonDir, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', this.endpoint, ...this.o.daemonArgs, ...extra];
    if (this.durability.spoolFlags && !unit) args.push('--durability', mode);
    if (spoolDir && !unit) args.push('--spool-dir', spoolDir);
    if (unit) {
      // --daemon-node-args / --daemon-env still reach a unit run, after the unit's own (a diagnostic
      // such as --trace-gc; the log line and the report's extra-args line say they were added).
      nodeArgs = [...unit.nodeArgs, ...this.o.daemonNodeArgs];
      env = { ...unit.env, ...this.o.daemonEnv };
    } else if (Object.keys(this.o.daemonEnv).length > 0) env = { ...this.o.daemonEnv, ...env };
    let probeFile: string | undefined;
    if (this.o.turnProbe && !unit) {
      probeFile = join(this.tmp, `turns-${mode}-${++this.probes}.json`);
      rmSync(probeFile, { force: true });
      nodeArgs = ['--import', join(HERE, 'lib/turn-probe.js'), ...nodeArgs];
      env = { ...env, TURN_PROBE_OUT: probeFile };
    }
    let onUrl: (url: string) => void = () => {};
    const url = new Promise<string>((r) => (onUrl = r));
    const child = new Child({
      name: `daemon(${mode})`,
      args,
      nodeArgs: unit ? nodeArgs : [...this.o.daemonNodeArgs, ...nodeArgs],
      cpu: this.serverCpu,
      ipc: false,
      logFile: join(this.tmp, `daemon-${mode}.log`),
      ...(env ? { env } : {}),
      onLine: (line) => {
        if (!line.includes('listening')) return;
        try {
          const j = JSON.parse(line) as { url?: string };
          if (j.url) onUrl(j.url);
        } catch {
          // not a JSON log line
        }
      },
    });
    const origin = await Promise.race([
      url,
      child.exited.then((code) => Promise.reject(new Error(`daemon exited (${code}) at start; see ${join(this.tmp, `daemon-${mode}.log`)}`))),
      sleep(20_000).then(() => Promise.reject(new Error('daemon did not log "listening" within 20 s'))),
    ]);
    this.pinner.add(child, 'server');
    log(`daemon (${mode}) pid ${child.pid} at ${origin}${spoolDir ? `, spool ${spoolDir}` : ''} ${unit ? `${unit.describe}${this.o.daemonNodeArgs.length + Object.keys(this.o.daemonEnv).length > 0 ? `; added for this run: ${[...Object.entries(this.o.daemonEnv).map(([k, v]) => `${k}=${v}`), ...this.o.daemonNodeArgs].join(' ')}` : ''}` : [...Object.entries(this.o.daemonEnv).map(([k, v]) => `${k}=${v}`), ...this.o.daemonNodeArgs, ...this.o.daemonArgs, ...extra].join(' ')}`);
    return { child, origin, spoolDir, mode, ...(probeFile ? { probeFile } : {}) };
  }

  async stopDaemon(d: { child: Child; spoolDir: string | undefined; mode: string; probeFile?: string }): Promise<void> {
    const diedEarlier = !d.child.running;
    const code = await d.child.stop(30_000);
    if (d.probeFile) this.readProbe(d.probeFile);
    if (diedEarlier) this.failures.push(`${d.child.name} (pid ${d.child.pid}) died during the benchmark (exit ${code}); see ${join(this.tmp, `daemon-${d.mode}.log`)}`);
    else if (code !== 0) this.failures.push(`${d.child.name} exited with code ${code} on SIGTERM (expected 0)`);
    if (d.spoolDir) rmSync(d.spoolDir, { recursive: true, force: true });
  }

  /** --turn-probe: the late turns of each daemon run measured while the probe's daemon lived. */
  private readProbe(file: string): void {
    if (!existsSync(file)) {
      this.failures.push(`--turn-probe: the daemon wrote no ${file}`);
      return;
    }
    const probe = JSON.parse(readFileSync(file, 'utf8')) as ProbeFile;
    for (const rec of this.runs) {
      const start = rec.result?.startWallMs;
      if (rec.system !== 'daemon' || rec.turns || start === undefined || !inProbe(probe, start)) continue;
      const t = turnsIn(probe, start, rec.result?.elapsedMs ?? 0);
      rec.turns = t;
      const pct = (x: number): string => shareOfLate(t, x);
      log(`${rec.id}${rec.pinned ? ' (pinned)' : ''}: ${t.count} event-loop turns > ${t.minGapMs} ms, ${t.lateMs.toFixed(0)} ms in all (longest ${t.longestMs.toFixed(1)}, its own part at most ${(t.longestOwnMs ?? 0).toFixed(1)}): waiting for a core ${pct(t.waitingMs)}, in GC ${pct(t.gcMs)}`);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Load and verification

  spec(origin: string, queue: string, partial: Partial<LoadSpec> & Pick<LoadSpec, 'mode'>): LoadSpec {
    return { origin, path: `/queues/${queue}`, auth: AUTH, connections: 64, perRequest: 1, tag: this.tag(), bodyBytes: BODY_BYTES, drainTimeoutMs: 60_000, ...(partial.mode === 'open' ? { pacing: this.o.openPacing } : {}), ...partial };
  }

  load(spec: LoadSpec): Promise<LoadResult> {
    const expectMs = spec.mode === 'open' ? (spec.durationMs ?? 0) : 600_000;
    return this.loadgen.call<LoadResult>('run', spec, expectMs + spec.drainTimeoutMs + 60_000);
  }

  /**
   * Waits until the fake holds every acknowledged message of the run, then compares message by
   * message. Gives up at `timeoutMs`, after 60 s without progress, or soon after `server` died.
   */
  async awaitDelivery(queue: string, tag: string, res: LoadResult, timeoutMs: number, server?: Child): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    let last = -1;
    let lastProgress = Date.now();
    let deadSince = 0;
    const hopeless = (count: number): boolean => {
      const now = Date.now();
      if (count !== last) {
        last = count;
        lastProgress = now;
      }
      if (server && !server.running) deadSince ||= now;
      return now >= deadline || now - lastProgress > 60_000 || (deadSince > 0 && now - deadSince > 2000);
    };
    for (;;) {
      const count = await this.fake.call<number>('count', { queue });
      if (count >= res.acked || hopeless(count)) break;
      await sleep(20);
    }
    const acked = new BitSet(res.messages, res.ackedBits);
    for (;;) {
      const v = await this.fake.call<{ delivered: string; unique: number; duplicates: number; firstAt: number; lastAt: number }>('verify', { queue, tag, n: res.messages }, 120_000);
      const delivered = new BitSet(res.messages, v.delivered);
      let missing = 0;
      let unacked = 0;
      for (let i = 0; i < res.messages; i++) {
        const a = acked.has(i);
        const d = delivered.has(i);
        if (a && !d) missing += 1;
        else if (!a && d) unacked += 1;
      }
      if (missing === 0 || hopeless(v.unique + v.duplicates)) {
        return { acked: res.acked, delivered: v.unique, missing, duplicates: v.duplicates, unacked, firstAt: v.firstAt, lastAt: v.lastAt, ok: missing === 0 };
      }
      await sleep(250);
    }
  }

  /** Sends one message to `queue` so the daemon resolves it (GetQueueUrl) before the measured run. */
  async prime(origin: string, queue: string): Promise<void> {
    const spec = this.spec(origin, queue, { mode: 'closed', total: 1, concurrency: 1, connections: 1 });
    const res = await this.load(spec);
    const d = await this.awaitDelivery(queue, spec.tag, res, 30_000);
    if (!d.ok || res.acked !== 1) throw new Error(`priming ${queue} failed: ${JSON.stringify(res.statuses)}`);
  }

  /** One measured run against `server`. With `queue`, the run is verified against the fake SQS. */
  /**
   * A measured run, repeated (up to --retries times, with a fresh tag) while other processes
   * used more than --max-other-cpu % of a core during it: the quietest attempt is kept. Every
   * attempt is verified; a loss in a discarded attempt still fails the benchmark.
   */
  async measure(r: MeasureArgs): Promise<RunRecord> {
    let best: RunRecord | undefined;
    const noisy: number[] = [];
    for (let attempt = 1; ; attempt++) {
      const spec = attempt === 1 ? r.spec : { ...r.spec, tag: this.tag() };
      this.pinner.apply(r.pin ?? this.headline);
      const rec = await this.measureOnce({ ...r, spec });
      if (!best || rec.otherCpuPct < best.otherCpuPct) best = rec;
      if (rec.otherCpuPct <= this.o.maxOtherCpu || attempt > this.o.retries || !r.server.running) break;
      noisy.push(Math.round(rec.otherCpuPct));
      log(`${r.id}: other processes used ${rec.otherCpuPct.toFixed(0)}% of a core during the run (limit ${this.o.maxOtherCpu}%): waiting for quiet, then again (${attempt}/${this.o.retries})`);
      await this.waitForQuietCpu(120_000);
    }
    best.attempts = noisy.length + 1;
    if (noisy.length > 0) best.noisyAttemptsOtherCpuPct = noisy;
    this.runs.push(best);
    return best;
  }

  /** Waits (at most `maxMs`) until processes outside the benchmark use less than --max-other-cpu over 3 s. */
  async waitForQuietCpu(maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    const ours = (): number => [this.fake, this.loadgen].reduce((sum, c) => sum + (c?.running ? cpuMs(c.pid) : 0), 0) + process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000;
    while (Date.now() < deadline) {
      const a = machineCpuMs().busy - ours();
      await sleep(3000);
      const other = ((machineCpuMs().busy - ours() - a) / 3000) * 100;
      if (other <= this.o.maxOtherCpu) return;
    }
  }

  async measureOnce(r: MeasureArgs): Promise<RunRecord> {
    if (r.queue) await this.fake.call('reset');
    const metrics0 = await scrape(r.metricsOrigin);
    const pid = r.server.pid;
    const split0 = cpuSplitMs(pid);
    const cpu0 = split0.user + split0.sys;
    const behind0 = r.behind ? cpuMs(r.behind.pid) : 0;
    const lg0 = cpuMs(this.loadgen.pid);
    const fk0 = cpuMs(this.fake.pid);
    const rss = new RssSampler(pid);
    const sys0 = machineCpuMs();
    const io0 = ioStallUs();
    const self0 = process.cpuUsage();
    const wall0 = Date.now();
    const mono0 = monoUs();
    let res: LoadResult;
    let delivery: Delivery | undefined;
    try {
      res = await this.load(r.spec);
      if (r.queue) delivery = await this.awaitDelivery(r.queue, r.spec.tag, res, r.deliveryTimeoutMs ?? 120_000, r.server);
    } catch (err) {
      rss.stop();
      throw err;
    }
    const split1 = cpuSplitMs(pid);
    const cpu1 = split1.user + split1.sys;
    const mono1 = monoUs();
    const wallMs = Date.now() - wall0;
    const behindMs = r.behind ? cpuMs(r.behind.pid) - behind0 : 0;
    const lg1 = cpuMs(this.loadgen.pid);
    const fk1 = cpuMs(this.fake.pid);
    const sys1 = machineCpuMs();
    const io1 = ioStallUs();
    const self1 = process.cpuUsage(self0);
    const ours = cpu1 - cpu0 + behindMs + (lg1 - lg0) + (fk1 - fk0) + (self1.user + self1.system) / 1000;
    const rssPeakBytes = rss.stop();
    const runtime = runtimeFigures(metrics0, await scrape(r.metricsOrigin));
    let sqs: SqsUse | undefined;
    if (r.queue) {
      const s = await this.fake.call<{ byAction: Record<string, number>; entries: number; billedSendRequests?: number }>('stats');
      const sendRequests = (s.byAction.SendMessageBatch ?? 0) + (s.byAction.SendMessage ?? 0);
      const n = delivery?.delivered || 1;
      sqs = { sendRequests, entries: s.entries, entriesPerRequest: s.entries / Math.max(1, sendRequests), requestsPerMessage: sendRequests / n };
      if (s.billedSendRequests !== undefined) Object.assign(sqs, { billedRequests: s.billedSendRequests, billedRequestsPerMessage: s.billedSendRequests / n });
    }
    const { ackedBits: _bits, ...result } = res;
    const perMsg = delivery ? delivery.delivered : res.acked;
    const rec: RunRecord = {
      id: r.id,
      system: r.system,
      ...(r.mode ? { mode: r.mode } : {}),
      pinned: (r.pin ?? this.headline) === 'pinned',
      scenario: r.scenario,
      load: (({ origin: _o, auth: _a, ...rest }) => rest)(r.spec),
      result,
      wallMs,
      serverCpuMs: cpu1 - cpu0,
      cpuUsPerMsg: perMsg > 0 ? ((cpu1 - cpu0) * 1000) / perMsg : NaN,
      cpuUserSysUsPerMsg: perMsg > 0 ? [((split1.user - split0.user) * 1000) / perMsg, ((split1.sys - split0.sys) * 1000) / perMsg] : [NaN, NaN],
      ...(r.behind && perMsg > 0 ? { behindCpuUsPerMsg: (behindMs * 1000) / perMsg } : {}),
      loadgenCpuPct: (100 * (lg1 - lg0)) / wallMs,
      fakeCpuPct: (100 * (fk1 - fk0)) / wallMs,
      otherCpuPct: Math.max(0, (100 * (sys1.busy - sys0.busy - ours)) / wallMs),
      stealPct: (100 * (sys1.steal - sys0.steal)) / wallMs,
      ioStallPct: (100 * (io1 - io0)) / 1000 / wallMs,
      ackedPerSec: res.acked / (Math.max(1, res.sendSpanMs) / 1000),
      rssPeakBytes,
      monoUs: [mono0, mono1],
    };
    if (delivery) {
      rec.delivery = delivery;
      rec.deliveredPerSec = delivery.delivered / (Math.max(1, delivery.lastAt - res.startWallMs) / 1000);
      if (!delivery.ok) {
        this.failures.push(`LOST MESSAGES in ${r.id}: ${delivery.missing} of ${delivery.acked} acknowledged messages never reached SQS`);
        log(`!!!!! ${r.id}: ${delivery.missing} ACKNOWLEDGED MESSAGES LOST !!!!!`);
      }
    }
    if (sqs) rec.sqs = sqs;
    if (runtime) rec.runtime = runtime;
    const bad = Object.entries(res.statuses).filter(([k]) => !/^2\d\d$/.test(k));
    log(
      `${r.id}${rec.pinned ? ' (pinned)' : ''}: ${res.acked}/${res.messages} acked, p50 ${res.latency.p50.toFixed(3)} p99 ${res.latency.p99.toFixed(3)} p99.9 ${res.latency.p999.toFixed(3)} ms, ` +
        `${rec.ackedPerSec.toFixed(0)} acked/s${rec.deliveredPerSec ? `, ${rec.deliveredPerSec.toFixed(0)} delivered/s` : ''}, ` +
        `${rec.cpuUsPerMsg.toFixed(1)} CPU µs/msg${sqs ? `, ${sqs.entriesPerRequest.toFixed(2)} entries/req` : ''}, RSS ${(rssPeakBytes / 1048576).toFixed(0)} MB` +
        `${bad.length ? `, non-2xx: ${JSON.stringify(Object.fromEntries(bad))}` : ''}${delivery ? (delivery.ok ? ', all delivered' : ', LOST') : ''}` +
        `${res.burst ? `; the ${res.burst.entries}-entry batch: ${res.burst.status} in ${res.burst.latencyMs.toFixed(1)} ms, sent at ${(res.burst.sentAtMs / 1000).toFixed(2)} s` : ''}` +
        `${runtime ? `; GC ${(runtime.gcMs.major ?? 0).toFixed(0)} ms major / ${(runtime.gcMs.minor ?? 0).toFixed(0)} ms minor, ${runtime.gcOver100ms} pauses > 100 ms, event loop lag max ${runtime.eventLoopLagMaxMs.toFixed(0)} ms, heap ${(runtime.heapUsedBytes / 1048576).toFixed(0)} MB` : ''}` +
        ` [CPU: loadgen ${rec.loadgenCpuPct.toFixed(0)}%, fake ${rec.fakeCpuPct.toFixed(0)}%, other processes ${rec.otherCpuPct.toFixed(0)}%, steal ${rec.stealPct.toFixed(0)}%; I/O stall ${rec.ioStallPct?.toFixed(0)}%]`,
    );
    return rec;
  }

  // ---------------------------------------------------------------------------------------
  // Phases

  /** Baseline B: the floor, bare node:http and Koa. Nothing is delivered, so nothing to verify. */
  async floor(kind: 'bare' | 'koa-app'): Promise<void> {
    const system = kind === 'bare' ? 'bare node:http' : 'Koa';
    const { child, origin } = await this.startServer(kind);
    try {
      await this.warmOpen(system, child, origin);
      for (const pin of this.pins) {
        for (const rate of this.plan.floorRates) {
          await this.measure({ id: this.pinId(`${kind}-open-${rate}`, pin), system, scenario: `open ${rate}/s`, server: child, pin, spec: this.spec(origin, 'bench', { mode: 'open', rate, durationMs: this.plan.rateMs }) });
        }
        await this.measure({ id: this.pinId(`${kind}-closed-64`, pin), system, scenario: 'closed c=64 (max)', server: child, pin, spec: this.spec(origin, 'bench', { mode: 'closed', total: this.plan.floorMaxTotal, concurrency: 64 }) });
      }
    } finally {
      await child.stop(5000);
    }
  }

  /** Baseline A: an endpoint that awaits SendMessage through the AWS SDK per request. */
  async sdk(): Promise<void> {
    const queue = 'bench-sdk';
    await this.fake.call('createQueue', { name: queue });
    const { child, origin } = await this.startServer('sdk-app', [this.endpoint, queue]);
    try {
      const warm = this.spec(origin, queue, { mode: 'closed', total: 1_000_000, durationMs: this.plan.warmMs, concurrency: 10, connections: 10 });
      await this.awaitDelivery(queue, warm.tag, await this.load(warm), 30_000);
      await this.measure({
        id: 'sdk-closed-10', system: 'SDK app', scenario: 'closed c=10', server: child, queue,
        spec: this.spec(origin, queue, { mode: 'closed', total: 1_000_000, durationMs: this.plan.sdkClosedMs, concurrency: 10, connections: 10 }),
      });
      const rate = this.plan.sdkOpenRate;
      await this.measure({ id: `sdk-open-${rate}`, system: 'SDK app', scenario: `open ${rate}/s`, server: child, queue, spec: this.spec(origin, queue, { mode: 'open', rate, durationMs: this.plan.sdkOpenMs }) });
    } finally {
      await child.stop(5000);
      await this.fake.call('deleteQueue', { name: queue });
    }
  }

  /**
   * The open-loop warm-up (lib/warmup.ts): 1-s chunks at 2,000 msg/s until two in a row cost the
   * server the same CPU per request, so that the measured runs start at steady state. For the
   * daemon each chunk is what a measured run is, in small: a fresh queue, primed, the metrics
   * scraped before and after, delivery awaited and checked. (A scrape goes through Koa, not the
   * send route; the first one after a long run of sends alone deoptimised ~70 of Node's HTTP
   * functions at once and the measured run paid for recompiling them: docs/benchmarks.md
   * "Round 6b".)
   */
  async warmOpen(label: string, server: Child, origin: string, daemon?: { queuePrefix: string }): Promise<void> {
    let k = 0;
    const r = await warmUntilSteady({
      minChunks: this.plan.warmMinChunks,
      maxChunks: this.plan.warmMaxChunks,
      chunk: async () => {
        const queue = daemon ? `${daemon.queuePrefix}-${(k += 1)}` : 'warm';
        if (daemon) {
          await this.fake.call('createQueue', { name: queue });
          await this.prime(origin, queue);
          await scrape(origin);
        }
        const spec = this.spec(origin, queue, { mode: 'open', rate: 2000, durationMs: 1000 });
        const c0 = cpuMs(server.pid);
        const res = await this.load(spec);
        if (daemon) {
          const d = await this.awaitDelivery(queue, spec.tag, res, 60_000);
          if (!d.ok) this.failures.push(`LOST MESSAGES during the warm-up of ${label}: ${d.missing} of ${d.acked}`);
        }
        const cpuUsPerReq = ((cpuMs(server.pid) - c0) * 1000) / res.requests;
        if (daemon) {
          await scrape(origin);
          await this.fake.call('deleteQueue', { name: queue });
        }
        return { cpuUsPerReq, p99Ms: res.latency.p99 };
      },
    });
    this.warmups.push({ label, ...r });
    log(`${label}: open-loop warm-up ${describeWarmup(r)}`);
  }

  /** Batch ingest first (the batch paths, the heap's working size), then the open loop until steady. */
  async warmDaemon(d: { child: Child; origin: string }, mode: string): Promise<void> {
    const queue = `warm-${mode}`;
    await this.fake.call('createQueue', { name: queue });
    const spec = this.spec(d.origin, queue, { mode: 'closed', total: this.plan.warmBatchTotal, concurrency: 8, connections: 8, perRequest: 100 });
    const res = await this.load(spec);
    const got = await this.awaitDelivery(queue, spec.tag, res, 60_000);
    if (!got.ok) this.failures.push(`LOST MESSAGES during the warm-up of daemon (${mode}): ${got.missing} of ${got.acked}`);
    await this.fake.call('deleteQueue', { name: queue });
    await this.warmOpen(`daemon (${mode})`, d.child, d.origin, { queuePrefix: queue });
  }

  /** The daemon: open-loop rates, sustained single-message load, batch ingest. */
  async daemon(mode: string): Promise<void> {
    const d = await this.startDaemon(mode);
    try {
      await this.warmDaemon(d, mode);
      type Run = { id: string; kind: string; scenario: string; pin: Pin; spec: (q: string) => LoadSpec };
      const runs: Run[] = [];
      // Open loop and sustained in every layout (unpinned first: the headline), the rest in the headline's.
      for (const pin of this.pins) {
        for (const rate of mode === this.defaultMode ? this.plan.rates : this.plan.otherModeRates) {
          runs.push({ id: this.pinId(`daemon-${mode}-open-${rate}`, pin), kind: 'open', scenario: `open ${rate}/s`, pin, spec: (q) => this.spec(d.origin, q, { mode: 'open', rate, durationMs: this.plan.rateMs }) });
        }
        runs.push({ id: this.pinId(`daemon-${mode}-sustained`, pin), kind: 'sustained', scenario: 'sustained (closed c=64)', pin, spec: (q) => this.spec(d.origin, q, { mode: 'closed', total: this.plan.sustainedTotal, concurrency: 64 }) });
      }
      runs.push({
        id: `daemon-${mode}-batch`,
        kind: 'batch',
        scenario: `batch ingest x${this.plan.batchPer} (closed c=8)`,
        pin: this.headline,
        spec: (q) => this.spec(d.origin, q, { mode: 'closed', total: this.plan.batchTotal, concurrency: 8, connections: 8, perRequest: this.plan.batchPer }),
      });
      if (mode === this.defaultMode) {
        const { rate, entries } = MID_BATCH;
        runs.push({
          id: `daemon-${mode}-midbatch`,
          kind: 'midbatch',
          scenario: `open ${rate}/s, one ${entries.toLocaleString('en-US')}-entry batch at ${this.plan.rateMs / 2000} s`,
          pin: this.headline,
          spec: (q) => this.spec(d.origin, q, { mode: 'open', rate, durationMs: this.plan.rateMs, burst: { atMs: this.plan.rateMs / 2, entries } }),
        });
      }
      const wanted = this.o.daemonScenarios;
      for (const run of runs) {
        if (wanted && !wanted.has(run.kind)) continue;
        const queue = run.id.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80);
        await this.fake.call('createQueue', { name: queue });
        await this.prime(d.origin, queue);
        await this.measure({ id: run.id, system: 'daemon', mode, scenario: run.scenario, server: d.child, queue, pin: run.pin, spec: run.spec(queue), deliveryTimeoutMs: 300_000, metricsOrigin: d.origin });
        await this.fake.call('deleteQueue', { name: queue });
      }
    } finally {
      await this.stopDaemon(d);
    }
  }

  /**
   * Not default settings: the sustained and batch runs again with more SendMessageBatch requests
   * in flight (`--max-concurrency`/`--connections`), to show whether the in-flight cap (at 20 ms
   * per request, 64 x 10 entries / 20 ms = 32,000 msg/s) or the CPU limits delivery.
   */
  async tuned(mode: string, concurrency: number): Promise<void> {
    const flags = ['--max-concurrency', String(concurrency), '--connections', String(concurrency)];
    const d = await this.startDaemon(mode, flags);
    try {
      await this.warmDaemon(d, mode);
      const runs = [
        { id: `daemon-${mode}-sustained-c${concurrency}`, scenario: `sustained (closed c=64), ${flags.join(' ')}`, spec: (q: string) => this.spec(d.origin, q, { mode: 'closed', total: this.plan.sustainedTotal, concurrency: 64 }) },
        {
          id: `daemon-${mode}-batch-c${concurrency}`,
          scenario: `batch ingest x${this.plan.batchPer} (closed c=8), ${flags.join(' ')}`,
          spec: (q: string) => this.spec(d.origin, q, { mode: 'closed', total: this.plan.batchTotal, concurrency: 8, connections: 8, perRequest: this.plan.batchPer }),
        },
      ];
      for (const run of runs) {
        const queue = run.id.slice(0, 80);
        await this.fake.call('createQueue', { name: queue });
        await this.prime(d.origin, queue);
        await this.measure({ id: run.id, system: 'daemon', mode, scenario: run.scenario, server: d.child, queue, spec: run.spec(queue), deliveryTimeoutMs: 300_000, metricsOrigin: d.origin });
        await this.fake.call('deleteQueue', { name: queue });
      }
    } finally {
      await this.stopDaemon(d);
    }
  }

  /** N messages accepted while SQS is down: memory and disk; then the drain when it is back. */
  async backlog(mode: string, asUnit = false): Promise<void> {
    let best: RunRecord | undefined;
    const noisy: number[] = [];
    for (let attempt = 1; ; attempt++) {
      const rec = await this.backlogOnce(mode, asUnit);
      if (!best || rec.otherCpuPct < best.otherCpuPct) best = rec;
      if (!(rec.otherCpuPct > this.o.maxOtherCpu) || attempt > this.o.retries) break;
      noisy.push(Math.round(rec.otherCpuPct));
      log(`${rec.id}: other processes used ${rec.otherCpuPct.toFixed(0)}% of a core during the run (limit ${this.o.maxOtherCpu}%): waiting for quiet, then again (${attempt}/${this.o.retries})`);
      await this.waitForQuietCpu(120_000);
    }
    best.attempts = noisy.length + 1;
    if (noisy.length > 0) best.noisyAttemptsOtherCpuPct = noisy;
    this.runs.push(best);
  }

  /**
   * `asUnit`: the daemon started as systemd/sqs-accelerator.service starts it (lib/unit.ts), in
   * whatever durability that gives (`mode` is then only the label the caller read from it), with
   * its default backlog limit; otherwise with `--durability mode --max-backlog-messages 2000000`.
   */
  async backlogOnce(mode: string, asUnit = false): Promise<RunRecord> {
    const n = this.plan.backlogTotal;
    let unit: (UnitLaunch & { dir: string }) | undefined;
    if (asUnit) {
      const dir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-bench-unit-'));
      unit = { ...unitLaunch(this.o.daemonDir, dir, this.endpoint), dir };
    }
    const d = await this.startDaemon(mode, ['--max-backlog-messages', String(Math.max(2_000_000, 2 * n))], [], undefined, unit);
    const queue = `backlog-${mode}${asUnit ? '-unit' : ''}`;
    this.pinner.apply(this.headline);
    try {
      await this.fake.call('createQueue', { name: queue });
      await this.prime(d.origin, queue);
      await this.fake.call('reset');
      const metrics0 = await scrape(d.origin);
      const split0 = cpuSplitMs(d.child.pid);
      const cpu0 = split0.user + split0.sys;
      const others0 = [cpuMs(this.loadgen.pid), cpuMs(this.fake.pid), process.cpuUsage()] as const;
      const sys0 = machineCpuMs();
      const io0 = ioStallUs();
      const rss = new RssSampler(d.child.pid);
      const wall0 = Date.now();
      await this.fake.call('set', { down: true });
      const spec = this.spec(d.origin, queue, { mode: 'closed', total: n, concurrency: 4, connections: 4, perRequest: 100 });
      const res = await this.load(spec).catch((err: unknown) => {
        rss.stop();
        throw err;
      });
      await sleep(this.plan.backlogSettleMs); // let the retry churn settle before reading memory
      const mem = memory(d.child.pid);
      const rssBytes = mem.rssBytes;
      const diskBytes = diskUsage(d.spoolDir);
      const scraped = await scrape(d.origin);
      const atBacklog = runtimeFigures(metrics0, scraped);
      const spaces = heapSpaces(scraped);
      const overTime = await this.watchBacklog(d.child.pid, d.origin, scraped, rec0Id(mode, asUnit), this.o.backlogWatchS ?? (asUnit && !this.o.quick ? [10, 30, 60] : []));
      const upAt = Date.now();
      await this.fake.call('set', { down: false });
      const delivery = await this.awaitDelivery(queue, spec.tag, res, 600_000, d.child);
      const split1 = cpuSplitMs(d.child.pid);
      const cpu1 = split1.user + split1.sys;
      const sys1 = machineCpuMs();
      const lgMs = cpuMs(this.loadgen.pid) - others0[0];
      const fkMs = cpuMs(this.fake.pid) - others0[1];
      const selfUse = process.cpuUsage(others0[2]);
      const wallMs = Date.now() - wall0;
      const peak = rss.stop();
      const { ackedBits: _b, ...result } = res;
      const s = await this.fake.call<{ byAction: Record<string, number>; entries: number }>('stats');
      const drainMs = delivery.lastAt - upAt;
      const rec: RunRecord = {
        id: rec0Id(mode, asUnit),
        system: asUnit ? 'daemon as the systemd unit' : 'daemon',
        mode,
        pinned: this.headline === 'pinned',
        scenario: `backlog ${n.toLocaleString('en-US')} (SQS down, then up)${unit ? `; ${unit.describe}` : ''}`,
        load: (({ origin: _o, auth: _a, ...rest }) => rest)(spec),
        result,
        wallMs,
        serverCpuMs: cpu1 - cpu0,
        cpuUsPerMsg: ((cpu1 - cpu0) * 1000) / Math.max(1, delivery.delivered),
        cpuUserSysUsPerMsg: [((split1.user - split0.user) * 1000) / Math.max(1, delivery.delivered), ((split1.sys - split0.sys) * 1000) / Math.max(1, delivery.delivered)],
        loadgenCpuPct: (100 * lgMs) / wallMs,
        fakeCpuPct: (100 * fkMs) / wallMs,
        otherCpuPct: Math.max(0, (100 * (sys1.busy - sys0.busy - (cpu1 - cpu0) - lgMs - fkMs - (selfUse.user + selfUse.system) / 1000)) / wallMs),
        stealPct: (100 * (sys1.steal - sys0.steal)) / wallMs,
        ioStallPct: (100 * (ioStallUs() - io0)) / 1000 / wallMs,
        ackedPerSec: res.acked / (Math.max(1, res.sendSpanMs) / 1000),
        rssPeakBytes: peak,
        delivery,
        sqs: { sendRequests: s.byAction.SendMessageBatch ?? 0, entries: s.entries, entriesPerRequest: s.entries / Math.max(1, s.byAction.SendMessageBatch ?? 0), requestsPerMessage: (s.byAction.SendMessageBatch ?? 0) / Math.max(1, delivery.delivered) },
        backlog: {
          messages: res.acked,
          rssBytes,
          rssAnonBytes: mem.rssAnonBytes,
          rssFileBytes: mem.rssFileBytes,
          ...(spaces ? { heapSpaces: spaces } : {}),
          ...(overTime.length > 0 ? { overTime } : {}),
          diskBytes,
          ingestMs: res.elapsedMs,
          drainMs,
          drainPerSec: delivery.delivered / (Math.max(1, drainMs) / 1000),
          steadyDrainPerSec: delivery.delivered / (Math.max(1, delivery.lastAt - delivery.firstAt) / 1000),
        },
      };
      if (atBacklog) rec.runtime = atBacklog;
      if (!delivery.ok) {
        this.failures.push(`LOST MESSAGES in ${rec.id}: ${delivery.missing} of ${delivery.acked} acknowledged messages never reached SQS`);
        log(`!!!!! ${rec.id}: ${delivery.missing} ACKNOWLEDGED MESSAGES LOST !!!!!`);
      }
      const bl = rec.backlog as NonNullable<RunRecord['backlog']>;
      log(
        `${rec.id}: ${res.acked}/${res.messages} acked in ${(res.elapsedMs / 1000).toFixed(1)} s (${rec.ackedPerSec.toFixed(0)}/s), RSS with backlog ${(rssBytes / 1048576).toFixed(0)} MB (peak ${(peak / 1048576).toFixed(0)}), ` +
          `disk ${(diskBytes / 1048576).toFixed(1)} MB; drained in ${(drainMs / 1000).toFixed(1)} s (${bl.drainPerSec.toFixed(0)}/s, steady ${bl.steadyDrainPerSec.toFixed(0)}/s)` +
          `${delivery.ok ? ', all delivered' : ', LOST'}${atBacklog ? `; with the backlog: V8 heap used ${(atBacklog.heapUsedBytes / 1048576).toFixed(0)} MB of ${(atBacklog.heapTotalBytes / 1048576).toFixed(0)} MB, external ${(atBacklog.externalBytes / 1048576).toFixed(0)} MB` : ''}` +
          `; RSS anon ${(mem.rssAnonBytes / 1048576).toFixed(0)} MB, file ${(mem.rssFileBytes / 1048576).toFixed(0)} MB` +
          `${spaces ? `; heap spaces used/total MB: ${Object.entries(spaces).filter(([, v]) => v.totalBytes >= 1048576).map(([k, v]) => `${k} ${(v.usedBytes / 1048576).toFixed(0)}/${(v.totalBytes / 1048576).toFixed(0)}`).join(', ')}` : ''}` +
          ` [CPU: other processes ${rec.otherCpuPct.toFixed(0)}%]`,
      );
      return rec;
    } finally {
      await this.fake.call('set', { down: false });
      await this.stopDaemon(d);
      await this.fake.call('deleteQueue', { name: queue });
    }
  }

  /**
   * `--backlog-watch`: the daemon's memory at each of those seconds after the first reading (at
   * `t0`, whose scrape is `first`), the upstream still down and nothing sent meanwhile.
   */
  async watchBacklog(pid: number, origin: string | undefined, first: Map<string, number>, id: string, at: readonly number[]): Promise<BacklogReading[]> {
    const out: BacklogReading[] = [];
    const t0 = Date.now();
    let prev = first;
    for (const atS of at) {
      await sleep(Math.max(0, t0 + atS * 1000 - Date.now()));
      const mem = memory(pid);
      const now = await scrape(origin);
      const fig = runtimeFigures(prev, now);
      prev = now;
      const spaces = heapSpaces(now);
      const r: BacklogReading = {
        atS,
        rssBytes: mem.rssBytes,
        rssAnonBytes: mem.rssAnonBytes,
        rssFileBytes: mem.rssFileBytes,
        heapUsedBytes: fig?.heapUsedBytes ?? NaN,
        heapTotalBytes: fig?.heapTotalBytes ?? NaN,
        externalBytes: fig?.externalBytes ?? NaN,
        gcCount: fig?.gcCount ?? NaN,
        ...(spaces ? { heapSpaces: spaces } : {}),
      };
      out.push(r);
      const MB = (b: number): string => (b / 1048576).toFixed(0);
      log(
        `${id}: +${atS} s: RSS ${MB(r.rssBytes)} MB (anon ${MB(r.rssAnonBytes)}, file ${MB(r.rssFileBytes)}), V8 heap used ${MB(r.heapUsedBytes)} of ${MB(r.heapTotalBytes)} MB, external ${MB(r.externalBytes)} MB, ${r.gcCount} GCs since the last reading` +
          `${spaces ? `; spaces used/total MB: ${Object.entries(spaces).filter(([, v]) => v.totalBytes >= 1048576).map(([k, v]) => `${k} ${MB(v.usedBytes)}/${MB(v.totalBytes)}`).join(', ')}` : ''}`,
      );
    }
    return out;
  }

  /**
   * Diagnostic, only with `--only heap`: the backlog of `mode` again, and a heap snapshot of the
   * daemon (node --heapsnapshot-signal) while it holds every message, summarised by kind.
   */
  async heap(mode: string): Promise<NonNullable<BenchReport['heap']>> {
    const n = this.plan.backlogTotal;
    const dir = mkdtempSync(join(this.tmp, 'heap-'));
    const d = await this.startDaemon(mode, ['--max-backlog-messages', String(Math.max(2_000_000, 2 * n))], ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${dir}`]);
    const queue = `heap-${mode}`;
    let file = '';
    let rssBytes = NaN;
    let runtime: RuntimeFigures | undefined;
    try {
      await this.fake.call('createQueue', { name: queue });
      await this.prime(d.origin, queue);
      await this.fake.call('reset');
      const metrics0 = await scrape(d.origin);
      await this.fake.call('set', { down: true });
      const spec = this.spec(d.origin, queue, { mode: 'closed', total: n, concurrency: 4, connections: 4, perRequest: 100 });
      const res = await this.load(spec);
      await sleep(this.plan.backlogSettleMs);
      rssBytes = memory(d.child.pid).rssBytes;
      runtime = runtimeFigures(metrics0, await scrape(d.origin));
      d.child.kill('SIGUSR2');
      const deadline = Date.now() + 180_000;
      let lastSize = -1;
      while (Date.now() < deadline) {
        await sleep(1000);
        const f = readdirSync(dir).find((x) => x.endsWith('.heapsnapshot'));
        if (!f) continue;
        const size = statSync(join(dir, f)).size;
        if (size > 0 && size === lastSize) {
          file = join(dir, f);
          break;
        }
        lastSize = size;
      }
      await this.fake.call('set', { down: false });
      const delivery = await this.awaitDelivery(queue, spec.tag, res, 600_000, d.child);
      if (!delivery.ok) this.failures.push(`LOST MESSAGES in heap-${mode}: ${delivery.missing} of ${delivery.acked} acknowledged messages never reached SQS`);
    } finally {
      await this.fake.call('set', { down: false });
      await this.stopDaemon(d);
      await this.fake.call('deleteQueue', { name: queue });
    }
    if (!file) throw new Error('the daemon wrote no heap snapshot on SIGUSR2');
    log(`summarising ${file} (${(statSync(file).size / 1048576).toFixed(0)} MB)`);
    const r = spawnSync(process.execPath, ['--max-old-space-size=8000', join(HERE, 'heap-summary.js'), file, '30'], { encoding: 'utf8', maxBuffer: 16 * 1048576 });
    if (r.status !== 0) throw new Error(`heap-summary failed: ${r.stderr}`);
    const summary = JSON.parse(r.stdout) as HeapSummary;
    log(`heap with ${n} messages waiting: ${(summary.totalBytes / 1048576).toFixed(0)} MB live in ${summary.nodes} objects; top: ${summary.top.slice(0, 6).map((t) => `${t.kind} ${(t.selfBytes / 1048576).toFixed(0)} MB`).join(', ')}`);
    return { scenario: `daemon (${mode}) holding ${n.toLocaleString('en-US')} messages with SQS down`, file, rssBytes, ...(runtime ? { runtime } : {}), summary };
  }

  /**
   * The daemon under --cpu-prof, one fresh daemon per scenario: sustained single-message load
   * (where CPU per message decides throughput) and 2,000 msg/s open loop (the latency target).
   */
  async profiles(mode: string): Promise<NonNullable<BenchReport['profiles']>> {
    const out: NonNullable<BenchReport['profiles']> = [];
    const scenarios: Array<{ name: string; scenario: string; spec: (origin: string, q: string) => LoadSpec }> = [
      {
        name: 'sustained',
        scenario: `sustained single-message load (closed c=64), ${this.plan.profileTotal.toLocaleString('en-US')} messages`,
        spec: (origin, q) => this.spec(origin, q, { mode: 'closed', total: this.plan.profileTotal, concurrency: 64 }),
      },
      { name: 'open-2000', scenario: `open loop 2,000 msg/s for ${this.plan.rateMs / 1000} s`, spec: (origin, q) => this.spec(origin, q, { mode: 'open', rate: 2000, durationMs: this.plan.rateMs }) },
      {
        name: 'batch',
        scenario: `batch ingest x${this.plan.batchPer} (closed c=8), ${this.plan.batchTotal.toLocaleString('en-US')} messages`,
        spec: (origin, q) => this.spec(origin, q, { mode: 'closed', total: this.plan.batchTotal, concurrency: 8, connections: 8, perRequest: this.plan.batchPer }),
      },
    ];
    const wanted = this.o.profileScenarios;
    for (const sc of scenarios) {
      if (wanted && !wanted.has(sc.name)) continue;
      const dir = mkdtempSync(join(this.tmp, 'prof-'));
      const d = await this.startDaemon(mode, [], ['--cpu-prof', '--cpu-prof-dir', dir]);
      const queue = `profile-${mode}-${sc.name}`;
      try {
        await this.warmDaemon(d, mode);
        await this.fake.call('createQueue', { name: queue });
        await this.prime(d.origin, queue);
        await this.measure({ id: `profile-${mode}-${sc.name}`, system: 'daemon (profiled)', mode, scenario: `${sc.scenario} under --cpu-prof`, server: d.child, queue, spec: sc.spec(d.origin, queue), deliveryTimeoutMs: 300_000, metricsOrigin: d.origin });
      } finally {
        await this.stopDaemon(d);
        await this.fake.call('deleteQueue', { name: queue });
      }
      const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
      if (!file) {
        this.failures.push(`the profiled daemon (${sc.name}) wrote no .cpuprofile`);
        continue;
      }
      const kept = join(this.tmp, `${this.stamp}-daemon-${mode}-${sc.name}.cpuprofile`);
      copyFileSync(join(dir, file), kept);
      rmSync(dir, { recursive: true, force: true });
      const window = this.runs.find((r) => r.id === `profile-${mode}-${sc.name}`)?.monoUs;
      const summary = summarise(JSON.parse(readFileSync(kept, 'utf8')) as CpuProfile, 25, window);
      out.push({ id: `profile-${mode}-${sc.name}`, scenario: `daemon (${mode}), ${sc.scenario}`, file: kept, summary });
    }
    return out;
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const o = parseOptions(process.argv.slice(2));
  if (o.daemonRev) o.daemonDir = exportRev(REPO, o.daemonRev, log);
  if (!existsSync(join(o.daemonDir, 'dist/src/cli.js'))) throw new Error(`${o.daemonDir}/dist/src/cli.js is missing: run npm run build there first`);
  await waitQuiet(o);
  const durability = detectModes(o.daemonDir);
  const modes = o.modes ? durability.modes.filter((m) => o.modes?.includes(m)) : durability.modes;
  const want = (phase: string): boolean => o.only === undefined || o.only.has(phase);
  mkdirSync(o.outDir, { recursive: true });
  const bench = new Bench(o, durability);
  bench.defaultMode = modes.includes(durability.defaultMode) ? durability.defaultMode : (modes[0] as string);
  const report: BenchReport = {
    startedAt: new Date(started).toISOString(),
    quick: o.quick,
    command: `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}` : ''}`,
    machine: {
      nproc: availableParallelism(),
      cpuModel: cpuModel(),
      memTotalGiB: Math.round(totalmem() / 2 ** 30),
      kernel: release(),
      node: process.version,
      versions: Object.fromEntries(['koa', '@koa/router', 'undici', 'pino', '@aws-sdk/client-sqs', 'typescript'].map((p) => [p, pkgVersion(p)])),
      loadAvgStart: loadavg().map((x) => Math.round(x * 100) / 100),
      calibrationMs: [calibrate(availableParallelism() >= 2 ? SERVER_CPU : undefined)],
      pinning: bench.pinning,
      daemonDir: o.daemonDir === REPO ? '.' : o.daemonDir,
      daemonCommit: gitDescribe(o.daemonDir),
      daemonExtraArgs: [...Object.entries(o.daemonEnv).map(([k, v]) => `env ${k}=${v}`), ...o.daemonNodeArgs.map((a) => `node ${a}`), ...o.daemonArgs],
    },
    durabilityModes: modes,
    // Targets are judged on the daemon's default mode, or on the first mode run when it was left out.
    defaultMode: bench.defaultMode,
    daemonDefaultMode: durability.defaultMode,
    settings: { ...bench.plan, upstreamLatencyMs: UPSTREAM_LATENCY_MS, bodyBytes: BODY_BYTES, maxOtherCpuPct: o.maxOtherCpu, retries: o.retries },
    runs: bench.runs,
    warmups: bench.warmups,
    failures: bench.failures,
  };
  log(`sqs-accelerator bench (${o.quick ? 'quick' : 'full'}): daemon ${report.machine.daemonCommit}, durability modes: ${modes.join(', ')} (default ${durability.defaultMode}); load average ${report.machine.loadAvgStart.join(' ')}`);
  try {
    await bench.start();
    if (want('floor')) {
      await bench.floor('bare');
      await bench.floor('koa-app');
    }
    if (want('sdk')) await bench.sdk();
    if (want('sqsapi')) await sqsApiPhase(bench);
    if (want('daemon')) for (const m of modes) await bench.daemon(m);
    if (o.only?.has('tuned') || (want('tuned') && !o.quick)) await bench.tuned(bench.defaultMode, 256);
    if (want('backlog')) for (const m of modes) await bench.backlog(m);
    if (want('backlog') || o.only?.has('backlog-unit')) await bench.backlog(unitDurability(o.daemonDir, durability.defaultMode), true);
    if (want('profile') && o.profile) report.profiles = await bench.profiles(report.defaultMode);
    if (o.only?.has('heap')) report.heap = await bench.heap(report.defaultMode);
  } catch (err) {
    bench.failures.push(`benchmark aborted: ${(err as Error).stack ?? String(err)}`);
    log(`ABORTED: ${(err as Error).stack ?? String(err)}`);
  } finally {
    await bench.stop();
  }
  report.machine.loadAvgEnd = loadavg().map((x) => Math.round(x * 100) / 100);
  report.machine.calibrationMs?.push(calibrate(availableParallelism() >= 2 ? SERVER_CPU : undefined));
  report.durationMs = Date.now() - started;
  const stamp = report.startedAt.replace(/[:.]/g, '-').slice(0, 19);
  const base = join(o.outDir, `${stamp}-${o.quick ? 'quick' : 'full'}`);
  const svg = latencyChart(report);
  if (svg) writeFileSync(join(o.outDir, chartFileName(report)), svg);
  const md = renderMarkdown(report, svg !== undefined);
  writeFileSync(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(`${base}.md`, md);
  process.stdout.write(`${md}\n`);
  log(`wrote ${base}.md and ${base}.json${svg ? ` and ${join(o.outDir, chartFileName(report))}` : ''} in ${(report.durationMs / 1000).toFixed(0)} s`);
  if (bench.failures.length > 0) {
    process.stderr.write(`\n${'!'.repeat(72)}\nBENCHMARK FAILED:\n${bench.failures.map((f) => `  - ${f}`).join('\n')}\n${'!'.repeat(72)}\n`);
    process.exitCode = 1;
  }
}

// Exit explicitly: a forgotten timer must not keep the bench (and the exit hook that kills
// its children) waiting.
main().then(
  () => process.exit(),
  (err: unknown) => {
    process.stderr.write(`bench: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
