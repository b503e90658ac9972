/**
 * The worker daemon's CPU profile by stage of a message's life (issue 13): each busy sample goes
 * to the daemon frame nearest its leaf (so a socket write or JSON.parse counts for the daemon code
 * that called it), then that frame's file and function name the stage. Samples with no daemon
 * frame on their stack are the runtime's own (event loop, timers, stream plumbing).
 */
import type { CpuProfile, CpuProfileNode } from './profile.js';

type Rule = [stage: string, test: (file: string, fn: string) => boolean];

/** First match wins; `file` is the path under dist/src/ or node_modules/. */
const RULES: Rule[] = [
  ['SQS client: request JSON, SigV4, answer parse (sqs/client.js, sign.js, sigv4.js)', (f) => /^(sqs\/(client|sign|errors|credentials|batch-json)\.js|sigv4\.js|undici\/)/.test(f)],
  // Shared by the POSTs to the app and the SQS calls: an answer's parse starts from the socket's data event, with no caller on the stack to tell them apart.
  ['HTTP/1.1 client: socket writes, answer parse (net/http1/, the app POSTs and the SQS calls)', (f) => f.startsWith('net/http1/')],
  ['receive: answer to messages (consume.js), take', (f, fn) => (f === 'sqs/consume.js' && /^(toReceived|receiveMessages)$/.test(fn)) || (f === 'worker/consumer.js' && /^(poll|take|maybePoll|aheadTarget)$/.test(fn))],
  ['delete / visibility batching (settle.js, consume.js)', (f) => f === 'worker/settle.js' || f === 'sqs/consume.js'],
  ['heartbeat (visibility extension)', (f, fn) => f === 'worker/consumer.js' && fn === 'extend'],
  ['POST: sqsd headers and outcome (deliver.js)', (f) => f === 'worker/deliver.js'],
  ['POST: the app client\'s request text (app-client.js)', (f) => f === 'worker/app-client.js'],
  ['metrics (prom-client, metrics.js)', (f) => /^(prom-client\/|metrics\.js)/.test(f)],
  ['worker: dispatch, outcome, events (consumer.js, limiter, reply, payload)', (f) => /^worker\//.test(f) || /^s3\/pointer\.js/.test(f)],
  ['logging (pino)', (f) => /^(pino|sonic-boom|thread-stream)/.test(f)],
];

function daemonFile(url: string): string | undefined {
  const src = url.indexOf('/dist/src/');
  if (src >= 0) return url.slice(src + '/dist/src/'.length);
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  return undefined;
}

export interface StageRow { stage: string; pct: number; usPerMessage: number }

/** Shares of busy time by stage within `window` (CLOCK_MONOTONIC µs), and µs per message for `messages`. */
export function workerStages(profile: CpuProfile, messages: number, window?: [number, number]): { busyMs: number; rows: StageRow[] } {
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const memo = new Map<number, string>();
  const stageOf = (leaf: CpuProfileNode): string => {
    const hit = memo.get(leaf.id);
    if (hit) return hit;
    let stage: string | undefined;
    const fn0 = leaf.callFrame.functionName;
    if (fn0 === '(garbage collector)') stage = 'GC';
    else if (fn0 === '(program)') stage = 'V8/native (program)';
    for (let n: CpuProfileNode | undefined = leaf; !stage && n; n = byId.get(parent.get(n.id) ?? -1)) {
      const file = daemonFile(n.callFrame.url);
      if (file === undefined) continue;
      stage = RULES.find(([, test]) => test(file, n!.callFrame.functionName))?.[0] ?? `other daemon code (${file.split('/').slice(0, 2).join('/')})`;
    }
    stage ??= 'Node runtime alone (event loop, timers, streams)';
    memo.set(leaf.id, stage);
    return stage;
  };
  const us = new Map<string, number>();
  let busy = 0;
  let t = profile.startTime;
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    if (window && (t < window[0] || t > window[1])) continue;
    const dt = Math.max(0, timeDeltas[i + 1] ?? 0);
    const leaf = byId.get(samples[i] as number);
    if (!leaf || leaf.callFrame.functionName === '(idle)') continue;
    busy += dt;
    const s = stageOf(leaf);
    us.set(s, (us.get(s) ?? 0) + dt);
  }
  const rows = [...us.entries()].sort((a, b) => b[1] - a[1]).map(([stage, u]) => ({ stage, pct: (100 * u) / busy, usPerMessage: u / messages }));
  return { busyMs: busy / 1000, rows };
}

// CLI: node dist-bench/bench/lib/worker-stages.js <file.cpuprofile> <messages> [fromMonoUs toMonoUs]
if (process.argv[1]?.endsWith('/lib/worker-stages.js')) {
  const { readFileSync } = await import('node:fs');
  const [file, n, from, to] = process.argv.slice(2);
  if (!file || !n) {
    process.stderr.write('usage: node dist-bench/bench/lib/worker-stages.js <file.cpuprofile> <messages> [fromMonoUs toMonoUs]\n');
    process.exit(2);
  }
  const r = workerStages(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(n), from && to ? [Number(from), Number(to)] : undefined);
  process.stdout.write(`busy ${r.busyMs.toFixed(0)} ms\n${r.rows.map((x) => `${x.pct.toFixed(1).padStart(5)} %  ${x.usPerMessage.toFixed(1).padStart(6)} µs/msg  ${x.stage}`).join('\n')}\n`);
}
