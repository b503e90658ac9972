/**
 * All options in one table: flag, environment variable, default, unit and meaning.
 * loadConfig() validates them once, naming the offending option, and returns a frozen
 * Config. Precedence: flags > environment > defaults.
 */

export type CredentialMode = 'pass-through' | 'chain';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** Address to listen on. Default 127.0.0.1. */
  host: string;
  /** TCP port. Default 9292. */
  port: number;
  /** AWS region for signing and the default endpoint. */
  region: string;
  /** SQS endpoint origin; empty means the region's AWS endpoint. */
  endpoint: string;
  /** Where credentials come from: the caller's Basic auth, or the daemon's AWS provider chain. */
  credentials: CredentialMode;
  /** Linger for partial batches while another batch of the queue is in flight. ms. */
  lingerMs: number;
  /** SendMessageBatch requests in flight at once. */
  maxConcurrency: number;
  /** Connections in the keep-alive pool to the SQS endpoint. */
  connections: number;
  /** Per-request timeout towards SQS. ms. */
  requestTimeoutMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  /** Dead-letter a message still undelivered this long after acceptance. 0 = never. ms. */
  maxMessageAgeMs: number;
  /** Largest message accepted (body + attributes), bytes. At most SQS's 1 MiB. */
  maxMessageBytes: number;
  /** Largest HTTP request body (batch ingest), bytes. */
  maxRequestBytes: number;
  /** Most messages accepted but not delivered before sends get 503. */
  maxBacklogMessages: number;
  /** Most bytes accepted but not delivered before sends get 503. */
  maxBacklogBytes: number;
  /** Graceful-shutdown budget for flushing. ms. */
  shutdownGraceMs: number;
  /** Message group used for FIFO sends that name none; empty = a group id is required. */
  fifoDefaultGroupId: string;
  /** Extra Host header values accepted besides localhost/127.0.0.1/[::1] (DNS-rebinding guard). */
  allowedHosts: readonly string[];
  logLevel: LogLevel;
}

type Kind = 'string' | 'int' | 'enum' | 'list';

interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: readonly string[];
  kind: Kind;
  default: string;
  unit?: string;
  values?: readonly string[];
  min?: number;
  max?: number;
  doc: string;
}

const MiB = 1_048_576;

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'host', flag: '--host', env: ['SQS_ACCELERATOR_HOST'], kind: 'string', default: '127.0.0.1', doc: 'Address to listen on. Keep it on loopback: senders are local apps.' },
  { key: 'port', flag: '--port', env: ['SQS_ACCELERATOR_PORT'], kind: 'int', default: '9292', min: 0, max: 65535, doc: 'TCP port to listen on (0 = any free port).' },
  { key: 'region', flag: '--region', env: ['SQS_ACCELERATOR_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'], kind: 'string', default: '', doc: 'AWS region, e.g. eu-west-1. Required unless --endpoint is given (then default us-east-1).' },
  { key: 'endpoint', flag: '--endpoint', env: ['SQS_ACCELERATOR_ENDPOINT', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL'], kind: 'string', default: '', doc: 'SQS endpoint URL (an SQS-compatible service or emulator). Default: the region\'s AWS endpoint.' },
  { key: 'credentials', flag: '--credentials', env: ['SQS_ACCELERATOR_CREDENTIALS'], kind: 'enum', values: ['pass-through', 'chain'], default: 'pass-through', doc: 'pass-through: sign with the Basic-auth pair each client sends (user = access key id, password = secret). chain: sign with the AWS default provider chain (env, profile, SSO, ECS/EC2 roles).' },
  { key: 'lingerMs', flag: '--linger-ms', env: ['SQS_ACCELERATOR_LINGER_MS'], kind: 'int', default: '10', unit: 'ms', min: 0, max: 10_000, doc: 'How long a partial batch waits for more messages while another batch of its queue is in flight. Idle queues send at once.' },
  { key: 'maxConcurrency', flag: '--max-concurrency', env: ['SQS_ACCELERATOR_MAX_CONCURRENCY'], kind: 'int', default: '64', min: 1, max: 10_000, doc: 'SendMessageBatch requests in flight at once, all queues together.' },
  { key: 'connections', flag: '--connections', env: ['SQS_ACCELERATOR_CONNECTIONS'], kind: 'int', default: '64', min: 1, max: 10_000, doc: 'Keep-alive connections to the SQS endpoint.' },
  { key: 'requestTimeoutMs', flag: '--request-timeout-ms', env: ['SQS_ACCELERATOR_REQUEST_TIMEOUT_MS'], kind: 'int', default: '10000', unit: 'ms', min: 100, max: 600_000, doc: 'Timeout of one request to SQS (headers, then body); a timeout is retried.' },
  { key: 'retryBaseMs', flag: '--retry-base-ms', env: ['SQS_ACCELERATOR_RETRY_BASE_MS'], kind: 'int', default: '100', unit: 'ms', min: 1, max: 600_000, doc: 'First retry delay; doubles per attempt, jittered.' },
  { key: 'retryMaxMs', flag: '--retry-max-ms', env: ['SQS_ACCELERATOR_RETRY_MAX_MS'], kind: 'int', default: '20000', unit: 'ms', min: 1, max: 3_600_000, doc: 'Longest retry delay.' },
  { key: 'maxMessageAgeMs', flag: '--max-message-age-ms', env: ['SQS_ACCELERATOR_MAX_MESSAGE_AGE_MS'], kind: 'int', default: '604800000', unit: 'ms', min: 0, doc: 'Dead-letter a message still undelivered this long after it was accepted (default 7 days; 0 = never).' },
  { key: 'maxMessageBytes', flag: '--max-message-bytes', env: ['SQS_ACCELERATOR_MAX_MESSAGE_BYTES'], kind: 'int', default: String(MiB), unit: 'bytes', min: 1, max: MiB, doc: 'Largest message (body + attributes). SQS allows 1 MiB; a queue\'s MaximumMessageSize can lower it further.' },
  { key: 'maxRequestBytes', flag: '--max-request-bytes', env: ['SQS_ACCELERATOR_MAX_REQUEST_BYTES'], kind: 'int', default: String(32 * MiB), unit: 'bytes', min: 1024, doc: 'Largest HTTP request body (batch ingest).' },
  { key: 'maxBacklogMessages', flag: '--max-backlog-messages', env: ['SQS_ACCELERATOR_MAX_BACKLOG_MESSAGES'], kind: 'int', default: '1000000', min: 1, doc: 'Messages accepted but not yet delivered before new sends get 503 + Retry-After.' },
  { key: 'maxBacklogBytes', flag: '--max-backlog-bytes', env: ['SQS_ACCELERATOR_MAX_BACKLOG_BYTES'], kind: 'int', default: String(1024 * MiB), unit: 'bytes', min: MiB, doc: 'Bytes accepted but not yet delivered before new sends get 503 + Retry-After.' },
  { key: 'shutdownGraceMs', flag: '--shutdown-grace-ms', env: ['SQS_ACCELERATOR_SHUTDOWN_GRACE_MS'], kind: 'int', default: '10000', unit: 'ms', min: 0, max: 600_000, doc: 'On SIGTERM, how long to keep delivering before exiting.' },
  { key: 'fifoDefaultGroupId', flag: '--fifo-default-group-id', env: ['SQS_ACCELERATOR_FIFO_DEFAULT_GROUP_ID'], kind: 'string', default: '', doc: 'Message group for FIFO sends that name none. Empty: such sends get 400.' },
  { key: 'allowedHosts', flag: '--allowed-hosts', env: ['SQS_ACCELERATOR_ALLOWED_HOSTS'], kind: 'list', default: '', doc: 'Comma-separated extra Host names accepted (besides localhost, 127.0.0.1, [::1]); guards against DNS rebinding.' },
  { key: 'logLevel', flag: '--log-level', env: ['SQS_ACCELERATOR_LOG_LEVEL', 'LOG_LEVEL'], kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', doc: 'Log level; logs are JSON lines on stdout.' },
];

export class ConfigError extends Error {
  readonly code = 'ECONFIG';
  override readonly name = 'ConfigError';
}

export interface ParsedArgs {
  values: Map<string, string>;
  help: boolean;
  version: boolean;
}

/** Parses `--flag value` and `--flag=value`; rejects unknown flags by name. */
export function parseArgs(argv: readonly string[]): ParsedArgs {
  const byFlag = new Map(OPTIONS.map((o) => [o.flag, o]));
  const values = new Map<string, string>();
  let help = false;
  let version = false;
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
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(0, eq) : arg;
    const spec = byFlag.get(flag);
    if (!spec) throw new ConfigError(`unknown option ${JSON.stringify(flag)} (see --help)`);
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`option ${flag} needs a value`);
    values.set(spec.key, value);
  }
  return { values, help, version };
}

function convert(spec: OptionSpec, raw: string, source: string): unknown {
  const where = `${spec.flag} (from ${source})`;
  switch (spec.kind) {
    case 'string':
      return raw.trim();
    case 'list':
      return Object.freeze(raw.split(',').map((s) => s.trim()).filter((s) => s !== ''));
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

/** Builds the daemon's Config from command-line arguments and environment. Throws ConfigError naming the bad option. */
export function loadConfig(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Readonly<Config> {
  const { values } = parseArgs(argv);
  const out: Record<string, unknown> = {};
  for (const spec of OPTIONS) {
    let raw = values.get(spec.key);
    let source = 'command line';
    if (raw === undefined) {
      for (const name of spec.env) {
        const v = env[name];
        if (v !== undefined && v !== '') {
          raw = v;
          source = `environment ${name}`;
          break;
        }
      }
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
    throw new ConfigError('no SQS upstream: set --region (or AWS_REGION) for AWS, or --endpoint (or AWS_ENDPOINT_URL_SQS) for an SQS-compatible service');
  } else if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(config.region)) {
    throw new ConfigError(`--region must look like eu-west-1; got ${JSON.stringify(config.region)}`);
  }
  if (config.retryMaxMs < config.retryBaseMs) throw new ConfigError(`--retry-max-ms (${config.retryMaxMs}) must be at least --retry-base-ms (${config.retryBaseMs})`);
  return Object.freeze(config);
}

/** The --help text, generated from OPTIONS so it cannot drift. */
export function helpText(): string {
  const lines = [
    'Usage: sqs-accelerator [options]',
    '       sqs-accelerator --help | --version',
    '',
    'Accepts messages on HTTP and delivers them to Amazon SQS in the background.',
    'Every option can also be set by environment variable; flags win.',
    '',
    'Options:',
  ];
  for (const o of OPTIONS) {
    const def = o.default === '' ? '(none)' : o.default;
    lines.push(`  ${o.flag} <${o.kind === 'enum' ? o.values?.join('|') : o.kind === 'int' ? (o.unit ?? 'n') : 'value'}>`);
    lines.push(`      ${o.doc}`);
    lines.push(`      default: ${def}${o.unit ? ` ${o.unit}` : ''}; env: ${o.env.join(', ')}`);
  }
  return lines.join('\n');
}
