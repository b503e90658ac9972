import type { MessageAttributes } from '../sqs/types.js';

/**
 * The Amazon SQS Extended Client's message format (awslabs/amazon-sqs-java-extended-client-lib
 * with payload-offloading-java-common-lib-for-aws, and amazon-sqs-python-extended-client-lib):
 *
 * - body: `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"k"}]`
 *   (Jackson's default typing of PayloadS3Pointer; 1.x clients wrote the class name
 *   `com.amazon.sqs.javamessaging.MessageS3Pointer`, which readers still accept);
 * - attribute `ExtendedPayloadSize` (Number: the payload's UTF-8 bytes); the Java library still
 *   writes the legacy name `SQSLargePayloadSize` by default (useLegacyReservedAttributeName), and
 *   every reader accepts both;
 * - one of SQS's 10 attribute slots kept for it (MAX_ALLOWED_ATTRIBUTES = 10 - 1).
 */
export const POINTER_CLASS = 'software.amazon.payloadoffloading.PayloadS3Pointer';
export const LEGACY_POINTER_CLASS = 'com.amazon.sqs.javamessaging.MessageS3Pointer';
export const SIZE_ATTRIBUTE = 'ExtendedPayloadSize';
export const LEGACY_SIZE_ATTRIBUTE = 'SQSLargePayloadSize';
/** Attributes a message may carry besides the size attribute when its payload is in S3. */
export const MAX_USER_ATTRIBUTES = 9;

export interface PayloadPointer {
  bucket: string;
  key: string;
}

/** The body of a message whose payload is `bucket`/`key`, as the Java library writes it. */
export function pointerBody(p: PayloadPointer): string {
  return JSON.stringify([POINTER_CLASS, { s3BucketName: p.bucket, s3Key: p.key }]);
}

/** The size attribute, as the Extended Client libraries write it. */
export function sizeAttribute(bytes: number): { DataType: 'Number'; StringValue: string } {
  return { DataType: 'Number', StringValue: String(bytes) };
}

/** The name of the size attribute a message carries (either spelling), if any. */
export function sizeAttributeOf(attributes: Readonly<Record<string, unknown>> | undefined): string | undefined {
  if (!attributes) return undefined;
  if (Object.hasOwn(attributes, SIZE_ATTRIBUTE)) return SIZE_ATTRIBUTE;
  if (Object.hasOwn(attributes, LEGACY_SIZE_ATTRIBUTE)) return LEGACY_SIZE_ATTRIBUTE;
  return undefined;
}

/**
 * The pointer in a received message, when it is one: the size attribute (either name) and a body
 * that parses as `[<class>, {"s3BucketName", "s3Key"}]`. Readers in the libraries do not check
 * the class name; neither does this (any class whose object names a bucket and a key). A body
 * with the attribute that is not a pointer gives an error to report, never a guess.
 */
export function readPointer(body: string, attributes: MessageAttributes | undefined): { pointer: PayloadPointer; bytes: number | undefined } | { error: string } | undefined {
  const name = sizeAttributeOf(attributes);
  if (name === undefined) return undefined;
  const declared = Number((attributes as MessageAttributes)[name]?.StringValue);
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { error: `the message has the ${name} attribute but its body is not an S3 pointer (not JSON)` };
  }
  const obj = Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string' ? (parsed[1] as Record<string, unknown>) : undefined;
  if (!obj || typeof obj !== 'object' || typeof obj.s3BucketName !== 'string' || typeof obj.s3Key !== 'string' || obj.s3BucketName === '' || obj.s3Key === '') {
    return { error: `the message has the ${name} attribute but its body is not an S3 pointer ([class, {"s3BucketName", "s3Key"}])` };
  }
  return { pointer: { bucket: obj.s3BucketName, key: obj.s3Key }, bytes: Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined };
}

/** The attributes a reader of the payload sees: the size attribute removed, as the libraries do. */
export function withoutSizeAttribute(attributes: MessageAttributes): MessageAttributes {
  const name = sizeAttributeOf(attributes);
  if (name === undefined) return attributes;
  const out: MessageAttributes = {};
  for (const [k, v] of Object.entries(attributes)) if (k !== SIZE_ATTRIBUTE && k !== LEGACY_SIZE_ATTRIBUTE) out[k] = v;
  return out;
}

/** The object key of a message: prefix + the daemon's message id (stable across retries and restarts). */
export function objectKey(prefix: string, messageId: string): string {
  return `${prefix}${messageId}`;
}
