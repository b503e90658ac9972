/**
 * The consuming helpers over a stub SqsClient.call: what each answer of DeleteMessageBatch /
 * ChangeMessageVisibilityBatch becomes per entry (the all-successful answer takes a shortcut that
 * must agree with the general reading), and ReceiveMessage's system attributes.
 */
import type { SqsClient } from '../../src/sqs/client.js';
import { changeVisibilityBatch, deleteMessageBatch, receiveMessages } from '../../src/sqs/consume.js';

const creds = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
function stub(answer: unknown): { client: SqsClient; sent: Array<{ action: string; params: any }> } {
  const sent: Array<{ action: string; params: any }> = [];
  const client = { call: async (action: string, params: object) => { sent.push({ action, params }); return answer; } } as unknown as SqsClient;
  return { client, sent };
}
const handles = (n: number) => Array.from({ length: n }, (_, i) => `h${i}`);

it('DeleteMessageBatch: entries are numbered by position, an all-successful answer is ok for each', async () => {
  const { client, sent } = stub({ Successful: handles(10).map((_, i) => ({ Id: String(i) })) });
  const out = await deleteMessageBatch(client, 'q', creds, handles(10));
  expect(out).toEqual(Array.from({ length: 10 }, () => ({ ok: true })));
  expect(sent[0]?.params.Entries).toEqual(handles(10).map((h, i) => ({ Id: String(i), ReceiptHandle: h })));
});

it('successes out of order, missing or with a failure beside them are read entry by entry', async () => {
  const reordered = await deleteMessageBatch(stub({ Successful: [{ Id: '2' }, { Id: '0' }, { Id: '1' }] }).client, 'q', creds, handles(3));
  expect(reordered.map((o) => o.ok)).toEqual([true, true, true]);
  const missing = await deleteMessageBatch(stub({ Successful: [{ Id: '0' }, { Id: '0' }] }).client, 'q', creds, handles(2));
  expect(missing.map((o) => o.ok)).toEqual([true, false]);
  expect(missing[1]).toMatchObject({ code: 'BadResponse', disposition: 'retry', gone: false });
  const mixed = await changeVisibilityBatch(stub({ Successful: [{ Id: '0' }], Failed: [{ Id: '1', Code: 'ReceiptHandleIsInvalid', SenderFault: true }] }).client, 'q', creds, [{ receiptHandle: 'a', visibilityTimeoutSeconds: 0 }, { receiptHandle: 'b', visibilityTimeoutSeconds: 0 }]);
  expect(mixed[0]).toEqual({ ok: true });
  expect(mixed[1]).toMatchObject({ ok: false, code: 'ReceiptHandleIsInvalid', gone: true });
  // A contradictory answer (every entry successful, one also failed): the failure counts.
  const both = await deleteMessageBatch(stub({ Successful: [{ Id: '0' }, { Id: '1' }], Failed: [{ Id: '1', Code: 'InternalError' }] }).client, 'q', creds, handles(2));
  expect(both.map((o) => o.ok)).toEqual([true, false]);
  // Entries that are not objects are skipped, not a crash.
  const junk = await deleteMessageBatch(stub({ Successful: [null, { Id: '1' }], Failed: [null] }).client, 'q', creds, handles(2));
  expect(junk.map((o) => o.ok)).toEqual([false, true]);
});

it('ReceiveMessage: a first-receive timestamp no Date can hold is taken as now', async () => {
  const before = Date.now();
  const { client } = stub({ Messages: [
    { MessageId: 'a', ReceiptHandle: 'ra', Body: 'x', Attributes: { ApproximateFirstReceiveTimestamp: '1e20', ApproximateReceiveCount: '2' } },
    { MessageId: 'b', ReceiptHandle: 'rb', Body: 'y', Attributes: { ApproximateFirstReceiveTimestamp: '1764590400000' } },
  ] });
  const got = await receiveMessages(client, 'q', creds, { maxMessages: 10, waitTimeSeconds: 20, visibilityTimeoutSeconds: 30, timeoutMs: 1000 });
  expect(got[0]?.firstReceivedAt).toBeGreaterThanOrEqual(before);
  expect(() => new Date(got[0]?.firstReceivedAt as number).toISOString()).not.toThrow();
  expect(got[0]?.receiveCount).toBe(2);
  expect(got[1]?.firstReceivedAt).toBe(1_764_590_400_000);
});
