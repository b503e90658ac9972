import type { LargePayloads } from '../spool/large.js';
import { badChar, scan } from '../sqs/chars.js';
import { type MessageInput, validateMessage, type Validation } from '../sqs/limits.js';
import { MAX_USER_ATTRIBUTES, objectKey, pointerBody, SIZE_ATTRIBUTE, sizeAttribute, sizeAttributeOf } from '../s3/pointer.js';
import type { OutgoingMessage, QueueLimits } from '../sqs/types.js';

/** Where a large message's payload went: the object, and its size in bytes. */
export interface OffloadedPayload {
  bucket: string;
  key: string;
  bytes: number;
}

/**
 * When and how messages go through S3 (issue 16), for ingest: the options --s3-bucket,
 * --s3-prefix, --s3-threshold-bytes, --s3-always, --max-large-message-bytes, and the spool's
 * payload files.
 */
export interface OffloadPolicy {
  bucket: string;
  prefix: string;
  /** 0: the queue's MaximumMessageSize. */
  thresholdBytes: number;
  always: boolean;
  maxPayloadBytes: number;
  payloads: LargePayloads;
}

/** A message larger than this (body + attributes) goes to S3 on this queue; 0 with --s3-always. */
export function thresholdFor(policy: OffloadPolicy, limits: QueueLimits): number {
  if (policy.always) return 0;
  return policy.thresholdBytes > 0 ? Math.min(policy.thresholdBytes, limits.maxMessageBytes) : limits.maxMessageBytes;
}

/**
 * Does this entry go to S3? `v` is its ordinary validation: over the queue's limit (413
 * MessageTooLarge), over a lower --s3-threshold-bytes, or any with --s3-always. A message that
 * already is a pointer (it carries ExtendedPayloadSize or SQSLargePayloadSize, as an app using an
 * Extended Client library sends them) goes as it is.
 */
export function wantsOffload(policy: OffloadPolicy, input: MessageInput, v: Validation): boolean {
  if (v.ok) {
    if (!policy.always && (policy.thresholdBytes === 0 || v.bytes <= policy.thresholdBytes)) return false;
    return sizeAttributeOf(v.message.attributes) === undefined;
  }
  return v.status === 413 && v.code === 'MessageTooLarge' && typeof input.body === 'string';
}

const SLICE = 1_048_576;

/** The body's UTF-8 bytes, or why SQS's character rules refuse it; a megabyte at a time, yielding between. */
export async function scanSliced(body: string): Promise<{ bytes: number } | { error: string }> {
  let bytes = 0;
  for (let from = 0; from < body.length; ) {
    let to = Math.min(body.length, from + SLICE);
    const c = body.charCodeAt(to - 1);
    if (to < body.length && c >= 0xd800 && c < 0xdc00) to += 1; // keep a surrogate pair together
    const piece = body.slice(from, to);
    const n = scan(piece);
    if (n < 0) return { error: `body contains a character SQS does not allow: ${badChar(body, from - n - 1)}` };
    bytes += n;
    from = to;
    if (from < body.length) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { bytes };
}

function* slices(body: string): Generator<string> {
  for (let from = 0; from < body.length; from += SLICE) yield body.slice(from, from + SLICE);
}

export type OffloadResult =
  | { ok: true; message: OutgoingMessage; bytes: number; offload: OffloadedPayload; original: OutgoingMessage }
  | { ok: false; code: string; message: string; status: number; field?: string };

/**
 * The message that goes to SQS for an entry whose payload goes to S3: every field checked as for
 * any message, the body replaced by the pointer and the ExtendedPayloadSize attribute added (so at
 * most 9 attributes of the sender's own). `payloadBytes` given: the body is already in the payload
 * file of `id` (streamed there by the REST door); else `input.body` is written there now.
 */
export async function offloadEntry(
  policy: OffloadPolicy,
  input: MessageInput,
  limits: QueueLimits,
  id: string,
  defaultGroup: { defaultGroupId: string } | undefined,
  payloadBytes?: number,
): Promise<OffloadResult> {
  let bytes = payloadBytes;
  if (bytes === undefined) {
    const body = input.body;
    if (typeof body !== 'string' || body.length === 0) return { ok: false, code: 'EmptyBody', message: 'body is missing or empty', status: 400, field: 'body' };
    const scanned = await scanSliced(body);
    if ('error' in scanned) return { ok: false, code: 'InvalidCharacter', message: scanned.error, status: 400, field: 'body' };
    bytes = scanned.bytes;
  }
  if (bytes > policy.maxPayloadBytes) {
    return { ok: false, code: 'PayloadTooLarge', message: `message payload is ${bytes} bytes; --max-large-message-bytes is ${policy.maxPayloadBytes}`, status: 413, field: 'body' };
  }
  const raw = input.attributes;
  let attributes: unknown = raw;
  if (raw === undefined || raw === null || (typeof raw === 'object' && !Array.isArray(raw) && Object.getPrototypeOf(raw) === Object.prototype)) {
    const own = (raw ?? {}) as Record<string, unknown>;
    const reserved = sizeAttributeOf(own);
    if (reserved !== undefined) return { ok: false, code: 'ReservedAttributeName', message: `attribute ${reserved} is reserved: the daemon sets it for a message whose payload goes to S3`, status: 400, field: 'attributes' };
    const count = Object.keys(own).length;
    if (count > MAX_USER_ATTRIBUTES) {
      return { ok: false, code: 'TooManyAttributesForS3', message: `message has ${count} attributes; one whose payload goes to S3 may have at most ${MAX_USER_ATTRIBUTES} (SQS's 10, one kept for ${SIZE_ATTRIBUTE})`, status: 400, field: 'attributes' };
    }
    attributes = { ...own, [SIZE_ATTRIBUTE]: sizeAttribute(bytes) };
  }
  const pointer = { bucket: policy.bucket, key: objectKey(policy.prefix, id) };
  const v = validateMessage({ ...input, body: pointerBody(pointer), attributes }, limits, defaultGroup);
  if (!v.ok) return v.field === undefined ? { ok: false, code: v.code, message: v.message, status: v.status } : { ok: false, code: v.code, message: v.message, status: v.status, field: v.field };
  if (payloadBytes === undefined) await policy.payloads.write(id, slices(input.body as string), policy.maxPayloadBytes);
  // What the sender sent, for the answers that echo it (the SQS API's MD5s).
  const original: OutgoingMessage = { ...v.message, body: typeof input.body === 'string' ? input.body : '' };
  const userAttributes = { ...v.message.attributes };
  delete userAttributes[SIZE_ATTRIBUTE];
  if (Object.keys(userAttributes).length > 0) original.attributes = userAttributes;
  else delete original.attributes;
  return { ok: true, message: v.message, bytes: v.bytes, offload: { ...pointer, bytes }, original };
}
