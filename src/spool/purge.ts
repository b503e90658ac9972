import type { StoredDeadLetter } from '../delivery/store.js';
import type { S3Client } from '../s3/client.js';
import { isS3Error } from '../s3/errors.js';
import type { Credentials } from '../sqs/types.js';
import type { ReplayableStore } from './replay.js';

export type PurgeResult =
  | { id: string; ok: true; /** s3://bucket/key deleted with the letter (a large message the daemon offloaded). */ deletedObject?: string }
  | { id: string; ok: false; code: string; message: string };

export interface PurgeOptions {
  /** Large messages: S3 and the credentials to delete a letter's object with. Without it objects are kept. */
  s3?: { client: S3Client; credentials: (letter: StoredDeadLetter) => Promise<Credentials> | Credentials };
}

/**
 * Purge of dead letters, for the CLI and the UI. A letter of a large message the daemon offloaded
 * itself (`offload` in the letter) takes its S3 object with it: the daemon wrote that object and
 * nothing but the letter points at it. The object goes first; when S3 cannot delete it (network,
 * access denied) the letter stays, so the object is not forgotten, and the result says why. An
 * object or bucket already gone counts as deleted. A pointer that came in ready-made from an app
 * (no `offload`) is purged alone: its object is the app's.
 */
export async function purgeDeadLetters(store: ReplayableStore, ids: readonly string[], options: PurgeOptions = {}): Promise<PurgeResult[]> {
  const results: PurgeResult[] = [];
  for (const id of ids) {
    const letter = await store.load(id);
    if (!letter) {
      results.push({ id, ok: false, code: 'NoSuchDeadLetter', message: 'no such dead letter (already replayed or purged?)' });
      continue;
    }
    let deletedObject: string | undefined;
    const o = letter.offload;
    if (o && options.s3) {
      try {
        await options.s3.client.delete(o.bucket, o.key, await options.s3.credentials(letter));
        deletedObject = `s3://${o.bucket}/${o.key}`;
      } catch (err) {
        if (!(isS3Error(err) && (err.code === 'NoSuchBucket' || err.code === 'NoSuchKey' || err.code === 'NotFound'))) {
          const e = err as { code?: unknown; message?: unknown };
          results.push({ id, ok: false, code: typeof e.code === 'string' ? e.code : 'S3Unavailable', message: `kept: its payload s3://${o.bucket}/${o.key} could not be deleted: ${typeof e.message === 'string' ? e.message : 'unknown error'}` });
          continue;
        }
      }
    }
    if (!(await store.remove(id))) {
      results.push({ id, ok: false, code: 'NoSuchDeadLetter', message: 'no such dead letter (already replayed or purged?)' });
      continue;
    }
    results.push(deletedObject ? { id, ok: true, deletedObject } : { id, ok: true });
  }
  return results;
}
