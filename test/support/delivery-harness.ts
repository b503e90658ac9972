/**
 * In-memory stand-ins for the delivery unit tests (test/delivery/*.unit.test.ts): destinations
 * built by hand, an SQS client whose every SendMessageBatch the test answers itself, a store
 * that records what the pipeline told it, and a logger whose lines the test can read.
 * Nothing here touches the network, the disk or a process.
 */
import { createHash } from 'node:crypto';
import { jest } from '@jest/globals';
import pino, { type Logger } from 'pino';
import type { Envelope, FailureReason } from '../../src/delivery/envelope.js';
import type { Validated } from '../../src/delivery/pipeline.js';
import type { MessageStore, Pager, StoreInfo } from '../../src/delivery/store.js';
import type { SqsClient } from '../../src/sqs/client.js';
import { type CredentialSource, staticCredentials } from '../../src/sqs/credentials.js';
import { SqsError } from '../../src/sqs/errors.js';
import type { Destination } from '../../src/sqs/resolver.js';
import type { Credentials, OutgoingMessage, SendMessageBatchRequestEntry, SendMessageBatchResult } from '../../src/sqs/types.js';

export const CREDS: Credentials = { accessKeyId: 'AKIDUNIT', secretAccessKey: 'unit/secret+key' };

export function makeDest(queueName: string, options: { fifo?: boolean; contentBasedDedup?: boolean; credentials?: CredentialSource } = {}): Destination {
  const credentials = options.credentials ?? staticCredentials(CREDS);
  const fifo = options.fifo ?? queueName.endsWith('.fifo');
  return Object.freeze({
    key: `${credentials.key}\0${queueName}`,
    queueName,
    queueUrl: `http://127.0.0.1:1/000000000000/${queueName}`,
    limits: { fifo, maxMessageBytes: 1_048_576, contentBasedDedup: options.contentBasedDedup ?? false },
    credentials,
  });
}

/** A validated message as ingest hands it to Pipeline.accept; `bytes` defaults to the body's length. */
export function msg(body: string, extra: Omit<OutgoingMessage, 'body'> = {}, bytes = Buffer.byteLength(body)): Validated {
  return { message: { body, ...extra }, bytes };
}

let n = 0;
/** An envelope as the pipeline would have made it. */
export function makeEnvelope(dest: Destination, body: string, extra: Omit<Partial<Envelope>, 'message'> & { message?: Omit<OutgoingMessage, 'body'> } = {}): Envelope {
  n += 1;
  const { message, ...rest } = extra;
  return { id: `env-${n}`, dest, message: { body, ...message }, bytes: Buffer.byteLength(body), accepted: { at: 0 }, attempts: 0, ...rest };
}

/** Credentials that say they can be refreshed, counting refreshes. */
export function refreshableCredentials(): CredentialSource & { refreshes: number } {
  const source = {
    key: 'chain',
    refreshable: true,
    refreshes: 0,
    get: () => CREDS,
    async refresh() {
      source.refreshes += 1;
    },
  };
  return source;
}

export interface BatchCall {
  queueUrl: string;
  entries: SendMessageBatchRequestEntry[];
  credentials: Credentials;
  /** Date.now() when it was made (the fake clock, with fake timers). */
  at: number;
  /** Answer this call: a result (see ok/failed below) or an error to reject with. */
  answer(result: SendMessageBatchResult | Error): void;
}

/**
 * An SqsClient whose sendMessageBatch calls wait until the test answers them (`calls`), or, with
 * `auto` set, are answered at once by it (e.g. `fake.auto = allOk`).
 */
export class FakeBatchClient {
  readonly calls: BatchCall[] = [];
  /** Calls not answered yet. */
  get pending(): BatchCall[] {
    return this.calls.filter((c) => !this.answered.has(c));
  }
  auto: ((entries: SendMessageBatchRequestEntry[]) => SendMessageBatchResult | Error) | undefined;
  private readonly answered = new Set<BatchCall>();

  sendMessageBatch(queueUrl: string, entries: SendMessageBatchRequestEntry[], credentials: Credentials): Promise<SendMessageBatchResult> {
    return new Promise((resolve, reject) => {
      const call: BatchCall = {
        queueUrl,
        entries,
        credentials,
        at: Date.now(),
        answer: (result) => {
          if (this.answered.has(call)) throw new Error('call answered twice');
          this.answered.add(call);
          if (result instanceof Error) reject(result);
          else resolve(result);
        },
      };
      this.calls.push(call);
      const auto = this.auto;
      if (auto) call.answer(auto(entries));
    });
  }

  /** Bodies of each call, in call order. */
  bodies(): string[][] {
    return this.calls.map((c) => c.entries.map((e) => e.MessageBody));
  }

  asClient(): SqsClient {
    return this as unknown as SqsClient;
  }
}

/** Every entry accepted, with the MD5 SQS would give. */
export function allOk(entries: SendMessageBatchRequestEntry[]): SendMessageBatchResult {
  return { Successful: entries.map((e) => ({ Id: e.Id, MessageId: `sqs-${e.Id}`, MD5OfMessageBody: md5(e.MessageBody) })) };
}

/** Entries whose body is in `fail` fail with `code`; the others succeed. */
export function failSome(fail: (body: string) => boolean, code = 'InternalError', senderFault = false) {
  return (entries: SendMessageBatchRequestEntry[]): SendMessageBatchResult => ({
    Successful: allOk(entries.filter((e) => !fail(e.MessageBody))).Successful ?? [],
    Failed: entries.filter((e) => fail(e.MessageBody)).map((e) => ({ Id: e.Id, Code: code, SenderFault: senderFault, Message: `${code} (unit)` })),
  });
}

export const throttled = () => new SqsError('RequestThrottled', 'Rate exceeded', 403);

export function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

/** A MessageStore that records every call; optionally a pager that keeps paged-out envelopes in memory. */
export class RecordingStore implements MessageStore {
  readonly durable: boolean;
  readonly appended: Envelope[] = [];
  readonly deliveredIds: string[] = [];
  readonly dead: Array<{ id: string; reason: FailureReason }> = [];
  readonly abandoned: Envelope[] = [];
  readonly pager?: Pager;
  /** Paged-out envelopes per destination key, oldest first. */
  readonly pagedOut = new Map<string, Envelope[]>();
  /** Set to make append() throw, or return a promise the test settles. */
  appendMode: 'sync' | 'throw' | 'async' = 'sync';
  readonly pendingAppends: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];

  constructor(options: { paging?: boolean } = {}) {
    this.durable = options.paging ?? false;
    if (options.paging) {
      this.pager = {
        pageOut: (env) => {
          const list = this.pagedOut.get(env.dest.key) ?? [];
          list.push(env);
          this.pagedOut.set(env.dest.key, list);
        },
        pageIn: (key, max) => {
          const list = this.pagedOut.get(key) ?? [];
          const envs = list.splice(0, max);
          if (list.length === 0) this.pagedOut.delete(key);
          return { envs, consumed: envs.length };
        },
      };
    }
  }

  append(envs: readonly Envelope[]): void | Promise<void> {
    if (this.appendMode === 'throw') throw Object.assign(new Error('disk full (unit)'), { code: 'ESPOOLWRITE' });
    if (this.appendMode === 'async') {
      return new Promise<void>((resolve, reject) => this.pendingAppends.push({ resolve: () => (this.appended.push(...envs), resolve()), reject }));
    }
    this.appended.push(...envs);
  }
  delivered(envs: readonly Envelope[]): void {
    for (const e of envs) this.deliveredIds.push(e.id);
  }
  deadLettered(envs: readonly Envelope[], reason: FailureReason): void {
    for (const e of envs) this.dead.push({ id: e.id, reason });
  }
  abandon(envs: readonly Envelope[]): void {
    this.abandoned.push(...envs);
  }
  async close(): Promise<void> {}
  info(): StoreInfo {
    return { durability: this.durable ? 'write' : 'memory', spoolBytes: 0, deadLetters: this.dead.length, recovered: 0, corruptRecords: 0, writable: true };
  }
}

/** A pino logger (level debug) writing parsed lines into `lines`. */
export function captureLogger(): { log: Logger; lines: Array<Record<string, unknown>>; find(text: string): Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const log = pino({ level: 'debug', formatters: { level: (label) => ({ level: label }) } }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) });
  return { log, lines, find: (text) => lines.filter((l) => typeof l.msg === 'string' && l.msg.includes(text)) };
}

/**
 * Fake timers and Date for the delivery tests. setImmediate stays real: the pipeline uses it for
 * "as soon as this turn is over", and a faked one scheduled during a tick is moved 1 ms later,
 * which would blur every timing the tests check. flush() runs those immediates; it counts them
 * (countImmediates) so that it runs all of them, however many turns the work takes.
 */
export function useFakeClock(): void {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'queueMicrotask', 'setImmediate'] });
  countImmediates();
}

/** setImmediate callbacks scheduled and not yet run (in this test file's realm). */
let immediatesPending = 0;

/**
 * Wraps the global setImmediate once so flush() knows when none is left. Delivery work is cut in
 * slices of real time (src/delivery/turns.ts, 1 ms): on a loaded machine 256 answers taken in at
 * once span more turns than a fixed number of flush rounds, and a count of requests in flight read
 * after such a flush depended on the machine's speed.
 */
function countImmediates(): void {
  const g = globalThis as unknown as { setImmediate: typeof setImmediate; __immediatesCounted?: true };
  if (g.__immediatesCounted) return;
  g.__immediatesCounted = true;
  const real = g.setImmediate;
  g.setImmediate = ((fn: (...args: unknown[]) => void, ...args: unknown[]) => {
    immediatesPending += 1;
    return real(() => {
      immediatesPending -= 1;
      fn(...args);
    });
  }) as typeof setImmediate;
}

/**
 * Runs what is due now (0 ms timers, immediates) and the promises they settle, without moving the
 * clock: at least four rounds, then on while immediates are still waiting (at most 10,000 rounds).
 */
export async function flush(): Promise<void> {
  for (let i = 0; i < 10_000 && (i < 4 || immediatesPending > 0); i++) {
    await jest.advanceTimersByTimeAsync(0);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Moves the fake clock by `ms` (running the timers due on the way), then flushes. */
export async function advance(ms: number): Promise<void> {
  await jest.advanceTimersByTimeAsync(ms);
  await flush();
}
