import { Http1Pool } from '../net/http1/pool.js';
import type { Http1Failure } from '../net/http1/types.js';
import { batchRequestJson } from './batch-json.js';
import { fromNetworkError, fromResponse, SqsError } from './errors.js';
import { signRequest } from './sign.js';
import type { Credentials, SendMessageBatchRequestEntry, SendMessageBatchResult } from './types.js';

export interface SqsClientOptions {
  /** Origin of the SQS endpoint, e.g. `https://sqs.eu-west-1.amazonaws.com`. */
  endpoint: string;
  /** Region used in the signature scope. */
  region: string;
  /** Request timeout: no byte of the answer for this long (or between two of its pieces), ms. Default 10000. */
  requestTimeoutMs?: number;
  /** Connecting (TCP and TLS) takes longer than this: a TimeoutError that never reached SQS, ms. Default 10000. */
  connectTimeoutMs?: number;
  /** Connections kept to the endpoint at most; requests beyond wait in order. Default 64. */
  connections?: number;
  /** The largest answer read, bytes; a larger one is a NetworkError (BodyTooLarge). Default MAX_ANSWER_BYTES (64 MiB). */
  maxAnswerBytes?: number;
  /** Trust anchors for an https: endpoint instead of Node's store (which honours NODE_EXTRA_CA_CERTS); for tests. */
  ca?: string | Buffer;
}

/**
 * The largest SQS answer read, bytes: a ReceiveMessage of 10 messages of 1 MiB each (SQS's
 * largest) is about 10 MiB, more if JSON escapes much of it; past 64 MiB it is not SQS.
 */
export const MAX_ANSWER_BYTES = 64 * 1024 * 1024;

const UNSENDABLE = /[\0\r\n]/;

/** Told the outcome of every request (undefined: SQS answered 2xx). Must not throw. */
export type CallObserver = (action: string, error: SqsError | undefined) => void;

/** After undici's PoolStats: open/idle connections; requests waiting for one (pending = queued), on one (running), and both (size). */
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
 * A small SQS client speaking the JSON protocol over one long-lived pool of keep-alive
 * connections (the daemon's own HTTP/1.1 client, src/net/http1/).
 * Every SQS call the daemon makes goes through `call`, so errors are mapped in one place
 * (`errors.ts`). Answers and errors never carry credentials.
 */
export class SqsClient {
  readonly endpoint: string;
  readonly region: string;
  private readonly host: string;
  private readonly pool: Http1Pool;
  private readonly timeoutMs: number;
  /** Sees every request's outcome: what the daemon knows of SQS's reachability and of its credentials. */
  observer: CallObserver | undefined;

  constructor(options: SqsClientOptions) {
    const url = new URL(options.endpoint);
    this.endpoint = url.origin;
    this.host = url.host;
    this.region = options.region;
    this.timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.pool = new Http1Pool(url, {
      connections: options.connections ?? 64,
      timeoutMs: this.timeoutMs,
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      maxBodyBytes: options.maxAnswerBytes ?? MAX_ANSWER_BYTES,
      idleMs: 30_000,
      resendOnStale: false, // a SendMessageBatch sent twice may be stored twice: the retrier decides
      peer: 'SQS',
      ...(options.ca === undefined ? {} : { ca: options.ca }),
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

  /**
   * `call` with the request's JSON already written (SendMessageBatch's, built by hand: batch-json.ts).
   * One promise per call, settled from the answer's callback (issue 14: a promise and an await
   * fewer per batch than an async function awaiting exchange).
   */
  private callJson<T>(action: string, body: string, credentials: Credentials, options: { signal?: AbortSignal; timeoutMs?: number } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Signed inside the executor: a throw rejects the call, as it did from an async function.
      const headers = signRequest({ host: this.host, region: this.region, target: `AmazonSQS.${action}`, body, credentials });
      this.send(headers, body, options.timeoutMs ?? this.timeoutMs, options.signal, (failure, answer) => {
        try {
          if (answer === undefined) {
            const error = fromNetworkError(failure);
            this.observer?.(action, error);
            return reject(error);
          }
          const { status, text, requestId, queryError } = answer;
          if (status < 200 || status >= 300) {
            const error = fromResponse(status, text, requestId, queryError);
            this.observer?.(action, error);
            return reject(error);
          }
          this.observer?.(action, undefined);
          if (text === '') return resolve({} as T);
          let parsed: T;
          try {
            parsed = JSON.parse(text) as T;
          } catch {
            return reject(new SqsError('BadResponse', `SQS answered ${action} with a body that is not JSON`, status, requestId, 'retry'));
          }
          resolve(parsed);
        } catch (err) {
          reject(err); // the observer threw (it should not): the call fails, not the socket's callback
        }
      });
    });
  }

  /**
   * One POST / over the daemon's own HTTP/1.1 client (src/net/http1/, issue 13/14): the head and
   * body written as one string, the answer read whole. Fails with an Error whose `code` and
   * `name` fromNetworkError maps (AbortError, TimeoutError, or the socket's code); a reused
   * socket found closed is not resent here (see docs/http1-client.md): the retrier decides.
   * `done` is called once, with the error or the answer.
   */
  private send(headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal | undefined, done: (failure: Error | undefined, answer: RelayedAnswer | undefined) => void): void {
    let head = 'POST / HTTP/1.1\r\n';
    for (const name in headers) {
      const value = headers[name] as string;
      // Credentials may come from callers (pass-through): a CR, LF or NUL in one must not forge a header.
      if (UNSENDABLE.test(value)) return done(Object.assign(new Error(`the request's ${name} header cannot be sent over HTTP`), { code: 'InvalidHeader' }), undefined);
      head += `${name}: ${value}\r\n`;
    }
    this.pool.request(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, undefined, (failure, answer) => {
      if (failure || !answer) return done(transportError(failure as Http1Failure), undefined);
      const b = answer.body;
      let text = b === undefined || b.length === 0 ? '' : b.toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // as undici's body.text(): a BOM is not content
      const out: RelayedAnswer = { status: answer.status, text };
      const rid = answer.headers['x-amzn-requestid'] ?? answer.headers['x-amz-request-id'];
      if (rid !== undefined) out.requestId = rid;
      const qe = answer.headers['x-amzn-query-error'];
      if (qe !== undefined) out.queryError = qe;
      done(undefined, out);
    }, timeoutMs, signal);
  }

  /** `send` as a promise (rejected with send's Error). */
  private exchange(headers: Record<string, string>, body: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<RelayedAnswer> {
    return new Promise<RelayedAnswer>((resolve, reject) => {
      this.send(headers, body, timeoutMs, signal, (failure, answer) => (answer === undefined ? reject(failure) : resolve(answer)));
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

  /** Connection-pool counters for metrics (read-only). */
  stats(): PoolStatsSnapshot | undefined {
    return this.pool.stats();
  }

  /** Refuses new requests, waits for those in flight (and waiting), then closes the connections. */
  close(): Promise<void> {
    return this.pool.close();
  }
}

/**
 * The client's failure as the error fromNetworkError maps (errors.ts): AbortError, TimeoutError
 * (ConnectTimeout: never connected), or NetworkError with the socket's code as `code`
 * (ECONNREFUSED, ENOTFOUND... when never connected; ECONNRESET or ConnectionClosed after).
 * Its message names the origin and the code, never a header or the body.
 */
function transportError(f: Http1Failure): Error {
  const e = new Error(f.message) as Error & { code: string };
  e.code = f.code === 'ConnectionClosed' && f.errno !== undefined ? f.errno : f.code === 'Timeout' ? 'ResponseTimeout' : f.code;
  if (f.code === 'Aborted') e.name = 'AbortError';
  else if (f.code === 'Timeout' || f.code === 'ConnectTimeout') e.name = 'TimeoutError';
  return e;
}

/** The endpoint for a region, or the configured override. */
export function endpointFor(region: string, override?: string): string {
  if (override) return new URL(override).origin;
  return region.startsWith('cn-') ? `https://sqs.${region}.amazonaws.com.cn` : `https://sqs.${region}.amazonaws.com`;
}
