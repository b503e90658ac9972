import { deduplicationIdFor } from '../sqs/dedup.js';
import type { SqsClient } from '../sqs/client.js';
import { isSqsError, SqsError } from '../sqs/errors.js';
import { type Destination, isVerified, type QueueResolver } from '../sqs/resolver.js';
import { type Envelope, messageOf } from './envelope.js';
import { type BatchOutcome, credentialsUnavailable, sendBatch } from './sender.js';

/**
 * One attempt at a batch, with SQS's picture of the queue brought up to date first:
 * - a destination accepted while SQS could not be asked is verified (GetQueueUrl, settings);
 *   SQS's refusal (QueueDoesNotExist...) fails the batch with that error, a transient failure
 *   retries it;
 * - a message over the queue's MaximumMessageSize as it is now (lowered after the message was
 *   accepted, or learnt at verification) is refused here with a reason saying so, not sent;
 * - a FIFO message without a deduplication id gets one (see deduplicationIdFor), kept for
 *   its retries and its dead letter.
 * Never throws, like sendBatch. `dest` is where it goes: the envelopes' own destination, or (failover)
 * the same queue in another upstream, resolved there by that upstream's `resolver`. Not an async
 * function: a verified queue's batch costs no promise beyond sendBatch's (issue 14).
 */
export function attemptBatch(client: SqsClient, resolver: QueueResolver | undefined, batch: readonly Envelope[], dest: Destination = (batch[0] as Envelope).dest): Promise<BatchOutcome> {
  if (!isVerified(dest)) return verifyThenSend(client, resolver, batch, dest);
  try {
    return sendVerified(client, batch, dest);
  } catch (err) {
    return Promise.reject(err); // as the async function it was: a throw rejects, never escapes
  }
}

async function verifyThenSend(client: SqsClient, resolver: QueueResolver | undefined, batch: readonly Envelope[], dest: Destination): Promise<BatchOutcome> {
  let error: SqsError | undefined;
  if (!resolver) error = new SqsError('QueueNotVerified', 'the queue was never resolved and no resolver is available', 0, undefined, 'retry');
  else {
    try {
      await resolver.verify(dest);
    } catch (err) {
      error = isSqsError(err) ? err : credentialsUnavailable(err);
    }
  }
  if (error) return { delivered: [], failed: batch.map((env) => ({ env, error: error as SqsError })), md5Mismatch: [], requestError: error };
  return sendVerified(client, batch, dest);
}

/** The batch to a verified queue: too long for it now refused, FIFO dedup ids given, the rest sent. */
function sendVerified(client: SqsClient, batch: readonly Envelope[], dest: Destination): Promise<BatchOutcome> {
  const max = dest.limits.maxMessageBytes;
  let send: Envelope[] | undefined;
  let tooLong: BatchOutcome['failed'] | undefined;
  for (let i = 0; i < batch.length; i++) {
    const env = batch[i] as Envelope;
    if (env.bytes > max) {
      if (!send) send = batch.slice(0, i);
      (tooLong ??= []).push({ env, error: tooLongError(env, dest) });
      continue;
    }
    if (dest.limits.fifo && (typeof env.message === 'string' || env.message.dedupId === undefined)) {
      const m = messageOf(env.message);
      env.message = { ...m, dedupId: deduplicationIdFor(m, dest.limits, env.id) as string };
    }
    send?.push(env);
  }
  const sending = send ?? batch;
  if (!tooLong) return sendBatch(client, sending, dest);
  const refused = tooLong;
  if (sending.length === 0) return Promise.resolve({ delivered: [], failed: refused, md5Mismatch: [] });
  return sendBatch(client, sending, dest).then((outcome) => {
    outcome.failed.push(...refused);
    return outcome;
  });
}

function tooLongError(env: Envelope, dest: Destination): SqsError {
  return new SqsError(
    'MessageTooLong',
    `queue ${dest.queueName} now takes messages of at most ${dest.limits.maxMessageBytes} bytes (its MaximumMessageSize), and this one is ${env.bytes} bytes: ` +
      'the limit was lowered after the message was accepted, or the queue was verified only after it. Raise the limit and replay it, or replay it to another queue',
    400,
    undefined,
    'permanent',
  );
}
