/**
 * Work the spool handed to libuv's pool and has not seen finish (segment deletions, dead letters
 * being written): close() and tests wait for it.
 */
export class PendingWork {
  private readonly running = new Set<Promise<unknown>>();

  /** Keeps `p` until it settles; returns it. */
  track<T>(p: Promise<T>): Promise<T> {
    this.running.add(p);
    const done = (): void => void this.running.delete(p);
    p.then(done, done);
    return p;
  }

  /** Resolves once everything tracked so far, and what it started meanwhile, has settled. */
  async settled(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
