import { existsSync } from 'node:fs';
import { type Config, loadConfig } from '../config.js';
import { EXIT } from '../errors.js';
import { endpointFor, SqsClient } from '../sqs/client.js';
import type { Credentials } from '../sqs/types.js';
import { DeadLetterDir } from '../spool/dead-letters.js';
import { payloadUploader, replayDeadLetters, type ReplayResult } from '../spool/replay.js';
import { S3Client } from '../s3/client.js';
import { type PurgeResult, purgeDeadLetters } from '../spool/purge.js';

export const DEAD_LETTERS_HELP = `Usage: sqs-accelerator dead-letters <command> [options]

Messages SQS refused for good (queue deleted, access denied, invalid contents, too old) are
kept as files in <spool-dir>/dead-letters. These commands work whether the daemon runs or not.

Commands:
  list [--queue Q] [--limit N] [--json]        oldest first: id, queue, error code, attempts, time, body preview
  show <id> [--json]                           one letter in full (never its credentials)
  replay <id>... | --all [--queue Q]           send again to SQS, then remove; --to-queue NAME sends elsewhere
         [--to-queue NAME] [--region R | --endpoint URL] [--credentials stored|chain]
  purge <id>... | --all [--queue Q] --yes      delete for good; a large message's S3 object (one the daemon
         [--keep-objects]                      offloaded) goes too, unless --keep-objects; needs --region or
                                               --s3-endpoint then, and signs as replay does (--credentials)

Options: the daemon's own, loaded as the daemon loads them (flags > environment > --config file >
defaults), so the daemon's config file is enough: dead-letters list --config /etc/sqs-accelerator/config.json
  --config FILE      the daemon's config file (or $SQS_ACCELERATOR_CONFIG, as under systemd)
  --spool-dir DIR    spool directory (default as the daemon: $SQS_ACCELERATOR_SPOOL_DIR, $STATE_DIRECTORY,
                     $XDG_STATE_HOME/sqs-accelerator, ~/.local/state/sqs-accelerator)
  --region R         for replay: AWS region (or AWS_REGION); --endpoint URL (or AWS_ENDPOINT_URL_SQS) instead
  --credentials M    for replay: stored (default: the pair the message was sent with; letters sent with the
                     daemon's own credentials use the chain) or chain (the AWS default provider chain)
  (any other daemon option is accepted and checked, e.g. --request-timeout-ms)

Exit codes: 0 done, 1 some letters failed to replay, 2 bad usage or spool not found.`;

class UsageError extends Error {}

interface Out {
  out(s: string): void;
  err(s: string): void;
}

/** Runs `dead-letters ...`; returns the exit code. */
export async function deadLettersCommand(argv: readonly string[], env: NodeJS.ProcessEnv, io: Out = defaultIo): Promise<number> {
  try {
    return await run(argv, env, io);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code === 'ECONFIG') {
      io.err(`sqs-accelerator dead-letters: ${(err as Error).message}\n(see sqs-accelerator dead-letters --help)\n`);
      return EXIT.badConfig;
    }
    throw err;
  }
}

/** The command's own flags; `true`: takes a value. Every other `--flag` is the daemon's. */
const COMMAND_FLAGS: Readonly<Record<string, boolean>> = { '--queue': true, '--limit': true, '--json': false, '--all': false, '--yes': false, '--to-queue': true, '--credentials': true, '--keep-objects': false, '--help': false, '-h': false };

interface CommandValues {
  queue?: string;
  limit?: string;
  json?: boolean;
  all?: boolean;
  yes?: boolean;
  'to-queue'?: string;
  credentials?: string;
  'keep-objects'?: boolean;
  help?: boolean;
}

/** Splits argv into this command's flags, positionals, and the daemon options (for loadConfig). */
function splitArgs(argv: readonly string[]): { values: CommandValues; positionals: string[]; daemonArgs: string[] } {
  const values: Record<string, string | boolean> = {};
  const positionals: string[] = [];
  const daemonArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf('=');
    const flag = arg.startsWith('-') && eq > 0 ? arg.slice(0, eq) : arg;
    const takesValue = COMMAND_FLAGS[flag];
    if (takesValue === undefined) {
      if (!arg.startsWith('-')) positionals.push(arg);
      else {
        daemonArgs.push(arg);
        if (eq < 0 && i + 1 < argv.length) daemonArgs.push(argv[++i] as string);
      }
      continue;
    }
    const name = flag === '-h' ? 'help' : flag.slice(2);
    if (!takesValue) values[name] = true;
    else {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`option ${flag} needs a value`);
      values[name] = value;
    }
  }
  return { values: values as CommandValues, positionals, daemonArgs };
}

const defaultIo: Out = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

async function run(argv: readonly string[], env: NodeJS.ProcessEnv, io: Out): Promise<number> {
  const { values, positionals, daemonArgs } = splitArgs(argv);
  const [command, ...ids] = positionals;
  if (values.help || command === undefined || command === 'help') {
    io.out(`${DEAD_LETTERS_HELP}\n`);
    return command === undefined && !values.help ? 2 : 0;
  }
  // The daemon's options, as the daemon reads them: the same spool directory, region, endpoint.
  const config = loadConfig(daemonArgs, env, { requireUpstream: false });
  const spoolDir = config.spoolDir;
  if (!existsSync(spoolDir)) {
    io.err(`sqs-accelerator dead-letters: spool directory ${spoolDir} does not exist (give --spool-dir as the daemon has it)\n`);
    return 2;
  }
  const store = new DeadLetterDir(spoolDir);
  switch (command) {
    case 'list': {
      const limit = values.limit === undefined ? 1000 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError(`--limit must be a positive whole number; got ${JSON.stringify(values.limit)}`);
      const listed = await store.list({ limit, ...(values.queue ? { queue: values.queue } : {}) });
      if (values.json) {
        io.out(`${JSON.stringify(listed, null, 2)}\n`);
        return 0;
      }
      if (listed.total === 0) {
        io.out(`no dead letters in ${store.dir}\n`);
        return 0;
      }
      io.out(`${'ID'.padEnd(22)} ${'QUEUE'.padEnd(24)} ${'CODE'.padEnd(22)} ${'TRIES'.padStart(5)} ${'DEAD AT'.padEnd(24)} BODY\n`);
      for (const l of listed.items) {
        io.out(`${l.id.padEnd(22)} ${l.queueName.padEnd(24)} ${l.code.padEnd(22)} ${String(l.attempts).padStart(5)} ${new Date(l.deadAt).toISOString().padEnd(24)} ${preview(l.body)}\n`);
      }
      if (listed.total > listed.items.length) io.out(`(${listed.total - listed.items.length} more; use --limit)\n`);
      return 0;
    }
    case 'show': {
      if (ids.length !== 1) throw new UsageError('show takes exactly one id');
      const letter = await store.get(ids[0] as string);
      if (!letter) {
        io.err(`no dead letter with id ${ids[0]} in ${store.dir}\n`);
        return 1;
      }
      if (values.json) io.out(`${JSON.stringify(letter, null, 2)}\n`);
      else {
        for (const [k, v] of Object.entries(letter)) {
          const shown = k.endsWith('At') && typeof v === 'number' ? new Date(v).toISOString() : typeof v === 'string' ? v : JSON.stringify(v);
          io.out(`${k}: ${shown}\n`);
        }
      }
      return 0;
    }
    case 'purge': {
      const targets = selection(store, ids, values.all === true, values.queue);
      if (!values.yes) throw new UsageError(`purge deletes ${targets.length} letter(s) for good; add --yes to confirm`);
      return purge(store, targets, values, config, io);
    }
    case 'replay':
      return replay(store, selection(store, ids, values.all === true, values.queue), values, config, io);
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}; expected list, show, replay or purge`);
  }
}

function selection(store: DeadLetterDir, ids: string[], all: boolean, queue: string | undefined): string[] {
  if (all && ids.length > 0) throw new UsageError('give ids or --all, not both');
  if (all) return store.ids(queue);
  if (ids.length === 0) throw new UsageError('give one or more ids, or --all');
  return ids;
}

function preview(body: string): string {
  const flat = body.replace(/\s+/g, ' ');
  return flat.length > 60 ? `${flat.slice(0, 57)}...` : flat;
}

/** purge: the letters, and the S3 objects the daemon offloaded for them (unless --keep-objects). */
async function purge(store: DeadLetterDir, ids: string[], values: CommandValues, config: Readonly<Config>, io: Out): Promise<number> {
  const withObjects = values['keep-objects'] !== true && (await Promise.all(ids.map((id) => store.load(id)))).some((l) => l?.offload !== undefined);
  let s3: S3Client | undefined;
  if (withObjects) {
    if (config.region === '' && config.s3Endpoint === '') throw new UsageError('these letters\' payloads are in S3: purge needs --region (or AWS_REGION) or --s3-endpoint to delete them, or --keep-objects to leave them there');
    s3 = new S3Client({ region: config.region || 'us-east-1', ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}) });
  }
  const mode = values.credentials ?? 'stored';
  if (mode !== 'stored' && mode !== 'chain') throw new UsageError(`--credentials must be stored or chain; got ${JSON.stringify(mode)}`);
  let results: PurgeResult[];
  try {
    results = await purgeDeadLetters(store, ids, s3 ? { s3: { client: s3, credentials: (letter) => (mode === 'chain' || letter.credentials === null ? chainCredentials() : letter.credentials) } } : {});
  } finally {
    await s3?.close();
  }
  let removed = 0;
  for (const r of results) {
    if (r.ok) {
      removed += 1;
      if (r.deletedObject) io.out(`${r.id}: purged with its payload ${r.deletedObject}\n`);
    } else io.err(`${r.id}: ${r.code}: ${r.message}\n`);
  }
  io.out(`purged ${removed} dead letter(s)\n`);
  return removed === ids.length ? 0 : 1;
}

let chain: (() => Promise<Credentials>) | undefined;
/** The AWS default provider chain, loaded on first use. */
async function chainCredentials(): Promise<Credentials> {
  if (!chain) {
    const { fromNodeProviderChain } = await import('@aws-sdk/credential-providers');
    chain = fromNodeProviderChain();
  }
  return chain();
}

async function replay(
  store: DeadLetterDir,
  ids: string[],
  values: CommandValues,
  config: Readonly<Config>,
  io: Out,
): Promise<number> {
  const endpointOverride = config.endpoint || undefined;
  const region = config.region;
  if (region === '') throw new UsageError('replay needs --region (or AWS_REGION, or "region" in the --config file) or --endpoint (or AWS_ENDPOINT_URL_SQS)');
  const mode = values.credentials ?? 'stored';
  if (mode !== 'stored' && mode !== 'chain') throw new UsageError(`--credentials must be stored or chain; got ${JSON.stringify(mode)}`);
  const client = new SqsClient({ endpoint: endpointFor(region, endpointOverride), region, connections: 4, requestTimeoutMs: config.requestTimeoutMs });
  const toQueue = values['to-queue'];
  const s3 = new S3Client({ region, ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}) });
  let results: ReplayResult[];
  try {
    results = await replayDeadLetters(store, ids, {
      client,
      credentials: (letter) => (mode === 'chain' || letter.credentials === null ? chainCredentials() : letter.credentials),
      ...(toQueue ? { toQueue } : {}),
      // Large messages: a letter's payload file is uploaded again before its pointer is sent.
      uploadPayload: payloadUploader(s3, config.spoolDir),
    });
  } finally {
    await client.close();
    await s3.close();
  }
  for (const r of results) {
    if (r.ok) io.out(`${r.id}: replayed to ${r.queue} (SQS MessageId ${r.messageId ?? '?'})\n`);
    else if (r.code === 'NoSuchDeadLetter') io.err(`${r.id}: no such dead letter (already replayed or purged?)\n`);
    else io.err(`${r.id}: not replayed, kept (${r.code}: ${r.message})\n`);
  }
  const failed = results.filter((r) => !r.ok).length;
  io.out(`replayed ${ids.length - failed} of ${ids.length}\n`);
  return failed === 0 ? 0 : 1;
}
