/**
 * Finds the longest uninterrupted stretches of a .cpuprofile during which the event loop was
 * held: by a given function (for a synchronous function, how long one call blocked the loop),
 * or, with --busy, by anything at all (every sample between two idle ones).
 *
 *   node dist-bench/bench/stalls.js <file.cpuprofile> <functionName> [count]
 *   node dist-bench/bench/stalls.js <file.cpuprofile> --busy [count] [--from S] [--to S]
 *
 * Prints each stretch with its length, when it began (seconds into the profile) and the stack
 * of its first sample; with --busy, what the stretch spent its time in (the functions with the
 * most self time, and the daemon's own functions with the most total time). --from/--to keep
 * stretches that begin inside that window (seconds into the profile: bench/abuse.ts --profile
 * prints each phase's). A busy stretch may be several tasks back to back with no idle sample
 * between them (the sampler only sees the stacks): what it measures is how long other callers
 * waited, not necessarily one task. Used to find what blocked the daemon's event loop
 * (docs/benchmarks.md).
 */
import { readFileSync } from 'node:fs';
import type { CpuProfile, CpuProfileNode } from './lib/profile.js';
import { takeNumber } from './lib/args.js';

const args = process.argv.slice(2);
const opt = (name: string): number | undefined => takeNumber(args, name);
const from = opt('--from');
const to = opt('--to');
const busy = args.includes('--busy');
const [file, fn, count] = busy ? [args[0], undefined, args.find((a, i) => i > 0 && a !== '--busy')] : args;
if (!file || (!fn && !busy)) {
  process.stderr.write('usage: node dist-bench/bench/stalls.js <file.cpuprofile> <functionName | --busy> [count] [--from S] [--to S]\n');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const byId = new Map<number, CpuProfileNode>(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const frames = (id: number): CpuProfileNode['callFrame'][] => {
  const out: CpuProfileNode['callFrame'][] = [];
  for (let n = byId.get(id); n; n = byId.get(parent.get(n.id) ?? -1)) out.push(n.callFrame);
  return out.reverse();
};
const short = (f: CpuProfileNode['callFrame']): string => `${f.functionName || '(anonymous)'}@${f.url.split('/').slice(-1)[0] ?? ''}`;
const held = busy ? (id: number): boolean => byId.get(id)?.callFrame.functionName !== '(idle)' : (id: number): boolean => frames(id).some((f) => f.functionName === fn);

interface Stretch {
  start: number;
  end: number;
  first: number;
  /** Sample ids and their durations (µs), for --busy's breakdown. */
  samples: Array<[number, number]>;
}
const stretches: Stretch[] = [];
let cur: Stretch | undefined;
let t = p.startTime;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i] ?? 0;
  const id = p.samples[i] as number;
  if (!held(id)) {
    if (cur) stretches.push(cur);
    cur = undefined;
    continue;
  }
  const dt = Math.max(0, p.timeDeltas[i + 1] ?? 0);
  cur ??= { start: t, end: t, first: id, samples: [] };
  cur.end = t + dt;
  if (busy) cur.samples.push([id, dt]);
}
if (cur) stretches.push(cur);
const inWindow = (s: Stretch): boolean => {
  const at = (s.start - p.startTime) / 1e6;
  return (from === undefined || at >= from) && (to === undefined || at < to);
};
const top = (m: Map<string, number>, n: number): string =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, us]) => `${k} ${(us / 1000).toFixed(1)}`)
    .join(', ');

const sorted = stretches.filter(inWindow).sort((a, b) => b.end - b.start - (a.end - a.start));
for (const s of sorted.slice(0, Number(count ?? 10))) {
  const head = `${((s.end - s.start) / 1000).toFixed(1).padStart(8)} ms at ${((s.start - p.startTime) / 1e6).toFixed(2)} s`;
  if (!busy) {
    process.stdout.write(`${head}: ${frames(s.first).map(short).join(' > ')}\n`);
    continue;
  }
  const self = new Map<string, number>();
  const ours = new Map<string, number>();
  for (const [id, dt] of s.samples) {
    const fs = frames(id);
    const leaf = fs[fs.length - 1];
    if (leaf) self.set(short(leaf), (self.get(short(leaf)) ?? 0) + dt);
    const seen = new Set<string>();
    for (const f of fs) {
      if (!f.url.includes('/dist/src/')) continue;
      const k = short(f);
      if (seen.has(k)) continue;
      seen.add(k);
      ours.set(k, (ours.get(k) ?? 0) + dt);
    }
  }
  process.stdout.write(`${head}\n    self:   ${top(self, 6)}\n    daemon: ${top(ours, 6)}\n`);
}
