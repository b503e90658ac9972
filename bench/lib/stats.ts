/** Latency percentiles by nearest rank, in ms. */
export interface Percentiles {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  /** p99.99 (absent in results written before it was added). */
  p9999: number;
  max: number;
}

export function percentiles(values: ArrayLike<number>): Percentiles {
  const v: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const x = values[i] as number;
    if (!Number.isNaN(x)) v.push(x);
  }
  v.sort((a, b) => a - b);
  const n = v.length;
  const at = (p: number): number => (n === 0 ? NaN : (v[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] as number));
  let sum = 0;
  for (const x of v) sum += x;
  return { count: n, mean: n ? sum / n : NaN, p50: at(0.5), p90: at(0.9), p99: at(0.99), p999: at(0.999), p9999: at(0.9999), max: n ? (v[n - 1] as number) : NaN };
}
