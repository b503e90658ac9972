import type { SendMessageBatchRequestEntry } from './types.js';

/**
 * The SendMessageBatch request body, written field by field: the same bytes as
 * `JSON.stringify({ QueueUrl, Entries })` for entries whose keys were set in the order of
 * `SendMessageBatchRequestEntry` as the sender sets them (Id, MessageBody, MessageAttributes,
 * DelaySeconds, MessageGroupId, MessageDeduplicationId, MessageSystemAttributes), without
 * building the request object or walking it generically (issue 14: one request per batch, on
 * the hot path). Every string goes through `JSON.stringify` itself, so escaping (quotes,
 * backslashes, control characters, lone surrogates as `\udxxx`, U+2028 left as it is) is exactly
 * JSON.stringify's; test/sqs/batch-json.unit.test.ts compares the two on fuzzed strings.
 * A key set to `undefined` is left out, as JSON.stringify leaves it out.
 */
export function batchRequestJson(queueUrl: string, entries: readonly SendMessageBatchRequestEntry[]): string {
  let s = `{"QueueUrl":${JSON.stringify(queueUrl)},"Entries":[`;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as SendMessageBatchRequestEntry;
    if (i > 0) s += ',';
    s += `{"Id":${JSON.stringify(e.Id)},"MessageBody":${JSON.stringify(e.MessageBody)}`;
    if (e.MessageAttributes !== undefined) s += `,"MessageAttributes":${JSON.stringify(e.MessageAttributes)}`;
    if (e.DelaySeconds !== undefined) s += `,"DelaySeconds":${JSON.stringify(e.DelaySeconds)}`;
    if (e.MessageGroupId !== undefined) s += `,"MessageGroupId":${JSON.stringify(e.MessageGroupId)}`;
    if (e.MessageDeduplicationId !== undefined) s += `,"MessageDeduplicationId":${JSON.stringify(e.MessageDeduplicationId)}`;
    if (e.MessageSystemAttributes !== undefined) s += `,"MessageSystemAttributes":${JSON.stringify(e.MessageSystemAttributes)}`;
    s += '}';
  }
  return `${s}]}`;
}
