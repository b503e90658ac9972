import type { SendMessageBatchRequestEntry } from './types.js';

/**
 * A code unit JSON.stringify writes otherwise than as itself: `"`, `\`, a control character, or a
 * surrogate (a lone one becomes `\udxxx`; a string with a pair goes to JSON.stringify too, which
 * leaves the pair as it is, rather than being checked for pairing here).
 */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * A string as JSON: between quotes as it is when nothing in it needs escaping (most message
 * bodies, ids and queue URLs: one scan instead of JSON.stringify's scan and copy, issue 14's
 * seventh sitting), JSON.stringify's own output otherwise. The same text either way.
 */
export function jsonString(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * The SendMessageBatch request body, written field by field: the same bytes as
 * `JSON.stringify({ QueueUrl, Entries })` for entries whose keys were set in the order of
 * `SendMessageBatchRequestEntry` as the sender sets them (Id, MessageBody, MessageAttributes,
 * DelaySeconds, MessageGroupId, MessageDeduplicationId, MessageSystemAttributes), without
 * building the request object or walking it generically (issue 14: one request per batch, on
 * the hot path). Every string is written by jsonString, so escaping (quotes, backslashes, control
 * characters, lone surrogates as `\udxxx`, U+2028 left as it is) is exactly JSON.stringify's;
 * test/sqs/batch-json.unit.test.ts compares the two on fuzzed strings and at the size limits.
 * A key set to `undefined` is left out, as JSON.stringify leaves it out.
 */
export function batchRequestJson(queueUrl: string, entries: readonly SendMessageBatchRequestEntry[]): string {
  let s = `{"QueueUrl":${jsonString(queueUrl)},"Entries":[`;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as SendMessageBatchRequestEntry;
    if (i > 0) s += ',';
    s += `{"Id":${jsonString(e.Id)},"MessageBody":${jsonString(e.MessageBody)}`;
    if (e.MessageAttributes !== undefined) s += `,"MessageAttributes":${JSON.stringify(e.MessageAttributes)}`;
    if (e.DelaySeconds !== undefined) s += `,"DelaySeconds":${JSON.stringify(e.DelaySeconds)}`;
    if (e.MessageGroupId !== undefined) s += `,"MessageGroupId":${jsonString(e.MessageGroupId)}`;
    if (e.MessageDeduplicationId !== undefined) s += `,"MessageDeduplicationId":${jsonString(e.MessageDeduplicationId)}`;
    if (e.MessageSystemAttributes !== undefined) s += `,"MessageSystemAttributes":${JSON.stringify(e.MessageSystemAttributes)}`;
    s += '}';
  }
  return `${s}]}`;
}
