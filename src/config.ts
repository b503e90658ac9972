/**
 * Reads the options of the one table in src/config/schema.ts (flag, environment variable,
 * default, unit and meaning) from flags, the environment and a config file. loadConfig()
 * validates them once, naming the offending option, and returns a frozen Config.
 * Precedence: flags > environment > config file (--config, JSON) > defaults.
 */

import { readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { type Config, type OptionSpec, OPTIONS } from './config/schema.js';
import { parseUpstreams, primaryUpstream } from './upstreams/options.js';
import { parseWorkers } from './worker/options.js';

export { type Config, type CredentialMode, type LogLevel, OPTIONS } from './config/schema.js';

export class ConfigError extends Error {
  readonly code = 'ECONFIG';
  override readonly name = 'ConfigError';
}

export interface ParsedArgs {
  values: Map<string, string>;
  help: boolean;
  version: boolean;
  /** `--wait-ready`: poll a running daemon's /readyz instead of starting one (systemd ExecStartPost). */
  waitReady: boolean;
}

/** Parses `--flag value` and `--flag=value`; rejects unknown flags by name. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  const values = new Map<string, string>();
  let help = false;
  let version = false;
  let waitReady = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--version' || arg === '-v') {
      version = true;
      continue;
    }
    if (arg === '--wait-ready') {
      waitReady = true;
      continue;
    }
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const spec = byFlag.get(flag);
    if (!spec) throw new ConfigError(`unknown option ${JSON.stringify(flag)} (see --help)`);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value`);
    // --worker and --failover-* repeat: every occurrence counts.
    const prev = spec.kind === 'workers' || spec.repeatable ? values.get(spec.key) : undefined;
    values.set(spec.key, prev === undefined ? value : `${prev}${spec.kind === 'list' ? ',' : '\n'}${value}`);
  }
  return { values, help, version, waitReady };
}

function convert(spec: OptionSpec, raw: string, source: string): unknown {
  const where = `${spec.flag} (from ${source})`;
  switch (spec.kind) {
    case 'string':
      return raw.trim();
    case 'list':
      return Object.freeze(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''));
    case 'workers':
    case 'upstreams':
      return raw; // parsed after the loop: workers with the --worker-* defaults, upstreams after the primary (finish)
    case 'enum':
      if (!spec.values?.includes(raw)) throw new ConfigError(`${where} must be one of ${spec.values?.join(', ')}; got ${JSON.stringify(raw)}`);
      return raw;
    case 'int': {
      if (!/^\d+$/.test(raw.trim())) throw new ConfigError(`${where} must be a whole number${spec.unit ? ` of ${spec.unit}` : ''}; got ${JSON.stringify(raw)}`);
      const n = Number(raw);
      if (!Number.isSafeInteger(n)) throw new ConfigError(`${where} is too large: ${raw}`);
      if (spec.min !== undefined && n < spec.min) throw new ConfigError(`${where} must be at least ${spec.min}; got ${n}`);
      if (spec.max !== undefined && n > spec.max) throw new ConfigError(`${where} must be at most ${spec.max}; got ${n}`);
      return n;
    }
  }
}

/** The daemon's own environment variables share this prefix; an unknown one is a typo. */
const ENV_PREFIX = 'SQS_ACCELERATOR_';

export interface LoadOptions {
  /**
   * False for commands that may not talk to SQS at all (`dead-letters list`): no region and no
   * endpoint is then not an error, and `region` stays '' (the command checks when it needs one).
   * Default true.
   */
  requireUpstream?: boolean;
}

/**
 * Builds the daemon's Config from command-line arguments, environment and the --config
 * file, in that order of precedence. Throws ConfigError naming the bad option. Every
 * command (serve, wait-ready, dead-letters) loads its options through this.
 */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, options: LoadOptions = {}): Readonly<Config> {
  const { values } = parseArgs(argv);
  return resolve(values, 'command line', env, options.requireUpstream ?? true);
}

/** Configs made by this module: already validated, used as they are. */
const validated = new WeakSet<object>();

/**
 * A Config for embedding (`createDaemon({ config })`): the given values, each checked as the
 * config file's would be (JSON types: numbers, strings, arrays of strings), over the file named
 * by `configFile` if any, over the defaults. The environment is not read. A Config that
 * loadConfig or defineConfig made is returned as it is.
 */
export function defineConfig(values: Partial<Config> = {}): Readonly<Config> {
  if (validated.has(values)) return values as Readonly<Config>;
  const given = new Map<string, string>();
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const spec = OPTIONS.find((o) => o.key === key);
    if (!spec) throw new ConfigError(`createDaemon options: unknown option ${JSON.stringify(key)}; keys are the option names of --help's "config key"`);
    given.set(key, spec.key === 'configFile' ? String(value) : fileValue(spec, value, 'createDaemon options'));
  }
  return resolve(given, 'createDaemon options', {}, true);
}

/** Precedence: `values` (flags, or createDaemon's options) > environment > config file > defaults. */
function resolve(values: ReadonlyMap<string, string>, valuesSource: string, env: Readonly<Record<string, string | undefined>>, requireUpstream: boolean): Readonly<Config> {
  checkEnvNames(env);
  const fromEnv = (spec: OptionSpec): { raw: string; name: string } | undefined => {
    for (const name of spec.env) {
      const v = env[name];
      if (v !== undefined && v !== '') return { raw: v, name };
    }
    return undefined;
  };
  const fileSpec = OPTIONS.find((o) => o.key === 'configFile') as OptionSpec;
  const filePath = (values.get('configFile') ?? fromEnv(fileSpec)?.raw ?? '').trim();
  const file = filePath === '' ? new Map<string, string>() : readConfigFile(filePath);
  const out: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    let raw = values.get(spec.key);
    let source = valuesSource;
    if (raw === undefined) {
      const e = fromEnv(spec);
      if (e) {
        raw = e.raw;
        source = `environment ${e.name}`;
      }
    }
    if (raw === undefined) {
      raw = file.get(spec.key);
      source = `config file ${filePath}, key "${spec.key}"`;
    }
    if (raw === undefined) {
      raw = spec.default;
      source = 'default';
    }
    out[spec.key] = convert(spec, raw, source);
  }
  const config = out as unknown as Config;
  if (config.endpoint !== '') {
    let url: URL;
    try {
      url = new URL(config.endpoint);
    } catch {
      throw new ConfigError(`--endpoint must be a URL like https://sqs.eu-west-1.amazonaws.com; got ${JSON.stringify(config.endpoint)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--endpoint must use http or https; got ${url.protocol}`);
    if (config.region === '') config.region = 'us-east-1';
  } else if (config.region === '') {
    if (!requireUpstream) return finish(config, env);
    throw new ConfigError('no SQS upstream: set --region (or AWS_REGION, or "region" in the config file) for AWS, or --endpoint (or AWS_ENDPOINT_URL_SQS, or "endpoint") for an SQS-compatible service');
  } else if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(config.region)) {
    throw new ConfigError(`--region must look like eu-west-1; got ${JSON.stringify(config.region)}`);
  }
  return finish(config, env);
}

function finish(config: Config, env: Readonly<Record<string, string | undefined>>): Readonly<Config> {
  if (config.spoolDir === '') config.spoolDir = defaultSpoolDir(env);
  if (config.usersFile !== '' && config.credentials !== 'chain') {
    throw new ConfigError('--users-file only applies with --credentials chain (in pass-through mode SQS checks each caller\'s own key pair)');
  }
  try {
    config.workers = parseWorkers(config.workers as unknown as string, {
      concurrency: config.workerConcurrency,
      visibilityTimeoutSeconds: config.workerVisibilityTimeoutSeconds,
      inactivityTimeoutSeconds: config.workerInactivityTimeoutSeconds,
      errorVisibilityTimeoutSeconds: config.workerErrorVisibilityTimeoutSeconds,
      maxRetries: config.workerMaxRetries,
      waitTimeSeconds: config.workerWaitTimeSeconds,
      contentType: config.workerContentType,
      replyQueue: config.workerReplyQueue,
    }, config.workerAllowedHosts);
  } catch (err) {
    throw new ConfigError(`--worker: ${(err as Error).message}`);
  }
  if (config.clientRequestTimeoutMs < config.headersTimeoutMs) {
    throw new ConfigError(`--client-request-timeout-ms (${config.clientRequestTimeoutMs}) must be at least --headers-timeout-ms (${config.headersTimeoutMs})`);
  }
  if (config.sqsApiKeysFile !== '' && config.credentials !== 'chain') {
    throw new ConfigError('--sqs-api-keys-file only applies with --credentials chain (the SQS API signs with the daemon\'s own credentials)');
  }
  if (config.replyQueueName === '') config.replyQueueName = defaultReplyQueueName(hostname());
  else if (!/^[A-Za-z0-9_-]{1,80}$/.test(config.replyQueueName)) throw new ConfigError(`--reply-queue-name must be a standard queue name (1-80 letters, digits, "-" or "_"); got ${JSON.stringify(config.replyQueueName)}`);
  try {
    config.upstreams = parseUpstreams({ file: config.upstreams as unknown as string, regions: config.failoverRegions, endpoints: config.failoverEndpoints }, primaryUpstream(config.region, config.endpoint), config.credentials);
  } catch (err) {
    throw new ConfigError(`failover: ${(err as Error).message}`);
  }
  if (config.failoverProbeMaxMs < config.failoverProbeMs) throw new ConfigError(`--failover-probe-max-ms (${config.failoverProbeMaxMs}) must be at least --failover-probe-ms (${config.failoverProbeMs})`);
  if (config.s3Prefix !== '' && (!/^[A-Za-z0-9./_-]+$/.test(config.s3Prefix) || config.s3Prefix.length > 988)) {
    throw new ConfigError(`--s3-prefix may hold only letters, digits and . / _ - (at most 988 characters, as the Extended Client allows); got ${JSON.stringify(config.s3Prefix)}`);
  }
  if (config.s3Bucket !== '' && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(config.s3Bucket)) {
    throw new ConfigError(`--s3-bucket must be an S3 bucket name (3-63 lower-case letters, digits, "." and "-"); got ${JSON.stringify(config.s3Bucket)}`);
  }
  if (config.s3Endpoint !== '') {
    let url: URL;
    try {
      url = new URL(config.s3Endpoint);
    } catch {
      throw new ConfigError(`--s3-endpoint must be a URL like http://127.0.0.1:9000; got ${JSON.stringify(config.s3Endpoint)}`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(`--s3-endpoint must use http or https; got ${url.protocol}`);
  }
  if (config.s3Always === 'on' && config.s3Bucket === '') throw new ConfigError('--s3-always needs --s3-bucket (the bucket the payloads go to)');
  if (config.maxInMemoryBytes === 0) config.maxInMemoryBytes = defaultInMemoryBytes();
  if (config.maxInflightBodyBytes === 0) config.maxInflightBodyBytes = defaultBodyBudgetBytes(config.maxRequestBytes);
  else if (config.maxInflightBodyBytes < config.maxRequestBytes) {
    throw new ConfigError(`--max-inflight-body-bytes (${config.maxInflightBodyBytes}) must be at least --max-request-bytes (${config.maxRequestBytes}): a request of the largest size allowed could never be read (0 = the default, an eighth of the V8 heap limit)`);
  }
  if (config.retryMaxMs < config.retryBaseMs) throw new ConfigError(`--retry-max-ms (${config.retryMaxMs}) must be at least --retry-base-ms (${config.retryBaseMs})`);
  validated.add(config);
  return Object.freeze(config);
}

/**
 * The default of --max-inflight-body-bytes (0 = this): an eighth of what V8's heap may grow to
 * (`heap_size_limit`, which node's --max-old-space-size sets), because a body costs two to four
 * times its size in the heap while it is decoded and parsed (its text, then the entries' strings),
 * and the messages held (--max-in-memory-bytes, another eighth) and everything else need the
 * rest; never less than --max-request-bytes, so that a request of the largest size allowed can
 * be read.
 */
export function defaultBodyBudgetBytes(maxRequestBytes: number, heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.max(maxRequestBytes, Math.floor(heapLimitBytes / 8));
}

/**
 * The default of --max-in-memory-bytes (0 = this): an eighth of V8's heap limit. A message held
 * costs its bytes once or twice (one- or two-byte strings) plus its envelope in the heap.
 */
export function defaultInMemoryBytes(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.floor(heapLimitBytes / 8);
}

/** `sqs-accelerator-replies-<hostname>`, the host name cut to what a queue name allows. */
export function defaultReplyQueueName(host: string): string {
  const safe = host.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 80 - 'sqs-accelerator-replies-'.length);
  return `sqs-accelerator-replies-${safe === '' ? 'local' : safe}`;
}

function checkEnvNames(env: Readonly<Record<string, string | undefined>>): void {
  const known = new Set(OPTIONS.flatMap((o) => o.env));
  for (const name of Object.keys(env)) {
    if (!name.startsWith(ENV_PREFIX) || known.has(name) || env[name] === undefined) continue;
    const guess = closest(name, [...known].filter((k) => k.startsWith(ENV_PREFIX)));
    throw new ConfigError(`unknown environment variable ${name}${guess ? ` (did you mean ${guess}?)` : ''}; see --help`);
  }
}

/**
 * Reads the --config file: one JSON object keyed by option names (`lingerMs`, not
 * `--linger-ms`). Values keep their JSON types (numbers for numbers, strings, arrays of
 * strings for lists) and go through the same validation as flags.
 */
function readConfigFile(path: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(`--config: cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : (e.code ?? e.message)}`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`config file ${path} must hold one JSON object, like {"region": "eu-west-1", "lingerMs": 5}`);
  }
  const byKey = new Map<string, OptionSpec>(OPTIONS.filter((o) => o.key !== 'configFile').map((o) => [o.key, o]));
  const out = new Map<string, string>();
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const spec = byKey.get(key);
    if (!spec) {
      const guess = closest(key, [...byKey.keys()]);
      throw new ConfigError(`config file ${path}: unknown option ${JSON.stringify(key)}${guess ? ` (did you mean "${guess}"?)` : ''}; keys are the option names of --help's "config key"`);
    }
    out.set(key, fileValue(spec, value, path));
  }
  return out;
}

function fileValue(spec: OptionSpec, value: unknown, path: string): string {
  const where = path === 'createDaemon options' ? `${path}: "${spec.key}"` : `config file ${path}: "${spec.key}"`;
  switch (spec.kind) {
    case 'int':
      if (typeof value !== 'number') throw new ConfigError(`${where} must be a JSON number${spec.unit ? ` of ${spec.unit}` : ''}; got ${JSON.stringify(value)}`);
      return String(value);
    case 'list':
      if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(',');
      if (typeof value !== 'string') throw new ConfigError(`${where} must be an array of strings; got ${JSON.stringify(value)}`);
      return value;
    case 'workers':
      if (!Array.isArray(value)) throw new ConfigError(`${where} must be a JSON array of "<queue>=<url>" strings or {"queue", "url", ...} objects`);
      return JSON.stringify(value);
    case 'upstreams':
      if (!Array.isArray(value)) throw new ConfigError(`${where} must be a JSON array of {"region", "endpoint", "profile", "name"} objects`);
      return JSON.stringify(value);
    case 'string':
    case 'enum':
      if (typeof value !== 'string') throw new ConfigError(`${where} must be a JSON string; got ${JSON.stringify(value)}`);
      return value;
    default:
      if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new ConfigError(`${where} has the wrong type; got ${JSON.stringify(value)}`);
      return String(value);
  }
}

/** The candidate that differs from `name` only in case and separators, if any. */
function closest(name: string, candidates: readonly string[]): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const n = norm(name);
  return candidates.find((c) => norm(c) === n) ?? candidates.find((c) => norm(c).startsWith(n) || n.startsWith(norm(c)));
}

/** $STATE_DIRECTORY (systemd; the first entry if several), else XDG state home, else ~/.local/state. */
export function defaultSpoolDir(env: Readonly<Record<string, string | undefined>>): string {
  const state = env.STATE_DIRECTORY?.split(':')[0];
  if (state) return state;
  if (env.XDG_STATE_HOME) return `${env.XDG_STATE_HOME}/sqs-accelerator`;
  // Never relative to the working directory: without HOME, ask the password database.
  return `${env.HOME || homedir()}/.local/state/sqs-accelerator`;
}

/** The --help text, generated from OPTIONS so it cannot drift. */
export function helpText(): string {
  const lines = [
    'Usage: sqs-accelerator [serve] [options]',
    '       sqs-accelerator wait-ready [options]   (exit 0 once the daemon these options describe is ready; also: --wait-ready)',
    '       sqs-accelerator dead-letters list|show|replay|purge ... [options]   (see dead-letters --help; reads these options too)',
    '       sqs-accelerator hash-password NAME < password             (a --users-file line)',
    '       sqs-accelerator --help | --version',
    '',
    'Accepts messages on HTTP and delivers them to Amazon SQS in the background.',
    'Every option can also be set by environment variable or in the --config file (a JSON',
    'object keyed by "config key"). Precedence: flags > environment > config file > defaults.',
    '',
    'Options:',
  ];
  for (const o of OPTIONS) {
    const def = o.default === '' ? '(none)' : o.default;
    lines.push(`  ${o.flag} <${o.kind === 'enum' ? o.values?.join('|') : o.kind === 'int' ? (o.unit ?? 'n') : o.kind === 'workers' ? 'queue>=<url' : o.kind === 'upstreams' ? 'json' : 'value'}>${o.kind === 'workers' || o.repeatable ? ' (repeatable)' : ''}`);
    lines.push(`      ${o.doc}`);
    lines.push(`      default: ${def}${o.unit ? ` ${o.unit}` : ''}; env: ${o.env.join(', ')}${o.key === 'configFile' ? '' : `; config key: ${o.key}`}${o.reloadable ? '; reloaded on SIGHUP' : ''}`);
  }
  return lines.join('\n');
}
