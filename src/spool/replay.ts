import type { StoredDeadLetter } from '../delivery/store.js';
import type { SqsClient } from '../sqs/client.js';
import { isSqsError } from '../sqs/errors.js';
import type { Credentials } from '../sqs/types.js';

/**
 * Replay of dead letters: send each again to SQS with every field it had, then remove it from
 * the store. One implementation for the CLI (`dead-letters replay`, daemon running or not) and
 * the browser UI (inside the daemon). A letter is removed only after SQS confirmed the send, so
 * a failure keeps it; a crash between the two can send it twice (at least once, as everywhere).
 */

/** What replay needs of the store: the full record (credentials included) and removal. */
export interface ReplayableStore {
  load(id: string): StoredDeadLetter | undefined;
  remove(id: string): boolean;
}

export interface ReplayOptions {
  client: SqsClient;
  /** The credentials to send a letter with. */
  credentials: (letter: StoredDeadLetter) => Promise<Credentials> | Credentials;
  /** Send to this queue instead of the letter's own. */
  toQueue?: string;
}

export type ReplayResult =
  | { id: string; ok: true; queue: string; messageId?: string }
  | { id: string; ok: false; code: string; message: string };

/** Replays the letters one after another (in the order given: FIFO groups keep their order). */
export async function replayDeadLetters(store: ReplayableStore, ids: readonly string[], options: ReplayOptions): Promise<ReplayResult[]> {
  const results: ReplayResult[] = [];
  const urls = new Map<string, string>(); // queue name -> URL, per call: a replay of many to one queue resolves it once
  for (const id of ids) {
    const letter = store.load(id);
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
      const out = await options.client.call<{ MessageId?: string }>('SendMessage', sendParams(letter, url, target.endsWith('.fifo')), creds);
      store.remove(id);
      results.push(out.MessageId ? { id, ok: true, queue: target, messageId: out.MessageId } : { id, ok: true, queue: target });
    } catch (err) {
      results.push({ id, ok: false, code: isSqsError(err) ? err.code : 'ReplayFailed', message: (err as Error).message });
    }
  }
  return results;
}

/** SendMessage parameters for a letter: body, attributes, delay (standard), group and deduplication ids (FIFO). */
export function sendParams(l: StoredDeadLetter, queueUrl: string, fifo: boolean): Record<string, unknown> {
  const p: Record<string, unknown> = { QueueUrl: queueUrl, MessageBody: l.body };
  if (l.attributes && Object.keys(l.attributes).length > 0) p.MessageAttributes = l.attributes;
  if (!fifo && l.delaySeconds !== undefined) p.DelaySeconds = l.delaySeconds;
  if (l.groupId !== undefined) p.MessageGroupId = l.groupId;
  // A deduplication id only means something on a FIFO queue (and SQS refuses it elsewhere).
  if (fifo && l.dedupId !== undefined) p.MessageDeduplicationId = l.dedupId;
  return p;
}
