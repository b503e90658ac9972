/**
 * Test helpers: start a real daemon (createDaemon, src/daemon/) on 127.0.0.1:0 against an upstream (the fake SQS
 * or fauxqs), capture its logs in memory, and talk to it over HTTP with undici (which, unlike
 * fetch, lets a test set any header, Host included).
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Dispatcher } from 'undici';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { MemoryStore } from '../../src/delivery/store.js';
import { createDaemon, type Daemon, type DaemonOptions } from '../../src/daemon/index.js';

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
  /** The spool directory, when started with `spool: true`. */
  spoolDir?: string;
  /** Stops the daemon (and removes its temporary spool directory). */
  stop(): Promise<{ remaining: number }>;
}

/**
 * Starts a daemon against `endpoint` with fast-retry defaults for tests; `flags` override them
 * (later flags win). Logs at `logLevel` (default warn) go to `logs`. The store is memory-only
 * (dead letters are logged) unless `spool: true`, which runs the default durable store in a
 * temporary directory removed on stop: no test writes a spool in the working tree.
 */
export async function startTestDaemon(
  endpoint: string,
  flags: string[] = [],
  logLevel: 'warn' | 'info' | 'debug' | 'error' = 'warn',
  options: Omit<DaemonOptions, 'config' | 'log' | 'store'> & { spool?: boolean } = {},
): Promise<TestDaemon> {
  const { spool, ...startOptions } = options;
  const spoolDir = spool ? await mkdtemp(join(tmpdir(), 'sqs-accelerator-test-')) : undefined;
  const config = loadConfig(
    ['--port', '0', '--host', '127.0.0.1', '--retry-base-ms', '5', '--retry-max-ms', '50', '--shutdown-grace-ms', '5000', ...(spoolDir ? ['--spool-dir', join(spoolDir, 'spool')] : []), ...flags],
    { SQS_ACCELERATOR_ENDPOINT: endpoint },
  );
  const logs = new LogCapture();
  const log = createLogger(logLevel, { write: (s: string) => logs.write(s) });
  const daemon = await createDaemon({ config, ...(spoolDir ? { ...startOptions, log } : { ...startOptions, log, store: new MemoryStore(log.child({ mod: 'store' })) }) }).start();
  const stop = async () => {
    const result = await daemon.stop();
    if (spoolDir) await rm(spoolDir, { recursive: true, force: true });
    return result;
  };
  return { daemon, url: daemon.url, logs, stop, ...(spoolDir ? { spoolDir } : {}) };
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
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface StubCall {
  action: string;
  params: Record<string, any>;
  accessKeyId: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface StubAnswer {
  status?: number;
  /** JSON-encoded unless a string. */
  body?: unknown;
  /** Destroy the socket without answering. */
  drop?: boolean;
}

export interface StubSqs {
  endpoint: string;
  calls: StubCall[];
  close(): Promise<void>;
}

/** SQS's JSON error shape. */
export const sqsError = (status: number, code: string, message = code): StubAnswer => ({ status, body: { __type: `com.amazonaws.sqs#${code}`, message } });

/**
 * A scripted SQS endpoint for cases the fake cannot produce (ExpiredToken, AccessDenied on one
 * action, odd answers): `answer` decides each call from its action, parameters and access key id.
 */
export async function startStubSqs(answer: (call: StubCall) => StubAnswer | Promise<StubAnswer>): Promise<StubSqs> {
  const { createServer } = await import('node:http');
  const calls: StubCall[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      let params: Record<string, any> = {};
      try {
        params = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, any>;
      } catch {
        params = {};
      }
      const call: StubCall = {
        action: target.replace(/^AmazonSQS\./, ''),
        params,
        accessKeyId: /Credential=([^/]+)\//.exec(String(req.headers.authorization ?? ''))?.[1] ?? '',
        headers: req.headers,
      };
      calls.push(call);
      void Promise.resolve(answer(call)).then((a) => {
        if (a.drop) {
          req.socket.destroy();
          return;
        }
        const body = typeof a.body === 'string' ? a.body : JSON.stringify(a.body ?? {});
        res.writeHead(a.status ?? 200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': `req-${calls.length}` });
        res.end(body);
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A successful SendMessageBatch answer for `params`, with correct MD5s. */
export function batchSuccess(params: Record<string, any>): StubAnswer {
  const Successful = (params.Entries as Array<{ Id: string; MessageBody: string }>).map((e) => ({
    Id: e.Id,
    MessageId: `mid-${e.Id}`,
    MD5OfMessageBody: createHash('md5').update(e.MessageBody, 'utf8').digest('hex'),
  }));
  return { body: { Successful, Failed: [] } };
}
