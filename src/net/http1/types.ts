import type { Readable } from 'node:stream';

/** An answer read whole. */
export interface Http1Answer {
  status: number;
  /** Response headers, names lower-cased; a repeated header's values joined with ", ". */
  headers: Record<string, string>;
  /** The body (undefined for a status whose body the pool drains unread: see `maxDiscardBytes`). */
  body: Buffer | undefined;
}

/**
 * Why a request has no answer. `code`: Timeout, ConnectTimeout, Aborted, Closed, BodyTooLarge,
 * HeadersTooLarge, BadResponse, ConnectionClosed, BodyMismatch, PayloadReadFailed, or (for a
 * connection never made) the socket's or TLS's own code (ECONNREFUSED, ENOTFOUND,
 * ERR_TLS_CERT_ALTNAME_INVALID...).
 */
export interface Http1Failure {
  code: string;
  message: string;
  /**
   * The connection was made (TCP, and TLS for https:) before the failure, so the request may
   * have been written and may have reached the server. False: it cannot have.
   */
  connected: boolean;
  /** The socket's error code, if the socket failed (ECONNRESET, EPIPE...). */
  errno?: string;
}

export type Http1Callback = (failure: Http1Failure | undefined, answer: Http1Answer | undefined) => void;

/** A body streamed after the head: `bytes` is its length, or -1 if unknown (then sent chunked). */
export interface StreamBody {
  stream: Readable;
  bytes: number;
}

export interface Http1PoolOptions {
  /** Sockets open at most. Requests beyond wait in order. */
  connections: number;
  /** Default request timeout: no byte of the answer for this long (or between two of its chunks), ms. */
  timeoutMs: number;
  /** Connecting (TCP, and the TLS handshake for https:) takes longer than this: ConnectTimeout, ms. Default 10 s. */
  connectTimeoutMs?: number;
  /** Largest body read, bytes; more is BodyTooLarge. */
  maxBodyBytes: number;
  /**
   * When set, only 2xx bodies are read; another status's body is drained up to this many bytes,
   * then the socket is closed (the status still counts), and the answer has no body. When not
   * set, every status's body is read (up to `maxBodyBytes`).
   */
  maxDiscardBytes?: number;
  /** Largest response head (status line and headers), and the trailers' bound too; bytes. Default 16 KiB, as node:http's. */
  maxHeaderBytes?: number;
  /** An idle socket is closed after this long, ms; sooner when the server's Keep-Alive says so. Default 30 s. */
  idleMs?: number;
  /**
   * A request without a streamed body whose **reused** socket closes before any byte of the
   * answer is sent once more on a new socket (the server most likely closed it while idle).
   * Only for requests the caller may safely repeat.
   */
  resendOnStale: boolean;
  /** Who answers, in failure messages ("the app", "SQS"). */
  peer: string;
  /** Trust anchors for https: instead of Node's default store (tests). Default: Node's, with NODE_EXTRA_CA_CERTS. */
  ca?: string | Buffer;
}
