/**
 * Validation of one message against SQS's rules, run at ingest time so bad input gets a clear 4xx
 * at once instead of failing later in the background, after the sender was already acked.
 *
 * Hot path: every ingested message goes through validateMessage. Every check is a single linear
 * scan over code units (no regex), the body's characters are checked and its UTF-8 bytes counted in
 * the same pass, and a plain body without attributes allocates nothing beyond the result.
 */
import { attributesBytes, validateAttributes } from './attributes.js';
import { badChar, describe, isDigit, isIdChar, quote, scan, utf8Bytes } from './chars.js';
import { MAX_DELAY_SECONDS, MAX_ID_LENGTH, SQS_MAX_MESSAGE_BYTES } from './quotas.js';
import type { OutgoingMessage, QueueLimits } from './types.js';
import { fail, type Failure, type Validation } from './validation.js';

export { invalidCharIndex } from './chars.js';
export {
  MAX_ATTRIBUTE_NAME_LENGTH,
  MAX_ATTRIBUTES,
  MAX_DATA_TYPE_LENGTH,
  MAX_DELAY_SECONDS,
  MAX_ID_LENGTH,
  MAX_NUMBER_DIGITS,
  SQS_MAX_MESSAGE_BYTES,
} from './quotas.js';
export type { Validation } from './validation.js';

/** Loosely typed input as parsed from a form, raw body or JSON: values are unknown until checked. */
export interface MessageInput {
  body?: unknown;
  /**
   * Object: name -> { DataType|dataType|type, StringValue|stringValue|value, BinaryValue|binaryValue }
   * or a plain string/number (shorthand: string -> String, finite number -> Number).
   */
  attributes?: unknown;
  /** Integer 0..900; numeric strings like "5" accepted (forms send strings). */
  delaySeconds?: unknown;
  groupId?: unknown;
  deduplicationId?: unknown;
  /** X-Ray trace header for the AWSTraceHeader system attribute; checked by withTrace (trace.ts), not here. */
  awsTraceHeader?: unknown;
}

/** Size of a message as SQS counts it: UTF-8 bytes of body + for each attribute its name, its DataType and its value (StringValue as UTF-8, BinaryValue as decoded bytes). */
export function messageBytes(message: OutgoingMessage): number {
  return utf8Bytes(message.body) + attributesBytes(message.attributes);
}

// ---------------------------------------------------------------------------------------------
// Delay, group and deduplication ids

/** The delay in seconds, undefined when absent, or a failure. */
function parseDelay(raw: unknown): number | undefined | Failure {
  if (raw === undefined || raw === null || raw === '') return undefined;
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string') {
    // Digits only (no sign, no spaces, no "1e2"); more than 4 digits is out of range anyway.
    const len = raw.length;
    let ok = len <= 4;
    for (let i = 0; ok && i < len; i++) ok = isDigit(raw.charCodeAt(i));
    if (!ok) {
      return fail(
        'InvalidDelay',
        `delaySeconds ${quote(raw)} is not an integer from 0 to ${MAX_DELAY_SECONDS}`,
        'delaySeconds',
      );
    }
    n = Number(raw);
  } else {
    return fail(
      'InvalidDelay',
      `delaySeconds is ${describe(raw)}; expected an integer from 0 to ${MAX_DELAY_SECONDS}`,
      'delaySeconds',
    );
  }
  if (!Number.isInteger(n) || n < 0 || n > MAX_DELAY_SECONDS) {
    return fail('InvalidDelay', `delaySeconds ${String(n)} is not an integer from 0 to ${MAX_DELAY_SECONDS}`, 'delaySeconds');
  }
  return n;
}

/** Why a group or deduplication id is invalid, or undefined. */
function idProblem(s: string): string | undefined {
  const n = s.length;
  if (n > MAX_ID_LENGTH) return `is ${n} characters long; the maximum is ${MAX_ID_LENGTH}`;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!isIdChar(c)) {
      const shown = c === 0x20 ? `a space (U+0020) at index ${i}` : badChar(s, i);
      return `contains ${shown}; only letters, digits and ASCII punctuation are allowed`;
    }
  }
  return undefined;
}

/** The id, undefined when absent ("" counts as absent: forms send empty fields), or a failure. */
function parseId(raw: unknown, field: 'groupId' | 'deduplicationId', code: string): string | undefined | Failure {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') return fail(code, `${field} is ${describe(raw)}; expected a string`, field);
  const problem = idProblem(raw);
  if (problem !== undefined) return fail(code, `${field} ${quote(raw)} ${problem}`, field);
  return raw;
}

function isFailure(v: unknown): v is Failure {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}

// ---------------------------------------------------------------------------------------------

export function validateMessage(
  input: MessageInput,
  queue: QueueLimits,
  options?: { defaultGroupId?: string },
): Validation {
  const limit = Math.min(queue.maxMessageBytes, SQS_MAX_MESSAGE_BYTES);

  // Body.
  const body = input.body;
  if (typeof body !== 'string') {
    if (body === undefined || body === null) return fail('EmptyBody', 'body is missing; SQS needs a non-empty message body', 'body');
    return fail('BodyNotString', `body is ${describe(body)}; expected a string`, 'body');
  }
  if (body.length === 0) return fail('EmptyBody', 'body is empty; SQS needs at least 1 character', 'body');
  // Every code unit is at least one UTF-8 byte: a body longer than the limit in characters is too
  // large whatever it holds, so reject it before scanning it.
  if (body.length > limit) {
    return {
      ok: false,
      status: 413,
      code: 'MessageTooLarge',
      message: `message is at least ${body.length} bytes (body alone); the queue's limit is ${limit} bytes`,
      field: 'body',
    };
  }
  const bodyBytes = scan(body);
  if (bodyBytes < 0) {
    return fail('InvalidCharacter', `body contains a character SQS does not allow: ${badChar(body, -bodyBytes - 1)}`, 'body');
  }

  // Delay, group and deduplication ids (cheap; before attributes so their errors come first).
  const delay = parseDelay(input.delaySeconds);
  if (isFailure(delay)) return delay;
  let groupId = parseId(input.groupId, 'groupId', 'InvalidGroupId');
  if (isFailure(groupId)) return groupId;
  const dedupId = parseId(input.deduplicationId, 'deduplicationId', 'InvalidDeduplicationId');
  if (isFailure(dedupId)) return dedupId;

  if (queue.fifo) {
    if (delay !== undefined && delay !== 0) {
      return fail(
        'DelayNotAllowedOnFifo',
        `delaySeconds ${delay} is not allowed: FIFO queues do not support per-message delays; set the queue's DelaySeconds attribute instead`,
        'delaySeconds',
      );
    }
    if (groupId === undefined) {
      const fallback = options?.defaultGroupId;
      if (fallback === undefined || fallback === '') {
        return fail('MissingGroupId', 'groupId is required: the queue is a FIFO queue and no default group id is configured', 'groupId');
      }
      const problem = idProblem(fallback);
      if (problem !== undefined) {
        return fail('InvalidGroupId', `the configured default groupId ${quote(fallback)} ${problem}`, 'groupId');
      }
      groupId = fallback;
    }
  } else if (dedupId !== undefined) {
    return fail(
      'DeduplicationIdOnStandardQueue',
      'deduplicationId is only allowed on FIFO queues; the queue is a standard queue',
      'deduplicationId',
    );
  }

  // Attributes.
  const attributes = validateAttributes(input.attributes);
  if (isFailure(attributes)) return attributes;

  // Size.
  const bytes = attributes === undefined ? bodyBytes : bodyBytes + attributesBytes(attributes);
  if (bytes > limit) {
    return {
      ok: false,
      status: 413,
      code: 'MessageTooLarge',
      message:
        attributes === undefined
          ? `message is ${bytes} bytes; the queue's limit is ${limit} bytes`
          : `message is ${bytes} bytes (body ${bodyBytes} + attributes ${bytes - bodyBytes}); the queue's limit is ${limit} bytes`,
      field: attributes === undefined ? 'body' : 'attributes',
    };
  }

  const message: OutgoingMessage = { body };
  if (attributes !== undefined) message.attributes = attributes;
  // A 0 delay on a FIFO queue is a no-op (the queue's own delay applies): dropped, not rejected.
  if (delay !== undefined && !(queue.fifo && delay === 0)) message.delaySeconds = delay;
  if (groupId !== undefined) message.groupId = groupId;
  if (dedupId !== undefined) message.dedupId = dedupId;
  return { ok: true, message, bytes };
}
