/**
 * The daemon's late event-loop turns in one bench run, from bench/lib/turn-probe.ts's file: how
 * long each was, how much of it the main thread waited, runnable, for a CPU (the machine's
 * other processes, or the daemon's own V8 threads, had the cores), and which garbage collections
 * fell in it.
 *
 *   node dist-bench/bench/turns.js <probe.json> <bench-result.json> [run-id-part] [count]
 *
 * run-id-part picks the run (default `midbatch`); its window is the run's startWallMs plus its
 * elapsed time. Prints the totals over the run's turns longer than the probe's minimum, then the
 * longest, each with its start in ms from the run's start. The probe keeps the 200 longest gaps
 * of the daemon's life: a run's share of them is what it prints.
 */
import { readFileSync } from 'node:fs';

interface ProbeGap {
  at: number;
  gapMs: number;
  cpuMs: number;
  waitMs: number;
  gcMs: number;
  gcKinds: string;
}
interface Probe {
  minGapMs: number;
  t0Epoch: number;
  wallMs: number;
  threadCpuMs: Record<string, number>;
  longest: ProbeGap[];
}
interface BenchRun {
  id: string;
  result?: { startWallMs?: number; elapsedMs?: number };
}

const [probeFile, benchFile, idPart = 'midbatch', count = '12'] = process.argv.slice(2);
if (!probeFile || !benchFile) {
  process.stderr.write('usage: node dist-bench/bench/turns.js <probe.json> <bench-result.json> [run-id-part] [count]\n');
  process.exit(2);
}
const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as Probe;
const runs = (JSON.parse(readFileSync(benchFile, 'utf8')) as { runs: BenchRun[] }).runs;
const run = runs.find((r) => r.id.includes(idPart) && r.result?.startWallMs !== undefined);
if (!run?.result?.startWallMs) {
  process.stderr.write(`no run whose id contains "${idPart}" with a start time in ${benchFile}\n`);
  process.exit(2);
}
const from = run.result.startWallMs - probe.t0Epoch;
const to = from + (run.result.elapsedMs ?? 0);
if (from < 0 || from > probe.wallMs) {
  process.stderr.write(`run ${run.id} is not inside the probe's life (starts ${from.toFixed(0)} ms after the probe, which ran ${probe.wallMs.toFixed(0)} ms): another daemon's probe?\n`);
  process.exit(2);
}
const gaps = probe.longest.filter((g) => g.at >= from && g.at <= to);
const sum = (f: (g: ProbeGap) => number): number => gaps.reduce((s, g) => s + f(g), 0);
const total = sum((g) => g.gapMs);
const pct = (x: number): string => (total > 0 ? `${((100 * x) / total).toFixed(0)} %` : '–');
process.stdout.write(
  `${run.id}: ${gaps.length} turns longer than ${probe.minGapMs} ms in ${((to - from) / 1000).toFixed(1)} s, ${total.toFixed(0)} ms in all: ` +
    `waiting for a CPU ${sum((g) => g.waitMs).toFixed(0)} ms (${pct(sum((g) => g.waitMs))}), in GC ${sum((g) => g.gcMs).toFixed(0)} ms (${pct(sum((g) => g.gcMs))}), ` +
    `the rest (running, or asleep) ${(total - sum((g) => g.waitMs) - sum((g) => g.gcMs)).toFixed(0)} ms\n`,
);
process.stdout.write(`daemon threads' CPU over its life, ms: ${Object.entries(probe.threadCpuMs).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
for (const g of gaps.slice(0, Number(count))) {
  process.stdout.write(`  +${(g.at - from).toFixed(0).padStart(5)} ms  turn ${g.gapMs.toFixed(1).padStart(5)} ms  waiting ${g.waitMs.toFixed(1).padStart(5)}  gc ${g.gcMs.toFixed(1).padStart(4)}${g.gcKinds ? ` (${g.gcKinds})` : ''}\n`);
}
