import { attributesBytes } from './attributes.js';
import type { MessageAttributes, OutgoingMessage, QueueLimits } from './types.js';
import type { Validation } from './validation.js';

/** SQS's limit on message attributes per message; trace attributes never push a message past it. */
const MAX_ATTRIBUTES = 10;
/** An X-Ray trace header: printable ASCII, with a Root. Longer than this is no trace header. */
const MAX_TRACE_HEADER = 2048;
const TRACE_HEADER = /^[\x20-\x7e]*Root=1-[0-9a-fA-F]{8}-[0-9a-fA-F]{24}[\x20-\x7e]*$/;
/** W3C Trace Context: version-traceid-parentid-flags; an all-zero id is invalid. */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
/** W3C: vendors should propagate at least 512 characters; longer lists are dropped, not cut. */
const MAX_TRACESTATE = 512;

/** Trace context of one request, as a door read it (REST: headers; a JSON entry may carry its own). */
export interface TraceInput {
  /** `X-Amzn-Trace-Id` of the request. Ignored when malformed (a proxy's, not the sender's word). */
  amznTraceId?: string | undefined;
  /** The entry's own `awsTraceHeader` (JSON body): wins over the header; malformed is a 400. */
  awsTraceHeader?: unknown;
  /** W3C `traceparent` / `tracestate` headers; carried only when traceparent is valid. */
  traceparent?: string | undefined;
  tracestate?: string | undefined;
}

export interface TraceOptions {
  /** Carry W3C trace context as the `traceparent` / `tracestate` message attributes (--trace-attributes). */
  attributes: boolean;
}

/**
 * Adds trace context to a validated message, following OpenTelemetry's messaging conventions for
 * SQS: the X-Ray header goes in the `AWSTraceHeader` system attribute (which SQS does not count
 * against the message size or the 10 attributes), and W3C context goes in message attributes named
 * `traceparent` and `tracestate`, as OpenTelemetry's AWS SDK instrumentation injects them. Those
 * count: they are added only while the message stays within 10 attributes and the queue's size
 * limit (tracestate first to go), never replace an attribute the sender set, and are never a reason
 * to refuse a message. Only an invalid `awsTraceHeader` the sender wrote in the body is refused.
 */
export function withTrace(v: { message: OutgoingMessage; bytes: number }, trace: TraceInput, limits: QueueLimits, options: TraceOptions): Validation {
  let message = v.message;
  let bytes = v.bytes;
  if (trace.awsTraceHeader !== undefined && trace.awsTraceHeader !== null && trace.awsTraceHeader !== '') {
    const h = trace.awsTraceHeader;
    if (typeof h !== 'string' || !validTraceHeader(h)) {
      return { ok: false, status: 400, code: 'InvalidTraceHeader', message: 'awsTraceHeader is not an X-Ray trace header (Root=1-<8 hex>-<24 hex>;Parent=...;Sampled=...), printable ASCII, at most 2048 characters', field: 'awsTraceHeader' };
    }
    message = { ...message, traceHeader: h };
  } else if (trace.amznTraceId !== undefined && validTraceHeader(trace.amznTraceId)) {
    message = { ...message, traceHeader: trace.amznTraceId };
  }
  // A sender that set its own traceparent attribute gave its own context: nothing is added.
  if (options.attributes && trace.traceparent !== undefined && message.attributes?.traceparent === undefined && validTraceparent(trace.traceparent)) {
    const extra: MessageAttributes = { traceparent: { DataType: 'String', StringValue: trace.traceparent } };
    const state = trace.tracestate?.trim();
    if (state && state.length <= MAX_TRACESTATE && /^[\x20-\x7e]+$/.test(state)) extra.tracestate = { DataType: 'String', StringValue: state };
    const own = message.attributes ?? {};
    let count = Object.keys(own).length;
    const added: MessageAttributes = {};
    let addedBytes = 0;
    for (const name of ['traceparent', 'tracestate'] as const) {
      const value = extra[name];
      if (!value || own[name] !== undefined) continue; // the sender's own tracestate stays
      const size = attributesBytes({ [name]: value });
      // No room for traceparent: tracestate means nothing without it.
      if (count >= MAX_ATTRIBUTES || bytes + addedBytes + size > limits.maxMessageBytes) break;
      added[name] = value;
      addedBytes += size;
      count += 1;
    }
    if (addedBytes > 0) {
      message = { ...message, attributes: { ...own, ...added } };
      bytes += addedBytes;
    }
  }
  return { ok: true, message, bytes };
}

function validTraceHeader(h: string): boolean {
  return h.length <= MAX_TRACE_HEADER && TRACE_HEADER.test(h);
}

function validTraceparent(h: string): boolean {
  const m = TRACEPARENT.exec(h.trim());
  if (!m) return false;
  const [, version, traceId, parentId] = m;
  if (version === 'ff' || /^0+$/.test(traceId as string) || /^0+$/.test(parentId as string)) return false;
  // Version 00 has exactly four fields; later versions may add more after a dash.
  return version !== '00' || m[5] === undefined;
}
