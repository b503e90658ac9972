import { Pool } from 'undici';
import type { ReceivedMessage } from '../sqs/consume.js';

/**
 * POSTs one message to the local app the way Elastic Beanstalk's sqsd does, over one keep-alive
 * undici pool per app origin, and reads the answer into an outcome. Never throws.
 */

export type AppOutcome =
  /** 2xx. `body` and `replyAttributes` (from X-Reply-Attr-* headers) feed a reply. */
  | { kind: 'ok'; status: number; body: string; replyAttributes: Record<string, string>; latencyMs: number }
  /** 429 or 503: the app is overloaded, not the message at fault. */
  | { kind: 'busy'; status: number; retryAfterMs: number | undefined; latencyMs: number }
  /** Any other status, a timeout or a refused connection. */
  | { kind: 'failed'; code: string; message: string; latencyMs: number };

/** Largest answer body read from the app (a reply must fit in an SQS message anyway). */
export const MAX_APP_BODY_BYTES = 1_048_576;

/** Header names are case-insensitive; SQS attribute names are [A-Za-z0-9_.-]. */
const HEADER_SAFE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A header value as sent: as is when HTTP allows it, else percent-encoded (newlines, chars above U+00FF). */
export function headerValue(v: string): string {
  return HEADER_SAFE.test(v) ? v : encodeURIComponent(v);
}

/** The sqsd headers of one message. */
export function sqsdHeaders(msg: ReceivedMessage, queueName: string, contentType: string): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': contentType,
    'user-agent': 'aws-sqsd (sqs-accelerator)',
    'x-aws-sqsd-msgid': msg.messageId,
    'x-aws-sqsd-queue': queueName,
    'x-aws-sqsd-first-received-at': new Date(msg.firstReceivedAt).toISOString(),
    'x-aws-sqsd-receive-count': String(msg.receiveCount),
  };
  if (msg.system.SenderId) h['x-aws-sqsd-sender-id'] = msg.system.SenderId;
  for (const [name, a] of Object.entries(msg.attributes)) {
    const value = a.StringValue ?? a.BinaryValue;
    if (typeof value === 'string') h[`x-aws-sqsd-attr-${name.toLowerCase()}`] = headerValue(value);
  }
  return h;
}

function retryAfterMs(v: string | string[] | undefined): number | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  if (s === undefined || s === '') return undefined;
  if (/^\d+$/.test(s.trim())) return Math.min(Number(s) * 1000, 300_000);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - Date.now()), 300_000);
}

export class AppClient {
  private readonly pool: Pool;
  private readonly path: string;

  constructor(readonly url: string, connections: number, private readonly timeoutMs: number) {
    const u = new URL(url);
    this.path = `${u.pathname}${u.search}`;
    this.pool = new Pool(u.origin, { connections, keepAliveTimeout: 30_000, pipelining: 1 });
  }

  async post(msg: ReceivedMessage, queueName: string, contentType: string, signal?: AbortSignal): Promise<AppOutcome> {
    const t0 = performance.now();
    const latency = () => performance.now() - t0;
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: sqsdHeaders(msg, queueName, contentType),
        body: msg.body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        ...(signal ? { signal } : {}),
      });
      const status = res.statusCode;
      if (status >= 200 && status < 300) {
        const chunks: Buffer[] = [];
        let size = 0;
        for await (const chunk of res.body) {
          size += (chunk as Buffer).length;
          if (size > MAX_APP_BODY_BYTES) {
            res.body.destroy();
            return { kind: 'failed', code: 'AppBodyTooLarge', message: `the app answered ${status} with a body over ${MAX_APP_BODY_BYTES} bytes`, latencyMs: latency() };
          }
          chunks.push(chunk as Buffer);
        }
        const replyAttributes: Record<string, string> = {};
        for (const [k, v] of Object.entries(res.headers)) {
          if (k.startsWith('x-reply-attr-') && k.length > 13 && v !== undefined) replyAttributes[k.slice(13)] = Array.isArray(v) ? v.join(', ') : v;
        }
        return { kind: 'ok', status, body: Buffer.concat(chunks).toString('utf8'), replyAttributes, latencyMs: latency() };
      }
      await res.body.dump({ limit: 65_536 }).catch(() => {});
      if (status === 429 || status === 503) return { kind: 'busy', status, retryAfterMs: retryAfterMs(res.headers['retry-after']), latencyMs: latency() };
      return { kind: 'failed', code: `Http${status}`, message: `the app answered HTTP ${status}`, latencyMs: latency() };
    } catch (err) {
      const e = err as { code?: unknown; name?: unknown };
      const code = e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED' ? 'Aborted'
        : e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT' ? 'AppTimeout'
        : e.code === 'ECONNREFUSED' ? 'AppRefused'
        : typeof e.code === 'string' ? e.code : 'AppError';
      const message = code === 'AppTimeout' ? `the app did not answer within ${this.timeoutMs / 1000} s (inactivity timeout)`
        : code === 'AppRefused' ? `nothing listens at ${this.url}`
        : `request to the app failed (${code})`;
      return { kind: 'failed', code, message, latencyMs: latency() };
    }
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  destroy(): Promise<void> {
    return this.pool.destroy();
  }
}
