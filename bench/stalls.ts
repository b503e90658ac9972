/**
 * Finds the longest uninterrupted stretches of a .cpuprofile during which a given function was
 * on the stack: for a synchronous function, how long one call blocked the event loop.
 *
 *   node dist-bench/bench/stalls.js <file.cpuprofile> <functionName> [count]
 *
 * Prints each stretch with its length, when it began (seconds into the profile) and the stack
 * of its first sample. Used to find what blocked the daemon's event loop (docs/benchmarks.md).
 */
import { readFileSync } from 'node:fs';
import type { CpuProfile, CpuProfileNode } from './lib/profile.js';

const [file, fn, count] = process.argv.slice(2);
if (!file || !fn) {
  process.stderr.write('usage: node dist-bench/bench/stalls.js <file.cpuprofile> <functionName> [count]\n');
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

interface Stretch {
  start: number;
  end: number;
  first: number;
}
const stretches: Stretch[] = [];
let cur: Stretch | undefined;
let t = p.startTime;
for (let i = 0; i < p.samples.length; i++) {
  t += p.timeDeltas[i] ?? 0;
  const id = p.samples[i] as number;
  if (!frames(id).some((f) => f.functionName === fn)) {
    if (cur) stretches.push(cur);
    cur = undefined;
    continue;
  }
  cur ??= { start: t, end: t, first: id };
  cur.end = t + Math.max(0, p.timeDeltas[i + 1] ?? 0);
}
if (cur) stretches.push(cur);
stretches.sort((a, b) => b.end - b.start - (a.end - a.start));
for (const s of stretches.slice(0, Number(count ?? 10))) {
  const stack = frames(s.first)
    .map((f) => `${f.functionName || '(anonymous)'}@${f.url.split('/').slice(-1)[0] ?? ''}`)
    .join(' > ');
  process.stdout.write(`${((s.end - s.start) / 1000).toFixed(1).padStart(8)} ms at ${((s.start - p.startTime) / 1e6).toFixed(1)} s: ${stack}\n`);
}
