import type { Logger } from 'pino';
import type { Pipeline, Validated } from '../delivery/pipeline.js';
import { DaemonError, sqsFailure } from '../errors.js';
import type { CredentialSource } from '../sqs/credentials.js';
import { validateMessage } from '../sqs/limits.js';
import type { Destination, QueueResolver } from '../sqs/resolver.js';
import { checkQueueName } from './queue-name.js';
import type { EntryResult, IngestEntry } from './types.js';

export interface IngestOptions {
  /** Where accepted messages go; only `accept` is used. */
  pipeline: Pick<Pipeline, 'accept'>;
  /** Turns (credentials, queue name) into a Destination, cached. */
  resolver: Pick<QueueResolver, 'cached' | 'resolve'>;
  /** Message group for FIFO entries that name none; '' or absent: such entries are refused (MissingGroupId). */
  fifoDefaultGroupId?: string;
  log: Logger;
}

/**
 * The protocol-neutral step between a front door and the delivery pipeline. A door (REST
 * `POST /queues/:name`, the SQS API, the worker side's replies) decodes its wire format into
 * entries, then:
 *
 * ```ts
 * const dest = await ingest.destination(credentials, queueName); // DaemonError: InvalidQueueName, QueueDoesNotExist, 401/403/503...
 * const results = await ingest.send(dest, entries);               // one EntryResult per entry, in order
 * ```
 *
 * and answers in its own format. Nothing after ingest knows which door a message came through.
 * Errors are DaemonErrors with stable codes (src/errors.ts), for each door to map to its wire.
 */
export class Ingest {
  private readonly defaultGroup: { defaultGroupId: string } | undefined;

  constructor(private readonly options: IngestOptions) {
    this.defaultGroup = options.fifoDefaultGroupId ? { defaultGroupId: options.fifoDefaultGroupId } : undefined;
  }

  /**
   * The destination for `queueName` as these credentials see it: a cache hit after the first
   * time, else GetQueueUrl (+ attributes) once. Rejects with a DaemonError: InvalidQueueName (400),
   * QueueDoesNotExist (404), SQS's credential codes (401), access denied (403), SQS unreachable
   * (503 + retry), CredentialsUnavailable (503). Any other error is a bug and passes unchanged.
   */
  async destination(credentials: CredentialSource, queueName: string): Promise<Destination> {
    checkQueueName(queueName);
    const hit = this.options.resolver.cached(credentials, queueName);
    if (hit) return hit;
    try {
      return await this.options.resolver.resolve(credentials, queueName);
    } catch (err) {
      throw sqsFailure(err, { queueName });
    }
  }

  /**
   * Validates every entry against SQS's rules and the queue's limits, records the valid ones in
   * one append (durable before this resolves, as the store's durability says) and returns one
   * result per entry, in order. A refused entry does not stop the others.
   *
   * Rejects, with nothing accepted, when the daemon cannot take the messages: BacklogFull,
   * TooManyDestinations (--max-destinations), SpoolFull or SpoolUnavailable (503, each with
   * `retryAfterSeconds`).
   */
  async send(dest: Destination, entries: readonly IngestEntry[]): Promise<EntryResult[]> {
    const results: EntryResult[] = new Array(entries.length);
    const valid: Validated[] = [];
    const slots: number[] = [];
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as IngestEntry;
      if ('error' in entry) {
        results[i] = { ok: false, error: entry.error };
        continue;
      }
      const v = validateMessage(entry.input, dest.limits, this.defaultGroup);
      if (v.ok) {
        slots.push(i);
        valid.push({ message: v.message, bytes: v.bytes });
      } else {
        results[i] = { ok: false, error: v.field === undefined ? { code: v.code, message: v.message, status: v.status } : { code: v.code, message: v.message, status: v.status, field: v.field } };
      }
    }
    if (valid.length === 0) return results;
    const ids = await this.append(dest, valid);
    for (let k = 0; k < slots.length; k++) {
      results[slots[k] as number] = { ok: true, id: ids[k] as string, message: (valid[k] as Validated).message };
    }
    return results;
  }

  private async append(dest: Destination, valid: readonly Validated[]): Promise<string[]> {
    const accepted = this.options.pipeline.accept(dest, valid);
    if (accepted === false) throw new DaemonError('BacklogFull');
    try {
      return await accepted;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (code === 'ETOOMANYDESTINATIONS') throw new DaemonError('TooManyDestinations', (err as Error).message, { cause: err });
      if (code === 'ESPOOLFULL') throw new DaemonError('SpoolFull', undefined, { cause: err });
      // The spool logs once when it stops being writable (and once when it works again);
      // a line per refused request would flood the log exactly when the disk is full.
      if (code !== 'ESPOOLWRITE') this.options.log.error({ err: (err as Error).message, queue: dest.queueName }, 'could not record accepted messages');
      throw new DaemonError('SpoolUnavailable', undefined, { cause: err });
    }
  }
}
