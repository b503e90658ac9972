import { errors as undiciErrors, Pool, type Dispatcher } from 'undici';
import { batchRequestJson } from './batch-json.js';
import { fromNetworkError, fromResponse, SqsError } from './errors.js';
import { signRequest } from './sign.js';
import type { Credentials, SendMessageBatchRequestEntry, SendMessageBatchResult } from './types.js';

export interface SqsClientOptions {
  /** Origin of the SQS endpoint, e.g. `https://sqs.eu-west-1.amazonaws.com`. */
  endpoint: string;
  /** Region used in the signature scope. */
  region: string;
  /** Dispatcher to send through; defaults to a new keep-alive Pool for `endpoint` owned by the client. */
  dispatcher?: Dispatcher;
  /** Time to wait for response headers, then body, per request. Default 10000 ms. */
  requestTimeoutMs?: number;
  /** Connections kept to the endpoint when the client owns the pool. Default 64. */
  connections?: number;
}

/** Told the outcome of every request (undefined: SQS answered 2xx). Must not throw. */
export type CallObserver = (action: string, error: SqsError | undefined) => void;

/** undici's PoolStats, copied: open/free connections; pending, queued, running and all requests. */
export interface PoolStatsSnapshot {
  connected: number;
  free: number;
  pending: number;
  queued: number;
  running: number;
  size: number;
}

/** SQS's answer to a relayed call: status, body text, and the headers worth passing on. */
export interface RelayedAnswer {
  status: number;
  text: string;
  /** `x-amzn-query-error`: the Query protocol's code and fault, e.g. `AWS.SimpleQueueService.NonExistentQueue;Sender`. */
  queryError?: string;
  requestId?: string;
}

/**
 * A small SQS client speaking the JSON protocol over one long-lived undici pool.
 * Every SQS call the daemon makes goes through `call`, so errors are mapped in one place
 * (`errors.ts`). Answers and errors never carry credentials.
 */
export class SqsClient {
  readonly endpoint: string;
  readonly region: string;
  private readonly host: string;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly timeoutMs: number;
  /** Sees every request's outcome: what the daemon knows of SQS's reachability and of its credentials. */
  observer: CallObserver | undefined;

  constructor(options: SqsClientOptions) {
    const url = new URL(options.endpoint);
    this.endpoint = url.origin;
    this.host = url.host;
    this.region = options.region;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher =
      options.dispatcher ??
      new Pool(this.endpoint, {
        connections: options.connections ?? 64,
        keepAliveTimeout: 30_000,
        keepAliveMaxTimeout: 120_000,
        pipelining: 1,
      });
  }

  /**
   * Calls an SQS action; resolves with the parsed answer or rejects with an SqsError.
   * `options.signal` aborts it (a long poll at shutdown); `options.timeoutMs` replaces the
   * client's timeout (a long poll waits up to 20 s by design).
   */
  async call<T = Record<string, unknown>>(action: string, params: object, credentials: Credentials, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    return this.callJson<T>(action, JSON.stringify(params), credentials, options);
  }

  /** `call` with the request's JSON already written (SendMessageBatch's, built by hand: batch-json.ts). */
  private async callJson<T>(action: string, body: string, credentials: Credentials, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    const headers = signRequest({ host: this.host, region: this.region, target: `AmazonSQS.${action}`, body, credentials });
    let answer: RelayedAnswer;
    try {
      answer = await this.exchange(headers, body, options.timeoutMs ?? this.timeoutMs, options.signal);
    } catch (err) {
      const error = fromNetworkError(err);
      this.observer?.(action, error);
      throw error;
    }
    const { status, text, requestId, queryError } = answer;
    if (status < 200 || status >= 300) {
      const error = fromResponse(status, text, requestId, queryError);
      this.observer?.(action, error);
      throw error;
    }
    this.observer?.(action, undefined);
    if (text === '') return {} as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new SqsError('BadResponse', `SQS answered ${action} with a body that is not JSON`, status, requestId, 'retry');
    }
  }

  /**
   * One POST / through the pool's `dispatch` with a small handler (issue 14): undici's `request()`
   * wraps every answer in a Readable and reads it back through a stream consumer, a tenth of the
   * SQS side's CPU per SendMessageBatch. Rejects with undici's own errors (timeouts, resets, and
   * RequestAbortedError for `signal`), which the caller maps with fromNetworkError as before.
   */
  private exchange(headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<RelayedAnswer> {
    return new Promise<RelayedAnswer>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new undiciErrors.RequestAbortedError());
        return;
      }
      let controller: Dispatcher.DispatchController | undefined;
      let aborted = false;
      let status = 0;
      let resHeaders: Record<string, string | string[] | undefined> = {};
      let chunks: Buffer[] = [];
      const onAbort = (): void => {
        aborted = true;
        controller?.abort(new undiciErrors.RequestAbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      const handler: Dispatcher.DispatchHandler = {
        onRequestStart: (c) => {
          controller = c;
          if (aborted) c.abort(new undiciErrors.RequestAbortedError());
        },
        onResponseStart: (_c, statusCode, h) => {
          if (statusCode < 200) return; // 1xx: the real answer follows
          status = statusCode;
          resHeaders = h;
          chunks = [];
        },
        onResponseData: (_c, chunk) => {
          chunks.push(chunk);
        },
        onResponseEnd: () => {
          done();
          let text = chunks.length === 0 ? '' : chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // as undici's body.text(): a BOM is not content
          const answer: RelayedAnswer = { status, text };
          const rid = resHeaders['x-amzn-requestid'] ?? resHeaders['x-amz-request-id'];
          if (typeof rid === 'string') answer.requestId = rid;
          const qe = resHeaders['x-amzn-query-error'];
          if (typeof qe === 'string') answer.queryError = qe;
          resolve(answer);
        },
        onResponseError: (_c, err) => {
          done();
          reject(err);
        },
      };
      try {
        this.dispatcher.dispatch({ origin: this.endpoint, path: '/', method: 'POST', headers, body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }, handler);
      } catch (err) {
        done();
        reject(err);
      }
    });
  }

  /**
   * Sends an action's JSON body as given and hands SQS's answer back unparsed, for the SQS API
   * door to relay. Only failures below HTTP reject (with an SqsError); every answer resolves.
   */
  async relay(action: string, body: string, credentials: Credentials, timeoutMs = this.timeoutMs): Promise<RelayedAnswer> {
    const headers = signRequest({ host: this.host, region: this.region, target: `AmazonSQS.${action}`, body, credentials });
    try {
      return await this.exchange(headers, body, timeoutMs, undefined);
    } catch (err) {
      throw fromNetworkError(err);
    }
  }

  sendMessageBatch(queueUrl: string, entries: SendMessageBatchRequestEntry[], credentials: Credentials): Promise<SendMessageBatchResult> {
    return this.callJson<SendMessageBatchResult>('SendMessageBatch', batchRequestJson(queueUrl, entries), credentials);
  }

  async getQueueUrl(queueName: string, credentials: Credentials): Promise<string> {
    const out = await this.call<{ QueueUrl?: string }>('GetQueueUrl', { QueueName: queueName }, credentials);
    if (typeof out.QueueUrl !== 'string') throw new SqsError('BadResponse', 'GetQueueUrl answered without QueueUrl', 200, undefined, 'retry');
    return out.QueueUrl;
  }

  async getQueueAttributes(queueUrl: string, names: string[], credentials: Credentials): Promise<Record<string, string>> {
    const out = await this.call<{ Attributes?: Record<string, string> }>('GetQueueAttributes', { QueueUrl: queueUrl, AttributeNames: names }, credentials);
    return out.Attributes ?? {};
  }

  /** Connection-pool counters for metrics (read-only), when the client owns its undici Pool. */
  stats(): PoolStatsSnapshot | undefined {
    if (!this.ownsDispatcher) return undefined;
    const { connected, free, pending, queued, running, size } = (this.dispatcher as Pool).stats;
    return { connected, free, pending, queued, running, size };
  }

  /** Closes the pool if this client made it; waits for requests in flight. */
  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

/** The endpoint for a region, or the configured override. */
export function endpointFor(region: string, override?: string): string {
  if (override) return new URL(override).origin;
  return region.startsWith('cn-') ? `https://sqs.${region}.amazonaws.com.cn` : `https://sqs.${region}.amazonaws.com`;
}
