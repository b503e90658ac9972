/**
 * The worker side's configuration: `--worker <queue>=<url>` (repeatable) or a `workers` list in
 * the config file, each entry with its own options; the `--worker-*` options are the defaults of
 * every entry. Validated once here, naming the entry and field; src/config.ts wraps the message
 * in its ConfigError.
 */

/** Where a worker's SQS credentials come from. Secrets stay in memory; never logged or shown. */
export type WorkerCredentials =
  | { kind: 'chain' }
  | { kind: 'profile'; profile: string }
  | { kind: 'static'; accessKeyId: string; secretAccessKey: string; sessionToken?: string };

export interface WorkerConfig {
  /** SQS queue name to poll. */
  readonly queue: string;
  /** The local app's URL each message is POSTed to. */
  readonly url: string;
  /** Messages POSTed to the app at once, at most (the adaptive limit stays at or below it). */
  readonly concurrency: number;
  /** Visibility timeout asked for on receive and renewed while the app works. s. */
  readonly visibilityTimeoutSeconds: number;
  /** How long the app may take to answer one message before it counts as failed. s. */
  readonly inactivityTimeoutSeconds: number;
  /** After a failure the message reappears after this (doubling per receive, capped). s. */
  readonly errorVisibilityTimeoutSeconds: number;
  /** Deliveries of one message before it is left to the queue's redrive policy. */
  readonly maxRetries: number;
  /** Long-poll wait of each ReceiveMessage. s. */
  readonly waitTimeSeconds: number;
  /** Content-Type of the POSTs to the app. */
  readonly contentType: string;
  /** Queue the app's 2xx bodies go to when the message names no ReplyTo; '' = none. */
  readonly replyQueue: string;
  readonly credentials: WorkerCredentials;
}

export type WorkerDefaults = Omit<WorkerConfig, 'queue' | 'url' | 'credentials' | 'replyQueue'> & { replyQueue: string };

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$/;
const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const KEYS = new Set(['queue', 'url', 'concurrency', 'visibilityTimeoutSeconds', 'inactivityTimeoutSeconds', 'errorVisibilityTimeoutSeconds', 'maxRetries', 'waitTimeSeconds', 'contentType', 'replyQueue', 'credentials']);
const RANGES: Record<string, [number, number]> = {
  concurrency: [1, 10_000],
  visibilityTimeoutSeconds: [1, 43_200],
  inactivityTimeoutSeconds: [1, 36_000],
  errorVisibilityTimeoutSeconds: [0, 43_200],
  maxRetries: [1, 1000],
  waitTimeSeconds: [0, 20],
};

export class WorkerConfigError extends Error {
  readonly code = 'EWORKERCONFIG';
  override readonly name = 'WorkerConfigError';
}

function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Checks an app URL: http(s), no credentials in it, loopback unless its host is allowed. */
export function checkAppUrl(raw: string, where: string, allowedHosts: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new WorkerConfigError(`${where}: url must be an absolute URL like http://127.0.0.1:8080/work; got ${JSON.stringify(raw.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new WorkerConfigError(`${where}: url must use http or https; got ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw new WorkerConfigError(`${where}: url must not carry a user or password`);
  const host = url.hostname.toLowerCase();
  if (!isLoopback(host) && !allowedHosts.map((h) => h.toLowerCase()).includes(host)) {
    throw new WorkerConfigError(`${where}: url host ${JSON.stringify(host)} is not loopback; the worker delivers to a local app (add the host to --worker-allowed-hosts to allow it)`);
  }
  return url.href;
}

function credentialsFrom(value: unknown, where: string): WorkerCredentials {
  if (value === undefined || value === 'chain') return { kind: 'chain' };
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    if (typeof o.profile === 'string' && o.profile !== '' && Object.keys(o).length === 1) return { kind: 'profile', profile: o.profile };
    if (typeof o.accessKeyId === 'string' && typeof o.secretAccessKey === 'string' && o.accessKeyId !== '' && o.secretAccessKey !== '') {
      const extra = Object.keys(o).filter((k) => !['accessKeyId', 'secretAccessKey', 'sessionToken'].includes(k));
      if (extra.length === 0 && (o.sessionToken === undefined || typeof o.sessionToken === 'string')) {
        return typeof o.sessionToken === 'string'
          ? { kind: 'static', accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey, sessionToken: o.sessionToken }
          : { kind: 'static', accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey };
      }
    }
  }
  // Never echo the value: it may hold a secret.
  throw new WorkerConfigError(`${where}: credentials must be "chain", {"profile": "name"} or {"accessKeyId": "...", "secretAccessKey": "...", "sessionToken"?: "..."}`);
}

function entry(value: unknown, index: number, defaults: WorkerDefaults, allowedHosts: readonly string[]): WorkerConfig {
  let o: Record<string, unknown>;
  const at = `worker ${index + 1}`;
  if (typeof value === 'string') {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new WorkerConfigError(`${at}: expected <queue>=<url>, like orders=http://127.0.0.1:8080/work; got ${JSON.stringify(value.slice(0, 200))}`);
    o = { queue: value.slice(0, eq).trim(), url: value.slice(eq + 1).trim() };
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    o = value as Record<string, unknown>;
  } else {
    throw new WorkerConfigError(`${at}: must be "<queue>=<url>" or an object with "queue" and "url"`);
  }
  for (const k of Object.keys(o)) if (!KEYS.has(k)) throw new WorkerConfigError(`${at}: unknown field ${JSON.stringify(k.slice(0, 60))}; allowed: ${[...KEYS].join(', ')}`);
  if (typeof o.queue !== 'string' || !QUEUE_NAME.test(o.queue)) throw new WorkerConfigError(`${at}: queue must be an SQS queue name (1-80 letters, digits, "-" or "_", FIFO ones end in ".fifo"); got ${JSON.stringify(o.queue)}`);
  const where = `worker ${JSON.stringify(o.queue)}`;
  if (typeof o.url !== 'string') throw new WorkerConfigError(`${where}: url is required`);
  const url = checkAppUrl(o.url, where, allowedHosts);
  const numbers: Record<string, number> = {};
  for (const [k, [min, max]] of Object.entries(RANGES)) {
    const v = o[k] ?? defaults[k as keyof WorkerDefaults];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new WorkerConfigError(`${where}: ${k} must be a whole number from ${min} to ${max}; got ${JSON.stringify(v)}`);
    numbers[k] = v;
  }
  const contentType = o.contentType ?? defaults.contentType;
  if (typeof contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+(\s*;.*)?$/.test(contentType)) throw new WorkerConfigError(`${where}: contentType must be a media type like application/json; got ${JSON.stringify(contentType)}`);
  const replyQueue = o.replyQueue ?? defaults.replyQueue;
  if (typeof replyQueue !== 'string' || (replyQueue !== '' && !QUEUE_NAME.test(replyQueue))) throw new WorkerConfigError(`${where}: replyQueue must be a queue name or ""; got ${JSON.stringify(replyQueue)}`);
  return Object.freeze({
    queue: o.queue,
    url,
    ...(numbers as Pick<WorkerConfig, 'concurrency' | 'visibilityTimeoutSeconds' | 'inactivityTimeoutSeconds' | 'errorVisibilityTimeoutSeconds' | 'maxRetries' | 'waitTimeSeconds'>),
    contentType,
    replyQueue,
    credentials: Object.freeze(credentialsFrom(o.credentials, where)),
  });
}

/**
 * Parses the raw `workers` option: a JSON array (from the config file) of "<queue>=<url>"
 * strings or objects, or lines of "<queue>=<url>" (repeated flags, or the environment variable,
 * whitespace-separated). One worker per queue.
 */
export function parseWorkers(raw: string, defaults: WorkerDefaults, allowedHosts: readonly string[]): readonly WorkerConfig[] {
  const text = raw.trim();
  if (text === '') return Object.freeze([]);
  let items: unknown[];
  if (text.startsWith('[')) {
    try {
      items = JSON.parse(text) as unknown[];
    } catch {
      throw new WorkerConfigError('workers must be a JSON array of "<queue>=<url>" strings or {"queue", "url", ...} objects');
    }
  } else {
    items = text.split(/\s+/);
  }
  const out = items.map((v, i) => entry(v, i, defaults, allowedHosts));
  const seen = new Set<string>();
  for (const w of out) {
    if (seen.has(w.queue)) throw new WorkerConfigError(`worker ${JSON.stringify(w.queue)} is configured twice; one worker per queue (raise its concurrency instead)`);
    seen.add(w.queue);
  }
  return Object.freeze(out);
}
