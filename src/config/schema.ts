/**
 * What the daemon can be told: the typed `Config` and the one table of options (flag,
 * environment variables, default, unit, bounds, meaning). src/config.ts reads and validates
 * them; scripts/config-docs.ts renders the table into the README and --help.
 */

import type { UpstreamConfig } from '../upstreams/options.js';
import type { WorkerConfig } from '../worker/options.js';

export type CredentialMode = 'pass-through' | 'chain';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface Config {
  /** JSON file of options keyed by their Config names; empty = none. */
  configFile: string;
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
  /** With chain credentials: file of local Basic-auth users; empty = no check. */
  usersFile: string;
  /** With --users-file: a client throttled for failed logins gets its 429 after this long (at most its Retry-After). ms; 0 = at once. */
  loginRefusalDelayMs: number;
  /** With chain credentials: file of ACCESS_KEY_ID:SECRET lines whose SigV4 signatures the SQS API checks; empty = any local caller. */
  sqsApiKeysFile: string;
  /** Linger for partial batches while another batch of the queue is in flight. ms. */
  lingerMs: number;
  /** SendMessageBatch requests in flight at once, at most: the ceiling of the adaptive limit (src/delivery/inflight.ts). Default 256. */
  maxConcurrency: number;
  /** Connections in the keep-alive pool to the SQS endpoint, at most (opened as needed). Default 256. */
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
  /**
   * Request-body bytes held in memory by all requests together (every door: REST sends, the SQS
   * API, UI forms, raw uploads of large messages); past it a request gets 503 TooManyBodyBytes
   * with Retry-After at once. bytes. Default 0 = an eighth of V8's heap limit
   * (`heap_size_limit`, set by --max-old-space-size), at least maxRequestBytes; loadConfig
   * resolves 0 to that number. Never below maxRequestBytes.
   */
  maxInflightBodyBytes: number;
  /** Most messages in one batch request. */
  maxBatchEntries: number;
  /** Most messages accepted but not delivered before sends get 503. */
  maxBacklogMessages: number;
  /** Most bytes accepted but not delivered before sends get 503. */
  maxBacklogBytes: number;
  /** Graceful-shutdown budget for flushing. ms. */
  shutdownGraceMs: number;
  /** Message group used for FIFO sends that name none; empty = a group id is required. */
  fifoDefaultGroupId: string;
  /** FIFO: entries of one message group in one SendMessageBatch. */
  fifoMaxPerGroup: number;
  /** Extra Host header values accepted besides localhost/127.0.0.1/[::1] (DNS-rebinding guard). */
  allowedHosts: readonly string[];
  /** Client connections open at once; past it a new connection gets 503 and is closed. */
  maxConnections: number;
  /** A client must send a request's headers within this. ms. */
  headersTimeoutMs: number;
  /** A client must send a whole request (headers and body) within this. ms. */
  clientRequestTimeoutMs: number;
  /** An idle keep-alive client connection is closed after this. ms. */
  keepAliveTimeoutMs: number;
  logLevel: LogLevel;
  /** memory: no spool (a crash loses the backlog); write: journal written before the ack; fsync: and fdatasync'ed (group commit). */
  durability: 'memory' | 'write' | 'fsync';
  /** Spool directory (journal + dead letters). */
  spoolDir: string;
  /** Most bytes of journal on disk before sends get 503. */
  maxSpoolBytes: number;
  /** Journal segment size; finished segments are deleted. */
  spoolSegmentBytes: number;
  /** Most dead letters kept; past it messages SQS refuses for good stay in the journal. */
  maxDeadLetters: number;
  /** Messages kept in memory at most; with a spool the rest of the backlog waits on disk. */
  maxInMemoryMessages: number;
  /**
   * Message bytes (body + attributes, as SQS counts them) kept in memory at most; with a spool
   * the rest of the backlog waits on disk. bytes. Default 0 = an eighth of V8's heap limit
   * (`heap_size_limit`, set by --max-old-space-size); loadConfig resolves 0 to that number.
   */
  maxInMemoryBytes: number;
  /** Worker side: queues whose messages are POSTed to local apps (src/worker/options.ts). */
  workers: readonly WorkerConfig[];
  /** Defaults of every worker entry (a file entry may override each); seconds where named so. */
  workerConcurrency: number;
  workerVisibilityTimeoutSeconds: number;
  workerInactivityTimeoutSeconds: number;
  workerErrorVisibilityTimeoutSeconds: number;
  workerMaxRetries: number;
  workerWaitTimeSeconds: number;
  workerContentType: string;
  workerReplyQueue: string;
  /** Hosts besides loopback that worker URLs may name. */
  workerAllowedHosts: readonly string[];
  /** Settings of queues in use (content-based dedup, MaximumMessageSize) are read again this often. ms; 0 = never. */
  queueRefreshMs: number;
  /** Recent messages whose state GET /messages/:id tells (kept in memory). */
  messageWindow: number;
  /** Longest a POST ...?wait=1 waits for SQS's answer. ms. */
  waitTimeoutMs: number;
  /** Carry W3C traceparent/tracestate headers as message attributes. */
  traceAttributes: 'on' | 'off';
  /** Destinations (queue + credentials) with messages in the daemon at once. */
  maxDestinations: number;
  /** File holding the bearer token GET /metrics requires; empty = /metrics is open. */
  metricsTokenFile: string;
  /** Request/reply: this daemon's own reply queue (created on first use). */
  replyQueueName: string;
  /** Request/reply: longest `?reply=` wait. s. */
  replyMaxWaitSeconds: number;
  /** Request/reply: how long a reply nobody waited for stays readable at GET /replies/:id. s. */
  replyKeepSeconds: number;
  /** Request/reply: most late replies kept, and their bytes. */
  repliesMaxCount: number;
  repliesMaxBytes: number;
  /** Failover (src/upstreams/): regions tried after the primary, in order (--failover-region, repeatable). */
  failoverRegions: readonly string[];
  /** Failover: SQS-compatible endpoints tried after the primary and the regions (--failover-endpoint, repeatable). */
  failoverEndpoints: readonly string[];
  /** Failover: the upstreams after the primary, from the config file (or the two lists above); [] = no failover. */
  upstreams: readonly UpstreamConfig[];
  /** Failover: consecutive failures (connection, timeout, 5xx) after which an upstream counts as down. */
  failoverAfterFailures: number;
  /** Failover: an upstream failing without a success for this long counts as down, however few the failures. ms. */
  failoverAfterMs: number;
  /** Failover: first probe of a down upstream after this, doubling per failed probe. ms. */
  failoverProbeMs: number;
  /** Failover: longest wait between probes of a down upstream. ms. */
  failoverProbeMaxMs: number;
  /** Failover: FIFO queues move to the next upstream too (off: they stay and wait; order and deduplication are per region). */
  failoverFifo: 'on' | 'off';
  /** Large messages: S3 bucket for payloads past the threshold; empty = no offload (over-size sends get 413). */
  s3Bucket: string;
  /** Large messages: prefix of the object keys (the key is prefix + message id). */
  s3Prefix: string;
  /** Large messages: S3-compatible endpoint (path-style URLs); empty = AWS's for --region (virtual-hosted). */
  s3Endpoint: string;
  /** Large messages: offload a message larger than this (body + attributes). bytes; 0 = the queue's MaximumMessageSize. */
  s3ThresholdBytes: number;
  /** Large messages: offload every message, whatever its size. */
  s3Always: 'on' | 'off';
  /** Large messages: largest payload accepted when offloading. bytes. Default 64 MiB. */
  maxLargeMessageBytes: number;
  /** Workers: keep a payload's S3 object after the app handled the message (default: deleted). */
  s3KeepReceived: 'on' | 'off';
}

export type Kind = 'string' | 'int' | 'enum' | 'list' | 'workers' | 'upstreams';

export interface OptionSpec {
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
  /** A realistic value for the README's table; the default is shown when absent. */
  example?: string;
  /** SIGHUP applies a new value without a restart. */
  reloadable?: boolean;
  /** A list flag given more than once adds to the list (--failover-region). */
  repeatable?: boolean;
}

const MiB = 1_048_576;

export const OPTIONS: readonly OptionSpec[] = [
  { key: 'configFile', flag: '--config', env: ['SQS_ACCELERATOR_CONFIG'], kind: 'string', default: '', example: '/etc/sqs-accelerator/config.json', doc: 'JSON file of options keyed by the names in this table, e.g. {"region": "eu-west-1", "lingerMs": 5}. Flags and environment variables win over it.' },
  { key: 'host', flag: '--host', env: ['SQS_ACCELERATOR_HOST'], kind: 'string', default: '127.0.0.1', example: '127.0.0.1', doc: 'Address to listen on. Keep it on loopback: senders are local apps.' },
  { key: 'port', flag: '--port', env: ['SQS_ACCELERATOR_PORT'], kind: 'int', default: '9292', min: 0, max: 65535, example: '9292', doc: 'TCP port to listen on (0 = any free port).' },
  { key: 'region', flag: '--region', env: ['SQS_ACCELERATOR_REGION', 'AWS_REGION', 'AWS_DEFAULT_REGION'], kind: 'string', default: '', example: 'eu-west-1', doc: 'AWS region, e.g. eu-west-1. Required unless --endpoint is given (then default us-east-1).' },
  { key: 'endpoint', flag: '--endpoint', env: ['SQS_ACCELERATOR_ENDPOINT', 'AWS_ENDPOINT_URL_SQS', 'AWS_ENDPOINT_URL'], kind: 'string', default: '', example: 'http://127.0.0.1:4566', doc: 'SQS endpoint URL (an SQS-compatible service or emulator). Default: the region\'s AWS endpoint.' },
  { key: 'credentials', flag: '--credentials', env: ['SQS_ACCELERATOR_CREDENTIALS'], kind: 'enum', values: ['pass-through', 'chain'], default: 'pass-through', example: 'chain', doc: 'pass-through: sign with the Basic-auth pair each client sends (user = access key id, password = secret). chain: sign with the AWS default provider chain (env, profile, SSO, ECS/EC2 roles).' },
  { key: 'usersFile', flag: '--users-file', env: ['SQS_ACCELERATOR_USERS_FILE'], kind: 'string', default: '', example: '/etc/sqs-accelerator/users', doc: 'With --credentials chain: Basic-auth users allowed to use the daemon, one name:scrypt$... line each (sqs-accelerator hash-password NAME makes one). Empty: no local check (any local process may send with the daemon\'s credentials).' },
  { key: 'loginRefusalDelayMs', flag: '--login-refusal-delay-ms', env: ['SQS_ACCELERATOR_LOGIN_REFUSAL_DELAY_MS'], kind: 'int', default: '1000', unit: 'ms', min: 0, max: 60_000, example: '0', doc: 'With --users-file: a client throttled for failed logins gets its 429 TooManyFailedLogins after this long (at most its Retry-After; at most 256 held at once, past that answered at once and its connection closed), so a client that ignores Retry-After cannot make the daemon answer it as fast as it can. 0: answered at once.' },
  { key: 'sqsApiKeysFile', flag: '--sqs-api-keys-file', env: ['SQS_ACCELERATOR_SQS_API_KEYS_FILE'], kind: 'string', default: '', example: '/etc/sqs-accelerator/sqs-api-keys', doc: 'With --credentials chain: callers of the SQS API (AWS SDKs pointed at the daemon) must sign with one of these keys, one ACCESS_KEY_ID:SECRET line each (mode 0600); wrong or unknown keys get SignatureDoesNotMatch / InvalidClientTokenId. Empty: any local process may call the SQS API, which signs with the daemon\'s credentials.' },
  { key: 'lingerMs', flag: '--linger-ms', env: ['SQS_ACCELERATOR_LINGER_MS'], kind: 'int', default: '10', unit: 'ms', min: 0, max: 10_000, example: '5', doc: 'How long a partial batch waits for more messages while another batch of its queue is in flight. Idle queues send at once.' },
  { key: 'maxConcurrency', flag: '--max-concurrency', env: ['SQS_ACCELERATOR_MAX_CONCURRENCY'], kind: 'int', default: '256', min: 1, max: 10_000, example: '128', doc: 'SendMessageBatch requests in flight at once, all queues together, at most. The daemon starts at 64 (or this, if lower), adds one for each batch that comes back while others wait for a slot, and halves it (not below 8) when SQS throttles; at most 64 MiB of messages are in flight.' },
  { key: 'connections', flag: '--connections', env: ['SQS_ACCELERATOR_CONNECTIONS'], kind: 'int', default: '256', min: 1, max: 10_000, example: '32', doc: 'Keep-alive connections to the SQS endpoint, at most (opened as requests need them: fewer than --max-concurrency caps the requests in flight).' },
  { key: 'requestTimeoutMs', flag: '--request-timeout-ms', env: ['SQS_ACCELERATOR_REQUEST_TIMEOUT_MS'], kind: 'int', default: '10000', unit: 'ms', min: 1000, max: 600_000, example: '5000', doc: 'Timeout of one request to SQS (headers, then body); a timeout is retried.' },
  { key: 'retryBaseMs', flag: '--retry-base-ms', env: ['SQS_ACCELERATOR_RETRY_BASE_MS'], kind: 'int', default: '100', unit: 'ms', min: 1, max: 600_000, example: '200', doc: 'First retry delay; doubles per attempt, jittered.' },
  { key: 'retryMaxMs', flag: '--retry-max-ms', env: ['SQS_ACCELERATOR_RETRY_MAX_MS'], kind: 'int', default: '20000', unit: 'ms', min: 1, max: 3_600_000, example: '60000', doc: 'Longest retry delay.' },
  { key: 'maxMessageAgeMs', flag: '--max-message-age-ms', env: ['SQS_ACCELERATOR_MAX_MESSAGE_AGE_MS'], kind: 'int', default: '604800000', unit: 'ms', min: 0, example: '86400000', doc: 'Dead-letter a message still undelivered this long after it was accepted (default 7 days; 0 = never).' },
  { key: 'maxMessageBytes', flag: '--max-message-bytes', env: ['SQS_ACCELERATOR_MAX_MESSAGE_BYTES'], kind: 'int', default: String(MiB), unit: 'bytes', min: 1, max: MiB, example: '262144', doc: 'Largest message (body + attributes). SQS allows 1 MiB; a queue\'s MaximumMessageSize can lower it further.' },
  { key: 'maxRequestBytes', flag: '--max-request-bytes', env: ['SQS_ACCELERATOR_MAX_REQUEST_BYTES'], kind: 'int', default: String(32 * MiB), unit: 'bytes', min: 1024, example: '8388608', doc: 'Largest HTTP request body (batch ingest).' },
  { key: 'maxInflightBodyBytes', flag: '--max-inflight-body-bytes', env: ['SQS_ACCELERATOR_MAX_INFLIGHT_BODY_BYTES'], kind: 'int', default: '0', unit: 'bytes', min: 0, example: '134217728', doc: 'Request-body bytes held in memory by all requests together (REST sends, the SQS API, UI forms, raw uploads of large messages). A request whose body would pass it gets 503 TooManyBodyBytes with Retry-After at once; nothing waits, nothing of it is kept. 0: an eighth of the V8 heap limit (node --max-old-space-size), at least --max-request-bytes. Never below --max-request-bytes.' },
  { key: 'maxBatchEntries', flag: '--max-batch-entries', env: ['SQS_ACCELERATOR_MAX_BATCH_ENTRIES'], kind: 'int', default: '10000', min: 1, max: 1_000_000, example: '1000', doc: 'Most messages in one batch request (JSON array or NDJSON); a larger batch gets 413 TooManyEntries, found before the rest of it is parsed.' },
  { key: 'maxBacklogMessages', flag: '--max-backlog-messages', env: ['SQS_ACCELERATOR_MAX_BACKLOG_MESSAGES'], kind: 'int', default: '1000000', min: 1, example: '100000', doc: 'Messages accepted but not yet delivered before new sends get 503 + Retry-After.' },
  { key: 'maxBacklogBytes', flag: '--max-backlog-bytes', env: ['SQS_ACCELERATOR_MAX_BACKLOG_BYTES'], kind: 'int', default: String(1024 * MiB), unit: 'bytes', min: MiB, example: '268435456', doc: 'Bytes accepted but not yet delivered before new sends get 503 + Retry-After.' },
  { key: 'shutdownGraceMs', flag: '--shutdown-grace-ms', env: ['SQS_ACCELERATOR_SHUTDOWN_GRACE_MS'], kind: 'int', default: '10000', unit: 'ms', min: 0, max: 600_000, example: '20000', doc: 'On SIGTERM, how long to keep delivering before exiting.' },
  { key: 'metricsTokenFile', flag: '--metrics-token-file', env: ['SQS_ACCELERATOR_METRICS_TOKEN_FILE'], kind: 'string', default: '', example: '/etc/sqs-accelerator/metrics-token', doc: 'File holding a token that GET /metrics then requires as "Authorization: Bearer <token>" (Prometheus: authorization.credentials_file). Empty: /metrics is open to local processes; it shows counters and up to 1,000 queue names, never credentials or message content.' },
  { key: 'maxDestinations', flag: '--max-destinations', env: ['SQS_ACCELERATOR_MAX_DESTINATIONS'], kind: 'int', default: '10000', min: 1, max: 10_000_000, example: '1000', doc: 'Queue and credential pairs the daemon delivers to at once. A send to one more gets 503 TooManyDestinations; what the daemon keeps for a pair (batcher, counters, resolved URL) is released after 10 minutes idle.' },
  { key: 'fifoDefaultGroupId', flag: '--fifo-default-group-id', env: ['SQS_ACCELERATOR_FIFO_DEFAULT_GROUP_ID'], kind: 'string', default: '', example: 'default', doc: 'Message group for FIFO sends that name none. Empty: such sends get 400.' },
  { key: 'fifoMaxPerGroup', flag: '--fifo-max-per-group', env: ['SQS_ACCELERATOR_FIFO_MAX_PER_GROUP'], kind: 'int', default: '1', min: 1, max: 10, example: '10', doc: 'FIFO queues: messages of one message group in one SendMessageBatch. 1 keeps group order even if SQS fails one entry of a batch and accepts a later one of the same group; up to 10 sends a single busy group up to 10x faster without that guarantee. Batches still fill from different groups.' },
  { key: 'allowedHosts', flag: '--allowed-hosts', env: ['SQS_ACCELERATOR_ALLOWED_HOSTS'], kind: 'list', default: '', example: 'sqs-accelerator.internal', doc: 'Comma-separated extra Host names accepted (besides localhost, 127.0.0.1, [::1]); guards against DNS rebinding.' },
  { key: 'maxConnections', flag: '--max-connections', env: ['SQS_ACCELERATOR_MAX_CONNECTIONS'], kind: 'int', default: '1024', min: 1, max: 1_000_000, example: '4096', doc: 'Client connections open at once (keep-alive ones included). Past it a new connection is answered 503 TooManyConnections and closed.' },
  { key: 'headersTimeoutMs', flag: '--headers-timeout-ms', env: ['SQS_ACCELERATOR_HEADERS_TIMEOUT_MS'], kind: 'int', default: '10000', unit: 'ms', min: 100, max: 600_000, example: '5000', doc: 'A client must send the headers of a request within this (then 408 and the connection is closed): slow clients cannot hold connections.' },
  { key: 'clientRequestTimeoutMs', flag: '--client-request-timeout-ms', env: ['SQS_ACCELERATOR_CLIENT_REQUEST_TIMEOUT_MS'], kind: 'int', default: '30000', unit: 'ms', min: 100, max: 3_600_000, example: '60000', doc: 'A client must send a whole request, headers and body, within this (then 408 and the connection is closed). At least --headers-timeout-ms.' },
  { key: 'keepAliveTimeoutMs', flag: '--keep-alive-timeout-ms', env: ['SQS_ACCELERATOR_KEEP_ALIVE_TIMEOUT_MS'], kind: 'int', default: '65000', unit: 'ms', min: 100, max: 3_600_000, example: '10000', doc: 'An idle keep-alive client connection is closed after this. Longer than clients\' own idle timeouts, so a client never reuses a connection the daemon is closing.' },
  { key: 'logLevel', flag: '--log-level', env: ['SQS_ACCELERATOR_LOG_LEVEL', 'LOG_LEVEL'], kind: 'enum', values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info', example: 'debug', reloadable: true, doc: 'Log level; logs are JSON lines on stdout.' },
  // spool
  { key: 'durability', flag: '--durability', env: ['SQS_ACCELERATOR_DURABILITY'], kind: 'enum', values: ['memory', 'write', 'fsync'], default: 'write', example: 'fsync', doc: 'When a 202 is sent. write: after the message is written to the spool journal (survives a daemon crash). fsync: after it is also fdatasync\'ed, with group commit (survives power loss). memory: no spool, as in 2009 (a crash loses the backlog; no dead-letter store).' },
  { key: 'spoolDir', flag: '--spool-dir', env: ['SQS_ACCELERATOR_SPOOL_DIR'], kind: 'string', default: '', example: '/var/lib/sqs-accelerator', doc: 'Spool directory (journal and dead letters), created 0700 with 0600 files. Default: $STATE_DIRECTORY (systemd), else $XDG_STATE_HOME/sqs-accelerator, else ~/.local/state/sqs-accelerator.' },
  { key: 'maxSpoolBytes', flag: '--max-spool-bytes', env: ['SQS_ACCELERATOR_MAX_SPOOL_BYTES'], kind: 'int', default: String(4096 * MiB), unit: 'bytes', min: MiB, doc: 'Most journal bytes on disk; beyond it new sends get 503 + Retry-After.' },
  { key: 'spoolSegmentBytes', flag: '--spool-segment-bytes', env: ['SQS_ACCELERATOR_SPOOL_SEGMENT_BYTES'], kind: 'int', default: String(64 * MiB), unit: 'bytes', min: 64 * 1024, doc: 'Journal segment size; a segment is deleted once every message in it is delivered or dead-lettered.' },
  { key: 'maxDeadLetters', flag: '--max-dead-letters', env: ['SQS_ACCELERATOR_MAX_DEAD_LETTERS'], kind: 'int', default: '100000', min: 1, max: 10_000_000, example: '1000000', doc: 'Most dead letters kept in the spool directory (one file each; the index the daemon keeps of them takes about 260 bytes of memory a letter). Past it a message SQS refuses for good is not lost: it stays in the journal (logged once when the store fills) and is sent again at the next start; replay or purge letters to make room.' },
  { key: 'maxInMemoryMessages', flag: '--max-in-memory-messages', env: ['SQS_ACCELERATOR_MAX_IN_MEMORY_MESSAGES'], kind: 'int', default: '10000', min: 100, example: '50000', doc: 'Messages held in memory at most (each costs about 600 bytes of heap besides its body); with a spool, the rest of the backlog waits on disk and is read back in order, so memory stays bounded during long outages. 10,000 is some fifteen times what 64 batches in flight take.' },
  { key: 'maxInMemoryBytes', flag: '--max-in-memory-bytes', env: ['SQS_ACCELERATOR_MAX_IN_MEMORY_BYTES'], kind: 'int', default: '0', unit: 'bytes', min: 0, example: '67108864', doc: 'Message bytes (body + attributes) held in memory at most, as --max-in-memory-messages counts messages: with a spool the rest of the backlog waits on disk, so a backlog of large messages stays within the V8 heap. 0: an eighth of the V8 heap limit (node --max-old-space-size).' },
  // worker side (README "Worker side")
  { key: 'workers', flag: '--worker', env: ['SQS_ACCELERATOR_WORKERS'], kind: 'workers', default: '', example: 'orders=http://127.0.0.1:8080/work', doc: 'Poll this SQS queue and POST each message to this local app, like Elastic Beanstalk\'s sqsd: <queue>=<url>. Repeatable; the environment variable takes entries separated by spaces; the config file takes a list of such strings or objects {"queue", "url", and any of concurrency, visibilityTimeoutSeconds, inactivityTimeoutSeconds, errorVisibilityTimeoutSeconds, maxRetries, waitTimeSeconds, contentType, replyQueue, credentials}. The URL must be loopback unless its host is in --worker-allowed-hosts.' },
  { key: 'workerConcurrency', flag: '--worker-concurrency', env: ['SQS_ACCELERATOR_WORKER_CONCURRENCY'], kind: 'int', default: '50', min: 1, max: 10_000, example: '20', doc: 'Workers: messages POSTed to the app at once, at most (sqsd: HTTP connections, 50). Lowered while the app answers 429/503 or slows down.' },
  { key: 'workerVisibilityTimeoutSeconds', flag: '--worker-visibility-timeout', env: ['SQS_ACCELERATOR_WORKER_VISIBILITY_TIMEOUT'], kind: 'int', default: '300', unit: 's', min: 1, max: 43_200, example: '60', doc: 'Workers: visibility timeout asked for on receive and renewed while the app works, so a slow task is not handed to another worker (sqsd: 300).' },
  { key: 'workerInactivityTimeoutSeconds', flag: '--worker-inactivity-timeout', env: ['SQS_ACCELERATOR_WORKER_INACTIVITY_TIMEOUT'], kind: 'int', default: '299', unit: 's', min: 1, max: 36_000, example: '120', doc: 'Workers: how long the app may take to answer one message; then it counts as failed (sqsd: 299).' },
  { key: 'workerErrorVisibilityTimeoutSeconds', flag: '--worker-error-visibility-timeout', env: ['SQS_ACCELERATOR_WORKER_ERROR_VISIBILITY_TIMEOUT'], kind: 'int', default: '2', unit: 's', min: 0, max: 43_200, example: '5', doc: 'Workers: after a failed delivery the message reappears after this, doubled per earlier receive, at most 15 min or this value if larger (sqsd: 2, fixed).' },
  { key: 'workerMaxRetries', flag: '--worker-max-retries', env: ['SQS_ACCELERATOR_WORKER_MAX_RETRIES'], kind: 'int', default: '10', min: 1, max: 1000, example: '5', doc: 'Workers: deliveries of one message to the app, at most; after that it is left to the queue\'s redrive policy (sqsd: 10).' },
  { key: 'workerWaitTimeSeconds', flag: '--worker-wait-time', env: ['SQS_ACCELERATOR_WORKER_WAIT_TIME'], kind: 'int', default: '20', unit: 's', min: 0, max: 20, example: '20', doc: 'Workers: long-poll wait of each ReceiveMessage (20 = SQS\'s longest, the fewest empty receives).' },
  { key: 'workerContentType', flag: '--worker-content-type', env: ['SQS_ACCELERATOR_WORKER_CONTENT_TYPE'], kind: 'string', default: 'application/json', example: 'text/plain', doc: 'Workers: Content-Type of the POSTs to the app (sqsd: application/json).' },
  { key: 'workerReplyQueue', flag: '--worker-reply-queue', env: ['SQS_ACCELERATOR_WORKER_REPLY_QUEUE'], kind: 'string', default: '', example: 'results', doc: 'Workers: queue the app\'s 2xx bodies are sent to when a message has no ReplyTo attribute. Empty: only messages with ReplyTo get replies.' },
  { key: 'workerAllowedHosts', flag: '--worker-allowed-hosts', env: ['SQS_ACCELERATOR_WORKER_ALLOWED_HOSTS'], kind: 'list', default: '', example: 'app.internal', doc: 'Workers: comma-separated hosts besides loopback that worker URLs may name (the messages then leave this machine).' },
  // SQS's truth
  { key: 'queueRefreshMs', flag: '--queue-refresh-ms', env: ['SQS_ACCELERATOR_QUEUE_REFRESH_MS'], kind: 'int', default: '60000', unit: 'ms', min: 0, max: 86_400_000, example: '30000', doc: 'How often the settings of queues in use (ContentBasedDeduplication, MaximumMessageSize) are read again from SQS; also at once after an error that hints they changed. 0 = only then.' },
  { key: 'messageWindow', flag: '--message-window', env: ['SQS_ACCELERATOR_MESSAGE_WINDOW'], kind: 'int', default: '10000', min: 100, max: 1_000_000, example: '50000', doc: 'Recent messages whose state (spooled, in flight, delivered with SQS\'s MessageId, dead-lettered) GET /messages/:id can tell; kept in memory, oldest forgotten first (about 110-220 bytes each, in typed arrays: slots are allocated in powers of two).' },
  { key: 'waitTimeoutMs', flag: '--wait-timeout-ms', env: ['SQS_ACCELERATOR_WAIT_TIMEOUT_MS'], kind: 'int', default: '30000', unit: 'ms', min: 100, max: 600_000, example: '10000', doc: 'Longest a POST /queues/:name?wait=1 waits for SQS to accept the message; then it is answered 202 with the state so far (the message is accepted either way).' },
  { key: 'traceAttributes', flag: '--trace-attributes', env: ['SQS_ACCELERATOR_TRACE_ATTRIBUTES'], kind: 'enum', values: ['on', 'off'], default: 'on', example: 'off', doc: 'Carry W3C traceparent/tracestate request headers as message attributes of those names (OpenTelemetry\'s convention for SQS), when the message has room within 10 attributes and its size limit. X-Amzn-Trace-Id always becomes the AWSTraceHeader system attribute.' },
  { key: 'replyQueueName', flag: '--reply-queue-name', env: ['SQS_ACCELERATOR_REPLY_QUEUE_NAME'], kind: 'string', default: '', example: 'web-1-replies', doc: 'Request/reply (POST /queues/:name?reply=): this daemon\'s reply queue, created on first use with a 5-minute retention. Default: sqs-accelerator-replies-<hostname>. Must be this daemon\'s alone.' },
  { key: 'replyMaxWaitSeconds', flag: '--reply-max-wait', env: ['SQS_ACCELERATOR_REPLY_MAX_WAIT'], kind: 'int', default: '60', unit: 's', min: 1, max: 900, example: '30', doc: 'Request/reply: longest ?reply=<seconds> a request may ask for.' },
  { key: 'replyKeepSeconds', flag: '--reply-keep', env: ['SQS_ACCELERATOR_REPLY_KEEP'], kind: 'int', default: '300', unit: 's', min: 1, max: 3600, example: '120', doc: 'Request/reply: how long a reply that came after its request gave up stays readable at GET /replies/:id.' },
  { key: 'repliesMaxCount', flag: '--replies-max-count', env: ['SQS_ACCELERATOR_REPLIES_MAX_COUNT'], kind: 'int', default: '10000', min: 1, example: '1000', doc: 'Request/reply: most late replies kept, and most requests waiting at once; past it the oldest reply goes and new waits get 503.' },
  // failover (src/upstreams/, README "Failover")
  { key: 'failoverRegions', flag: '--failover-region', env: ['SQS_ACCELERATOR_FAILOVER_REGIONS'], kind: 'list', repeatable: true, default: '', example: 'eu-central-1', doc: 'Failover: an AWS region to deliver to when the ones before it are down, the same queue names there. Repeatable, tried in the order given after --region; the environment variable takes a comma-separated list.' },
  { key: 'failoverEndpoints', flag: '--failover-endpoint', env: ['SQS_ACCELERATOR_FAILOVER_ENDPOINTS'], kind: 'list', repeatable: true, default: '', example: 'https://sqs.eu-central-1.amazonaws.com', doc: 'Failover: an SQS-compatible endpoint URL tried after the --failover-region ones (signed with --region). Repeatable.' },
  { key: 'upstreams', flag: '--upstreams', env: ['SQS_ACCELERATOR_UPSTREAMS'], kind: 'upstreams', default: '', example: '[{"region":"eu-central-1","profile":"dr"}]', doc: 'Failover: the upstreams after the primary as a JSON array of {"region", "endpoint", "profile", "name"} (region or endpoint or both; profile: with --credentials chain, the AWS profile that signs there; name: shown in /status and /metrics). Instead of --failover-region/--failover-endpoint; usually set in the config file.' },
  { key: 'failoverAfterFailures', flag: '--failover-after-failures', env: ['SQS_ACCELERATOR_FAILOVER_AFTER_FAILURES'], kind: 'int', default: '3', min: 1, max: 1000, example: '5', doc: 'Failover: consecutive failed requests (connection errors, timeouts, 5xx; never throttling or a queue\'s refusal) after which an upstream counts as down and new batches go to the next healthy one.' },
  { key: 'failoverAfterMs', flag: '--failover-after-ms', env: ['SQS_ACCELERATOR_FAILOVER_AFTER_MS'], kind: 'int', default: '1000', unit: 'ms', min: 1, max: 3_600_000, example: '5000', doc: 'Failover: an upstream whose requests have failed for this long without a success counts as down, however few failed.' },
  { key: 'failoverProbeMs', flag: '--failover-probe-ms', env: ['SQS_ACCELERATOR_FAILOVER_PROBE_MS'], kind: 'int', default: '1000', unit: 'ms', min: 10, max: 3_600_000, example: '2000', doc: 'Failover: a down upstream is probed (GetQueueUrl) after this, then after twice as long per failed probe; queues return to it once it answers.' },
  { key: 'failoverProbeMaxMs', flag: '--failover-probe-max-ms', env: ['SQS_ACCELERATOR_FAILOVER_PROBE_MAX_MS'], kind: 'int', default: '30000', unit: 'ms', min: 10, max: 3_600_000, example: '60000', doc: 'Failover: longest wait between two probes of a down upstream.' },
  { key: 'failoverFifo', flag: '--failover-fifo', env: ['SQS_ACCELERATOR_FAILOVER_FIFO'], kind: 'enum', values: ['off', 'on'], default: 'off', example: 'on', doc: 'Failover: off: FIFO queues stay on their upstream and wait (spooled) while it is down. on: they move too, at a cost: order holds only within each region, and deduplication does not span regions (a message whose answer was lost can arrive in both).' },
  // large messages (README "Large messages")
  { key: 's3Bucket', flag: '--s3-bucket', env: ['SQS_ACCELERATOR_S3_BUCKET'], kind: 'string', default: '', example: 'my-app-large-messages', doc: 'Large messages: store the payload of a message over --s3-threshold-bytes in this S3 bucket and send a pointer in the Amazon SQS Extended Client format instead. Empty: no offload; an over-size message gets 413.' },
  { key: 's3Prefix', flag: '--s3-prefix', env: ['SQS_ACCELERATOR_S3_PREFIX'], kind: 'string', default: '', example: 'sqs/', doc: 'Large messages: prefix of the object keys (a key is the prefix + the message id); letters, digits and . / _ - only, as the Extended Client allows.' },
  { key: 's3Endpoint', flag: '--s3-endpoint', env: ['SQS_ACCELERATOR_S3_ENDPOINT', 'AWS_ENDPOINT_URL_S3', 'AWS_ENDPOINT_URL'], kind: 'string', default: '', example: 'http://127.0.0.1:4566', doc: 'Large messages: S3-compatible endpoint, addressed path-style (<endpoint>/<bucket>/<key>). Default: AWS S3 in --region, virtual-hosted style.' },
  { key: 's3ThresholdBytes', flag: '--s3-threshold-bytes', env: ['SQS_ACCELERATOR_S3_THRESHOLD_BYTES'], kind: 'int', default: '0', unit: 'bytes', min: 0, max: MiB, example: '262144', doc: 'Large messages: a message larger than this (body + attributes, as SQS counts) goes through S3. 0: the queue\'s MaximumMessageSize. Never above the queue\'s limit.' },
  { key: 's3Always', flag: '--s3-always', env: ['SQS_ACCELERATOR_S3_ALWAYS'], kind: 'enum', values: ['on', 'off'], default: 'off', example: 'on', doc: 'Large messages: on = every message goes through S3, whatever its size (the Extended Client\'s alwaysThroughS3).' },
  { key: 'maxLargeMessageBytes', flag: '--max-large-message-bytes', env: ['SQS_ACCELERATOR_MAX_LARGE_MESSAGE_BYTES'], kind: 'int', default: String(64 * MiB), unit: 'bytes', min: MiB, example: '268435456', doc: 'Large messages: largest payload accepted with --s3-bucket (a raw POST body is streamed to the spool; JSON, form and SQS API bodies stay within --max-request-bytes). Larger: 413.' },
  { key: 's3KeepReceived', flag: '--s3-keep-received', env: ['SQS_ACCELERATOR_S3_KEEP_RECEIVED'], kind: 'enum', values: ['on', 'off'], default: 'off', example: 'on', doc: 'Workers: on = keep a payload\'s S3 object after the app answered 2xx and the message was deleted (default: the object is deleted, as the Extended Client does).' },
  { key: 'repliesMaxBytes', flag: '--replies-max-bytes', env: ['SQS_ACCELERATOR_REPLIES_MAX_BYTES'], kind: 'int', default: String(64 * MiB), unit: 'bytes', min: MiB, example: '16777216', doc: 'Request/reply: most bytes of late replies kept; the oldest goes first.' },
];
