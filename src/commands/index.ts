import { type Config, ConfigError, helpText, loadConfig, parseArgs } from '../config.js';
import { EXIT } from '../errors.js';
import { versionLine } from '../version.js';
import { applyDaemonV8Flags } from '../v8-flags.js';
import { serve } from './serve.js';
import { WAIT_READY_MS, waitUntilReady } from './wait-ready.js';

export { installSignalHandlers } from './serve.js';
export { waitUntilReady } from './wait-ready.js';

/**
 * Every command of `sqs-accelerator`, in one place. The ones that take the daemon's options
 * (serve, wait-ready, dead-letters) load them through loadConfig: flags > environment >
 * --config file > defaults, unknown options refused by name, exit 2 on bad configuration.
 *
 *   sqs-accelerator [serve] [options]           run the daemon (the default command)
 *   sqs-accelerator wait-ready [options]        exit 0 once that daemon is ready (also: --wait-ready)
 *   sqs-accelerator dead-letters <cmd> [opts]   list, show, replay, purge dead letters
 *   sqs-accelerator hash-password NAME          a --users-file line (password on stdin)
 */
export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  applyDaemonV8Flags(); // before the daemon's code runs: allocation feedback starts with its first objects
  const [first, ...rest] = argv;
  switch (first) {
    case 'hash-password': {
      const { hashPasswordCommand } = await import('./hash-password.js');
      process.exitCode = await hashPasswordCommand(rest);
      return;
    }
    case 'dead-letters': {
      const { deadLettersCommand } = await import('./dead-letters.js');
      process.exitCode = await deadLettersCommand(rest, env);
      return;
    }
    case 'serve':
      return daemonCommand(rest, env, false);
    case 'wait-ready':
      return daemonCommand(rest, env, true);
    default:
      return daemonCommand(argv, env, false);
  }
}

/** serve or wait-ready: both read the daemon's options, and --help/--version. */
async function daemonCommand(argv: readonly string[], env: NodeJS.ProcessEnv, waitReady: boolean): Promise<void> {
  let config: Readonly<Config>;
  try {
    const args = parseArgs(argv);
    waitReady ||= args.waitReady;
    if (args.help) {
      process.stdout.write(`${helpText()}\n`);
      return;
    }
    if (args.version) {
      process.stdout.write(`${versionLine()}\n`);
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
  if (!waitReady) return serve(config, argv, env);
  try {
    if (await waitUntilReady(config, WAIT_READY_MS)) return;
    process.stderr.write(`sqs-accelerator: not ready at ${config.host}:${config.port} after ${WAIT_READY_MS} ms\n`);
    process.exitCode = EXIT.crash;
  } catch (err) {
    process.stderr.write(`sqs-accelerator: ${(err as Error).message}\n`);
    process.exitCode = EXIT.badConfig;
  }
}
