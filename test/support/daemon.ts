/**
 * Test helpers: start a real daemon (src/main.ts) on 127.0.0.1:0 against an upstream (the fake SQS
 * or fauxqs), capture its logs in memory, and talk to it over HTTP with undici (which, unlike
 * fetch, lets a test set any header, Host included).
 */
import { request, type Dispatcher } from 'undici';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { MemoryStore } from '../../src/delivery/store.js';
import { startDaemon, type Daemon } from '../../src/main.js';

/** The credentials every test sends; the fake and fauxqs accept anything. */
export const AKID = 'AKIDTEST';
export const SECRET = 'test/secret+key';
export const AUTH = `Basic ${Buffer.from(`${AKID}:${SECRET}`).toString('base64')}`;

/** Log lines written by a daemon, parsed. */
export class LogCapture {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly raw: string[] = [];
  write(line: string): void {
    this.raw.push(line);
    try {
      this.lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      this.lines.push({ unparsed: line });
    }
  }
  /** Lines whose `msg` contains `text`. */
  find(text: string): Array<Record<string, unknown>> {
    return this.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(text));
  }
}

export interface TestDaemon {
  daemon: Daemon;
  url: string;
  logs: LogCapture;
  stop(): Promise<{ remaining: number }>;
}

/**
 * Starts a daemon against `endpoint` with fast-retry defaults for tests; `flags` override them
 * (later flags win). Logs at `logLevel` (default warn) go to `logs`. The store is memory-only
 * (dead letters are logged), so no test writes a spool in the working tree.
 */
export async function startTestDaemon(endpoint: string, flags: string[] = [], logLevel: 'warn' | 'info' | 'debug' | 'error' = 'warn'): Promise<TestDaemon> {
  const config = loadConfig(
    ['--port', '0', '--host', '127.0.0.1', '--retry-base-ms', '5', '--retry-max-ms', '50', '--shutdown-grace-ms', '5000', ...flags],
    { SQS_ACCELERATOR_ENDPOINT: endpoint },
  );
  const logs = new LogCapture();
  const log = createLogger(logLevel, { write: (s: string) => logs.write(s) });
  const daemon = await startDaemon(config, { log, store: new MemoryStore(log.child({ mod: 'store' })) });
  return { daemon, url: daemon.url, logs, stop: () => daemon.stop() };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface PostOptions {
  contentType?: string;
  /** Extra or replacing headers; `authorization: undefined` sends none. */
  headers?: Record<string, string | undefined>;
  dispatcher?: Dispatcher;
}

/** POSTs `body` to `url + path` and reads the whole answer. */
export async function post(url: string, path: string, body: string | Buffer, options: PostOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: AUTH };
  if (options.contentType !== undefined) headers['content-type'] = options.contentType;
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  const res = await request(`${url}${path}`, { method: 'POST', headers, body, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** POSTs a JSON value. */
export function postJson(url: string, path: string, value: unknown, options: PostOptions = {}): Promise<Reply> {
  return post(url, path, JSON.stringify(value), { contentType: 'application/json', ...options });
}

/** Runs `count` tasks with at most `limit` at once; resolves with their results in order. */
export async function runBounded<T>(count: number, limit: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      out[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}

/** Polls `predicate` every 10 ms until it is true; throws `what` after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
