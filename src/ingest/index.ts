/**
 * Ingest: the one step every front door hands its decoded entries to (see ingest.ts).
 * Doors import from here only.
 */
export { Ingest, type IngestOptions } from './ingest.js';
export { checkQueueName, QUEUE_NAME } from './queue-name.js';
export type { BatchEntryError, BatchResults, EntryError, EntryResult, EntrySource, IngestEntry, MessageInput } from './types.js';
export { batchResultsOf, DETAILED_ERRORS, entriesSource } from './pieces.js';
