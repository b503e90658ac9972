/**
 * sendBatch (src/delivery/sender.ts): one SendMessageBatch, its entries built from the
 * envelopes, and every entry sorted into delivered, failed (already classified) or MD5 mismatch.
 */
import type { Envelope } from '../../src/delivery/envelope.js';
import { sendBatch } from '../../src/delivery/sender.js';
import { SqsError } from '../../src/sqs/errors.js';
import { allOk, CREDS, FakeBatchClient, makeDest, makeEnvelope, md5 } from '../support/delivery-harness.js';

let client: FakeBatchClient;
beforeEach(() => {
  client = new FakeBatchClient();
});

const ids = (envs: Envelope[]) => envs.map((e) => e.id);
const failedSummary = (outcome: Awaited<ReturnType<typeof sendBatch>>) =>
  outcome.failed.map(({ env, error }) => ({ id: env.id, code: error.code, disposition: error.disposition, message: error.message }));

describe('sendBatch', () => {
  it('sends one entry per envelope, numbered by position, with every field of the message, to its queue, signed with its credentials', async () => {
    client.auto = allOk;
    const d = makeDest('q.fifo');
    const attributes = { a: { DataType: 'String', StringValue: 'x' }, b: { DataType: 'Binary', BinaryValue: 'AAE=' } };
    const batch = [
      makeEnvelope(d, 'plain'),
      makeEnvelope(d, 'full', { message: { attributes, delaySeconds: 0, groupId: 'g', dedupId: 'dd' } }),
    ];
    const outcome = await sendBatch(client.asClient(), batch);
    expect(client.calls).toHaveLength(1);
    expect(client.calls[0]?.queueUrl).toBe(d.queueUrl);
    expect(client.calls[0]?.credentials).toEqual(CREDS);
    expect(client.calls[0]?.entries).toEqual([
      { Id: '0', MessageBody: 'plain' },
      { Id: '1', MessageBody: 'full', MessageAttributes: attributes, DelaySeconds: 0, MessageGroupId: 'g', MessageDeduplicationId: 'dd' },
    ]);
    expect(ids(outcome.delivered)).toEqual(ids(batch));
    expect(outcome).toMatchObject({ failed: [], md5Mismatch: [] });
    expect(outcome.requestError).toBeUndefined();
  });

  it('waits for credentials that come asynchronously (a provider chain)', async () => {
    client.auto = allOk;
    const other = { accessKeyId: 'AKIDCHAIN', secretAccessKey: 'chain/secret', sessionToken: 'tok' };
    const credentials = { key: 'chain', refreshable: true, get: async () => other, refresh: async () => {} };
    const outcome = await sendBatch(client.asClient(), [makeEnvelope(makeDest('q', { credentials }), 'x')]);
    expect(client.calls[0]?.credentials).toEqual(other);
    expect(outcome.delivered).toHaveLength(1);
  });

  it('an answer whose MD5 does not match the body sent is a mismatch, not a delivery; no MD5 at all counts as delivered', async () => {
    const d = makeDest('q');
    const batch = [makeEnvelope(d, 'a'), makeEnvelope(d, 'b'), makeEnvelope(d, 'c')];
    const p = sendBatch(client.asClient(), batch);
    await new Promise((r) => setImmediate(r));
    client.calls[0]?.answer({
      Successful: [
        { Id: '0', MessageId: 'm0', MD5OfMessageBody: md5('a') },
        { Id: '1', MessageId: 'm1', MD5OfMessageBody: md5('not b') },
        { Id: '2', MessageId: 'm2' } as never,
      ],
    });
    const outcome = await p;
    expect(ids(outcome.delivered)).toEqual([batch[0]?.id, batch[2]?.id]);
    expect(ids(outcome.md5Mismatch)).toEqual([batch[1]?.id]);
    expect(outcome.failed).toEqual([]);
  });

  it('classifies each failed entry: sender faults are permanent, others and throttling retried, expired tokens refreshed', async () => {
    const d = makeDest('q');
    const batch = ['a', 'b', 'c', 'd', 'e'].map((b) => makeEnvelope(d, b));
    client.auto = () => ({
      Failed: [
        { Id: '0', Code: 'InvalidParameterValue', SenderFault: true, Message: 'too big' },
        { Id: '1', Code: 'InternalError', SenderFault: false, Message: 'oops' },
        { Id: '2', Code: 'KmsThrottled', SenderFault: true },
        { Id: '3', Code: 'ExpiredToken', SenderFault: true, Message: 'expired' },
        { Id: '4', Code: '', SenderFault: false },
      ],
    });
    const outcome = await sendBatch(client.asClient(), batch);
    expect(failedSummary(outcome)).toEqual([
      { id: batch[0]?.id, code: 'InvalidParameterValue', disposition: 'permanent', message: 'too big' },
      { id: batch[1]?.id, code: 'InternalError', disposition: 'retry', message: 'oops' },
      { id: batch[2]?.id, code: 'KmsThrottled', disposition: 'retry', message: 'KmsThrottled' },
      { id: batch[3]?.id, code: 'ExpiredToken', disposition: 'refresh-credentials', message: 'expired' },
      { id: batch[4]?.id, code: 'UnknownError', disposition: 'retry', message: 'UnknownError' },
    ]);
    expect(outcome.delivered).toEqual([]);
    expect(outcome.requestError).toBeUndefined();
  });

  it("SQS's MessageId and SequenceNumber come back in the outcome, by delivered entry (the envelope has no field for them)", async () => {
    const d = makeDest('q.fifo');
    const batch = [makeEnvelope(d, 'a'), makeEnvelope(d, 'b'), makeEnvelope(d, 'c')];
    const p = sendBatch(client.asClient(), batch);
    await new Promise((r) => setImmediate(r));
    client.calls[0]?.answer({
      Successful: [
        { Id: '2', MessageId: 'm2', SequenceNumber: 's2', MD5OfMessageBody: md5('c') },
        { Id: '1', MessageId: 'm1', MD5OfMessageBody: md5('not b') },
        { Id: '0', MessageId: 'm0', SequenceNumber: 's0', MD5OfMessageBody: md5('a') },
      ],
    });
    const outcome = await p;
    expect(ids(outcome.delivered)).toEqual([batch[2]?.id, batch[0]?.id]);
    expect(outcome.messageIds).toEqual(['m2', 'm0']);
    expect(outcome.sequenceNumbers).toEqual(['s2', 's0']);
    expect(Object.keys(batch[0] as object)).not.toContain('sqsMessageId');
  });

  it('a batch refused as a whole and sent in halves: the ids stay with their entries', async () => {
    const d = makeDest('q');
    const batch = ['a', 'b', 'c', 'd'].map((x) => makeEnvelope(d, x));
    let call = 0;
    client.auto = (entries) => {
      call += 1;
      if (call === 1) return new SqsError('BatchRequestTooLong', 'too long', 400, undefined, 'split');
      // The first half's answer has no MessageId for its second entry.
      return { Successful: entries.map((e, i) => (call === 2 && i === 1 ? { Id: e.Id } : { Id: e.Id, MessageId: `id-${e.MessageBody}` })) as never };
    };
    const outcome = await sendBatch(client.asClient(), batch);
    expect(ids(outcome.delivered)).toEqual(ids(batch));
    expect(outcome.messageIds).toEqual(['id-a', undefined, 'id-c', 'id-d']);
    expect(outcome.sequenceNumbers).toBeUndefined();
  });

  it('an entry the answer does not mention is retried; unknown and repeated Ids are ignored', async () => {
    const d = makeDest('q');
    const batch = ['a', 'b', 'c'].map((b) => makeEnvelope(d, b));
    client.auto = () => ({
      Successful: [
        { Id: '0', MessageId: 'm0', MD5OfMessageBody: md5('a') },
        { Id: '7', MessageId: 'm7', MD5OfMessageBody: md5('a') },
        { Id: '0', MessageId: 'm0-again', MD5OfMessageBody: md5('a') },
      ],
      Failed: [
        { Id: '0', Code: 'InvalidParameterValue', SenderFault: true }, // 0 already succeeded: first answer wins
        { Id: '2', Code: 'InternalError', SenderFault: false },
      ],
    });
    const outcome = await sendBatch(client.asClient(), batch);
    expect(ids(outcome.delivered)).toEqual([batch[0]?.id]);
    expect(failedSummary(outcome)).toEqual([
      { id: batch[2]?.id, code: 'InternalError', disposition: 'retry', message: 'InternalError' },
      { id: batch[1]?.id, code: 'MissingEntryResult', disposition: 'retry', message: 'SQS answered without a result for this entry' },
    ]);
  });

  it('a failed request fails every entry with the same classified error, and never throws', async () => {
    const d = makeDest('q');
    const batch = ['a', 'b'].map((b) => makeEnvelope(d, b));
    const error = new SqsError('RequestThrottled', 'Rate exceeded', 403);
    client.auto = () => error;
    const outcome = await sendBatch(client.asClient(), batch);
    expect(outcome.requestError).toBe(error);
    expect(outcome.failed.map((f) => [f.env.id, f.error])).toEqual([
      [batch[0]?.id, error],
      [batch[1]?.id, error],
    ]);
    expect(outcome.delivered).toEqual([]);
  });

  it('credentials that cannot be loaded fail the request as CredentialsUnavailable (retried), naming only the error class', async () => {
    const credentials = {
      key: 'chain',
      refreshable: true,
      get: async () => {
        throw Object.assign(new Error('could not reach 169.254.169.254 with token s3cr3t'), { name: 'CredentialsProviderError' });
      },
      refresh: async () => {},
    };
    const outcome = await sendBatch(client.asClient(), [makeEnvelope(makeDest('q', { credentials }), 'x')]);
    expect(client.calls).toHaveLength(0);
    expect(outcome.requestError).toMatchObject({ code: 'CredentialsUnavailable', disposition: 'retry' });
    expect(outcome.requestError?.message).toBe('could not load AWS credentials (CredentialsProviderError)');
    expect(outcome.failed).toHaveLength(1);
  });
});
