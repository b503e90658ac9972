/** Backoff for retryable failures: exponential with "equal jitter" (half fixed, half random). */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter. Milliseconds. */
  baseMs: number;
  /** Ceiling for any one delay. Milliseconds. */
  maxMs: number;
}

/** Delay before retry number `attempt` (1 = first retry). */
export function backoffMs(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(exp / 2 + random() * (exp / 2));
}
