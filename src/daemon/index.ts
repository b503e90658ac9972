export { createDaemon, type Daemon, type DaemonAddress, type DaemonOptions } from './daemon.js';
export type { DaemonEvents } from './events.js';
