import { readFileSync } from 'node:fs';
import { ConfigError, helpText, loadConfig, parseArgs } from './config.js';
import { startDaemon } from './main.js';

/** Exit codes, documented in the README: systemd's RestartPreventExitStatus= uses 2. */
export const EXIT = { ok: 0, crash: 1, badConfig: 2, forced: 130 } as const;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<void> {
  let config;
  try {
    const args = parseArgs(argv);
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
  let daemon;
  try {
    daemon = await startDaemon(config);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`sqs-accelerator: cannot start: ${e.code === 'EADDRINUSE' ? `${config.host}:${config.port} is already in use` : e.message}\n`);
    process.exitCode = e.code === 'EADDRINUSE' || e.code === 'EACCES' ? EXIT.badConfig : EXIT.crash;
    return;
  }
  installSignalHandlers(daemon.stop);
}

/** First SIGTERM/SIGINT: graceful stop, exit 0. A second one: exit at once. */
export function installSignalHandlers(stop: () => Promise<unknown>): void {
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
}
