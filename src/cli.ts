import { readFileSync } from 'node:fs';
import { ConfigError, helpText, loadConfig, parseArgs } from './config.js';
import { waitUntilReady } from './http/routes/ops.js';
import { EXIT, exitCodeFor } from './errors.js';
import { createDaemon, type Daemon } from './daemon/index.js';

export { EXIT };

/** How long `--wait-ready` polls; under systemd, TimeoutStartSec= usually ends it first. */
const WAIT_READY_MS = 120_000;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  if (argv[0] === 'hash-password') {
    process.exitCode = await hashPasswordCommand(argv.slice(1));
    return;
  }
  if (argv[0] === 'dead-letters') {
    const { deadLettersCommand } = await import('./spool/cli.js');
    process.exitCode = await deadLettersCommand(argv.slice(1), env);
    return;
  }
  let config;
  let waitReady = false;
  try {
    const args = parseArgs(argv);
    waitReady = args.waitReady;
    if (args.help) {
      process.stdout.write(`${helpText()}\n`);
      return;
    }
    if (args.version) {
      process.stdout.write(`sqs-accelerator ${version()}\n`);
      return;
    }
    config = loadConfig(argv, env);
  } catch (err) {
    if ((err as ConfigError).code === 'ECONFIG') {
      process.stderr.write(`sqs-accelerator: ${(err as Error).message}\n`);
      process.exitCode = EXIT.badConfig;
      return;
    }
    throw err;
  }
  if (waitReady) {
    try {
      if (await waitUntilReady(config, WAIT_READY_MS)) return;
      process.stderr.write(`sqs-accelerator: not ready at ${config.host}:${config.port} after ${WAIT_READY_MS} ms\n`);
      process.exitCode = EXIT.crash;
    } catch (err) {
      process.stderr.write(`sqs-accelerator: ${(err as Error).message}\n`);
      process.exitCode = EXIT.badConfig;
    }
    return;
  }
  let daemon;
  try {
    daemon = await createDaemon({ config }).start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`sqs-accelerator: cannot start: ${e.code === 'EADDRINUSE' ? `${config.host}:${config.port} is already in use` : e.message}\n`);
    process.exitCode = exitCodeFor(e);
    return;
  }
  const running = daemon;
  installSignalHandlers(daemon.stop, () => reloadConfig(running, argv, env));
}

/**
 * SIGHUP: reads the configuration again with the same flags and environment (so the config
 * file is what changes) and applies what can change live. A bad file changes nothing.
 */
function reloadConfig(daemon: Daemon, argv: readonly string[], env: NodeJS.ProcessEnv): void {
  try {
    daemon.reload(loadConfig(argv, env));
  } catch (err) {
    daemon.deps.log.error({ problem: (err as Error).message }, 'SIGHUP: configuration not reloaded; the running one stays');
  }
}

/**
 * First SIGTERM/SIGINT: graceful stop, exit 0. A second one: exit at once (130).
 * SIGHUP: `reload`, when given (otherwise Node's default, which ends the process).
 */
export function installSignalHandlers(stop: () => Promise<unknown>, reload?: () => void): void {
  let signalled = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (signalled) {
      process.stderr.write(`sqs-accelerator: second ${signal}, exiting without waiting\n`);
      process.exit(EXIT.forced);
    }
    signalled = true;
    stop().then(
      () => process.exit(EXIT.ok),
      (err: unknown) => {
        process.stderr.write(`sqs-accelerator: error during shutdown: ${(err as Error).message}\n`);
        process.exit(EXIT.crash);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  if (reload) process.on('SIGHUP', () => reload());
}

/** `hash-password NAME`: reads the password from stdin (never argv: it would show in ps) and prints a users-file line. */
async function hashPasswordCommand(argv: readonly string[]): Promise<number> {
  const name = argv[0];
  if (!name || argv.length !== 1 || !/^[^:\s]+$/.test(name)) {
    process.stderr.write('usage: sqs-accelerator hash-password NAME   (password on standard input; prints a --users-file line)\n');
    return EXIT.badConfig;
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  if (password === '') {
    process.stderr.write('sqs-accelerator hash-password: empty password on standard input\n');
    return EXIT.badConfig;
  }
  const { hashPassword } = await import('./http/users.js');
  process.stdout.write(`${hashPassword(name, password)}\n`);
  return EXIT.ok;
}
