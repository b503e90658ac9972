import type { ReceivedMessage } from '../sqs/consume.js';

/**
 * The sqsd headers of a POST (Elastic Beanstalk's names and values, so Beanstalk worker apps run
 * unchanged). `sqsdHeaders` + `headerLines` say what is sent; `SqsdHead` writes the same lines,
 * byte for byte, with the per-worker part (content type, user agent, queue) built once and the
 * rest without an intermediate object: the head is built for every message (the worker's hot
 * path, docs/benchmarks.md). Whenever a message is out of the ordinary (an unsendable value, an
 * attribute name given twice in different case, a non-string sender id), SqsdHead hands it to
 * the reference pair, so the two never disagree (test/worker/sqsd-head.unit.test.ts).
 */

const USER_AGENT = 'aws-sqsd (sqs-accelerator)';

/** Header names are case-insensitive; SQS attribute names are [A-Za-z0-9_.-]. */
const HEADER_SAFE = /^[\t\x20-\x7e\x80-\xff]*$/;

/** A header value as sent: as is when HTTP allows it, else percent-encoded (newlines, chars above U+00FF). */
export function headerValue(v: string): string {
  return HEADER_SAFE.test(v) ? v : encodeURIComponent(v);
}

/** An attribute's value as a header carries it: StringValue, else BinaryValue (base64); undefined when neither is a string. */
function attributeValue(a: unknown): string | undefined {
  if (a === null || typeof a !== 'object') return undefined;
  const { StringValue, BinaryValue } = a as { StringValue?: unknown; BinaryValue?: unknown };
  const value = StringValue ?? BinaryValue;
  return typeof value === 'string' ? value : undefined;
}

/** The sqsd headers of one message. */
export function sqsdHeaders(msg: ReceivedMessage, queueName: string, contentType: string): Record<string, string> {
  const h: Record<string, string> = {
    'content-type': contentType,
    'user-agent': USER_AGENT,
    'x-aws-sqsd-msgid': msg.messageId,
    'x-aws-sqsd-queue': queueName,
    'x-aws-sqsd-first-received-at': new Date(msg.firstReceivedAt).toISOString(),
    'x-aws-sqsd-receive-count': String(msg.receiveCount),
  };
  if (msg.system.SenderId) h['x-aws-sqsd-sender-id'] = msg.system.SenderId;
  for (const name in msg.attributes) {
    const value = attributeValue(msg.attributes[name]);
    if (value !== undefined) h[`x-aws-sqsd-attr-${name.toLowerCase()}`] = headerValue(value);
  }
  return h;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const UNSAFE_VALUE = /[\r\n\0]/;

/**
 * Headers as request lines (`name: value\r\n` each), or the name of one that cannot be sent: a
 * name that is no HTTP token or a value with CR, LF or NUL (an endpoint's message id or
 * attribute name could carry them; sent as is they would forge headers).
 */
export function headerLines(h: Record<string, string>): { lines: string } | { bad: string } {
  let lines = '';
  for (const k in h) {
    const v = h[k] as string;
    if (!TOKEN.test(k) || UNSAFE_VALUE.test(v)) return { bad: k };
    lines += `${k}: ${v}\r\n`;
  }
  return { lines };
}

/** Above this many message attributes the reference pair builds the head (SQS allows 10). */
const MAX_FAST_ATTRIBUTES = 10;

/** One worker's sqsd head builder: `lines(msg)` equals `headerLines(sqsdHeaders(msg, queueName, contentType))`. */
export class SqsdHead {
  /** content-type and user-agent lines; undefined when the content type cannot be sent (then every message goes the reference way, which names it). */
  private readonly start: string | undefined;
  private readonly queueLine: string;
  /** The last first-received-at and its ISO form: the messages of one receive mostly share it. */
  private lastMs = Number.NaN;
  private lastIso = '';
  private readonly names: string[] = [];

  constructor(readonly queueName: string, readonly contentType: string) {
    const fixed = headerLines({ 'content-type': contentType, 'user-agent': USER_AGENT });
    const queue = headerLines({ 'x-aws-sqsd-queue': queueName });
    this.start = 'lines' in fixed && 'lines' in queue ? fixed.lines : undefined;
    this.queueLine = 'lines' in queue ? queue.lines : '';
  }

  lines(msg: ReceivedMessage): { lines: string } | { bad: string } {
    const sender = msg.system.SenderId;
    if (this.start === undefined || UNSAFE_VALUE.test(msg.messageId) || (sender && (typeof sender !== 'string' || UNSAFE_VALUE.test(sender)))) return this.reference(msg);
    const ms = msg.firstReceivedAt;
    if (ms !== this.lastMs) {
      this.lastIso = new Date(ms).toISOString();
      this.lastMs = ms;
    }
    let lines = `${this.start}x-aws-sqsd-msgid: ${msg.messageId}\r\n${this.queueLine}x-aws-sqsd-first-received-at: ${this.lastIso}\r\nx-aws-sqsd-receive-count: ${msg.receiveCount}\r\n`;
    if (sender) lines += `x-aws-sqsd-sender-id: ${sender}\r\n`;
    const names = this.names;
    names.length = 0;
    for (const name in msg.attributes) {
      const value = attributeValue(msg.attributes[name]);
      if (value === undefined) continue;
      const lower = name.toLowerCase();
      // A name given twice in different case keeps the first one's place with the last one's value there: leave that to the reference.
      if ((lower !== '' && !TOKEN.test(lower)) || names.includes(lower) || names.length >= MAX_FAST_ATTRIBUTES) return this.reference(msg);
      names.push(lower);
      lines += `x-aws-sqsd-attr-${lower}: ${headerValue(value)}\r\n`;
    }
    return { lines };
  }

  private reference(msg: ReceivedMessage): { lines: string } | { bad: string } {
    return headerLines(sqsdHeaders(msg, this.queueName, this.contentType));
  }
}
