import { hash } from 'node:crypto';
import type { SqsClient } from '../sqs/client.js';
import { classifyEntry, type Disposition, isSqsError, SqsError } from '../sqs/errors.js';
import type { Destination } from '../sqs/resolver.js';
import type { SendMessageBatchRequestEntry } from '../sqs/types.js';
import { bodyOf, type Envelope } from './envelope.js';

/** What happened to each entry of one SendMessageBatch. */
export interface BatchOutcome {
  delivered: Envelope[];
  /**
   * SQS's MessageId and SequenceNumber (FIFO) of `delivered[i]`, at index i (undefined where SQS
   * gave none; the arrays may be shorter, or absent). Here, not on the envelope: two fields on
   * every envelope were 16 bytes of every held message (issue 11, bench/held.ts), set only once it
   * was delivered, for the tracker.
   */
  messageIds?: (string | undefined)[];
  sequenceNumbers?: (string | undefined)[];
  /** Failed entries with what to do about them; `error` is already classified. */
  failed: Array<{ env: Envelope; error: SqsError }>;
  /** Accepted by SQS but answered with an MD5 that does not match what we sent. */
  md5Mismatch: Envelope[];
  /** The request as a whole failed (no entry was accepted). */
  requestError?: SqsError;
  /**
   * Failover: the request failed, but another upstream is healthy and may take the queue's next
   * batch; not a sign that SQS is down for this destination (outage.ts).
   */
  elsewhere?: boolean;
}

/** The wire entry of one envelope, keys in the order batchRequestJson (src/sqs/batch-json.ts) writes them. */
export function toEntry(env: Envelope, index: number): SendMessageBatchRequestEntry {
  const m = env.message;
  if (typeof m === 'string') return { Id: String(index), MessageBody: m };
  const entry: SendMessageBatchRequestEntry = { Id: String(index), MessageBody: m.body };
  if (m.attributes) entry.MessageAttributes = m.attributes;
  if (m.delaySeconds !== undefined) entry.DelaySeconds = m.delaySeconds;
  if (m.groupId !== undefined) entry.MessageGroupId = m.groupId;
  if (m.dedupId !== undefined) entry.MessageDeduplicationId = m.dedupId;
  if (m.traceHeader !== undefined) entry.MessageSystemAttributes = { AWSTraceHeader: { DataType: 'String', StringValue: m.traceHeader } };
  return entry;
}

/** crypto.hash: one call, no Hash object per entry (about half the cost of createHash for a 200-byte body). */
function md5(body: string): string {
  return hash('md5', body);
}

/**
 * Sends one batch and sorts its entries by outcome. Never throws: a failed request
 * becomes a `requestError` and every entry fails with it. A refusal of the batch as a whole
 * that names no entry (BatchRequestTooLong and the like) sends it again in two halves, one
 * after the other (FIFO order holds), down to single entries: only an entry refused on its
 * own is refused for good. `dest`: where to send, the envelopes' own destination unless
 * failover chose the same queue in another upstream.
 */
export async function sendBatch(client: SqsClient, batch: readonly Envelope[], dest: Destination = (batch[0] as Envelope).dest): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { delivered: [], failed: [], md5Mismatch: [] };
  let result;
  try {
    let credentials;
    try {
      // Not awaited when already at hand: the request is then signed and written in this same
      // task (its cost counts in the pump's delivery slice, turns.ts), not in a microtask after it.
      const got = dest.credentials.get();
      credentials = got instanceof Promise ? await got : got;
    } catch (err) {
      throw isSqsError(err) ? err : credentialsUnavailable(err);
    }
    result = await client.sendMessageBatch(dest.queueUrl, batch.map(toEntry), credentials);
  } catch (err) {
    // SQS's answers are SqsErrors already (src/sqs/); anything else is a bug, kept as such.
    const error = isSqsError(err) ? err : unexpectedError(err);
    if (error.disposition === 'split') return split(client, batch, dest, error);
    outcome.requestError = error;
    for (const env of batch) outcome.failed.push({ env, error });
    return outcome;
  }
  const seen = new Uint8Array(batch.length);
  for (const ok of result.Successful ?? []) {
    const i = Number(ok.Id);
    const env = batch[i];
    if (env === undefined || seen[i]) continue;
    seen[i] = 1;
    if (ok.MD5OfMessageBody !== undefined && ok.MD5OfMessageBody !== md5(bodyOf(env.message))) outcome.md5Mismatch.push(env);
    else {
      const at = outcome.delivered.length;
      if (typeof ok.MessageId === 'string') (outcome.messageIds ??= [])[at] = ok.MessageId;
      if (typeof ok.SequenceNumber === 'string') (outcome.sequenceNumbers ??= [])[at] = ok.SequenceNumber;
      outcome.delivered.push(env);
    }
  }
  for (const bad of result.Failed ?? []) {
    const i = Number(bad.Id);
    const env = batch[i];
    if (env === undefined || seen[i]) continue;
    seen[i] = 1;
    const code = bad.Code || 'UnknownError';
    const disposition: Disposition = classifyEntry(code, bad.SenderFault === true, bad.Message ?? '');
    outcome.failed.push({ env, error: new SqsError(code, bad.Message ?? code, 200, undefined, disposition) });
  }
  // An entry SQS did not mention at all: we cannot know, so it is retried (at-least-once).
  for (let i = 0; i < batch.length; i++) {
    if (!seen[i]) {
      outcome.failed.push({ env: batch[i] as Envelope, error: new SqsError('MissingEntryResult', 'SQS answered without a result for this entry', 200, undefined, 'retry') });
    }
  }
  return outcome;
}

/** The batch refused as a whole (`err`, disposition split): its halves, one after the other. */
async function split(client: SqsClient, batch: readonly Envelope[], dest: Destination, err: SqsError): Promise<BatchOutcome> {
  if (batch.length === 1) {
    const alone = new SqsError(err.code, `${err.message} (the message alone, not only its batch)`, err.httpStatus, err.requestId, 'permanent');
    return { delivered: [], failed: [{ env: batch[0] as Envelope, error: alone }], md5Mismatch: [], requestError: alone };
  }
  const mid = Math.ceil(batch.length / 2);
  const first = await sendBatch(client, batch.slice(0, mid), dest);
  const second = await sendBatch(client, batch.slice(mid), dest);
  const merged: BatchOutcome = {
    delivered: [...first.delivered, ...second.delivered],
    failed: [...first.failed, ...second.failed],
    md5Mismatch: [...first.md5Mismatch, ...second.md5Mismatch],
  };
  if (first.messageIds || second.messageIds) merged.messageIds = joinedIds(first.delivered.length, first.messageIds, second.delivered.length, second.messageIds);
  if (first.sequenceNumbers || second.sequenceNumbers) merged.sequenceNumbers = joinedIds(first.delivered.length, first.sequenceNumbers, second.delivered.length, second.sequenceNumbers);
  // What the parts' requests said (network, throttling...): the split itself was no failure.
  const partError = first.requestError ?? second.requestError;
  if (partError) merged.requestError = partError;
  return merged;
}

/** Ids of the two halves' delivered entries (`na` and `nb` of them), in the order of the merged `delivered`. */
function joinedIds(na: number, a: (string | undefined)[] | undefined, nb: number, b: (string | undefined)[] | undefined): (string | undefined)[] {
  const ids: (string | undefined)[] = [];
  for (let i = 0; i < na; i++) ids.push(a?.[i]);
  for (let i = 0; i < nb; i++) ids.push(b?.[i]);
  return ids;
}

/** A credential source failed without saying why in SQS terms (providerCredentials says it itself). Retry. */
export function credentialsUnavailable(err: unknown): SqsError {
  const detail = err instanceof Error ? err.name : 'unknown error';
  return new SqsError('CredentialsUnavailable', `could not load AWS credentials (${detail})`, 0, undefined, 'retry', err);
}

/**
 * A bug, not an answer from SQS: named for what it is (code `UnexpectedError`, never relabelled),
 * retried like a transient failure so no message is lost, its stack kept in `cause` for the log.
 */
function unexpectedError(err: unknown): SqsError {
  const name = err instanceof Error ? err.name : typeof err;
  return new SqsError('UnexpectedError', `unexpected error in the daemon (${name}); see the daemon log`, 0, undefined, 'retry', err);
}
