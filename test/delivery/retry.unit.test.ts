import { backoffMs } from '../../src/delivery/retry.js';

const opts = { baseMs: 100, maxMs: 20_000 };

describe('backoffMs: exponential with equal jitter', () => {
  it('doubles per attempt, between half and all of the exponential value', () => {
    for (let attempt = 1; attempt <= 8; attempt++) {
      const exp = Math.min(opts.maxMs, 100 * 2 ** (attempt - 1));
      expect(backoffMs(attempt, opts, () => 0)).toBe(exp / 2);
      expect(backoffMs(attempt, opts, () => 0.999999)).toBe(Math.round(exp / 2 + 0.999999 * (exp / 2)));
      expect(backoffMs(attempt, opts, () => 0.999999)).toBeLessThanOrEqual(exp);
    }
    expect(backoffMs(1, opts, () => 0.5)).toBe(75);
    expect(backoffMs(3, opts, () => 0.5)).toBe(300);
  });

  it('never exceeds maxMs and never goes below maxMs / 2 once capped, even at absurd attempt counts', () => {
    for (const attempt of [9, 10, 30, 31, 100, 1_000_000, Number.MAX_SAFE_INTEGER]) {
      const lo = backoffMs(attempt, opts, () => 0);
      const hi = backoffMs(attempt, opts, () => 0.9999999);
      expect(lo).toBe(10_000);
      expect(hi).toBeLessThanOrEqual(20_000);
      expect(hi).toBeGreaterThanOrEqual(19_999);
      expect(Number.isFinite(hi)).toBe(true);
    }
  });

  it('treats attempt 0 or negative as the first retry', () => {
    expect(backoffMs(0, opts, () => 0)).toBe(50);
    expect(backoffMs(-3, opts, () => 1)).toBe(100);
  });

  it('is random within bounds with the default random source', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) {
      const d = backoffMs(4, opts);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
      seen.add(d);
    }
    expect(seen.size).toBeGreaterThan(20); // jitter, not a constant
  });

  it('respects a small cap below the base', () => {
    expect(backoffMs(1, { baseMs: 100, maxMs: 40 }, () => 1)).toBe(40);
    expect(backoffMs(5, { baseMs: 5, maxMs: 50 }, () => 0)).toBe(25);
  });
});
