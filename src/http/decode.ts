import { DaemonError } from '../errors.js';
import type { EntrySource, IngestEntry, MessageInput } from '../ingest/index.js';
import { arrayRegionInParts, eachArrayElementInParts, eachRecordInParts, Frames, TooManyEntries } from '../ingest/slices.js';
import { parseUrlencoded, type UrlencodedForm } from './urlencoded.js';

/**
 * The REST door's wire format: a `POST /queues/:name` body decoded into ingest entries, once
 * per content type. Whole-request problems throw a DaemonError; a bad entry of a batch becomes
 * an entry error and does not stop the others.
 */

/** One entry of a request: a message to validate, or why it could not even be read. */
export type ParsedEntry = IngestEntry;

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
      return { batch: false, entries: [formEntry(parseUrlencoded(text))] };
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
        throw new DaemonError('UnsupportedMediaType', 'multipart bodies are not supported; send application/x-www-form-urlencoded with message_body, JSON, NDJSON or a raw body');
      }
      return { batch: false, entries: [{ input: { body: text } }] };
  }
}

/** A batch body framed (split, counted, its JSON syntax checked) but not yet decoded: its entries are read from `source` a piece at a time. */
export interface FramedBatch {
  batch: true;
  source: EntrySource;
}

/**
 * parseSend for bodies that may be large: the records of a JSON array or an NDJSON body are
 * found slice by slice (slices.ts), so no request holds the event loop for more than a few
 * milliseconds, and a batch of more than `maxEntries` is refused with 413 as soon as the entry
 * past the limit is found, before the rest is looked at. Such a batch is answered framed, not
 * decoded: where each record sits, in one typed array, and its entries decoded when read
 * (Ingest.sendBatch reads a piece at a time). Everything that refuses the whole request is
 * found here, before any entry is recorded: the entry limit, and for a JSON array its framing
 * and each element's syntax (parsed once here and again when read; an NDJSON line that is not
 * JSON is that entry's error only).
 */
export async function frameSendSliced(mime: string, body: string | readonly string[], maxEntries: number): Promise<ParsedSend | FramedBatch> {
  try {
    // NDJSON and JSON text sequences, whose records never span parts, are framed part by part
    // (a body decoded in parts, body.ts decodeUtf8Parts); so is a JSON array, following its
    // strings and elements across parts; anything else as one text.
    const parts = typeof body === 'string' ? [body] : body;
    if (isRecordsMime(mime)) return await frameRecords(recordSeparator(mime), parts, maxEntries);
    if (mime !== 'application/json') return parseSend(mime, joined(parts));
    // An ordinary batch is parsed in one JSON.parse (~0.3 ms for 256 KiB, under a slice's
    // budget); the splitter is for bodies where one parse would hold the loop.
    const chars = charsOf(parts);
    if (chars <= WHOLE_PARSE_CHARS) return parseJson(joined(parts), maxEntries);
    const region = arrayRegionInParts(parts);
    if (!region) return parseJson(joined(parts), maxEntries);
    const frames = new Frames();
    // The elements that span two parts, each its own text after the parts (Frames' part index).
    const texts = parts.slice();
    await eachArrayElementInParts(parts, region, maxEntries, (element, index, part, start, end) => {
      JSON.parse(element);
      if (part >= 0) frames.push(start, end, index + 1, part);
      else frames.push(0, element.length, index + 1, texts.push(element) - 1);
    });
    return {
      batch: true,
      source: framedSource(frames, chars, (i) => {
        const text = texts[frames.partOf(i)] as string;
        return plainEntry(frames.plainBody(text, i)) ?? entryFromJson(JSON.parse(frames.record(text, i)));
      }),
    };
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (code === 'ETOOMANYENTRIES') throw new DaemonError('TooManyEntries', (err as Error).message);
    if (code === 'EMALFORMEDARRAY' || (err as Error)?.name === 'SyntaxError') {
      throw new DaemonError('MalformedJson', `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
    }
    throw err;
  }
}

function joined(parts: readonly string[]): string {
  return parts.length === 1 ? (parts[0] as string) : parts.join('');
}

function charsOf(parts: readonly string[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** An NDJSON or JSON-seq body's records, part by part (eachRecordInParts), each entry decoded when read. */
async function frameRecords(separator: string, parts: readonly string[], maxEntries: number): Promise<FramedBatch> {
  const frames = new Frames();
  await eachRecordInParts(parts, separator, maxEntries, (lineNo, part, start, end) => frames.push(start, end, lineNo, part));
  return {
    batch: true,
    source: framedSource(frames, charsOf(parts), (i) => {
      const text = parts[frames.partOf(i)] as string;
      return plainEntry(frames.plainBody(text, i)) ?? ndjsonEntry(frames.record(text, i), frames.recordNo(i));
    }),
  };
}

/** Content types whose batch is records separated by one ASCII byte (framed in parts), and that byte. */
export function isRecordsMime(mime: string): boolean {
  return mime === 'application/x-ndjson' || mime === 'application/jsonl' || mime === 'application/jsonlines' || mime === 'application/json-seq';
}

export function recordSeparator(mime: string): string {
  return mime === 'application/json-seq' ? '\x1e' : '\n';
}

/**
 * How a body of this content type is decoded in parts for frameSendSliced (body.ts
 * requestPartsSliced): NDJSON and JSON-seq cut just after their separator byte, JSON anywhere
 * between two characters; undefined: decoded as one text (a raw body, a form: one message).
 */
export function partsCut(mime: string): number | 'character' | undefined {
  if (isRecordsMime(mime)) return recordSeparator(mime).charCodeAt(0);
  return mime === 'application/json' ? 'character' : undefined;
}

/** frameSendSliced with every entry decoded at once: for bodies known to be small, and tests. */
export async function parseSendSliced(mime: string, text: string | readonly string[], maxEntries: number): Promise<ParsedSend> {
  const framed = await frameSendSliced(mime, text, maxEntries);
  return 'source' in framed ? { batch: true, entries: framed.source.read(0, framed.source.count) } : framed;
}

/** `textChars`: the body's length, which the records' text is part of (an upper bound on theirs). */
function framedSource(frames: Frames, textChars: number, entry: (i: number) => ParsedEntry): EntrySource {
  return {
    count: frames.count,
    textChars,
    chars: (i) => frames.chars(i),
    read(from, to) {
      const out: ParsedEntry[] = new Array(to - from);
      for (let i = from; i < to; i++) out[i - from] = entry(i);
      return out;
    },
  };
}

/**
 * A record that is only a body with nothing to unescape, its body a slice of the batch's text
 * (Frames.plainBody): the entry JSON.parse would give, without the parse and without a copy of
 * the body that every young collection it survives would copy again (issue 11).
 */
function plainEntry(body: string | undefined): ParsedEntry | undefined {
  return body === undefined ? undefined : { input: { body } };
}

function ndjsonEntry(line: string, lineNo: number): ParsedEntry {
  try {
    return entryFromJson(JSON.parse(line));
  } catch (err) {
    return { error: { code: 'MalformedJson', status: 400, message: `line ${lineNo} is not valid JSON: ${(err as Error).message.slice(0, 200)}` } };
  }
}

/**
 * A form send (already parsed: the CSRF guard may have parsed it first): one message, its entry
 * as it is (no ParsedSend and entry list around it, issue 14).
 */
export function formEntry(form: UrlencodedForm): ParsedEntry {
  const input: MessageInput = {};
  let attributes: Record<string, string> | undefined;
  let rows = false;
  const p = form.pairs;
  for (let i = 0; i < p.length; i += 2) {
    const k = p[i] as string;
    const field = FORM_FIELDS[k];
    if (field) input[field] = p[i + 1];
    else if (k.startsWith('attr.') && k.length > 5) (attributes ??= {})[k.slice(5)] = p[i + 1] as string;
    else if (k === 'attr_name' || k === 'attr_value') rows = true;
  }
  if (attributes) input.attributes = attributes;
  if (input.body === undefined) {
    throw new DaemonError('MissingBody', 'form field message_body is missing');
  }
  // The rows' three lists only for a form that has rows (issue 14: three arrays per message).
  if (rows) addFormAttributeRows(input, form);
  return { input };
}

/**
 * JSON bodies up to this many characters are parsed whole: V8 parses ~900 MiB/s here, so 256 Ki
 * characters take about 0.3 ms, less than the splitter's per-element work would cost.
 */
export const WHOLE_PARSE_CHARS = 262_144;

function parseJson(text: string, maxEntries = Infinity): ParsedSend {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new DaemonError('MalformedJson', `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
  }
  const list = Array.isArray(value) ? value : value !== null && typeof value === 'object' && Array.isArray((value as { messages?: unknown }).messages) ? (value as { messages: unknown[] }).messages : undefined;
  if (list) {
    if (list.length > maxEntries) throw new TooManyEntries(maxEntries);
    return { batch: true, entries: list.map(entryFromJson) };
  }
  const entry = entryFromJson(value);
  if ('error' in entry) throw new DaemonError(entry.error.code as 'InvalidEntry', entry.error.message);
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
        entries.push({ error: { code: 'MalformedJson', status: 400, message: `line ${lineNo} is not valid JSON: ${(err as Error).message.slice(0, 200)}` } });
      }
    }
    start = end + 1;
  }
  return { batch: true, entries };
}

function entryFromJson(value: unknown): ParsedEntry {
  if (typeof value === 'string') return { input: { body: value } };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { error: { code: 'InvalidEntry', status: 400, message: 'each message must be a JSON object with a "body" (or a plain string)' } };
  }
  const o = value as Record<string, unknown>;
  // for-in, not Object.keys: no array of names per entry (issue 11). A JSON.parse object's
  // enumerable properties are its own (Object.prototype has none enumerable), in the same order.
  let aliased = false;
  for (const k in o) {
    if (!JSON_FIELDS.has(k)) {
      return { error: { code: 'UnknownField', status: 400, message: `unknown field ${JSON.stringify(k.slice(0, 60))}; allowed: body, attributes, delaySeconds, groupId, deduplicationId, awsTraceHeader` } };
    }
    if (k === 'message_body') aliased = true;
  }
  // Only known fields, and `body` under its own name: the parsed object is the input as it is
  // (what the copy below would hold: every field read from it gives the same value), not a copy
  // of it per entry. Nothing downstream writes to an input or lists its keys.
  if (!aliased) return { input: o as MessageInput };
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

/**
 * Message attributes from an HTML form, which cannot name a field after the attribute without
 * script: rows of `attr_name`, `attr_type` (String or Number; default String) and `attr_value`,
 * repeated, matched by position. Empty rows are skipped. Merged into the single message that a
 * form send carries, next to the `attr.<name>=value` fields scripts use.
 */
function addFormAttributeRows(input: MessageInput, form: UrlencodedForm): void {
  const names = form.getAll('attr_name');
  const values = form.getAll('attr_value');
  if (names.length === 0 && values.length === 0) return;
  const types = form.getAll('attr_type');
  const rows: Record<string, { DataType: string; StringValue: string }> = {};
  let any = false;
  for (let i = 0; i < Math.max(names.length, values.length); i++) {
    const name = (names[i] ?? '').trim();
    const value = values[i] ?? '';
    if (name === '' && value === '') continue;
    if (name === '') throw new DaemonError('InvalidAttributeName', `message attribute row ${i + 1} has a value but no name`);
    const type = (types[i] ?? 'String').trim() || 'String';
    rows[name] = { DataType: type, StringValue: value };
    any = true;
  }
  if (!any) return;
  const existing = input.attributes;
  input.attributes = existing !== null && typeof existing === 'object' ? { ...(existing as object), ...rows } : rows;
}
