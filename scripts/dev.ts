/**
 * `npm start`: the daemon against an embedded fauxqs SQS and S3 emulator, for trying it out.
 * Says loudly that it is an emulator; the real CLI never falls back to one.
 *
 * Large messages: the emulator's S3 (path style, same port) holds a bucket,
 * `sqs-accelerator-dev` (or the one `--s3-bucket` names), and the daemon runs with
 * `--s3-bucket`/`--s3-endpoint` pointed at it, so a message over the queue's limit goes
 * through S3 as it would against AWS. `--s3-endpoint` is refused like `--endpoint`.
 *
 * Everything after `npm start --` goes to the real CLI's main(), so `--help`, `--version`,
 * every option, the start-up errors ("127.0.0.1:9292 is already in use") and the exit codes
 * are the CLI's own. Only `--region`/`--endpoint` are refused: they would point the daemon
 * away from the emulator this script announces. The temporary spool is removed on every
 * exit that runs JavaScript (clean stop, second signal, failed start, crash); only SIGKILL
 * can leave it behind.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from 'fauxqs';
import { EXIT, main } from '../src/cli.js';
import { loadConfig, parseArgs } from '../src/config.js';
import { loginLines } from './dev-banner.js';

const argv = process.argv.slice(2);
/** The bucket npm start creates in the emulator's S3 for large messages. */
const DEV_BUCKET = 'sqs-accelerator-dev';
/** What main() sees: the caller's environment, pointed at the emulator and the temporary spool. */
const devEnv = (endpoint: string, spoolDir: string) => ({
  ...process.env,
  SQS_ACCELERATOR_ENDPOINT: endpoint,
  SQS_ACCELERATOR_REGION: 'us-east-1',
  SQS_ACCELERATOR_SPOOL_DIR: spoolDir,
  // The emulator's S3 is on the same port; a bucket named in the caller's environment or on the command line wins.
  SQS_ACCELERATOR_S3_ENDPOINT: endpoint,
  SQS_ACCELERATOR_S3_BUCKET: process.env.SQS_ACCELERATOR_S3_BUCKET || DEV_BUCKET,
});

/** What main() does with these arguments without starting a daemon: help, version, or refusing them. */
function answeredWithoutDaemon(): boolean {
  try {
    const args = parseArgs(argv);
    if (args.help || args.version || args.waitReady) return true;
    loadConfig(argv, devEnv('http://127.0.0.1:1', tmpdir())); // placeholders: only the options are checked
    return false;
  } catch {
    return true; // main() prints the same error and sets the exit code
  }
}

if (argv[0] !== undefined && !argv[0].startsWith('-')) {
  process.stderr.write(`npm start: runs the daemon only; for "${argv[0]}" use the command itself: sqs-accelerator ${argv[0]} ...\n`);
  process.exit(EXIT.badConfig);
}
const pointsAway = argv.find((a) => /^--(region|endpoint|s3-endpoint)(=|$)/.test(a));
if (pointsAway !== undefined) {
  process.stderr.write(`npm start: ${pointsAway.split('=')[0]} is not for the embedded emulator; against real SQS run: sqs-accelerator ${argv.join(' ')}\n`);
  process.exit(EXIT.badConfig);
}
if (answeredWithoutDaemon()) {
  if (argv.some((a) => a === '--help' || a === '-h')) {
    process.stdout.write('npm start [-- options]: the daemon below against an embedded SQS emulator (fauxqs), with a temporary spool.\n\n');
  }
  await main(argv, process.env);
  process.exit(process.exitCode ?? EXIT.ok);
}

const emulator = buildApp({ logger: false });
const endpoint = await emulator.listen({ host: '127.0.0.1', port: 0 });
// Demo queues, created through the emulator's own API.
for (const [name, attrs] of [['demo', {}], ['demo.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'false' }]] as const) {
  await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.CreateQueue', authorization: 'AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0' },
    body: JSON.stringify({ QueueName: name, Attributes: attrs }),
  });
}
const bucketOf = loadConfig(argv, devEnv(endpoint, tmpdir())).s3Bucket;
// The bucket for large messages, created through the emulator's S3 API (path style, unsigned is fine for fauxqs).
const made = await fetch(`${endpoint}/${bucketOf}`, { method: 'PUT' });
if (!made.ok && !(await made.text()).includes('BucketAlreadyOwnedByYou')) {
  process.stderr.write(`npm start: the embedded emulator would not create S3 bucket ${bucketOf} (HTTP ${made.status})\n`);
  await emulator.close();
  process.exit(EXIT.crash);
}
await made.body?.cancel();
// The emulator forgets everything when this process ends, so the spool does too: a temporary
// one (unless --spool-dir names one, which is then the caller's and stays).
const spoolDir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-dev-'));
process.on('exit', () => rmSync(spoolDir, { recursive: true, force: true }));
const env = devEnv(endpoint, spoolDir);
const config = loadConfig(argv, env);
// Starts the daemon and installs the CLI's signal handlers (graceful stop, exit 0); on a failed
// start it has printed why and set the exit code.
await main(argv, env);
if (process.exitCode !== undefined && process.exitCode !== EXIT.ok) {
  await emulator.close();
  process.exit(process.exitCode);
}
const url = config.port === 0 ? `http://${config.host}:<port>` : `http://${config.host}:${config.port}`;
process.stdout.write(
  [
    '',
    `  sqs-accelerator is running at ${url}${config.port === 0 ? ' (the port is in the "listening" log line above)' : ''}`,
    `  UPSTREAM IS AN EMBEDDED LOCAL SQS EMULATOR (fauxqs) at ${endpoint}, not Amazon SQS.`,
    `  Large messages (over a queue's limit) go through the emulator's S3: --s3-bucket ${config.s3Bucket} --s3-endpoint ${endpoint}.`,
    `  Queues, messages and S3 objects live in this process only (spool: ${config.spoolDir}${config.spoolDir === spoolDir ? ', removed at exit' : ''}).`,
    '  For real SQS: sqs-accelerator --region <region> (install it from the release tarball or the .deb, see README).',
    ...loginLines(config, url),
    '',
  ].join('\n'),
);
