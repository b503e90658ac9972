/**
 * bench/lib/turn-probe.ts: the preload that notes the daemon's late event-loop turns (issues 11
 * and 14, docs/benchmarks.md "Eleventh sitting"). A child blocks its loop once for 40 ms; the
 * probe must keep that turn; without TURN_PROBE_OUT it must not get in the way.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const probe = join(process.cwd(), 'bench/lib/turn-probe.ts');
const script = 'setTimeout(() => { const s = Date.now(); while (Date.now() - s < 40); }, 50); setTimeout(() => {}, 150);';
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqsa-turn-probe-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function run(env: Record<string, string>): void {
  const r = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings', '--import', probe, '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 10_000 });
  expect(r.status).toBe(0);
}

test('keeps a 40 ms turn with its start, length and split, and the threads CPU', () => {
  const out = join(dir, 'probe.json');
  run({ TURN_PROBE_OUT: out });
  const p = JSON.parse(readFileSync(out, 'utf8')) as { minGapMs: number; t0Epoch: number; ticks: number; longest: Array<{ at: number; gapMs: number; waitMs: number; cpuMs: number }>; threadCpuMs: Record<string, number> };
  expect(p.minGapMs).toBe(4);
  expect(p.t0Epoch).toBeGreaterThan(Date.now() - 60_000);
  expect(p.ticks).toBeGreaterThan(20);
  const [longest] = p.longest;
  expect(longest?.gapMs).toBeGreaterThanOrEqual(39);
  expect(longest?.gapMs).toBeLessThan(1000);
  // It began at the firing before the blocking timer (due at 50 ms after start).
  expect(longest?.at).toBeGreaterThan(30);
  expect(longest?.at).toBeLessThan(60 + 1000);
  expect(longest?.waitMs).toBeGreaterThanOrEqual(0);
  expect(longest?.waitMs).toBeLessThanOrEqual(longest?.gapMs ?? 0);
  expect(Object.keys(p.threadCpuMs).some((k) => k.endsWith('(main)'))).toBe(true);
});

test('is harmless when not asked: without TURN_PROBE_OUT the child runs and exits 0 (no schedstat opened, no timer)', () => {
  run({ TURN_PROBE_OUT: '' });
});
