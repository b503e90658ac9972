/**
 * Key numbers of several saved runs side by side (sittings, or commits):
 *
 *   node dist-bench/bench/compare.js bench/results/<a>.json bench/results/<b>.json ...
 *
 * Prints a markdown table: one column per run, one row per headline figure and target.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { targets } from './lib/report.js';
import { issue14Goals } from './lib/report14.js';
import type { BenchReport, RunRecord } from './lib/types.js';

const files = process.argv.slice(2);
if (files.length === 0) {
  process.stderr.write('usage: node dist-bench/bench/compare.js <results.json> ...\n');
  process.exit(2);
}
const reports = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as BenchReport);

const f1 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : x.toFixed(x < 10 ? 2 : 1));
const f0 = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : Math.round(x).toLocaleString('en-US'));

type Row = [string, (r: BenchReport) => string];
const run = (rep: BenchReport, id: string): RunRecord | undefined => rep.runs.find((r) => r.id === id.replace('<mode>', rep.defaultMode));
const rows: Row[] = [
  ['daemon commit', (r) => r.machine.daemonCommit.split(' ')[0] ?? '?'],
  ['machine speed check, ms (start / end; lower is faster)', (r) => r.machine.calibrationMs?.map((x) => f0(x)).join(' / ') ?? '–'],
  ['runs repeated for noise / still noisy', (r) => `${r.runs.filter((x) => (x.attempts ?? 1) > 1).length} / ${r.runs.filter((x) => x.otherCpuPct > Number(r.settings.maxOtherCpuPct)).length}`],
  ['SDK app, 10 concurrent: p50 / p99 ms', (r) => `${f1(run(r, 'sdk-closed-10')?.result?.latency.p50)} / ${f1(run(r, 'sdk-closed-10')?.result?.latency.p99)}`],
  ['SDK app, 10 concurrent: CPU µs/msg', (r) => f0(run(r, 'sdk-closed-10')?.cpuUsPerMsg)],
  ['bare node:http / Koa, 2,000/s: CPU µs/request', (r) => `${f0(run(r, 'bare-open-2000')?.cpuUsPerMsg)} / ${f0(run(r, 'koa-app-open-2000')?.cpuUsPerMsg)}`],
  ['bare node:http / Koa, saturated: CPU µs/request', (r) => `${f0(run(r, 'bare-closed-64')?.cpuUsPerMsg)} / ${f0(run(r, 'koa-app-closed-64')?.cpuUsPerMsg)}`],
  ['daemon, 2,000/s: ack p50 / p99 / p99.9 ms', (r) => ['p50', 'p99', 'p999'].map((k) => f1(run(r, 'daemon-<mode>-open-2000')?.result?.latency[k as 'p50'])).join(' / ')],
  ['daemon, 5,000/s: ack p50 / p99 / p99.9 ms', (r) => ['p50', 'p99', 'p999'].map((k) => f1(run(r, 'daemon-<mode>-open-5000')?.result?.latency[k as 'p50'])).join(' / ')],
  ['daemon, 2,000/s: CPU µs/msg', (r) => f0(run(r, 'daemon-<mode>-open-2000')?.cpuUsPerMsg)],
  ['daemon, sustained single: delivered/s', (r) => f0(run(r, 'daemon-<mode>-sustained')?.deliveredPerSec)],
  ['daemon, sustained single: CPU µs/msg', (r) => f0(run(r, 'daemon-<mode>-sustained')?.cpuUsPerMsg)],
  ['daemon, batch ingest: delivered/s', (r) => f0(run(r, 'daemon-<mode>-batch')?.deliveredPerSec)],
  ['daemon, batch ingest, --max-concurrency 256: delivered/s', (r) => f0(run(r, 'daemon-<mode>-batch-c256')?.deliveredPerSec)],
  ['daemon, backlog: RSS MB with it / peak', (r) => {
    const b = run(r, 'daemon-<mode>-backlog');
    return b?.backlog ? `${f0(b.backlog.rssBytes / 1048576)} / ${f0(b.rssPeakBytes / 1048576)} (${f0(b.backlog.messages)} msgs)` : '–';
  }],
  ['daemon, backlog: drain msg/s', (r) => f0(run(r, 'daemon-<mode>-backlog')?.backlog?.drainPerSec)],
];

const head = ['', ...files.map((f, i) => `${basename(f, '.json')}${reports[i]?.defaultMode ? ` (${reports[i]?.defaultMode})` : ''}`)];
const out = [`| ${head.join(' | ')} |`, `|---|${files.map(() => '---:').join('|')}|`];
for (const [name, fn] of rows) out.push(`| ${name} | ${reports.map(fn).join(' | ')} |`);
const names = [...new Set(reports.flatMap((r) => targets(r).map((t) => t.name)))];
for (const name of names) {
  out.push(`| target: ${name} | ${reports.map((r) => {
    const t = targets(r).find((x) => x.name === name);
    return t ? (t.met === undefined ? 'n/a' : t.met ? 'met' : '**missed**') : '–';
  }).join(' | ')} |`);
}
// Issue 14's goals: the absolute verdict, then the one against that sitting's bare floor.
const verdict = (m: boolean | undefined): string => (m === undefined ? 'n/a' : m ? 'met' : '**missed**');
const goals14 = reports.map((r) => issue14Goals(r));
for (const name of [...new Set(goals14.flat().map((g) => g.goal))]) {
  out.push(`| issue 14: ${name} (absolute / against the floor) | ${goals14.map((gs) => {
    const g = gs.find((x) => x.goal === name);
    return g ? `${verdict(g.met)} / ${g.scaled ? verdict(g.scaled.met) : '–'}` : '–';
  }).join(' | ')} |`);
}
process.stdout.write(`${out.join('\n')}\n`);
