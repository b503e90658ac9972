import { AdaptiveLimit } from '../../src/worker/limiter.js';
import { errorVisibilitySeconds } from '../../src/worker/consumer.js';
import { headerValue } from '../../src/worker/sqsd-head.js';

describe('AdaptiveLimit', () => {
  it('halves on a busy answer, pauses for Retry-After, and grows back by one per quick answer', () => {
    let now = 1_000_000;
    const l = new AdaptiveLimit(50, () => now);
    l.busy(2000);
    expect(l.current).toBe(25);
    expect(l.paused).toBe(true);
    now += 2001;
    expect(l.paused).toBe(false);
    l.busy(undefined);
    expect(l.current).toBe(12);
    for (let i = 0; i < 5; i++) l.answered(5);
    expect(l.current).toBe(17);
    for (let i = 0; i < 100; i++) l.answered(5);
    expect(l.current).toBe(50);
    for (let i = 0; i < 10; i++) l.busy(undefined);
    expect(l.current).toBe(1);
  });

  it('shrinks when answers get far slower than the fastest seen lately', () => {
    let now = 0;
    const l = new AdaptiveLimit(40, () => now);
    for (let i = 0; i < 20; i++) l.answered(20);
    expect(l.current).toBe(40);
    for (let i = 0; i < 60; i++) {
      now += 100;
      l.answered(2000);
    }
    expect(l.current).toBeLessThan(40);
    // A minute later the slower app is the new normal: the limit grows again.
    now += 61_000;
    const low = l.current;
    for (let i = 0; i < 200; i++) {
      now += 10;
      l.answered(2000);
    }
    expect(l.current).toBeGreaterThan(low);
  });
});

describe('errorVisibilitySeconds', () => {
  it('doubles per receive from the base, capped at 15 minutes or the base if larger', () => {
    expect([1, 2, 3, 4, 10].map((n) => errorVisibilitySeconds(2, n))).toEqual([2, 4, 8, 16, 900]);
    expect(errorVisibilitySeconds(0, 5)).toBe(0);
    expect(errorVisibilitySeconds(3600, 3)).toBe(3600);
    expect(errorVisibilitySeconds(2, 1000)).toBe(900);
  });
});

describe('headerValue', () => {
  it('keeps what HTTP allows and percent-encodes the rest', () => {
    expect(headerValue('plain value; ok=1')).toBe('plain value; ok=1');
    expect(headerValue('a\nb')).toBe('a%0Ab');
    expect(headerValue('✓')).toBe('%E2%9C%93');
  });
});
