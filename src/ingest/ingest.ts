import type { Logger } from 'pino';
import type { Pipeline, Validated } from '../delivery/pipeline.js';
import { DaemonError, isDaemonError, sqsFailure } from '../errors.js';
import type { CredentialSource } from '../sqs/credentials.js';
import { type Validation, validateMessage } from '../sqs/limits.js';
import { type TraceInput, withTrace } from '../sqs/trace.js';
import type { Destination, QueueResolver } from '../sqs/resolver.js';
import type { OutgoingMessage } from '../sqs/types.js';
import { newMessageId } from '../delivery/envelope.js';
import { offloadEntry, type OffloadPolicy, wantsOffload } from './offload.js';
import { checkQueueName } from './queue-name.js';
import { batchResultsOf, chunkEnds, sendInPieces, type PieceSteps } from './pieces.js';
import { Slicer } from './slices.js';
import type { BatchResults, EntryError, EntryResult, EntrySource, IngestEntry } from './types.js';
import { SQS_MAX_MESSAGE_BYTES } from '../sqs/quotas.js';

export { CHUNK_BYTES, CHUNK_ENTRIES, chunkEnds } from './pieces.js';

export interface IngestOptions {
  /** Where accepted messages go. */
  pipeline: Pick<Pipeline, 'accept' | 'couldEverFit'> & Partial<Pick<Pipeline, 'appendsWaiting'>>;
  /** --max-spool-bytes: a batch larger than this can never be recorded. Default: no such bound. */
  maxSpoolBytes?: number;
  /** Turns (credentials, queue name) into a Destination, cached; re-reads a queue's settings on demand. */
  resolver: Pick<QueueResolver, 'cached' | 'resolveForSend' | 'recheck'>;
  /** The daemon's own cap on message size (--max-message-bytes): a queue's limit below it is re-read before a 413. Default 1 MiB. */
  maxMessageBytes?: number;
  /** Carry W3C trace context as message attributes (--trace-attributes). Default true. */
  traceAttributes?: boolean;
  /** Message group for FIFO entries that name none; '' or absent: such entries are refused (MissingGroupId). */
  fifoDefaultGroupId?: string;
  /** Large messages through S3 (--s3-bucket); absent: a message over the queue's limit gets 413. */
  offload?: OffloadPolicy;
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
  private readonly traceOptions: { attributes: boolean };

  constructor(private readonly options: IngestOptions) {
    this.defaultGroup = options.fifoDefaultGroupId ? { defaultGroupId: options.fifoDefaultGroupId } : undefined;
    this.traceOptions = { attributes: options.traceAttributes !== false };
  }

  /**
   * The destination for `queueName` as these credentials see it: a cache hit after the first
   * time, else GetQueueUrl (+ attributes) once. When SQS cannot be asked (network, 5xx,
   * throttling) the destination is not verified yet (`isVerified(dest)` false): its messages are
   * accepted and delivery verifies it first. Rejects with a DaemonError: InvalidQueueName (400),
   * QueueDoesNotExist (404), SQS's credential codes (401), access denied (403),
   * CredentialsUnavailable (503). Any other error is a bug and passes unchanged.
   */
  async destination(credentials: CredentialSource, queueName: string): Promise<Destination> {
    checkQueueName(queueName);
    const hit = this.options.resolver.cached(credentials, queueName);
    if (hit) return hit;
    try {
      return await this.options.resolver.resolveForSend(credentials, queueName);
    } catch (err) {
      throw sqsFailure(err, { queueName });
    }
  }

  /** The destination if it is cached already (the caller checked the queue name), without a promise; else undefined: ask destination(). */
  cachedDestination(credentials: CredentialSource, queueName: string): Destination | undefined {
    return this.options.resolver.cached(credentials, queueName);
  }

  /**
   * Validates every entry against SQS's rules and the queue's limits, records the valid ones in
   * one append (durable before this resolves, as the store's durability says) and returns one
   * result per entry, in order. A refused entry does not stop the others.
   *
   * Rejects, with nothing accepted, when the daemon cannot take the messages: BacklogFull,
   * TooManyDestinations (--max-destinations), SpoolFull or SpoolUnavailable (503, each with
   * `retryAfterSeconds`); BatchTooLarge (413) when they could never fit, even in an empty
   * backlog.
   *
   * A large batch does not hold the event loop: entries are validated in slices that yield
   * every 2 ms, and recorded in pieces (chunkEnds: CHUNK_ENTRIES entries, CHUNK_BYTES bytes at
   * most) with a turn of the loop between. If a piece after the first is refused (the backlog
   * filled meanwhile), the entries before it stay accepted and the rest get the refusal as
   * their result.
   */
  send(dest: Destination, entries: readonly IngestEntry[], context: { trace?: TraceInput } = {}): Promise<EntryResult[]> {
    // One message, the common case: validated and appended without the batch loop's arrays,
    // slicer and pieces (issue 14: ~1 KB less garbage per message). Only a message that is
    // valid as it is takes it; anything else (a refusal, a size that may need the queue's
    // limit re-read, S3) goes through the loop below, which validates it again from the start.
    if (entries.length === 1 && this.options.offload === undefined) {
      try {
        const one = this.validOne(dest, entries[0] as IngestEntry, context.trace);
        if (one !== undefined) return this.acceptOne(dest, one);
      } catch (err) {
        return Promise.reject(err as Error);
      }
    }
    return this.sendMany(dest, entries, context.trace);
  }

  /** The single message as accept() takes it, or undefined when it is not valid as it is. */
  private validOne(dest: Destination, entry: IngestEntry, trace: TraceInput | undefined): Validated | undefined {
    if ('error' in entry || entry.payloadBytes !== undefined) return undefined;
    const v = this.traced(validateMessage(entry.input, dest.limits, this.defaultGroup), entry, dest, trace);
    return v.ok ? validated(entry, v) : undefined;
  }

  private async acceptOne(dest: Destination, v: Validated): Promise<EntryResult[]> {
    const accepted = this.appendOne(dest, v);
    let ids: string[];
    try {
      ids = await accepted;
    } catch (err) {
      throw this.appendFailure(err, dest);
    }
    return [{ ok: true, id: ids[0] as string, message: v.message }];
  }

  /**
   * send() of one entry in steps, for a door that awaits the append in its own async function
   * (the REST door's single message: an async layer and a result array less per message, issue
   * 14). `validSingle` is the entry as appendOne takes it when it is valid as it is, else
   * undefined: then call send(), which validates it again from the start and answers as always.
   */
  validSingle(dest: Destination, entry: IngestEntry, trace: TraceInput | undefined): Validated | undefined {
    return this.options.offload === undefined ? this.validOne(dest, entry, trace) : undefined;
  }

  /**
   * Records a validSingle entry in one append, as send() would: BatchTooLarge or BacklogFull
   * thrown at once; the promise of its id, durable when it resolves, whose rejection the caller
   * turns into the door's answer with appendFailure (as send() does).
   */
  appendOne(dest: Destination, v: Validated): Promise<string[]> {
    this.checkFits(1, v.bytes, []);
    const accepted = this.options.pipeline.accept(dest, [v]);
    if (accepted === false) throw new DaemonError('BacklogFull');
    return accepted;
  }

  /** With trace context (AWSTraceHeader; W3C attributes within SQS's limits): see withTrace. */
  private traced(v: Validation, entry: Extract<IngestEntry, { input: unknown }>, dest: Destination, trace: TraceInput | undefined): Validation {
    if (!v.ok || (trace === undefined && entry.input.awsTraceHeader === undefined)) return v;
    return withTrace(v, { ...trace, awsTraceHeader: entry.input.awsTraceHeader }, dest.limits, this.traceOptions);
  }

  /** BatchTooLarge (413) when `count` messages of `bytes` could never be recorded, even in an empty backlog. */
  private checkFits(count: number, bytes: number, valid: readonly Validated[]): void {
    if (this.fits(count, bytes)) return;
    this.dropPayloads(valid);
    throw new DaemonError('BatchTooLarge', `the batch (${count} messages, ${bytes} bytes) is larger than the daemon's whole backlog can ever hold (--max-backlog-messages, --max-backlog-bytes, --max-spool-bytes); send it in smaller parts`);
  }

  /** Could `count` messages of `bytes` ever be recorded, even into an empty backlog and spool? */
  private fits(count: number, bytes: number): boolean {
    return this.options.pipeline.couldEverFit(count, bytes) && bytes <= (this.options.maxSpoolBytes ?? Infinity);
  }

  /**
   * Refused as over the queue's MaximumMessageSize as last read, below the daemon's own bound:
   * the queue's limit may have been raised since (the caller re-reads it once per request).
   */
  private mayBeRaised(v: Validation, dest: Destination): boolean {
    return !v.ok && v.status === 413 && dest.limits.maxMessageBytes < (this.options.maxMessageBytes ?? 1_048_576);
  }

  private async sendMany(dest: Destination, entries: readonly IngestEntry[], trace: TraceInput | undefined): Promise<EntryResult[]> {
    const results: EntryResult[] = new Array(entries.length);
    const valid: Validated[] = [];
    const slots: number[] = [];
    let rechecked = false;
    const slicer = new Slicer(2, 32);
    for (let i = 0; i < entries.length; i++) {
      const y = slicer.tick();
      if (y) await y;
      const entry = entries[i] as IngestEntry;
      if ('error' in entry) {
        results[i] = { ok: false, error: entry.error };
        continue;
      }
      const offload = this.options.offload;
      if (entry.payloadBytes !== undefined) {
        // A body the REST door streamed to a payload file: straight to S3.
        const r = await this.offloaded(dest, entry, i, results, trace);
        if (r) {
          slots.push(i);
          valid.push(r);
        }
        continue;
      }
      let v = validateMessage(entry.input, dest.limits, this.defaultGroup);
      if (!rechecked && this.mayBeRaised(v, dest)) {
        // Over the queue's MaximumMessageSize as last read: it may have been raised since. Ask SQS
        // (at most once a second per queue) before refusing, so a raised limit counts at once.
        rechecked = true;
        await this.options.resolver.recheck(dest);
        v = validateMessage(entry.input, dest.limits, this.defaultGroup);
      }
      if (offload && wantsOffload(offload, entry.input, v)) {
        const r = await this.offloaded(dest, entry, i, results, trace);
        if (r) {
          slots.push(i);
          valid.push(r);
        }
        continue;
      }
      v = this.traced(v, entry, dest, trace);
      if (v.ok) {
        slots.push(i);
        valid.push(validated(entry, v));
      } else {
        results[i] = { ok: false, error: entryError(v) };
      }
    }
    if (valid.length === 0) return results;
    let bytes = 0;
    for (const v of valid) bytes += v.bytes;
    this.checkFits(valid.length, bytes, valid);
    let from = 0;
    for (const to of chunkEnds(valid)) {
      const chunk = from === 0 && to === valid.length ? valid : valid.slice(from, to);
      let ids: string[];
      try {
        ids = await this.append(dest, chunk);
      } catch (err) {
        this.dropPayloads(valid.slice(from));
        if (from === 0 || !isDaemonError(err)) throw err;
        const refused = { code: err.code, message: err.message, status: err.status };
        for (let k = from; k < slots.length; k++) results[slots[k] as number] = { ok: false, error: refused };
        return results;
      }
      for (let k = 0; k < chunk.length; k++) {
        const c = chunk[k] as Validated & { original?: OutgoingMessage };
        results[slots[from + k] as number] = c.offload ? { ok: true, id: ids[k] as string, message: c.original ?? c.message, offload: c.offload } : { ok: true, id: ids[k] as string, message: c.message };
      }
      if (to < valid.length) await new Promise<void>((resolve) => setImmediate(resolve));
      from = to;
    }
    return results;
  }

  /**
   * A batch, as send() takes it, answered compactly (BatchResults), and read, validated and
   * recorded a piece at a time from `source` (see sendInPieces), so that a large batch's decoded
   * entries are never alive all at once. With --s3-bucket it goes through send() whole: an
   * offloaded entry's upload is a side effect a validation pass must not repeat.
   */
  async sendBatch(dest: Destination, source: EntrySource, context: { trace?: TraceInput } = {}): Promise<BatchResults> {
    if (this.options.offload) return batchResultsOf(await this.send(dest, source.read(0, source.count), context));
    return sendInPieces(this.pieceSteps(context.trace), dest, source);
  }

  private pieceSteps(trace: TraceInput | undefined): PieceSteps {
    return {
      check: (dest, entry, rechecked) => {
        if ('error' in entry) return entry.error;
        const v = validateMessage(entry.input, dest.limits, this.defaultGroup);
        if (!rechecked && this.mayBeRaised(v, dest)) return 'recheck';
        const t = this.traced(v, entry, dest, trace);
        return t.ok ? validated(entry, t) : entryError(t);
      },
      recheck: (dest) => this.options.resolver.recheck(dest),
      append: (dest, valid) => this.append(dest, valid),
      couldEverFit: (count, bytes) => this.fits(count, bytes),
      // Validation keeps a message within its queue's limit (trace attributes included), and the
      // resolver never sets a queue's limit above --max-message-bytes, itself at most SQS's.
      maxMessageBytes: (dest) => Math.max(SQS_MAX_MESSAGE_BYTES, this.options.maxMessageBytes ?? 0, dest.limits.maxMessageBytes),
      othersWaiting: () => (this.options.pipeline.appendsWaiting ?? 0) > 0,
    };
  }

  /**
   * An entry whose payload goes to S3: its pointer message validated, the body in its payload
   * file. Undefined (and the entry's result set) when it is refused; its payload file then goes.
   */
  private async offloaded(dest: Destination, entry: Extract<IngestEntry, { input: unknown }>, i: number, results: EntryResult[], trace: TraceInput | undefined): Promise<(Validated & { original: OutgoingMessage }) | undefined> {
    const policy = this.options.offload;
    const id = entry.id ?? newMessageId();
    if (!policy) {
      results[i] = { ok: false, error: { code: 'MessageTooLarge', message: 'the body is over the queue\'s limit and no --s3-bucket is configured', status: 413, field: 'body' } };
      return undefined;
    }
    let r;
    try {
      r = await offloadEntry(policy, entry.input, dest.limits, id, this.defaultGroup, entry.payloadBytes);
    } catch (err) {
      if (entry.payloadBytes !== undefined) policy.payloads.remove(id);
      const code = (err as { code?: unknown }).code;
      if (code === 'ESPOOLFULL') throw new DaemonError('SpoolFull', undefined, { cause: err });
      if (code === 'ESPOOLWRITE') throw new DaemonError('SpoolUnavailable', undefined, { cause: err });
      if (code === 'PayloadTooLarge') {
        results[i] = { ok: false, error: { code, message: (err as Error).message, status: 413, field: 'body' } };
        return undefined;
      }
      throw err;
    }
    if (!r.ok) {
      if (entry.payloadBytes !== undefined) policy.payloads.remove(id);
      results[i] = { ok: false, error: r.field === undefined ? { code: r.code, message: r.message, status: r.status } : { code: r.code, message: r.message, status: r.status, field: r.field } };
      return undefined;
    }
    let message = r.message;
    let bytes = r.bytes;
    if (trace !== undefined || entry.input.awsTraceHeader !== undefined) {
      const t = withTrace({ message, bytes }, { ...trace, awsTraceHeader: entry.input.awsTraceHeader }, dest.limits, this.traceOptions);
      if (!t.ok) {
        policy.payloads.remove(id);
        results[i] = { ok: false, error: entryError(t) };
        return undefined;
      }
      message = t.message;
      bytes = t.bytes;
    }
    if (entry.traceHeader !== undefined) message = { ...message, traceHeader: entry.traceHeader };
    return { message, bytes, id, offload: r.offload, original: entry.traceHeader === undefined ? r.original : { ...r.original, traceHeader: entry.traceHeader } };
  }

  /** Payload files of entries that were not recorded after all. */
  private dropPayloads(items: readonly Validated[]): void {
    const payloads = this.options.offload?.payloads;
    if (!payloads) return;
    for (const v of items) if (v.offload && v.id !== undefined) payloads.remove(v.id);
  }

  private async append(dest: Destination, valid: readonly Validated[]): Promise<string[]> {
    const accepted = this.options.pipeline.accept(dest, valid);
    if (accepted === false) throw new DaemonError('BacklogFull');
    try {
      return await accepted;
    } catch (err) {
      throw this.appendFailure(err, dest);
    }
  }

  /** What a door answers when the pipeline could not record the messages. */
  appendFailure(err: unknown, dest: Destination): DaemonError {
    const code = (err as { code?: unknown }).code;
    if (code === 'ETOOMANYDESTINATIONS') return new DaemonError('TooManyDestinations', (err as Error).message, { cause: err });
    if (code === 'ESPOOLFULL') return new DaemonError('SpoolFull', undefined, { cause: err });
    // The spool logs once when it stops being writable (and once when it works again);
    // a line per refused request would flood the log exactly when the disk is full.
    if (code !== 'ESPOOLWRITE') this.options.log.error({ err: (err as Error).message, queue: dest.queueName }, 'could not record accepted messages');
    return new DaemonError('SpoolUnavailable', undefined, { cause: err });
  }
}

/** A valid entry as accept() takes it. The trace header does not count towards the message size (as in SQS). */
function validated(entry: Extract<IngestEntry, { input: unknown }>, v: { message: OutgoingMessage; bytes: number }): Validated {
  // The validation's own object when nothing is added to it (its `ok` is read by nobody after):
  // not a copy per entry (issue 11: a batch's garbage per message).
  if (entry.traceHeader === undefined && entry.id === undefined) return v;
  const message = entry.traceHeader === undefined ? v.message : { ...v.message, traceHeader: entry.traceHeader };
  return entry.id === undefined ? { message, bytes: v.bytes } : { message, bytes: v.bytes, id: entry.id };
}

/** A refused validation as an entry's error. */
function entryError(v: { code: string; message: string; status: number; field?: string }): EntryError {
  return v.field === undefined ? { code: v.code, message: v.message, status: v.status } : { code: v.code, message: v.message, status: v.status, field: v.field };
}
