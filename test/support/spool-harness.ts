/**
 * Helpers for the spool tests: temp spool directories, envelopes and destinations built by
 * hand (for the Spool unit tests), an in-process daemon with a real spool (startTestDaemon
 * forces a MemoryStore), and the built CLI as a child process (for kill -9 tests).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'undici';
import { loadConfig } from '../../src/config.js';
import type { Envelope } from '../../src/delivery/envelope.js';
import { newMessageId } from '../../src/delivery/envelope.js';
import type { MessageStore } from '../../src/delivery/store.js';
import { createLogger } from '../../src/log.js';
import { createDaemon } from '../../src/daemon/index.js';
import { staticCredentials } from '../../src/sqs/credentials.js';
import type { Destination } from '../../src/sqs/resolver.js';
import type { Credentials, OutgoingMessage, QueueLimits } from '../../src/sqs/types.js';
import { Spool, type SpoolOptions } from '../../src/spool/spool.js';
import { AUTH, LogCapture, type TestDaemon } from './daemon.js';

/** A fresh directory under the system temp dir; remove it with `rmSync(dir, { recursive: true, force: true })`. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `sqs-accelerator-${prefix}-`));
}

export function removeDir(dir: string | undefined): void {
  if (dir) rmSync(dir, { recursive: true, force: true });
}

export const CREDS: Credentials = { accessKeyId: 'AKIDSPOOL', secretAccessKey: 'spool/secret+key' };

const STANDARD: QueueLimits = { fifo: false, maxMessageBytes: 1_048_576, contentBasedDedup: false };

/** A destination as the resolver would build it (pass-through credentials). */
export function makeDest(queueName: string, creds: Credentials = CREDS, limits: QueueLimits = STANDARD): Destination {
  const credentials = staticCredentials(creds);
  return Object.freeze({ key: `${credentials.key}\0${queueName}`, queueName, queueUrl: `http://127.0.0.1:1/000000000000/${queueName}`, limits, credentials });
}

export function makeEnvelope(dest: Destination, message: OutgoingMessage | string, acceptedAt = Date.now()): Envelope {
  const m = typeof message === 'string' ? { body: message } : message;
  return { id: newMessageId(), dest, message: m, bytes: Buffer.byteLength(m.body), accepted: { at: acceptedAt }, attempts: 0 };
}

/** A logger whose JSON lines land in `logs`. */
export function captureLog(level: 'debug' | 'info' | 'warn' | 'error' = 'info'): { logs: LogCapture; log: ReturnType<typeof createLogger> } {
  const logs = new LogCapture();
  return { logs, log: createLogger(level, { write: (s: string) => logs.write(s) }) };
}

/** A Spool with small test-friendly defaults; `recover` is NOT called. */
export function openSpool(dir: string, options: Partial<SpoolOptions> = {}): { spool: Spool; logs: LogCapture } {
  const { logs, log } = captureLog();
  const spool = new Spool({ dir, durability: 'write', maxSpoolBytes: 64 * 1_048_576, segmentBytes: 1_048_576, log, ...options });
  return { spool, logs };
}

/** The recovery credential mapping the daemon (src/daemon/compose.ts) uses in pass-through mode. */
export const passThrough = (stored: Credentials | null) => (stored ? staticCredentials(stored) : undefined);

/**
 * An in-process daemon with a real spool in `spoolDir` (or the given `store`), fast retries,
 * logs captured. Spool options come from flags (`--durability`, `--max-spool-bytes`, ...).
 */
export async function startSpoolDaemon(
  endpoint: string,
  spoolDir: string,
  flags: string[] = [],
  options: { store?: MessageStore; logLevel?: 'debug' | 'info' | 'warn' | 'error' } = {},
): Promise<TestDaemon> {
  const config = loadConfig(
    ['--port', '0', '--host', '127.0.0.1', '--retry-base-ms', '5', '--retry-max-ms', '50', '--shutdown-grace-ms', '2000', '--spool-dir', spoolDir, ...flags],
    { SQS_ACCELERATOR_ENDPOINT: endpoint },
  );
  const { logs, log } = captureLog(options.logLevel ?? 'info');
  const daemon = await createDaemon({ config, ...(options.store ? { log, store: options.store } : { log }) }).start();
  return { daemon, url: daemon.url, logs, stop: () => daemon.stop() };
}

export interface ChildDaemon {
  child: ChildProcess;
  url: string;
  output(): string;
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** SIGKILL (if still running) and wait for the exit. */
  kill(): Promise<void>;
}

/**
 * Spawns the built CLI (`node <build>/bin/sqs-accelerator.js`) with `--port 0` and waits for the
 * "listening" log line, whose `url` it returns. Only this child's PID is ever signalled.
 */
export async function spawnDaemon(node: string, build: string, args: string[], env: Record<string, string>, timeoutMs = 20_000): Promise<ChildDaemon> {
  const child = spawn(node, [join(build, 'bin/sqs-accelerator.js'), '--port', '0', '--host', '127.0.0.1', ...args], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let url = '';
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const listening = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`daemon not listening after ${timeoutMs} ms:\n${out.slice(-4000)}`)), timeoutMs);
    const onData = (b: Buffer) => {
      out += b.toString();
      if (url) return;
      for (const line of out.split('\n')) {
        if (!line.includes('sqs-accelerator listening')) continue;
        try {
          url = (JSON.parse(line) as { url: string }).url;
          clearTimeout(timer);
          resolve(url);
          return;
        } catch {
          /* partial line: wait for more */
        }
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`daemon exited (${code ?? signal}) before listening:\n${out.slice(-4000)}`));
    });
  });
  try {
    await listening;
  } catch (err) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    throw err;
  }
  return {
    child,
    url,
    output: () => out,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface LoadResult {
  /** Bodies that got a 202. */
  acked: string[];
  /** Count of non-202 answers and failed requests (connection refused/reset after a kill). */
  refused: number;
  /** Status codes other than 202 seen, with counts. */
  statuses: Map<number | string, number>;
  /** The first index not handed to a request: where a next load should start. */
  next: number;
}

/**
 * Posts bodies `prefix-<i>` for i in [from, to) with at most `concurrency` in flight over one
 * undici Pool, stopping early once `stop()` is true. Every body that got a 202 is in `acked`.
 */
export async function postLoad(
  url: string,
  queue: string,
  range: { from: number; to: number; prefix: string },
  options: { concurrency?: number; stop?: () => boolean; onAck?: (body: string, total: number) => void } = {},
): Promise<LoadResult> {
  const pool = new Pool(url, { connections: options.concurrency ?? 64, pipelining: 1 });
  const result: LoadResult = { acked: [], refused: 0, statuses: new Map(), next: range.from };
  let next = range.from;
  const worker = async () => {
    for (;;) {
      if (options.stop?.()) return;
      const i = next++;
      if (i >= range.to) return;
      const body = `${range.prefix}-${i}`;
      try {
        const res = await pool.request({ path: `/queues/${queue}`, method: 'POST', headers: { authorization: AUTH, 'content-type': 'text/plain' }, body });
        await res.body.text();
        if (res.statusCode === 202) {
          result.acked.push(body);
          options.onAck?.(body, result.acked.length);
        } else {
          result.refused += 1;
          result.statuses.set(res.statusCode, (result.statuses.get(res.statusCode) ?? 0) + 1);
        }
      } catch (err) {
        result.refused += 1;
        const code = (err as { code?: string }).code ?? 'error';
        result.statuses.set(code, (result.statuses.get(code) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 64 }, worker));
  result.next = Math.min(next, range.to);
  await pool.destroy();
  return result;
}
