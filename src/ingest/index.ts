/**
 * Ingest: the one step every front door hands its decoded entries to (see ingest.ts).
 * Doors import from here only.
 */
export { Ingest, type IngestOptions } from './ingest.js';
export { checkQueueName, QUEUE_NAME } from './queue-name.js';
export type { EntryError, EntryResult, IngestEntry, MessageInput } from './types.js';
