/**
 * Bounded work per caller (issue 11): the ack latency of a steady trickle of 200 messages/s
 * while other clients misbehave. Phases, each `--seconds` long (default 20; --quick: 5):
 *   baseline   the trickle alone
 *   passwords  20 clients sending wrong passwords as fast as the daemon answers
 *   batch      one client posting a 10,000-entry batch, again and again
 *   slow       1,000 connections sending their headers one byte every 500 ms
 * Goal: the trickle's p99 stays under 5 ms in each.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/abuse.js [--quick] [--seconds N] [--out DIR] [--profile]
 *
 * --profile: the daemon runs under `node --cpu-prof`; the profile is written to DIR (for
 * bench/stalls.js or a flame graph) and its path printed.
 *
 * The daemon runs with --credentials chain and a --users-file (so wrong passwords cost it an
 * scrypt, or a throttle answer), against the fake SQS at 20 ms latency; the trickle logs in
 * with the right password. Every process is started here and stopped by PID.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { hashPassword } from '../src/http/users.js';
import { Child, memory } from './lib/proc.js';
import { type Percentiles, percentiles } from './lib/stats.js';

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

interface Phase {
  name: string;
  trickle: Percentiles;
  trickleStatuses: Record<string, number>;
  abuser: Record<string, number>;
  daemonRssMb: number;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-abuse-'));
  const users = join(tmp, 'users');
  writeFileSync(users, `${hashPassword('app', PASSWORD)}\n`, { mode: 0o600 });
  const fake = new Child({ name: 'fake-sqs', args: [join(HERE, 'fake-server.js'), '20'], ipc: true, logFile: join(tmp, 'fake-sqs.log') });
  const endpoint = String((await fake.nextMessage(15_000)).endpoint);
  await fake.call('createQueue', { name: 'bench-trickle' });
  await fake.call('createQueue', { name: 'bench-abuse' });
  let onUrl: (u: string) => void = () => {};
  const url = new Promise<string>((r) => (onUrl = r));
  process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCHABUSE';
  process.env.AWS_SECRET_ACCESS_KEY = 'bench-abuse-secret';
  const daemon = new Child({
    name: 'daemon',
    args: [join(REPO, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', endpoint, '--credentials', 'chain', '--users-file', users, '--durability', 'write', '--spool-dir', join(tmp, 'spool')],
    ipc: false,
    ...(profile ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${outDir}`] } : {}),
    logFile: join(tmp, 'daemon.log'),
    onLine: (line) => {
      if (line.includes('listening')) onUrl((JSON.parse(line) as { url: string }).url);
    },
  });
  const daemonStarted = performance.now();
  const origin = await Promise.race([url, new Promise<string>((_, rej) => setTimeout(() => rej(new Error('daemon did not start')), 20_000))]);
  const abuser = new Child({ name: 'abuser', args: [join(HERE, 'abuser.js')], ipc: true, logFile: join(tmp, 'abuser.log') });
  await abuser.nextMessage(15_000);

  const pool = new Pool(origin, { connections: 16, pipelining: 1 });
  const auth = `Basic ${Buffer.from(`app:${PASSWORD}`).toString('base64')}`;
  const send = async (): Promise<number> => {
    const res = await pool.request({ path: '/queues/bench-trickle', method: 'POST', headers: { authorization: auth, 'content-type': 'text/plain' }, body: 'trickle' });
    await res.body.dump();
    return res.statusCode;
  };
  // Warm up: the queue resolved, the password verified once, connections open.
  for (let i = 0; i < 50; i++) await send();

  const trickle = async (ms: number): Promise<{ latency: number[]; statuses: Record<string, number> }> => {
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

  const phases: Phase[] = [];
  for (const name of ['baseline', 'passwords', 'batch', 'slow']) {
    if (name !== 'baseline') await abuser.call('start', { kind: name, origin, auth: `app:${PASSWORD}` });
    await new Promise((r) => setTimeout(r, 500)); // let the abuse get going
    const from = (performance.now() - daemonStarted) / 1000;
    const t = await trickle(seconds * 1000);
    if (profile) process.stdout.write(`${name}: ${from.toFixed(1)}–${((performance.now() - daemonStarted) / 1000).toFixed(1)} s after the daemon started\n`);
    const rss = memory(daemon.pid).rssBytes / 1_048_576;
    const abuse = name === 'baseline' ? {} : await abuser.call<Record<string, number>>('stop', {}, 60_000);
    phases.push({ name, trickle: percentiles(t.latency), trickleStatuses: t.statuses, abuser: abuse, daemonRssMb: Math.round(rss) });
    const p = phases[phases.length - 1] as Phase;
    process.stdout.write(`${name.padEnd(10)} trickle p50 ${p.trickle.p50.toFixed(2)} ms  p99 ${p.trickle.p99.toFixed(2)} ms  max ${p.trickle.max.toFixed(1)} ms  ${JSON.stringify(p.trickleStatuses)}  abuser ${JSON.stringify(abuse)}  daemon RSS ${p.daemonRssMb} MB\n`);
    await new Promise((r) => setTimeout(r, 1000));
  }
  await pool.destroy();
  await abuser.stop(5000);
  await daemon.stop(20_000);
  await fake.stop(5000);
  rmSync(tmp, { recursive: true, force: true });

  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}-abuse${quick ? '-quick' : ''}.json`);
  writeFileSync(file, `${JSON.stringify({ command: `node dist-bench/bench/abuse.js ${argv.join(' ')}`.trim(), rate: RATE, seconds, loadavg: loadavg(), goalP99Ms: 5, phases }, null, 2)}\n`);
  process.stdout.write(`written ${file}\n`);
}

await main();
