import type { MessageInput } from '../sqs/limits.js';
import { HttpError } from './errors.js';

/** One entry of a request: a message to validate, or why it could not even be read. */
export type ParsedEntry = { input: MessageInput } | { error: { code: string; message: string } };

export interface ParsedSend {
  /** True when the request carried a list (answer per entry), false for a single message. */
  batch: boolean;
  entries: ParsedEntry[];
}

const JSON_FIELDS = new Set(['body', 'message_body', 'attributes', 'delaySeconds', 'groupId', 'deduplicationId', 'awsTraceHeader']);
/** Form fields of the original API (`message_body`) plus the optional ones; others (CSRF token, buttons) are ignored. */
const FORM_FIELDS: Record<string, keyof MessageInput> = {
  message_body: 'body',
  delay_seconds: 'delaySeconds',
  group_id: 'groupId',
  message_group_id: 'groupId',
  deduplication_id: 'deduplicationId',
  message_deduplication_id: 'deduplicationId',
  aws_trace_header: 'awsTraceHeader',
};

/**
 * Turns a request body into message inputs by content type:
 * - application/x-www-form-urlencoded: `message_body=...` (the 2009 API), optional delay_seconds,
 *   group_id, deduplication_id, and attributes as `attr.<name>=value` (String) fields;
 * - application/json: an object `{ body, attributes, delaySeconds, groupId, deduplicationId }`,
 *   an array of such objects (or strings), or `{ "messages": [...] }`;
 * - application/x-ndjson (or application/jsonl): one JSON object or string per line;
 * - anything else: the raw body is the message.
 */
export function parseSend(mime: string, text: string): ParsedSend {
  switch (mime) {
    case 'application/x-www-form-urlencoded':
      return { batch: false, entries: [{ input: parseForm(text) }] };
    case 'application/json':
      return parseJson(text);
    case 'application/x-ndjson':
    case 'application/jsonl':
    case 'application/jsonlines':
      return parseNdjson(text, '\n');
    case 'application/json-seq':
      // RFC 7464: every record starts with RS (U+001E) and may span lines.
      return parseNdjson(text, '\x1e');
    default:
      if (mime.startsWith('multipart/')) {
        throw new HttpError(415, 'UnsupportedMediaType', 'multipart bodies are not supported; send application/x-www-form-urlencoded with message_body, JSON, NDJSON or a raw body');
      }
      return { batch: false, entries: [{ input: { body: text } }] };
  }
}

function parseForm(text: string): MessageInput {
  const input: MessageInput = {};
  let attributes: Record<string, string> | undefined;
  for (const [k, v] of new URLSearchParams(text)) {
    const field = FORM_FIELDS[k];
    if (field) input[field] = v;
    else if (k.startsWith('attr.') && k.length > 5) (attributes ??= {})[k.slice(5)] = v;
  }
  if (attributes) input.attributes = attributes;
  if (input.body === undefined) {
    throw new HttpError(400, 'MissingBody', 'form field message_body is missing');
  }
  return input;
}

function parseJson(text: string): ParsedSend {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, 'MalformedJson', `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  if (Array.isArray(value)) return { batch: true, entries: value.map(entryFromJson) };
  if (value !== null && typeof value === 'object' && Array.isArray((value as { messages?: unknown }).messages)) {
    return { batch: true, entries: ((value as { messages: unknown[] }).messages).map(entryFromJson) };
  }
  const entry = entryFromJson(value);
  if ('error' in entry) throw new HttpError(400, entry.error.code, entry.error.message);
  return { batch: false, entries: [entry] };
}

function parseNdjson(text: string, separator: string): ParsedSend {
  const entries: ParsedEntry[] = [];
  let start = 0;
  let lineNo = 0;
  while (start <= text.length) {
    let end = text.indexOf(separator, start);
    if (end < 0) end = text.length;
    const line = text.slice(start, end).trim();
    lineNo += 1;
    if (line !== '') {
      try {
        entries.push(entryFromJson(JSON.parse(line)));
      } catch (err) {
        entries.push({ error: { code: 'MalformedJson', message: `line ${lineNo} is not valid JSON: ${(err as Error).message.slice(0, 200)}` } });
      }
    }
    start = end + 1;
  }
  return { batch: true, entries };
}

function entryFromJson(value: unknown): ParsedEntry {
  if (typeof value === 'string') return { input: { body: value } };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { error: { code: 'InvalidEntry', message: 'each message must be a JSON object with a "body" (or a plain string)' } };
  }
  const o = value as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (!JSON_FIELDS.has(k)) {
      return { error: { code: 'UnknownField', message: `unknown field ${JSON.stringify(k.slice(0, 60))}; allowed: body, attributes, delaySeconds, groupId, deduplicationId, awsTraceHeader` } };
    }
  }
  return {
    input: {
      body: o.body ?? o.message_body,
      attributes: o.attributes,
      delaySeconds: o.delaySeconds,
      groupId: o.groupId,
      deduplicationId: o.deduplicationId,
      ...(o.awsTraceHeader !== undefined ? { awsTraceHeader: o.awsTraceHeader } : {}),
    },
  };
}
