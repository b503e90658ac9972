/** The command line's entry (bin/sqs-accelerator.js imports dist/src/cli.js): see src/commands/. */
export { installSignalHandlers, main } from './commands/index.js';
export { EXIT } from './errors.js';
