/**
 * The worker side's benchmark (issue 13): messages per second from a queue of the fake SQS
 * (20 ms per call) to a local app answering in 1 ms, and the CPU the consumer spends per message,
 * for the daemon (`--worker`) and for a hand-written `sqs-consumer` + AWS SDK consumer, in the same
 * sitting. Every process is started and stopped here by PID; the fake and the app share one core,
 * the consumer under test gets the other.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/worker.js [--quick] [--messages N]
 *
 * Each contender drains a pre-filled queue of N messages (default 30,000; --quick 5,000). Timing and
 * CPU run from the first message at the app to the last delete; a run is correct only when the app
 * got every message and the queue is empty afterwards.
 */
import { SendMessageBatchCommand, SQSClient, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Child, cpuMs } from './lib/proc.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
const REPO = resolve(HERE, '../..');
const quick = process.argv.includes('--quick');
const mi = process.argv.indexOf('--messages');
const N = mi > 0 ? Number(process.argv[mi + 1]) : quick ? 5000 : 30_000;
const cpus = availableParallelism();
const [serverCpu, otherCpu] = cpus >= 2 ? [1, 0] : [undefined, undefined];
const tmp = mkdtempSync(join(tmpdir(), 'sqs-accelerator-worker-bench-'));
const log = (s: string) => process.stderr.write(`${s}\n`);
// The daemon's worker signs with the default provider chain: the environment, here (the fake accepts any key).
process.env.AWS_ACCESS_KEY_ID = 'AKIDBENCH';
process.env.AWS_SECRET_ACCESS_KEY = 'benchsecret';

const fake = new Child({ name: 'fake-sqs', args: [join(HERE, 'fake-server.js'), '20'], cpu: otherCpu, ipc: true, logFile: join(tmp, 'fake.log') });
const endpoint = String((await fake.nextMessage(15_000)).endpoint);
const app = new Child({ name: 'app', args: [join(HERE, 'servers', 'worker-app.js'), '1'], cpu: otherCpu, ipc: true, logFile: join(tmp, 'app.log') });
const appUrl = String((await app.nextMessage(15_000)).url);
const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'benchsecret' } });
log(`fake SQS ${endpoint} (20 ms), app ${appUrl} (1 ms); ${N} messages per run; load average ${loadavg()[0]?.toFixed(2)}`);

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

interface Result { name: string; messages: number; seconds: number; perSecond: number; cpuMs: number; cpuUsPerMessage: number; perCpuSecond: number; appGot: number; left: number }

async function run(name: string, start: (queueUrl: string, queue: string) => Child): Promise<Result> {
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
  const c0 = cpuMs(child.pid);
  const deadline = Date.now() + 300_000;
  let got = 0;
  while (Date.now() < deadline) {
    got = await app.call<number>('count');
    if (got >= N && (await remaining(url)) === 0) break;
    await sleep(got >= N ? 20 : 50);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMs(child.pid) - c0;
  const left = await remaining(url);
  await child.stop(15_000);
  const r: Result = { name, messages: N, seconds, perSecond: N / seconds, cpuMs: cpu, cpuUsPerMessage: (cpu * 1000) / N, perCpuSecond: N / (cpu / 1000), appGot: got, left };
  log(`${name}: ${r.perSecond.toFixed(0)} msg/s, ${r.cpuUsPerMessage.toFixed(1)} µs CPU/msg, ${r.perCpuSecond.toFixed(0)} msg per CPU-second; app got ${got}, ${left} left in the queue`);
  return r;
}

const results: Result[] = [];
try {
  results.push(await run('daemon', (_url, queue) => new Child({
    name: 'daemon',
    args: [join(REPO, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', endpoint, '--durability', 'memory', '--log-level', 'warn', '--worker', `${queue}=${appUrl}`],
    cpu: serverCpu,
    ipc: false,
    logFile: join(tmp, 'daemon.log'),
    cwd: REPO,
  })));
  results.push(await run('sqs-consumer', (url) => new Child({ name: 'sqs-consumer', args: [join(HERE, 'servers', 'sqs-consumer.js'), endpoint, url, appUrl, '5'], cpu: serverCpu, ipc: false, logFile: join(tmp, 'consumer.log') })));
} finally {
  sqs.destroy();
  await app.stop(5000);
  await fake.stop(5000);
}
const [d, c] = results as [Result, Result];
const ok = results.every((r) => r.appGot >= N && r.left === 0);
const report = { at: new Date().toISOString(), quick, messages: N, loadAverage: loadavg(), results, ratioPerCpuSecond: d.perCpuSecond / c.perCpuSecond, correct: ok };
const out = join(tmp, 'worker-bench.json');
writeFileSync(out, JSON.stringify(report, null, 2));
process.stdout.write(`| consumer | msg/s | CPU µs/msg | msg per CPU-second |\n|---|---|---|---|\n${results.map((r) => `| ${r.name} | ${r.perSecond.toFixed(0)} | ${r.cpuUsPerMessage.toFixed(1)} | ${r.perCpuSecond.toFixed(0)} |`).join('\n')}\n\ndaemon / sqs-consumer, messages per CPU-second: ${report.ratioPerCpuSecond.toFixed(2)}x; results in ${out}\n`);
process.exit(ok ? 0 : 1);
