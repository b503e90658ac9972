import type { Readable } from 'node:stream';
import type { S3Client } from '../s3/client.js';
import { isS3Error } from '../s3/errors.js';
import { type PayloadPointer, readPointer, withoutSizeAttribute } from '../s3/pointer.js';
import type { ReceivedMessage } from '../sqs/consume.js';
import type { Credentials } from '../sqs/types.js';

/** The worker side's S3: reads payloads of Extended Client pointers, deletes them after the app handled them. */
export interface WorkerS3 {
  client: S3Client;
  /** --s3-keep-received: leave the object in S3 after the message was handled and deleted. */
  keep: boolean;
}

export type OpenedPayload =
  /** Not a pointer: the message's own body goes to the app. */
  | undefined
  /** A pointer whose object is open: its bytes stream to the app; the headers show the message as the sender sent it. */
  | { pointer: PayloadPointer; body: Readable; bytes: number; message: ReceivedMessage }
  | { failed: { code: string; message: string } };

/**
 * A received message that is an Extended Client pointer (ExtendedPayloadSize or the legacy
 * SQSLargePayloadSize, body `[class, {"s3BucketName", "s3Key"}]`) is resolved before the POST:
 * the object is opened and streamed to the app, and the size attribute is removed from what the
 * app sees, as the Extended Client libraries do. A pointer that cannot be read is a failed
 * delivery (the message becomes visible again later, and its redrive policy applies).
 */
export async function openPayload(msg: ReceivedMessage, s3: WorkerS3 | undefined, credentials: () => Promise<Credentials> | Credentials, signal?: AbortSignal): Promise<OpenedPayload> {
  const p = readPointer(msg.body, msg.attributes);
  if (p === undefined) return undefined;
  if ('error' in p) return { failed: { code: 'InvalidPointer', message: p.error } };
  if (!s3) return { failed: { code: 'S3Unavailable', message: 'the message is an S3 pointer and the worker has no S3 client' } };
  try {
    const obj = await s3.client.get(p.pointer.bucket, p.pointer.key, await credentials(), signal);
    return { pointer: p.pointer, body: obj.body, bytes: obj.bytes, message: { ...msg, attributes: withoutSizeAttribute(msg.attributes) } };
  } catch (err) {
    if (isS3Error(err)) {
      // Cut at shutdown past the grace period: the message is handed back, not a failed delivery.
      if (err.code === 'Aborted') return { failed: { code: 'Aborted', message: err.message } };
      const code = err.code === 'NoSuchKey' || err.code === 'NotFound' ? 'PayloadNotFound' : err.disposition === 'retry' ? 'S3Unavailable' : `S3${err.code}`;
      return { failed: { code, message: err.message } };
    }
    return { failed: { code: 'S3Unavailable', message: `reading the payload failed: ${(err as Error).message}` } };
  }
}
