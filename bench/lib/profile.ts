/**
 * Summarises a V8 .cpuprofile (from `node --cpu-prof`): self and total time per function,
 * and self time per area (a package, a daemon module, a Node subsystem, GC).
 */
export interface CpuProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  hitCount?: number;
  children?: number[];
}

export interface CpuProfile {
  nodes: CpuProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FrameRow {
  fn: string;
  where: string;
  area: string;
  selfMs: number;
  /** Share of the busy (non-idle) time. */
  selfPct: number;
  totalMs: number;
  totalPct: number;
}

/**
 * What the daemon was doing, from the whole stack of each sample: the first rule (in this order)
 * that matches any frame of the stack (a rule marked 'leaf': the sample's own frame) names the stage. Specific work first (signing, the spool,
 * the SQS side), then what surrounds it (response writing, Koa), then the HTTP server itself.
 */
const STAGES: Array<[string, (url: string, fn: string) => boolean, 'leaf'?]> = [
  ['SQS request: SigV4 signing', (u) => /\/dist\/src\/sqs\/sign\.js/.test(u)],
  ['SQS answer: MD5 check of each entry', (u, f) => /\/dist\/src\/delivery\/sender\.js/.test(u) && f === 'md5'],
  ['spool append (journal record + write)', (u) => /\/dist\/src\/spool\//.test(u)],
  ['message window (GET /messages/:id)', (u) => /\/dist\/src\/delivery\/tracker\.js/.test(u)],
  ['metrics (prom-client)', (u) => /\/node_modules\/prom-client\//.test(u) || /\/dist\/src\/(hot-)?metrics\.js/.test(u)],
  ['logging (pino)', (u) => /\/node_modules\/(pino|pino-std-serializers|sonic-boom|thread-stream)\//.test(u)],
  // The SQS side in three (issue 14, round 3): the client's own code (the request's JSON, JSON.parse of
  // the answer, error mapping: builtins such as JSON.stringify show as self time of their caller),
  // its HTTP client (undici before round 4, the daemon's own src/net/http1/ since: on the send path
  // only SQS uses it), and the delivery pipeline around them.
  ['SQS side: request JSON, answer parse (client code)', (u) => /\/dist\/src\/sqs\/(client|errors|batch-json)\.js/.test(u), 'leaf'],
  ['SQS side: HTTP client (undici, or src/net/http1/)', (u) => /\/node_modules\/undici\/|\/dist\/src\/net\/http1\//.test(u)],
  ['SQS side: batching, pipeline, answers', (u, f) => /\/dist\/src\/sqs\/(client|errors|batch-json)\.js/.test(u) || (/\/dist\/src\/delivery\/(pipeline|batcher|sender|deque|retrier|attempt|outcome|retry|inflight)\.js/.test(u) && f !== 'accept' && f !== 'recorded')],
  ['HTTP answer: headers, body, socket write', (u, f) => /^node:_http_outgoing$/.test(u) || (u === 'node:_http_server' && /^(writeHead|_implicitHeader)$/.test(f))],
  ['ingest: validation (SQS limits, characters, trace)', (u) => /\/dist\/src\/sqs\/(limits|chars|attributes|trace)\.js/.test(u)],
  ['ingest: body read and parse', (u) => /\/dist\/src\/http\/(body|decode)\.js|\/dist\/src\/ingest\/slices\.js/.test(u)],
  ['ingest: credentials and queue lookup', (u, f) => /\/dist\/src\/http\/(auth|users)\.js|\/node_modules\/basic-auth\/|\/dist\/src\/sqs\/(resolver|credentials)\.js/.test(u) || f === 'destinationFor'],
  ['ingest: accept into the pipeline', (u) => /\/dist\/src\/delivery\/(pipeline|envelope)\.js|\/dist\/src\/ingest\//.test(u)],
  ['Koa, router and middlewares', (u) => /\/node_modules\/(koa|@koa|koa-compose|delegates|on-finished|accepts|type-is|content-type|negotiator|mime-types|statuses|only|vary|encodeurl|http-errors|cookies|fresh)\//.test(u) || /\/dist\/src\/(http|sqsapi)\//.test(u)],
  ['Node HTTP server: parsing, sockets, streams', (u) => /^node:(_http_server|_http_common|_http_incoming|net|internal\/stream_base_commons|internal\/streams\/.*)$/.test(u)],
];

export interface ProfileSummary {
  /** Share of busy time per stage of the daemon's work (see STAGES), largest first. */
  stages?: Array<{ stage: string; pct: number }>;
  /** Whether only the samples of the measured run were counted (else the whole process life). */
  windowed: boolean;
  wallMs: number;
  busyMs: number;
  idleMs: number;
  topSelf: FrameRow[];
  topTotal: FrameRow[];
  areas: Array<{ area: string; selfMs: number; pct: number }>;
}

const META = new Set(['(root)', '(program)', '(idle)', '(garbage collector)']);

/** Where a frame lives: `koa`, `undici`, `daemon:http/routes/send.js`, `node:_http_server`, `GC`... */
export function areaOf(fn: string, url: string): string {
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return 'V8/native (program)';
  if (fn === '(idle)') return 'idle';
  if (url === '') return 'native/builtin';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = url.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? url);
  }
  const src = url.indexOf('/dist/src/');
  if (src >= 0) return `daemon:${url.slice(src + '/dist/src/'.length)}`;
  if (url.startsWith('node:internal/')) {
    const rest = url.slice('node:internal/'.length).split('/');
    return `node:${rest.length > 1 ? rest[0] : rest[0]}`;
  }
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

function shortWhere(url: string, line: number): string {
  if (url === '') return '';
  const nm = url.lastIndexOf('/node_modules/');
  const src = url.indexOf('/dist/src/');
  const tail = nm >= 0 ? url.slice(nm + '/node_modules/'.length) : src >= 0 ? `dist/src/${url.slice(src + '/dist/src/'.length)}` : url.replace(/^file:\/\//, '');
  return `${tail}:${line + 1}`;
}

/**
 * `window`: [from, to] in CLOCK_MONOTONIC µs (V8 stamps samples with that clock on Linux): only
 * samples inside it count, so start-up, warm-up and shutdown are left out.
 */
export function summarise(profile: CpuProfile, top = 25, window?: [number, number]): ProfileSummary {
  const byId = new Map<number, CpuProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  const keyOf = (n: CpuProfileNode): string => `${n.callFrame.functionName || '(anonymous)'}\u0000${n.callFrame.url}\u0000${n.callFrame.lineNumber}`;
  const stageUs = new Map<string, number>();
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const info = new Map<string, { fn: string; where: string; area: string }>();
  let idleUs = 0;
  let allUs = 0;
  const { samples, timeDeltas } = profile;
  const windowed = window !== undefined && window[0] >= profile.startTime && window[1] <= profile.endTime;
  let t = profile.startTime;
  for (let i = 0; i < samples.length; i++) {
    t += timeDeltas[i] ?? 0;
    if (windowed && (t < (window as [number, number])[0] || t > (window as [number, number])[1])) continue;
    // The time until the next sample is this sample's.
    const dt = Math.max(0, timeDeltas[i + 1] ?? 0);
    allUs += dt;
    const leaf = byId.get(samples[i] as number);
    if (!leaf) continue;
    if (leaf.callFrame.functionName === '(idle)') {
      idleUs += dt;
      continue;
    }
    const lk = keyOf(leaf);
    self.set(lk, (self.get(lk) ?? 0) + dt);
    const leafFn = leaf.callFrame.functionName;
    let stage = leafFn === '(garbage collector)' ? 'GC' : leafFn === '(program)' ? 'V8/native (program)' : undefined;
    if (!stage) {
      const frames: CpuProfileNode['callFrame'][] = [];
      for (let n: CpuProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) frames.push(n.callFrame);
      stage = STAGES.find(([, test, only]) => (only ? frames.slice(0, 1) : frames).some((f) => test(f.url.replace(/^file:\/\//, ''), f.functionName)))?.[0] ?? 'other (timers, microtasks, event loop)';
    }
    stageUs.set(stage, (stageUs.get(stage) ?? 0) + dt);
    const seen = new Set<string>();
    for (let n: CpuProfileNode | undefined = leaf; n; n = byId.get(parent.get(n.id) ?? -1)) {
      const k = keyOf(n);
      if (!info.has(k)) {
        const fn = n.callFrame.functionName || '(anonymous)';
        info.set(k, { fn, where: shortWhere(n.callFrame.url, n.callFrame.lineNumber), area: areaOf(n.callFrame.functionName, n.callFrame.url) });
      }
      if (seen.has(k)) continue;
      seen.add(k);
      total.set(k, (total.get(k) ?? 0) + dt);
    }
  }
  const busyUs = allUs - idleUs;
  const row = (k: string): FrameRow => {
    const i = info.get(k) as { fn: string; where: string; area: string };
    const s = self.get(k) ?? 0;
    const t = total.get(k) ?? 0;
    return { ...i, selfMs: s / 1000, selfPct: (100 * s) / busyUs, totalMs: t / 1000, totalPct: (100 * t) / busyUs };
  };
  const topSelf = [...self.keys()].sort((a, b) => (self.get(b) ?? 0) - (self.get(a) ?? 0)).slice(0, top).map(row);
  const topTotal = [...total.keys()]
    .filter((k) => !META.has(info.get(k)?.fn ?? ''))
    .sort((a, b) => (total.get(b) ?? 0) - (total.get(a) ?? 0))
    .slice(0, top)
    .map(row);
  const areas = new Map<string, number>();
  for (const [k, us] of self) {
    const a = info.get(k)?.area ?? '?';
    areas.set(a, (areas.get(a) ?? 0) + us);
  }
  return {
    stages: [...stageUs.entries()].sort((a, b) => b[1] - a[1]).map(([stage, us]) => ({ stage, pct: (100 * us) / busyUs })),
    windowed,
    wallMs: windowed ? ((window as [number, number])[1] - (window as [number, number])[0]) / 1000 : (profile.endTime - profile.startTime) / 1000,
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    topSelf,
    topTotal,
    areas: [...areas.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: us / 1000, pct: (100 * us) / busyUs })),
  };
}

// CLI: node dist-bench/bench/lib/profile.js <file.cpuprofile> [fromMonoUs toMonoUs]: the summary as JSON.
if (process.argv[1]?.endsWith('/lib/profile.js')) {
  const { readFileSync } = await import('node:fs');
  const [file, from, to] = process.argv.slice(2);
  if (!file) {
    process.stderr.write('usage: node dist-bench/bench/lib/profile.js <file.cpuprofile> [fromMonoUs toMonoUs]\n');
    process.exit(2);
  }
  const window: [number, number] | undefined = from && to ? [Number(from), Number(to)] : undefined;
  process.stdout.write(`${JSON.stringify(summarise(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, 25, window), null, 1)}\n`);
}
