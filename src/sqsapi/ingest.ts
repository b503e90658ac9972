/**
 * The step between this door and the pipeline: entries for one destination in, one result
 * per entry out (validated, appended to the spool, queued for the batcher). A stand-in for
 * the shared ingest seam (issue 9), built on the same calls the REST route makes, so the
 * door switches to the seam without changing shape.
 */
import type { Pipeline, Validated } from '../delivery/pipeline.js';
import { type MessageInput, validateMessage } from '../sqs/limits.js';
import type { Destination } from '../sqs/resolver.js';
import type { OutgoingMessage } from '../sqs/types.js';

export interface IngestEntry {
  input: MessageInput;
  /** MessageSystemAttributes.AWSTraceHeader, already checked by the door. */
  traceHeader?: string;
}

export type IngestResult =
  | { ok: true; id: string; message: OutgoingMessage }
  | { ok: false; code: string; message: string; field?: string };

/** Nothing was accepted: the backlog or the spool is full, or the spool cannot be written. */
export class IngestRefused extends Error {
  override readonly name = 'IngestRefused';
  constructor(
    readonly code: 'BacklogFull' | 'SpoolFull' | 'SpoolUnavailable',
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
  }
}

export function isIngestRefused(err: unknown): err is IngestRefused {
  return (err as { name?: unknown })?.name === 'IngestRefused';
}

export interface Ingest {
  /** Validates each entry, records the valid ones together; one result per entry, in order. Throws IngestRefused. */
  send(dest: Destination, entries: readonly IngestEntry[]): Promise<IngestResult[]>;
}

export function pipelineIngest(pipeline: Pipeline, options: { fifoDefaultGroupId: string; onSpoolError?: (err: unknown, dest: Destination) => void }): Ingest {
  const defaultGroup = options.fifoDefaultGroupId === '' ? undefined : { defaultGroupId: options.fifoDefaultGroupId };
  return {
    async send(dest, entries) {
      const results: IngestResult[] = new Array(entries.length);
      const valid: Validated[] = [];
      const slots: number[] = [];
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i] as IngestEntry;
        const v = validateMessage(e.input, dest.limits, defaultGroup);
        if (!v.ok) {
          results[i] = v.field === undefined ? { ok: false, code: v.code, message: v.message } : { ok: false, code: v.code, message: v.message, field: v.field };
          continue;
        }
        const message = e.traceHeader === undefined ? v.message : { ...v.message, traceHeader: e.traceHeader };
        slots.push(i);
        valid.push({ message, bytes: v.bytes });
      }
      if (valid.length === 0) return results;
      const accepted = pipeline.accept(dest, valid);
      if (accepted === false) throw new IngestRefused('BacklogFull', 'the daemon\'s backlog is full (SQS slow or unreachable); retry later', 1);
      let ids: string[];
      try {
        ids = await accepted;
      } catch (err) {
        if ((err as { code?: unknown }).code === 'ESPOOLFULL') throw new IngestRefused('SpoolFull', 'the daemon\'s spool is full (SQS slow or unreachable); nothing was accepted, retry later', 5);
        options.onSpoolError?.(err, dest);
        throw new IngestRefused('SpoolUnavailable', 'the daemon could not write the message to its spool (disk full or unwritable); nothing was accepted', 5);
      }
      for (let k = 0; k < slots.length; k++) {
        results[slots[k] as number] = { ok: true, id: ids[k] as string, message: (valid[k] as Validated).message };
      }
      return results;
    },
  };
}
