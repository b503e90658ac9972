/**
 * Child processes of the benchmark: started by us, pinned with taskset, talked to over the
 * IPC channel, measured through /proc/<pid>, and stopped by their PID (never by name).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';

export interface SpawnOptions {
  /** Short name for logs and errors. */
  name: string;
  /** Node script and its arguments (run with this process's Node). */
  args: readonly string[];
  /** Extra arguments for node itself (e.g. --cpu-prof). */
  nodeArgs?: readonly string[];
  /** CPU core to pin to with taskset; undefined = not pinned. */
  cpu?: number | undefined;
  /** Open an IPC channel (the bench's own children); the daemon gets none. */
  ipc: boolean;
  /** stdout and stderr go here. */
  logFile: string;
  /** Called with each stdout line (the daemon's JSON log). */
  onLine?: (line: string) => void;
  cwd?: string;
  /** Extra environment variables (e.g. the daemon's AWS credentials for --credentials chain). */
  env?: Readonly<Record<string, string>>;
}

interface RpcReply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

const live = new Set<Child>();
let hooksInstalled = false;

/** Kills every child still running, by PID: on exit, on Ctrl-C, on a crash of the bench. */
function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    for (const c of live) c.kill('SIGKILL');
  };
  process.on('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      process.stderr.write(`bench: ${sig}, stopping the processes it started\n`);
      killAll();
      process.exit(130);
    });
  }
}

export class Child {
  readonly name: string;
  readonly pid: number;
  readonly exited: Promise<number | null>;
  private readonly proc: ChildProcess;
  private readonly log: WriteStream;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly messageWaiters: Array<(m: Record<string, unknown>) => void> = [];
  private nextId = 1;
  private exitCode: number | null | undefined;

  constructor(options: SpawnOptions) {
    installHooks();
    this.name = options.name;
    const node = [...(options.nodeArgs ?? []), ...options.args];
    const [cmd, argv] = options.cpu === undefined ? [process.execPath, node] : ['taskset', ['-c', String(options.cpu), process.execPath, ...node]];
    this.log = createWriteStream(options.logFile, { flags: 'a' });
    this.proc = spawn(cmd, argv, {
      cwd: options.cwd ?? process.cwd(),
      stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '', ...options.env },
    });
    if (this.proc.pid === undefined) throw new Error(`bench: could not start ${this.name}`);
    this.pid = this.proc.pid;
    live.add(this);
    let partial = '';
    this.proc.stdout?.on('data', (chunk: Buffer) => {
      this.log.write(chunk);
      if (!options.onLine) return;
      const text = partial + chunk.toString('utf8');
      const lines = text.split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) options.onLine(l);
    });
    this.proc.stderr?.on('data', (chunk: Buffer) => this.log.write(chunk));
    this.proc.on('message', (m: unknown) => this.onMessage(m as Record<string, unknown>));
    this.exited = new Promise((resolve) => {
      this.proc.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? 128 : null);
        live.delete(this);
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(new Error(`bench: ${this.name} (pid ${this.pid}) exited (${code ?? signal}) during a call; see ${options.logFile}`));
        }
        this.pending.clear();
        this.log.end();
        resolve(this.exitCode);
      });
    });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  private onMessage(m: Record<string, unknown>): void {
    if (typeof m.id === 'number' && typeof m.ok === 'boolean') {
      const r = m as unknown as RpcReply;
      const p = this.pending.get(r.id);
      if (!p) return;
      this.pending.delete(r.id);
      clearTimeout(p.timer);
      if (r.ok) p.resolve(r.result);
      else p.reject(new Error(`${this.name}: ${r.error}`));
      return;
    }
    const w = this.messageWaiters.shift();
    if (w) w(m);
  }

  /** Waits for the next unsolicited message (the child's "ready"). */
  nextMessage(timeoutMs: number): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`bench: ${this.name} sent nothing within ${timeoutMs} ms`)), timeoutMs);
      this.messageWaiters.push((m) => {
        clearTimeout(timer);
        resolve(m);
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`bench: ${this.name} exited (${code}) before it was ready`));
      });
    });
  }

  call<T>(cmd: string, args: unknown = {}, timeoutMs = 60_000): Promise<T> {
    if (!this.running) return Promise.reject(new Error(`bench: ${this.name} is not running`));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`bench: ${this.name}.${cmd} did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.proc.send({ id, cmd, args });
    });
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM (or a disconnect for IPC children), then SIGKILL after `graceMs`. */
  async stop(graceMs = 20_000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.kill('SIGTERM');
    const timer = setTimeout(() => {
      process.stderr.write(`bench: ${this.name} (pid ${this.pid}) did not stop within ${graceMs} ms; SIGKILL\n`);
      this.kill('SIGKILL');
    }, graceMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

// ---------------------------------------------------------------------------------------------
// /proc readers (Linux)

const CLK_TCK = (() => {
  const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
  const n = Number(r.stdout?.trim());
  return Number.isInteger(n) && n > 0 ? n : 100;
})();

/** CPU time (user + system, all threads) the process has used so far, in ms; NaN once it is gone. */
export function cpuMs(pid: number): number {
  const { user, sys } = cpuSplitMs(pid);
  return user + sys;
}

/** User and system (kernel) CPU time the process (or its thread `tid`) has used so far, in ms; NaN once it is gone. */
export function cpuSplitMs(pid: number, tid?: number): { user: number; sys: number } {
  let stat: string;
  try {
    stat = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
  } catch {
    return { user: NaN, sys: NaN };
  }
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state): utime is field 14, stime field 15.
  return { user: (Number(fields[11]) * 1000) / CLK_TCK, sys: (Number(fields[12]) * 1000) / CLK_TCK };
}

/** Current and peak resident set size, in bytes. */
export function memory(pid: number): { rssBytes: number; peakRssBytes: number; rssAnonBytes: number; rssFileBytes: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rssBytes: kb('VmRSS'), peakRssBytes: kb('VmHWM'), rssAnonBytes: kb('RssAnon'), rssFileBytes: kb('RssFile') };
}

/** Samples VmRSS every `intervalMs` and keeps the largest value seen. */
export class RssSampler {
  peakBytes = 0;
  private readonly timer: NodeJS.Timeout;
  constructor(private readonly pid: number, intervalMs = 100) {
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
  }
  sample(): number {
    try {
      const rss = memory(this.pid).rssBytes;
      if (rss > this.peakBytes) this.peakBytes = rss;
      return rss;
    } catch {
      return 0;
    }
  }
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.peakBytes;
  }
}

/** Whole-machine CPU time so far from /proc/stat, in ms: busy (user+nice+system) and steal. */
export function machineCpuMs(): { busy: number; steal: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] as string;
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const tick = 1000 / CLK_TCK;
    return { busy: ((f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0)) * tick, steal: (f[7] ?? 0) * tick };
  } catch {
    return { busy: NaN, steal: NaN };
  }
}

/** Pressure stall information (Linux PSI): total µs some task waited for I/O so far; NaN without PSI. */
export function ioStallUs(): number {
  try {
    const m = /^some .* total=(\d+)$/m.exec(readFileSync('/proc/pressure/io', 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}
