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
 * longest (of the 200 longest of the daemon's life), each with its start in ms from the run's start.
 * `npm run bench -- --turn-probe` does the same for every daemon run, in its log and report.
 */
import { readFileSync } from 'node:fs';
import { inProbe, type ProbeFile, shareOfLate, turnsIn } from './lib/turns-summary.js';

interface BenchRun {
  id: string;
  result?: { startWallMs?: number; elapsedMs?: number };
}

const [probeFile, benchFile, idPart = 'midbatch', count = '12'] = process.argv.slice(2);
if (!probeFile || !benchFile) {
  process.stderr.write('usage: node dist-bench/bench/turns.js <probe.json> <bench-result.json> [run-id-part] [count]\n');
  process.exit(2);
}
const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as ProbeFile;
const runs = (JSON.parse(readFileSync(benchFile, 'utf8')) as { runs: BenchRun[] }).runs;
const run = runs.find((r) => r.id.includes(idPart) && r.result?.startWallMs !== undefined);
if (!run?.result?.startWallMs) {
  process.stderr.write(`no run whose id contains "${idPart}" with a start time in ${benchFile}\n`);
  process.exit(2);
}
const start = run.result.startWallMs;
const from = start - probe.t0Epoch;
if (!inProbe(probe, start)) {
  process.stderr.write(`run ${run.id} is not inside the probe's life (starts ${from.toFixed(0)} ms after the probe, which ran ${probe.wallMs.toFixed(0)} ms): another daemon's probe?\n`);
  process.exit(2);
}
const t = turnsIn(probe, start, run.result.elapsedMs ?? 0);
const pct = (x: number): string => shareOfLate(t, x);
process.stdout.write(
  `${run.id}: ${t.count} turns longer than ${t.minGapMs} ms in ${((run.result.elapsedMs ?? 0) / 1000).toFixed(1)} s, ${t.lateMs.toFixed(0)} ms in all: ` +
    `waiting for a CPU ${t.waitingMs.toFixed(0)} ms (${pct(t.waitingMs)}), in GC ${t.gcMs.toFixed(0)} ms (${pct(t.gcMs)}), ` +
    `the rest (running, or asleep) ${(t.lateMs - t.waitingMs - t.gcMs).toFixed(0)} ms; the longest own part of one turn ${(t.longestOwnMs ?? 0).toFixed(1)} ms\n`,
);
process.stdout.write(`daemon threads' CPU over its life, ms: ${Object.entries(probe.threadCpuMs).map(([k, v]) => `${k} ${v}`).join(', ')}\n`);
const to = from + (run.result.elapsedMs ?? 0);
for (const g of probe.longest.filter((x) => x.at >= from && x.at <= to).slice(0, Number(count))) {
  process.stdout.write(`  +${(g.at - from).toFixed(0).padStart(5)} ms  turn ${g.gapMs.toFixed(1).padStart(5)} ms  waiting ${g.waitMs.toFixed(1).padStart(5)}  gc ${g.gcMs.toFixed(1).padStart(4)}${g.gcKinds ? ` (${g.gcKinds})` : ''}\n`);
}
