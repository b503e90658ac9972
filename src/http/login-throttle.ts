/**
 * Failed local logins, counted per client so that a flood of wrong passwords is answered 429
 * at the cost of a map lookup instead of an scrypt each. Two counters per failure: one per
 * (client address, user name), so guessing one user's password does not lock out the others,
 * and one per client address, so rotating through made-up names does not escape it. Both
 * buckets count every name alike, known or not: which names exist stays hidden.
 *
 * Fixed windows: the first failure opens a window of `windowMs`; once a bucket holds its
 * limit of failures it refuses until the window ends (that is the Retry-After). A correct
 * password clears its (client, name) bucket. Both maps are bounded (oldest dropped first).
 */
export interface LoginThrottleOptions {
  /** Failures per (client, name) in a window before 429. Default 5. */
  perName: number;
  /** Failures per client address in a window before 429, whatever the names. Default 30. */
  perClient: number;
  /** Window length, ms. Default 60,000. */
  windowMs: number;
  /** Most buckets kept per map. Default 10,000. */
  maxKeys: number;
}

const DEFAULTS: LoginThrottleOptions = { perName: 5, perClient: 30, windowMs: 60_000, maxKeys: 10_000 };

interface Bucket {
  count: number;
  until: number;
}

export class LoginThrottle {
  private readonly opts: LoginThrottleOptions;
  private readonly byName = new Map<string, Bucket>();
  private readonly byClient = new Map<string, Bucket>();

  constructor(options: Partial<LoginThrottleOptions> = {}, private readonly now: () => number = Date.now) {
    this.opts = { ...DEFAULTS, ...options };
  }

  /** Seconds until this client may try this name again; 0: it may now. */
  retryAfterS(client: string, name: string): number {
    const t = this.now();
    const wait = Math.max(this.blockedFor(this.byName, `${client}\0${name}`, this.opts.perName, t), this.blockedFor(this.byClient, client, this.opts.perClient, t));
    return wait > 0 ? Math.ceil(wait / 1000) : 0;
  }

  failed(client: string, name: string): void {
    const t = this.now();
    this.count(this.byName, `${client}\0${name}`, t);
    this.count(this.byClient, client, t);
  }

  succeeded(client: string, name: string): void {
    this.byName.delete(`${client}\0${name}`);
  }

  /** Buckets held (for tests and the bound). */
  get size(): number {
    return this.byName.size + this.byClient.size;
  }

  private blockedFor(map: Map<string, Bucket>, key: string, limit: number, t: number): number {
    const b = map.get(key);
    if (!b) return 0;
    if (b.until <= t) {
      map.delete(key);
      return 0;
    }
    return b.count >= limit ? b.until - t : 0;
  }

  private count(map: Map<string, Bucket>, key: string, t: number): void {
    let b = map.get(key);
    if (!b || b.until <= t) {
      map.delete(key);
      b = { count: 0, until: t + this.opts.windowMs };
      if (map.size >= this.opts.maxKeys) map.delete(map.keys().next().value as string);
      map.set(key, b);
    }
    b.count += 1;
  }
}
