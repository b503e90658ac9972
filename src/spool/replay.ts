import type { StoredDeadLetter } from '../delivery/store.js';
import type { SqsClient } from '../sqs/client.js';
import { deduplicationIdFor } from '../sqs/dedup.js';
import { isSqsError } from '../sqs/errors.js';
import type { Credentials } from '../sqs/types.js';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { S3Client } from '../s3/client.js';
import { isS3Error } from '../s3/errors.js';
import { readPointer } from '../s3/pointer.js';

/**
 * Replay of dead letters: send each again to SQS with every field it had, then remove it from
 * the store. One implementation for the CLI (`dead-letters replay`, daemon running or not) and
 * the browser UI (inside the daemon). A letter is removed only after SQS confirmed the send, so
 * a failure keeps it; a crash between the two can send it twice (at least once, as everywhere).
 */

/** What replay needs of the store: the full record (credentials included) and removal. */
export interface ReplayableStore {
  load(id: string): Promise<StoredDeadLetter | undefined>;
  remove(id: string): Promise<boolean>;
}

export interface ReplayOptions {
  client: SqsClient;
  /** The credentials to send a letter with. */
  credentials: (letter: StoredDeadLetter) => Promise<Credentials> | Credentials;
  /** Send to this queue instead of the letter's own. */
  toQueue?: string;
  /**
   * Large messages: upload the letter's payload from its spool file again before its pointer is
   * sent (the letter may be one whose upload S3 refused). Resolves when there is nothing to upload.
   */
  uploadPayload?: (letter: StoredDeadLetter, credentials: Credentials) => Promise<void>;
}

/**
 * uploadPayload for replayDeadLetters: a letter whose body is an Extended Client pointer and
 * whose payload file `<spool>/large/<id>` is still there is uploaded to its pointer's object.
 */
export function payloadUploader(s3: S3Client, spoolDir: string): (letter: StoredDeadLetter, credentials: Credentials) => Promise<void> {
  return async (letter, credentials) => {
    const p = readPointer(letter.body, letter.attributes);
    if (p === undefined || 'error' in p) return;
    const path = join(spoolDir, 'large', letter.id);
    let size: number;
    try {
      size = statSync(path).size;
    } catch {
      return; // no local copy: the object was uploaded before the letter was made (or is gone)
    }
    await s3.putFile(p.pointer.bucket, p.pointer.key, path, size, credentials);
  };
}

export type ReplayResult =
  | { id: string; ok: true; queue: string; messageId?: string }
  | { id: string; ok: false; code: string; message: string };

/** Replays the letters one after another (in the order given: FIFO groups keep their order). */
export async function replayDeadLetters(store: ReplayableStore, ids: readonly string[], options: ReplayOptions): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const urls = new Map<string, string>(); // queue name -> URL, per call: a replay of many to one queue resolves it once
  const contentDedup = new Map<string, boolean>();
  for (const id of ids) {
    const letter = await store.load(id);
    if (!letter) {
      results.push({ id, ok: false, code: 'NoSuchDeadLetter', message: 'no such dead letter (already replayed or purged?)' });
      continue;
    }
    const target = options.toQueue ?? letter.queueName;
    try {
      const creds = await options.credentials(letter);
      const key = `${creds.accessKeyId}\n${target}`;
      let url = urls.get(key);
      if (url === undefined) {
        url = await options.client.getQueueUrl(target, creds);
        urls.set(key, url);
      }
      const fifo = target.endsWith('.fifo');
      // A letter without a deduplication id (written before ids were always explicit) gets the
      // one the daemon would give it now: the queue's content hash, or the letter's own id.
      let contentBased = false;
      if (fifo && letter.dedupId === undefined) {
        let known = contentDedup.get(key);
        if (known === undefined) {
          known = await usesContentDedup(options.client, url, creds);
          contentDedup.set(key, known);
        }
        contentBased = known;
      }
      await options.uploadPayload?.(letter, creds);
      const out = await options.client.call<{ MessageId?: string }>('SendMessage', sendParams(letter, url, fifo, contentBased), creds);
      await store.remove(id);
      results.push(out.MessageId ? { id, ok: true, queue: target, messageId: out.MessageId } : { id, ok: true, queue: target });
    } catch (err) {
      results.push({ id, ok: false, code: isSqsError(err) || isS3Error(err) ? err.code : 'ReplayFailed', message: (err as Error).message });
    }
  }
  return results;
}

async function usesContentDedup(client: SqsClient, queueUrl: string, creds: Credentials): Promise<boolean> {
  try {
    return (await client.getQueueAttributes(queueUrl, ['ContentBasedDeduplication'], creds)).ContentBasedDeduplication === 'true';
  } catch {
    return false; // not allowed to read it: the letter's own id, accepted by any FIFO queue
  }
}

/** SendMessage parameters for a letter: body, attributes, trace header, delay (standard), group and deduplication ids (FIFO). */
export function sendParams(l: StoredDeadLetter, queueUrl: string, fifo: boolean, contentBased: boolean): Record<string, unknown> {
  const p: Record<string, unknown> = { QueueUrl: queueUrl, MessageBody: l.body };
  if (l.attributes && Object.keys(l.attributes).length > 0) p.MessageAttributes = l.attributes;
  if (!fifo && l.delaySeconds !== undefined) p.DelaySeconds = l.delaySeconds;
  if (l.groupId !== undefined) p.MessageGroupId = l.groupId;
  if (l.traceHeader !== undefined) p.MessageSystemAttributes = { AWSTraceHeader: { DataType: 'String', StringValue: l.traceHeader } };
  // A deduplication id only means something on a FIFO queue (and SQS refuses it elsewhere); always explicit there.
  if (fifo) p.MessageDeduplicationId = l.dedupId ?? deduplicationIdFor({ body: l.body }, { fifo, contentBasedDedup: contentBased, maxMessageBytes: 0 }, l.id);
  return p;
}
