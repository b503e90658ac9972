/**
 * A .cpuprofile's busy time by stage and top functions inside a window of seconds after the
 * profile started (bench/abuse.ts --profile prints each phase's window):
 *
 *   node dist-bench/bench/profile-window.js <file.cpuprofile> --from S --to S [top]
 */
import { readFileSync } from 'node:fs';
import { type CpuProfile, summarise } from './lib/profile.js';
import { takeNumber } from './lib/args.js';

const args = process.argv.slice(2);
const opt = (name: string): number | undefined => takeNumber(args, name);
const from = opt('--from') ?? 0;
const to = opt('--to') ?? Infinity;
const [file, top] = args;
if (!file) {
  process.stderr.write('usage: node dist-bench/bench/profile-window.js <file.cpuprofile> --from S --to S [top]\n');
  process.exit(2);
}
const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
const s = summarise(p, Number(top ?? 25), [p.startTime + from * 1e6, Math.min(p.endTime, p.startTime + to * 1e6)]);
process.stdout.write(`window ${s.windowed ? '' : '(whole profile) '}wall ${s.wallMs.toFixed(0)} ms, busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms\n`);
for (const st of s.stages ?? []) process.stdout.write(`  ${st.pct.toFixed(1).padStart(5)} %  ${st.stage}\n`);
process.stdout.write('top self:\n');
for (const r of s.topSelf) process.stdout.write(`  ${JSON.stringify(r)}\n`);
process.stdout.write('top total:\n');
for (const r of s.topTotal) process.stdout.write(`  ${JSON.stringify(r)}\n`);
