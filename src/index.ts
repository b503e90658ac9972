/**
 * sqs-accelerator as a library: the daemon as a value, its config loader, its error model and
 * the message types. See README "Embedding".
 *
 * ```ts
 * import { createDaemon } from 'sqs-accelerator';
 * const daemon = await createDaemon({ config: { region: 'eu-west-1', port: 0 } }).start();
 * daemon.on('delivered', ({ queue, count }) => console.log(queue, count));
 * await daemon.close();
 * ```
 */
export { createDaemon, type Daemon, type DaemonAddress, type DaemonEvents, type DaemonOptions } from './daemon/index.js';
export { type Config, ConfigError, type CredentialMode, defineConfig, helpText, loadConfig, type LogLevel, OPTIONS } from './config.js';
export { DaemonError, type DaemonErrorOptions, type ErrorCode, ERRORS, type ErrorSpec, EXIT, exitCodeFor, isDaemonError } from './errors.js';
export type { EntryError, EntryResult, IngestEntry, MessageInput } from './ingest/index.js';
export type { DeadLetter } from './delivery/store.js';
export type { Credentials, MessageAttributes, MessageAttributeValue, OutgoingMessage } from './sqs/types.js';
