import { type Config, loadConfig } from '../config.js';
import { createDaemon, type Daemon } from '../daemon/index.js';
import { EXIT, exitCodeFor } from '../errors.js';

/**
 * `sqs-accelerator [serve] [options]`: runs the daemon until SIGTERM/SIGINT; SIGHUP reloads.
 * Sets process.exitCode when it cannot start (2: configuration a restart cannot fix).
 */
export async function serve(config: Readonly<Config>, argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  let daemon: Daemon;
  try {
    daemon = await createDaemon({ config }).start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`sqs-accelerator: cannot start: ${e.code === 'EADDRINUSE' ? `${config.host}:${config.port} is already in use` : e.message}\n`);
    process.exitCode = exitCodeFor(e);
    return;
  }
  installSignalHandlers(() => daemon.close(), () => reloadConfig(daemon, argv, env));
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
