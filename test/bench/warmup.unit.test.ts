/** bench/lib/warmup.ts: the open-loop warm-up goes on until two chunks cost the same. */
import { describeWarmup, warmUntilSteady } from '../../bench/lib/warmup.js';

const chunks = (list: number[]): (() => Promise<{ cpuUsPerReq: number; p99Ms: number }>) => {
  let i = 0;
  return async () => ({ cpuUsPerReq: list[Math.min(i++, list.length - 1)] as number, p99Ms: 1 });
};

test('stops at the first chunk within 10 % of the one before', async () => {
  const r = await warmUntilSteady({ chunk: chunks([300, 250, 190, 160, 170, 100]), maxChunks: 8 });
  expect(r.chunks.map((c) => c.cpuUsPerReq)).toEqual([300, 250, 190, 160, 170]);
  expect(r.steady).toBe(true);
  expect(describeWarmup(r)).toContain('steady after 5 chunks');
});

test('gives up at maxChunks and says so', async () => {
  const r = await warmUntilSteady({ chunk: chunks([400, 300, 200, 100, 50]), maxChunks: 4 });
  expect(r.chunks).toHaveLength(4);
  expect(r.steady).toBe(false);
  expect(describeWarmup(r)).toContain('NOT steady');
});

test('runs at least minChunks, even when the first two agree', async () => {
  const r = await warmUntilSteady({ chunk: chunks([200, 200, 150, 150]), minChunks: 3, maxChunks: 8 });
  expect(r.chunks.map((c) => c.cpuUsPerReq)).toEqual([200, 200, 150, 150]);
});
