/**
 * Helpers for the UI route tests: a real daemon (createDaemon, src/daemon/) on 127.0.0.1:0 in front of fauxqs,
 * optionally through a small credential-checking proxy (fauxqs accepts any credentials; real SQS
 * does not), and an HTTP helper that can send any header (undici, not fetch).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { loadConfig } from '../../src/config.js';
import { type DeadLetter, type DeadLetterStore, MemoryStore, type MessageStore, type StoreInfo } from '../../src/delivery/store.js';
import { createLogger } from '../../src/log.js';
import { createDaemon, type Daemon } from '../../src/daemon/index.js';
import type { CredentialProvider } from '../../src/sqs/credentials.js';
import { LogCapture } from '../support/daemon.js';

export const AKID = 'AKIDUITEST';
export const SECRET = 'ui/Secret+Key0123456789';
export const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
export const AUTH = basic(AKID, SECRET);

/** Access key ids the proxy refuses the way SQS does. */
export const BAD_KEY = 'AKIDBADKEY';
export const DENIED_KEY = 'AKIDDENIED';

export interface Upstream {
  endpoint: string;
  /** Action name (e.g. 'PurgeQueue') -> the error SQS should answer it with, until removed. */
  faults: Map<string, { status: number; code: string; message: string }>;
  close(): Promise<void>;
}

/**
 * Forwards SQS JSON requests to `target`, except for two access key ids: BAD_KEY gets
 * 403 InvalidClientTokenId, DENIED_KEY gets 403 AccessDenied (as real SQS answers), and
 * actions listed in `faults` get the error given there.
 */
export async function startCredentialProxy(target: string): Promise<Upstream> {
  const faults: Upstream['faults'] = new Map();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const auth = String(req.headers.authorization ?? '');
      const akid = /Credential=([^/]+)\//.exec(auth)?.[1] ?? '';
      const refuse = (code: string, message: string, status = 403): void => {
        const body = JSON.stringify({ __type: `com.amazonaws.sqs#${code}`, message });
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      };
      if (akid === BAD_KEY) return refuse('InvalidClientTokenId', 'The security token included in the request is invalid.');
      if (akid === DENIED_KEY) return refuse('AccessDenied', 'User is not authorized to perform this action.');
      const fault = faults.get(String(req.headers['x-amz-target'] ?? '').replace('AmazonSQS.', ''));
      if (fault) return refuse(fault.code, fault.message, fault.status);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'host' && k !== 'connection') headers[k] = v;
      request(`${target}/`, { method: 'POST', headers, body: Buffer.concat(chunks) })
        .then(async (up) => {
          const body = Buffer.from(await up.body.arrayBuffer());
          res.writeHead(up.statusCode, { 'content-type': String(up.headers['content-type'] ?? 'application/x-amz-json-1.0'), 'content-length': body.length });
          res.end(body);
        })
        .catch(() => {
          res.writeHead(502);
          res.end();
        });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    faults,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A memory store with a dead-letter view, to test the status page's dead letters (and that it asks for the caller's only). */
export class DeadLetterMemoryStore extends MemoryStore implements MessageStore {
  readonly items: DeadLetter[] = [];
  readonly deadLetters: DeadLetterStore = {
    list: async (o = {}) => {
      // Owner: by access key id only (this store keeps no secrets).
      const all = this.items.filter((x) => (o.queue === undefined || x.queueName === o.queue) && (o.owner === undefined || x.accessKeyId === o.owner.accessKeyId));
      const offset = o.offset ?? 0;
      return { total: all.length, items: all.slice(offset, offset + (o.limit ?? 50)) };
    },
    select: async (o) => {
      const all = this.items.filter((x) => (o.queue === undefined || x.queueName === o.queue) && (o.owner === undefined || x.accessKeyId === o.owner.accessKeyId));
      return { total: all.length, ids: all.slice(0, o.limit).map((x) => x.id) };
    },
    owned: async (ids, owner) => ids.filter((id) => this.items.some((x) => x.id === id && (owner === undefined || x.accessKeyId === owner.accessKeyId))),
    get: async (id) => this.items.find((x) => x.id === id),
    // This store keeps no credentials, so nothing in it can be replayed.
    load: async () => undefined,
    ids: (queue) => this.items.filter((x) => queue === undefined || x.queueName === queue).map((x) => x.id),
    remove: async (id) => {
      const i = this.items.findIndex((x) => x.id === id);
      if (i >= 0) this.items.splice(i, 1);
      return i >= 0;
    },
  };
  override info(): StoreInfo {
    return { durability: 'write', dir: '/var/lib/sqs-accelerator', spoolBytes: 4096, deadLetters: this.items.length, recovered: 3, corruptRecords: 0, writable: true };
  }
}

export interface UiDaemon {
  daemon: Daemon;
  url: string;
  logs: LogCapture;
  stop(): Promise<void>;
}

export interface UiDaemonOptions {
  store?: (log: ReturnType<typeof createLogger>) => MessageStore;
  flags?: string[];
  /** For --credentials chain. */
  credentialProvider?: CredentialProvider;
  /** Let the daemon build its store from the flags (e.g. the real spool with --spool-dir); default memory-only. */
  storeFromConfig?: boolean;
}

export async function startUiDaemon(endpoint: string, options: UiDaemonOptions = {}): Promise<UiDaemon> {
  const config = loadConfig(['--port', '0', '--host', '127.0.0.1', '--retry-base-ms', '5', '--retry-max-ms', '50', '--request-timeout-ms', '2000', ...(options.flags ?? [])], {
    SQS_ACCELERATOR_ENDPOINT: endpoint,
  });
  const logs = new LogCapture();
  const log = createLogger('info', { write: (s: string) => logs.write(s) });
  const store = options.storeFromConfig ? undefined : options.store ? options.store(log) : new MemoryStore(log.child({ mod: 'store' }));
  const daemon = await createDaemon({ config, log, ...(store ? { store } : {}), ...(options.credentialProvider ? { credentialProvider: options.credentialProvider } : {}) }).start();
  return {
    daemon,
    url: daemon.url,
    logs,
    stop: async () => {
      await daemon.stop();
    },
  };
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export interface CallOptions {
  headers?: Record<string, string | undefined>;
  body?: string;
  /** Shorthand for Accept: text/html (a browser) vs application/json (the default). */
  html?: boolean;
  /** Shorthand: a urlencoded form body. */
  form?: Record<string, string | string[]>;
  json?: unknown;
}

export function formBody(fields: Record<string, string | string[]>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(fields)) for (const item of Array.isArray(v) ? v : [v]) p.append(k, item);
  return p.toString();
}

/** One request to the daemon with Basic auth (unless headers.authorization is undefined), whole answer read. */
export async function call(url: string, method: string, path: string, options: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = { authorization: AUTH, accept: options.html ? 'text/html,application/xhtml+xml,*/*;q=0.8' : 'application/json' };
  let body = options.body;
  if (options.form) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    body = formBody(options.form);
  } else if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  for (const [k, v] of Object.entries(options.headers ?? {})) {
    if (v === undefined) delete headers[k];
    else headers[k] = v;
  }
  const res = await request(`${url}${path}`, { method: method as 'GET', headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.body.text();
  let json: unknown;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, text, json };
}

/** Headers a browser sends with a same-origin form post from `url`'s pages. */
export function sameOriginBrowser(url: string, extra: Record<string, string> = {}): Record<string, string> {
  return { origin: url, referer: `${url}/queues`, 'sec-fetch-site': 'same-origin', 'sec-fetch-mode': 'navigate', 'sec-fetch-dest': 'document', ...extra };
}

/** The CSRF token in a page's forms. */
export function tokenIn(html: string): string {
  const m = /name="_csrf" value="([^"]+)"/.exec(html);
  if (!m) throw new Error('no CSRF token in the page');
  return m[1] as string;
}

/** Creates a queue directly upstream (not through the routes under test). */
export async function createUpstreamQueue(daemon: Daemon, name: string, attributes: Record<string, string> = {}): Promise<string> {
  const out = await daemon.deps.client.call<{ QueueUrl: string }>('CreateQueue', { QueueName: name, Attributes: attributes }, { accessKeyId: AKID, secretAccessKey: SECRET });
  return out.QueueUrl;
}

export async function upstreamAttributes(daemon: Daemon, name: string): Promise<Record<string, string>> {
  const creds = { accessKeyId: AKID, secretAccessKey: SECRET };
  const url = await daemon.deps.client.getQueueUrl(name, creds);
  return daemon.deps.client.getQueueAttributes(url, ['All'], creds);
}

export async function upstreamQueueNames(daemon: Daemon): Promise<string[]> {
  const out = await daemon.deps.client.call<{ QueueUrls?: string[] }>('ListQueues', {}, { accessKeyId: AKID, secretAccessKey: SECRET });
  return (out.QueueUrls ?? []).map((u) => u.slice(u.lastIndexOf('/') + 1)).sort();
}

/** Polls `check` every 25 ms until it resolves true; throws `what` after `timeoutMs`. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
