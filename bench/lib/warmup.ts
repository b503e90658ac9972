/**
 * Warming a server up to steady state before an open-loop run is measured (bench/run.ts).
 *
 * A Node server's first seconds of open-loop load cost more than the later ones: V8 compiles the
 * hot paths on its helper threads and the heap grows to its working size. Round 5
 * (docs/benchmarks.md) saw the daemon's main thread start an open-loop run at ~370 ms/s and
 * settle at ~200 ms/s after ~2 s, and the quick bench's 2-s runs after a 1-s warm-up reported
 * 193-208 µs a message at 2,000 msg/s where 15-s runs reported 116-126. A fixed warm-up is too
 * short on a slow machine and wasted on a fast one, so this one measures: it sends 1-s chunks
 * at the measured runs' usual rate and stops when a chunk's CPU per request is within
 * `tolerance` of the one before (so two chunks in a row cost the same), or after `maxChunks`.
 * The chunks' figures go to the bench's log and report: nothing is hidden, the warm-up is only
 * kept out of the measured window, as a warm-up always was.
 */

export interface WarmChunk {
  /** The server's CPU (all threads, including delivery for the daemon) per request, µs. */
  cpuUsPerReq: number;
  p99Ms: number;
}

export interface WarmOptions {
  /** Runs one chunk (1 s of open loop, delivery awaited when there is any) and measures it. */
  chunk: () => Promise<WarmChunk>;
  /** Relative difference between two chunks' CPU per request that counts as steady (default 0.1). */
  tolerance?: number;
  /** At least this many chunks (default 2: a comparison needs two). */
  minChunks?: number;
  maxChunks: number;
}

export interface WarmResult {
  chunks: WarmChunk[];
  steady: boolean;
}

export async function warmUntilSteady(o: WarmOptions): Promise<WarmResult> {
  const tolerance = o.tolerance ?? 0.1;
  const minChunks = Math.max(2, o.minChunks ?? 2);
  const chunks: WarmChunk[] = [];
  while (chunks.length < o.maxChunks) {
    chunks.push(await o.chunk());
    const n = chunks.length;
    if (n < minChunks) continue;
    const [a, b] = [chunks[n - 2] as WarmChunk, chunks[n - 1] as WarmChunk];
    if (Math.abs(b.cpuUsPerReq - a.cpuUsPerReq) <= tolerance * a.cpuUsPerReq) return { chunks, steady: true };
  }
  return { chunks, steady: false };
}

/** One line for the bench's log: `warm-up steady after 4 chunks: 210, 150, 128, 122 µs/req`. */
export function describeWarmup(r: WarmResult): string {
  const list = r.chunks.map((c) => c.cpuUsPerReq.toFixed(0)).join(', ');
  const p99 = r.chunks.map((c) => c.p99Ms.toFixed(1)).join(', ');
  return `${r.steady ? 'steady' : 'NOT steady'} after ${r.chunks.length} chunks of 1 s: ${list} µs/req (p99 ${p99} ms)`;
}
