import { setTimeout as sleep } from 'node:timers/promises';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { describeBug } from '../errors.js';
import type { SqsClient } from '../sqs/client.js';
import { receiveMessages, type ReceivedMessage } from '../sqs/consume.js';
import type { CredentialSource } from '../sqs/credentials.js';
import { isSqsError } from '../sqs/errors.js';
import { AppClient, type AppOutcome } from './deliver.js';
import { TypedEmitter } from './emitter.js';
import { AdaptiveLimit } from './limiter.js';
import type { WorkerConfig } from './options.js';
import { replyFor, type ReplySender, type WorkerReply } from './reply.js';
import { Settler } from './settle.js';
import { openPayload, type WorkerS3 } from './payload.js';
import { type PayloadPointer, sizeAttributeOf } from '../s3/pointer.js';

/**
 * One worker: long-polls one queue and POSTs each message to the local app, sqsd-style. A value
 * with start/stop and typed events (after bbc/sqs-consumer's Consumer); the daemon composes it.
 *
 * A received message is *held* until SQS has settled it: deleted after a 2xx (and after its
 * reply, if any, was accepted by the daemon's durable send path), or made visible again after a
 * failure. How many are received ahead of the app (in receives or waiting for a slot) follows
 * the app's pace: enough to cover one receive round trip at the rate the app answers (a fast
 * app gets several receives in flight, a slow one barely more than its limit), at most
 * MAX_AHEAD app limits. Messages being deleted do not hold up receives; every held message
 * together is bounded by MAX_HELD app limits.
 */

export interface ConsumerDeps {
  client: SqsClient;
  credentials: CredentialSource;
  log: Logger;
  /** The daemon's send path for replies; without it, 2xx bodies are not forwarded. */
  sendReply?: ReplySender;
  /** With failover upstreams: which one this consumer reads (one consumer per upstream and queue). */
  upstream?: string;
  /** S3, for messages that are Extended Client pointers (src/worker/payload.ts). */
  s3?: WorkerS3;
}

export interface WorkerStatus {
  queue: string;
  /** With failover upstreams: the upstream whose queue this worker reads. */
  upstream?: string;
  url: string;
  state: 'idle' | 'starting' | 'polling' | 'stopping' | 'stopped';
  /** Messages being POSTed to the app now. */
  inFlight: number;
  /** Messages received and not yet settled with SQS (includes inFlight). */
  held: number;
  /** The adaptive limit on inFlight (at most the configured concurrency). */
  limit: number;
  concurrency: number;
  delivered: number;
  failed: number;
  retried: number;
  /** Failed at or past maxRetries, or received past it: left to the queue's redrive policy. */
  leftToRedrive: number;
  replies: number;
  /** Smoothed app answer time, ms. */
  appLatencyMs: number;
  lastError?: { code: string; message: string; at: string };
}

export interface ConsumerEvents {
  delivered: [{ queue: string; messageId: string; status: number; latencyMs: number }];
  failed: [{ queue: string; messageId: string; code: string; receiveCount: number; latencyMs: number; retry: boolean }];
  replied: [{ queue: string; messageId: string; replyQueue: string }];
  /** An SQS call of this worker failed (it is retried). */
  sqsError: [{ queue: string; code: string }];
  stopped: [{ queue: string; released: number }];
}

interface Held {
  msg: ReceivedMessage;
  /** When SQS will hand it out again unless extended, Date.now() ms (conservative). */
  visibleUntil: number;
  state: 'ready' | 'delivering' | 'settling';
  busyAnswers: number;
  extending: boolean;
  /** The message's payload is this S3 object (deleted after the app's 2xx and the message's delete). */
  pointer?: PayloadPointer;
}

/** Received ahead of the app (receives in flight + waiting for a slot): at most this many times its limit. */
const MAX_AHEAD = 4;
/** Held in all (ahead, at the app, being deleted or handed back): at most this many times the concurrency. */
const MAX_HELD = 10;

/** After a failure: errorVisibility doubled per earlier receive, capped at 15 min (or errorVisibility if larger). */
export function errorVisibilitySeconds(base: number, receiveCount: number): number {
  const cap = Math.max(base, 900);
  return Math.min(cap, base * 2 ** Math.min(Math.max(receiveCount - 1, 0), 20));
}

export class Consumer extends TypedEmitter<ConsumerEvents> {
  private readonly app: AppClient;
  private readonly limit: AdaptiveLimit;
  private readonly settler: Settler;
  private readonly fifo: boolean;
  private readonly held = new Map<string, Held>();
  private readonly ready: Held[] = [];
  private readonly busyGroups = new Set<string>();
  private queueUrl = '';
  private polls = 0;
  private reserved = 0;
  /** Empty receives in a row; while above 0 only one poll is in flight (start as if empty: one poll). */
  private emptyStreak = 1;
  private failures = 0;
  /** Smoothed round trip of receives that brought messages, ms (0 before the first). */
  private receiveMs = 0;
  private pollBlockedUntil = 0;
  private wakeTimer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Aborts receives still open at the end of the grace period (and only then: see stop). */
  private readonly pollAbort = new AbortController();
  /** Ends backoff waits at stop. */
  private readonly stopping = new AbortController();
  /**
   * Cuts S3 reads of payloads (an object's GET, then its body as it streams to the app) still
   * going at the end of the grace period, as app.abortAll() cuts the POSTs. One for the worker,
   * not one per message: only pointer messages listen to it, and only while their GET runs.
   */
  private readonly payloadAbort = new AbortController();
  private quiescing: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;
  /** Messages handed back at stop (not yet started, or received while stopping). */
  private released = 0;
  private state: WorkerStatus['state'] = 'idle';
  private inFlight = 0;
  /** Deliveries answered and being settled (reply, delete or visibility change). */
  private finishing = 0;
  private readonly counts = { delivered: 0, failed: 0, retried: 0, leftToRedrive: 0, replies: 0 };
  private lastError: WorkerStatus['lastError'];
  private readonly log: Logger;

  constructor(readonly config: WorkerConfig, private readonly deps: ConsumerDeps) {
    super();
    // Each payload read in flight listens while it runs; the worker's limit bounds them, not 10.
    setMaxListeners(10_000, this.payloadAbort.signal);
    this.log = deps.log.child(deps.upstream === undefined ? { worker: config.queue } : { worker: config.queue, upstream: deps.upstream });
    this.fifo = config.queue.endsWith('.fifo');
    this.limit = new AdaptiveLimit(config.concurrency);
    this.app = new AppClient(config.url, config.concurrency, config.inactivityTimeoutSeconds * 1000);
    this.settler = new Settler({
      client: deps.client,
      queueUrl: () => this.queueUrl,
      credentials: async () => deps.credentials.get(),
      log: this.log,
      onError: (code, message) => this.sqsFailed(code, message),
    });
  }

  /** Resolves the queue and starts polling; resolves at once (lookups are retried in the background). */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'starting';
    const ms = Math.min(Math.max((this.config.visibilityTimeoutSeconds * 1000) / 4, 250), 30_000);
    this.heartbeat = setInterval(() => this.extend(), ms);
    this.heartbeat.unref();
    void this.resolveQueue();
  }

  status(): WorkerStatus {
    const s: WorkerStatus = {
      queue: this.config.queue,
      ...(this.deps.upstream === undefined ? {} : { upstream: this.deps.upstream }),
      url: this.config.url,
      state: this.state,
      inFlight: this.inFlight,
      held: this.held.size,
      limit: this.limit.current,
      concurrency: this.config.concurrency,
      ...this.counts,
      appLatencyMs: Math.round(this.limit.latencyMs * 10) / 10,
    };
    if (this.lastError) s.lastError = this.lastError;
    return s;
  }

  private async resolveQueue(): Promise<void> {
    while (this.state === 'starting') {
      try {
        this.queueUrl = await this.deps.client.getQueueUrl(this.config.queue, await this.deps.credentials.get());
        this.state = 'polling';
        this.failures = 0;
        this.log.info({ url: this.config.url, concurrency: this.config.concurrency }, 'worker polling its queue');
        this.maybePoll();
        return;
      } catch (err) {
        await this.backoff(err);
      }
    }
  }

  private sqsFailed(code: string, message: string): void {
    this.lastError = { code, message, at: new Date().toISOString() };
    this.emit('sqsError', { queue: this.config.queue, code });
  }

  /** Records an SQS failure and waits (jittered, growing); refreshes credentials when SQS says so. */
  private async backoff(err: unknown): Promise<void> {
    // SQS's answers and credential failures are SqsErrors (src/sqs/); anything else is a bug, named as one.
    const code = isSqsError(err) ? err.code : 'UnexpectedError';
    if (code === 'Aborted') return;
    if (!isSqsError(err)) this.log.error({ err: describeBug(err) }, 'unexpected error while polling; retrying');
    const message = isSqsError(err) ? err.message : 'unexpected error in the daemon; see the daemon log';
    this.sqsFailed(code, message);
    this.failures += 1;
    if (isSqsError(err) && err.disposition === 'refresh-credentials') await this.deps.credentials.refresh().catch(() => {});
    // Permanent refusals (queue missing, access denied) are retried too, slowly: the queue may be created, the policy fixed.
    const max = isSqsError(err) && err.disposition === 'permanent' ? 60_000 : 20_000;
    const ms = Math.min(200 * 2 ** Math.min(this.failures - 1, 10), max) * (0.5 + Math.random() / 2);
    if (this.failures === 1 || this.failures % 10 === 0) this.log.warn({ code, failures: this.failures, retryMs: Math.round(ms) }, 'worker cannot reach its queue; retrying');
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.stopping.signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }

  /**
   * How many messages to have received ahead of the app: what it answers in one receive round
   * trip at its current limit and latency (limit × receive ms / app ms), between one limit and
   * MAX_AHEAD limits. Before both are known: one limit.
   */
  aheadTarget(): number {
    const limit = this.limit.current;
    const appMs = this.limit.latencyMs;
    if (appMs <= 0 || this.receiveMs <= 0) return limit;
    return Math.min(MAX_AHEAD * limit, Math.max(limit, Math.ceil((limit * this.receiveMs) / appMs)));
  }

  private maybePoll(): void {
    if (this.state !== 'polling') return;
    const maxPolls = this.emptyStreak > 0 ? 1 : Math.ceil((MAX_AHEAD * this.config.concurrency) / 10);
    const maxHeld = MAX_HELD * this.config.concurrency;
    while (this.polls < maxPolls) {
      const room = Math.min(this.aheadTarget() - this.reserved - this.ready.length, maxHeld - this.held.size - this.reserved);
      if (room <= 0) return;
      const wait = this.pollBlockedUntil - Date.now();
      if (wait > 0) {
        this.wake(wait);
        return;
      }
      const n = Math.min(10, room);
      this.reserved += n;
      this.polls += 1;
      void this.poll(n);
    }
  }

  private wake(ms: number): void {
    if (this.wakeTimer) return;
    this.wakeTimer = setTimeout(() => {
      this.wakeTimer = undefined;
      this.maybePoll();
      this.dispatch();
    }, ms);
  }

  private async poll(n: number): Promise<void> {
    const vis = this.config.visibilityTimeoutSeconds;
    const wait = this.config.waitTimeSeconds;
    const sentAt = Date.now();
    let got: ReceivedMessage[] = [];
    let failed = false;
    try {
      got = await receiveMessages(this.deps.client, this.queueUrl, await this.deps.credentials.get(), {
        maxMessages: n,
        waitTimeSeconds: wait,
        visibilityTimeoutSeconds: vis,
        signal: this.pollAbort.signal,
        timeoutMs: wait * 1000 + 10_000,
      });
      this.failures = 0;
    } catch (err) {
      failed = true;
      await this.backoff(err);
    }
    this.reserved -= n;
    this.polls -= 1;
    if (!failed) {
      if (got.length === 0) {
        this.emptyStreak += 1;
        // Short polls, or an endpoint that ignores WaitTimeSeconds: never spin on an empty queue.
        if (Date.now() - sentAt < (wait * 1000) / 2 || wait === 0) this.pollBlockedUntil = Date.now() + 1000;
      } else {
        this.emptyStreak = 0;
        const ms = Date.now() - sentAt;
        this.receiveMs = this.receiveMs === 0 ? ms : this.receiveMs * 0.9 + ms * 0.1;
      }
    }
    for (const msg of got) this.take(msg, sentAt + vis * 1000);
    this.dispatch();
    this.maybePoll();
  }

  private take(msg: ReceivedMessage, visibleUntil: number): void {
    if (this.held.has(msg.receiptHandle)) return;
    if (this.state !== 'polling') {
      // Came in as the worker stopped: hand it back at once (stop waits for it).
      this.released += 1;
      void this.settler.changeVisibility(msg.receiptHandle, 0);
      return;
    }
    if (msg.receiveCount > this.config.maxRetries) {
      // Already delivered maxRetries times: not to the app again. It reappears after its
      // visibility timeout, and the queue's redrive policy moves it once its maxReceiveCount passes.
      this.counts.leftToRedrive += 1;
      this.log.warn({ messageId: msg.messageId, receiveCount: msg.receiveCount, maxRetries: this.config.maxRetries }, 'message received past maxRetries: left to the queue\'s redrive policy (give the queue one with maxReceiveCount = maxRetries)');
      return;
    }
    const h: Held = { msg, visibleUntil, state: 'ready', busyAnswers: 0, extending: false };
    this.held.set(msg.receiptHandle, h);
    this.ready.push(h);
  }

  private nextReady(): Held | undefined {
    for (let i = 0; i < this.ready.length; i++) {
      const h = this.ready[i] as Held;
      if (this.fifo && h.msg.groupId !== undefined && this.busyGroups.has(h.msg.groupId)) continue;
      this.ready.splice(i, 1);
      return h;
    }
    return undefined;
  }

  private dispatch(): void {
    if (this.state !== 'polling') return;
    if (this.limit.paused) {
      if (this.ready.length > 0) this.wake(this.limit.pausedUntil - Date.now());
      return;
    }
    while (this.inFlight < this.limit.current) {
      const h = this.nextReady();
      if (!h) return;
      void this.deliver(h);
    }
  }

  /**
   * Starts one delivery. A plain message (no S3 pointer, nearly all) goes the callback way: the
   * POST, and for a 2xx without a reply its delete, without a promise or an async frame per
   * message (the worker's hot path, docs/benchmarks.md); anything else goes through outcome().
   */
  private deliver(h: Held): void {
    const { msg } = h;
    if (sizeAttributeOf(msg.attributes) !== undefined) {
      void this.deliverPayload(h);
      return;
    }
    const group = this.begin(h);
    let sync = true;
    this.app.postWith(msg, this.config.queue, this.config.contentType, (out) => {
      // An outcome at once (a refusal) is taken a turn later, as an awaited one was: dispatch's loop goes on first.
      if (sync) queueMicrotask(() => this.answered(h, group, out));
      else this.answered(h, group, out);
    });
    sync = false;
  }

  /** A delivery starts: its FIFO group is busy, it counts in flight. Returns the group, for finished(). */
  private begin(h: Held): string | undefined {
    const group = this.fifo ? h.msg.groupId : undefined;
    if (group !== undefined) this.busyGroups.add(group);
    h.state = 'delivering';
    this.inFlight += 1;
    return group;
  }

  /** The app's outcome for a plain message. Never throws (it runs in the app client's callback). */
  private answered(h: Held, group: string | undefined, out: AppOutcome): void {
    this.inFlight -= 1;
    this.finishing += 1;
    let settling: Promise<void>;
    try {
      const reply = out.kind === 'ok' ? this.replyOf(h.msg, out) : undefined;
      if (out.kind === 'ok' && reply === undefined) {
        // The usual 2xx: no reply to make durable first, straight to its delete.
        this.limit.answered(out.latencyMs);
        h.state = 'settling';
        this.settler.deleteWith(h.msg.receiptHandle, (deleted) => {
          try {
            this.deleted(h, out, deleted);
          } catch (err) {
            this.unexpected(err, h);
          }
          this.finished(group);
        });
        return;
      }
      settling = out.kind === 'ok' ? this.settleOk(h, out, reply) : this.outcome(h, out);
    } catch (err) {
      this.unexpected(err, h);
      this.finished(group);
      return;
    }
    settling.catch((err: unknown) => this.unexpected(err, h)).then(() => this.finished(group), () => undefined);
  }

  /** The reply a 2xx asks for, if this worker sends replies; computed once per outcome. */
  private replyOf(msg: ReceivedMessage, out: Extract<AppOutcome, { kind: 'ok' }>): WorkerReply | undefined {
    return this.deps.sendReply === undefined ? undefined : replyFor(msg, out, this.config, this.deps.credentials);
  }

  private unexpected(err: unknown, h: Held): void {
    this.log.error({ err: (err as Error)?.message, stack: (err as Error)?.stack }, 'unexpected error settling a message; it reappears after its visibility timeout');
    this.held.delete(h.msg.receiptHandle);
  }

  /**
   * A delivery is settled: its group is free, its slot too. What that frees is used a microtask
   * later, once for every delivery settled meanwhile: a delete batch settles ten at once, and
   * polling after each would ask SQS for one message at a time (more receives per message).
   */
  private finished(group: string | undefined): void {
    this.finishing -= 1;
    if (group !== undefined) this.busyGroups.delete(group);
    if (this.kicked) return;
    this.kicked = true;
    queueMicrotask(this.kick);
  }

  private kicked = false;
  private readonly kick = (): void => {
    this.kicked = false;
    this.dispatch();
    this.maybePoll();
  };

  /** A message whose payload is in S3 (an Extended Client pointer): read, then POSTed as a stream. */
  private async deliverPayload(h: Held): Promise<void> {
    const { msg } = h;
    const group = this.begin(h);
    const payload = await openPayload(msg, this.deps.s3, () => this.deps.credentials.get(), this.payloadAbort.signal);
    let out: AppOutcome;
    if (payload === undefined) out = await this.app.post(msg, this.config.queue, this.config.contentType);
    else if ('failed' in payload) out = { kind: 'failed', ...payload.failed, latencyMs: 0 };
    else {
      h.pointer = payload.pointer;
      out = await this.app.post(payload.message, this.config.queue, this.config.contentType, { body: payload.body, bytes: payload.bytes });
    }
    this.inFlight -= 1;
    this.finishing += 1;
    try {
      await this.outcome(h, out);
    } catch (err) {
      this.unexpected(err, h);
    }
    this.finished(group);
  }

  /** A 2xx: its reply (if any) made durable first, then the task deleted. */
  private async settleOk(h: Held, out: Extract<AppOutcome, { kind: 'ok' }>, reply: WorkerReply | undefined): Promise<void> {
    const { msg } = h;
    this.limit.answered(out.latencyMs);
    if (reply && this.deps.sendReply) {
      try {
        // Durable (spooled) before the task is deleted: a crash in between loses no reply.
        await this.deps.sendReply(reply);
        this.counts.replies += 1;
        this.emit('replied', { queue: this.config.queue, messageId: msg.messageId, replyQueue: reply.queue });
      } catch (err) {
        const e = err as { code?: string; message?: string };
        return this.failed(h, { kind: 'failed', code: 'ReplyNotAccepted', message: `reply to ${reply.queue} not accepted: ${e.code ?? ''} ${e.message ?? ''}`.trim(), latencyMs: out.latencyMs });
      }
    }
    h.state = 'settling';
    this.deleted(h, out, await this.settler.delete(msg.receiptHandle));
  }

  private async outcome(h: Held, out: AppOutcome): Promise<void> {
    const { msg } = h;
    if (out.kind === 'ok') return this.settleOk(h, out, this.replyOf(msg, out));
    if (out.kind === 'failed' && out.code === 'Aborted') return this.release([h]); // shutdown past its grace
    if (out.kind === 'busy') {
      this.limit.busy(out.retryAfterMs);
      h.busyAnswers += 1;
      if (h.busyAnswers <= 3 && this.state === 'polling') {
        // Overload, not the message's fault: try it again here (it stays invisible) after the pause.
        h.state = 'ready';
        this.ready.unshift(h);
        return;
      }
      return this.failed(h, { kind: 'failed', code: `Http${out.status}`, message: `the app answered HTTP ${out.status} (busy) ${h.busyAnswers} times`, latencyMs: out.latencyMs }, out.retryAfterMs);
    }
    if (out.code.startsWith('Http')) this.limit.answered(out.latencyMs);
    return this.failed(h, out);
  }

  /** A 2xx's delete is done (`deleted`: SQS confirmed it; false: the receipt handle no longer worked, or stop). */
  private deleted(h: Held, out: Extract<AppOutcome, { kind: 'ok' }>, deleted: boolean): void {
    const { msg } = h;
    this.held.delete(msg.receiptHandle);
    if (deleted && h.pointer && this.deps.s3 && !this.deps.s3.keep) void this.deletePayload(h.pointer);
    this.counts.delivered += 1;
    this.emit('delivered', { queue: this.config.queue, messageId: msg.messageId, status: out.status, latencyMs: out.latencyMs });
  }

  /** The app handled the message and SQS deleted it: its payload object goes too (as the Extended Client's deleteMessage does). */
  private async deletePayload(p: PayloadPointer): Promise<void> {
    try {
      await (this.deps.s3 as WorkerS3).client.delete(p.bucket, p.key, await this.deps.credentials.get());
    } catch (err) {
      this.log.warn({ bucket: p.bucket, key: p.key, code: (err as { code?: unknown }).code }, 'could not delete a handled message\'s payload from S3; it stays there');
    }
  }

  private async failed(h: Held, out: Extract<AppOutcome, { kind: 'failed' }>, atLeastMs = 0): Promise<void> {
    const { msg } = h;
    const retry = msg.receiveCount < this.config.maxRetries;
    this.counts.failed += 1;
    if (retry) this.counts.retried += 1;
    else this.counts.leftToRedrive += 1;
    this.lastError = { code: out.code, message: out.message, at: new Date().toISOString() };
    this.emit('failed', { queue: this.config.queue, messageId: msg.messageId, code: out.code, receiveCount: msg.receiveCount, latencyMs: out.latencyMs, retry });
    this.log.debug({ messageId: msg.messageId, code: out.code, receiveCount: msg.receiveCount, retry }, 'delivery to the app failed');
    const seconds = Math.max(errorVisibilitySeconds(this.config.errorVisibilityTimeoutSeconds, msg.receiveCount), Math.ceil(atLeastMs / 1000));
    // FIFO: later messages of the group must not overtake this one; hand them back too.
    const group = this.fifo ? msg.groupId : undefined;
    const later = group === undefined ? [] : this.ready.filter((r) => r.msg.groupId === group);
    h.state = 'settling';
    await Promise.all([this.settler.changeVisibility(msg.receiptHandle, Math.min(seconds, 43_200)), this.release(later)]);
    this.held.delete(msg.receiptHandle);
  }

  /** Makes messages visible again at once (another worker, or this one, takes them). */
  private async release(list: Held[]): Promise<void> {
    for (const h of list) {
      const i = this.ready.indexOf(h);
      if (i >= 0) this.ready.splice(i, 1);
      h.state = 'settling';
    }
    await Promise.all(list.map(async (h) => {
      await this.settler.changeVisibility(h.msg.receiptHandle, 0);
      this.held.delete(h.msg.receiptHandle);
    }));
  }

  /** Heartbeat: renews the visibility of held messages whose timeout is half gone. */
  private extend(): void {
    const vis = this.config.visibilityTimeoutSeconds;
    const now = Date.now();
    for (const h of this.held.values()) {
      if (h.extending || h.visibleUntil - now > (vis * 1000) / 2) continue;
      h.extending = true;
      void this.settler.changeVisibility(h.msg.receiptHandle, vis).then((ok) => {
        h.extending = false;
        if (ok) h.visibleUntil = now + vis * 1000;
      });
    }
  }

  /**
   * Stops receiving and hands back the messages not yet started; lets deliveries in flight finish
   * until `deadline` (Date.now() ms), then aborts and hands back the rest, and waits for their
   * deletes and hand-backs (at least 2 s past the deadline). After it resolves the worker sends no
   * more replies. Receives in flight are left to finish: see stop. Idempotent.
   */
  quiesce(deadline: number): Promise<void> {
    this.quiescing ??= this.doQuiesce(deadline);
    return this.quiescing;
  }

  private async doQuiesce(deadline: number): Promise<void> {
    this.state = 'stopping';
    this.stopping.abort();
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.released += this.ready.length;
    const handBack = this.release([...this.ready]);
    while (this.inFlight > 0 && Date.now() < deadline) await sleep(10);
    this.app.abortAll();
    this.payloadAbort.abort();
    while (this.inFlight > 0) await sleep(5);
    const settleBy = Math.max(deadline, Date.now() + 2000);
    while (this.finishing > 0 && Date.now() < settleBy) await sleep(5);
    await handBack;
  }

  /**
   * quiesce, then waits for the receives in flight until `deadline`: SQS may already have handed
   * them messages, and a receive cut short would leave those invisible for the whole visibility
   * timeout. What they bring is handed back at once (visibility 0). Receives still open at the
   * deadline are cut (logged). Then the deletes and hand-backs get at least 2 s past the deadline.
   * Idempotent.
   */
  stop(deadline: number): Promise<void> {
    this.stopped ??= this.doStop(deadline);
    return this.stopped;
  }

  private async doStop(deadline: number): Promise<void> {
    const polls = (async () => {
      while (this.polls > 0 && Date.now() < deadline) await sleep(10);
    })();
    await this.quiesce(deadline);
    await polls;
    if (this.polls > 0) {
      this.log.warn({ receives: this.polls, visibilityTimeoutSeconds: this.config.visibilityTimeoutSeconds }, 'receives still open at the end of the grace period were cut; messages SQS handed them (if any) reappear after their visibility timeout');
      this.pollAbort.abort();
      while (this.polls > 0) await sleep(5);
    }
    await this.settler.drain(Math.max(deadline, Date.now() + 2000));
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.app.destroy();
    this.state = 'stopped';
    this.emit('stopped', { queue: this.config.queue, released: this.released });
    this.log.info({ ...this.counts, released: this.released }, 'worker stopped');
  }
}
