/**
 * Validation of one message against SQS's rules, run at ingest time so bad input gets a clear 4xx
 * at once instead of failing later in the background, after the sender was already acked.
 *
 * Hot path: every ingested message goes through validateMessage. Every check is a single linear
 * scan over code units (no regex), the body's characters are checked and its UTF-8 bytes counted in
 * the same pass, and a plain body without attributes allocates nothing beyond the result.
 */
import type { MessageAttributeValue, MessageAttributes, OutgoingMessage, QueueLimits } from './types.js';

/** Absolute ceiling: SQS's 1 MiB (1,048,576 bytes) since 2025, body + attributes. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
export const MAX_ATTRIBUTES = 10;
export const MAX_DELAY_SECONDS = 900;

/** Longest attribute name and longest DataType (base + custom label). */
export const MAX_ATTRIBUTE_NAME_LENGTH = 256;
export const MAX_DATA_TYPE_LENGTH = 256;
/** Longest MessageGroupId / MessageDeduplicationId. */
export const MAX_ID_LENGTH = 128;
/** Most significant digits a Number attribute may carry. */
export const MAX_NUMBER_DIGITS = 38;

/** Loosely typed input as parsed from a form, raw body or JSON: values are unknown until checked. */
export interface MessageInput {
  body?: unknown;
  /**
   * Object: name -> { DataType|dataType|type, StringValue|stringValue|value, BinaryValue|binaryValue }
   * or a plain string/number (shorthand: string -> String, finite number -> Number).
   */
  attributes?: unknown;
  /** Integer 0..900; numeric strings like "5" accepted (forms send strings). */
  delaySeconds?: unknown;
  groupId?: unknown;
  deduplicationId?: unknown;
}

export type Validation =
  | { ok: true; message: OutgoingMessage; bytes: number }
  | { ok: false; status: 400 | 413; code: string; message: string; field?: string };

type Failure = Extract<Validation, { ok: false }>;

function fail(code: string, message: string, field?: string): Failure {
  return field === undefined ? { ok: false, status: 400, code, message } : { ok: false, status: 400, code, message, field };
}

const QUOTE_MAX = 60;

/** JSON-quoted, capped at ~60 characters so a huge value is never echoed back. */
function quote(s: string): string {
  if (s.length <= QUOTE_MAX) return JSON.stringify(s);
  return `${JSON.stringify(s.slice(0, QUOTE_MAX - 3))}... (${s.length} characters)`;
}

/** Short description of a value that is not of the expected type. */
function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the string ${quote(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return `${typeof v} ${String(v)}`;
  return `a value of type ${typeof v}`;
}

function hex(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * One pass over s: returns its UTF-8 byte length when every character is one SQS allows, otherwise
 * -(index + 1) for the first character it would reject.
 * Allowed: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF.
 */
function scan(s: string): number {
  const n = s.length;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c >= 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
        bytes += 1;
        continue;
      }
      return -(i + 1);
    }
    if (c < 0x800) {
      bytes += 2;
      continue;
    }
    if (c < 0xd800) {
      bytes += 3;
      continue;
    }
    if (c < 0xdc00) {
      // High surrogate: valid only as the first half of a pair (a code point >= U+10000, 4 bytes).
      if (i + 1 < n) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d < 0xe000) {
          bytes += 4;
          i++;
          continue;
        }
      }
      return -(i + 1);
    }
    if (c < 0xe000 || c >= 0xfffe) return -(i + 1); // lone low surrogate, U+FFFE, U+FFFF
    bytes += 3;
  }
  return bytes;
}

/** First character SQS would reject, or -1. Allowed: #x9 #xA #xD #x20-#xD7FF #xE000-#xFFFD #x10000-#x10FFFF (lone surrogates and U+FFFE/U+FFFF are invalid). */
export function invalidCharIndex(s: string): number {
  const r = scan(s);
  return r < 0 ? -r - 1 : -1;
}

/** UTF-8 byte length, counting a lone surrogate as the 3 bytes of U+FFFD (as Buffer.byteLength does). */
function utf8Bytes(s: string): number {
  const n = s.length;
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Describes the bad character at index i of s, e.g. `U+0001 at index 5`. */
function badChar(s: string, i: number): string {
  const c = s.charCodeAt(i);
  if (c >= 0xd800 && c < 0xe000) return `a lone surrogate ${hex(c)} at index ${i}`;
  return `${hex(c)} at index ${i}`;
}

/** Number of bytes a valid base64 string decodes to. */
function base64DecodedBytes(s: string): number {
  const n = s.length;
  let pad = 0;
  if (n > 0 && s.charCodeAt(n - 1) === 0x3d) pad = n > 1 && s.charCodeAt(n - 2) === 0x3d ? 2 : 1;
  return (n / 4) * 3 - pad;
}

/** Size of a message as SQS counts it: UTF-8 bytes of body + for each attribute its name, its DataType and its value (StringValue as UTF-8, BinaryValue as decoded bytes). */
export function messageBytes(message: OutgoingMessage): number {
  return utf8Bytes(message.body) + attributesBytes(message.attributes);
}

function attributesBytes(attributes: MessageAttributes | undefined): number {
  if (attributes === undefined) return 0;
  let bytes = 0;
  for (const name of Object.keys(attributes)) {
    const a = attributes[name] as MessageAttributeValue;
    bytes += utf8Bytes(name) + utf8Bytes(a.DataType);
    if (a.StringValue !== undefined) bytes += utf8Bytes(a.StringValue);
    if (a.BinaryValue !== undefined) bytes += base64DecodedBytes(a.BinaryValue);
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Character classes (ASCII only, so plain code-unit comparisons).

/** [A-Za-z0-9_.-]: attribute names and DataType labels. */
function isNameChar(c: number): boolean {
  return (
    (c >= 0x61 && c <= 0x7a) || // a-z
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x30 && c <= 0x39) || // 0-9
    c === 0x5f || // _
    c === 0x2e || // .
    c === 0x2d // -
  );
}

/** Alphanumerics and punctuation: exactly the printable ASCII range without space, 0x21..0x7E. */
function isIdChar(c: number): boolean {
  return c >= 0x21 && c <= 0x7e;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function isBase64Char(c: number): boolean {
  return (
    (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2f
  );
}

// ---------------------------------------------------------------------------------------------
// Attributes

/**
 * Whether s starts with prefix (lowercase letters and "."), ignoring ASCII case. Only for strings
 * already known to hold name characters only, where `| 0x20` lowercases letters and changes nothing else.
 */
function startsWithIgnoreCase(s: string, prefix: string): boolean {
  if (s.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) {
    if ((s.charCodeAt(i) | 0x20) !== prefix.charCodeAt(i)) return false;
  }
  return true;
}

/** Why an attribute name is invalid, or undefined when it is fine. */
function attributeNameProblem(name: string): string | undefined {
  const n = name.length;
  if (n === 0) return 'is empty';
  if (n > MAX_ATTRIBUTE_NAME_LENGTH) return `is ${n} characters long; the maximum is ${MAX_ATTRIBUTE_NAME_LENGTH}`;
  for (let i = 0; i < n; i++) {
    const c = name.charCodeAt(i);
    if (!isNameChar(c)) {
      return `contains ${badNameChar(name, i)}; only A-Z, a-z, 0-9, "_", "-" and "." are allowed`;
    }
    if (c === 0x2e && i > 0 && name.charCodeAt(i - 1) === 0x2e) return 'contains ".."';
  }
  if (name.charCodeAt(0) === 0x2e) return 'starts with "."';
  if (name.charCodeAt(n - 1) === 0x2e) return 'ends with "."';
  if (startsWithIgnoreCase(name, 'aws.') || startsWithIgnoreCase(name, 'amazon.')) {
    return 'starts with a reserved prefix ("AWS." and "Amazon." are reserved, in any case)';
  }
  return undefined;
}

function badNameChar(s: string, i: number): string {
  const c = s.charCodeAt(i);
  const shown = c >= 0x21 && c <= 0x7e ? `${JSON.stringify(s[i])} (${hex(c)})` : hex(c);
  return `${shown} at index ${i}`;
}

/** The base type of a valid DataType ("String", "Number" or "Binary" + optional ".label"), else undefined. */
function dataTypeBase(dataType: string): 'String' | 'Number' | 'Binary' | undefined {
  const dot = dataType.indexOf('.');
  const base = dot < 0 ? dataType : dataType.slice(0, dot);
  if (base !== 'String' && base !== 'Number' && base !== 'Binary') return undefined;
  if (dot < 0) return base;
  const n = dataType.length;
  if (n > MAX_DATA_TYPE_LENGTH || dot === n - 1) return undefined;
  for (let i = dot + 1; i < n; i++) if (!isNameChar(dataType.charCodeAt(i))) return undefined;
  return base;
}

const DATA_TYPE_EXPECTED = 'expected String, Number or Binary, optionally with a ".custom" suffix';

/**
 * Checks a Number attribute value: a decimal literal (optional sign, digits with an optional ".",
 * optional exponent) with at most 38 significant digits, zero or of magnitude 10^-128 up to (not
 * including) 10^126. Returns the problem, or undefined when fine.
 */
function numberProblem(s: string): string | undefined {
  const n = s.length;
  let i = 0;
  let c = s.charCodeAt(0);
  if (c === 0x2b || c === 0x2d) c = s.charCodeAt(++i);
  // Mantissa: track the first and last non-zero digit, counted over all mantissa digits, and where
  // the decimal point sits (as a count of integer digits).
  let digits = 0;
  let intDigits = -1;
  let firstNonZero = -1;
  let lastNonZero = -1;
  for (; i < n; i++) {
    c = s.charCodeAt(i);
    if (isDigit(c)) {
      if (c !== 0x30) {
        if (firstNonZero < 0) firstNonZero = digits;
        lastNonZero = digits;
      }
      digits++;
    } else if (c === 0x2e && intDigits < 0) {
      intDigits = digits;
    } else break;
  }
  if (digits === 0) return 'is not a decimal number';
  if (intDigits < 0) intDigits = digits;
  let exponent = 0;
  if (i < n) {
    if (c !== 0x65 && c !== 0x45) return 'is not a decimal number';
    i++;
    let negative = false;
    c = s.charCodeAt(i);
    if (c === 0x2b || c === 0x2d) {
      negative = c === 0x2d;
      i++;
    }
    if (i >= n) return 'is not a decimal number (exponent has no digits)';
    for (; i < n; i++) {
      c = s.charCodeAt(i);
      if (!isDigit(c)) return 'is not a decimal number';
      if (exponent < 1e9) exponent = exponent * 10 + (c - 0x30); // saturate: far beyond any valid range
    }
    if (negative) exponent = -exponent;
  }
  if (firstNonZero < 0) return undefined; // zero, in any spelling
  const significant = lastNonZero - firstNonZero + 1;
  if (significant > MAX_NUMBER_DIGITS) {
    return `has ${significant} significant digits; the maximum is ${MAX_NUMBER_DIGITS}`;
  }
  // Decimal exponent of the leading digit: the value is in [10^magnitude, 10^(magnitude + 1)).
  const magnitude = intDigits - 1 - firstNonZero + exponent;
  if (magnitude >= 126) return 'is too large; the magnitude must be below 10^126';
  if (magnitude < -128) return 'is too small; a non-zero magnitude must be at least 10^-128';
  return undefined;
}

/** Why a base64 string is invalid, or undefined. Standard alphabet, padded to a multiple of 4. */
function base64Problem(s: string): string | undefined {
  const n = s.length;
  if (n % 4 !== 0) return `is not valid base64 (length ${n} is not a multiple of 4)`;
  let end = n;
  if (s.charCodeAt(n - 1) === 0x3d) end = s.charCodeAt(n - 2) === 0x3d ? n - 2 : n - 1;
  for (let i = 0; i < end; i++) {
    if (!isBase64Char(s.charCodeAt(i))) return `is not valid base64 (unexpected ${badNameChar(s, i)})`;
  }
  return undefined;
}

function attrFail(name: string, code: string, text: string): Failure {
  return fail(code, `attribute ${quote(name)}${text}`, attrField(name));
}

function attrField(name: string): string {
  return `attributes.${name.length > QUOTE_MAX ? `${name.slice(0, QUOTE_MAX - 3)}...` : name}`;
}

/** Own property, even if the name is "__proto__". */
function setOwn(target: MessageAttributes, name: string, value: MessageAttributeValue): void {
  if (name === '__proto__') {
    Object.defineProperty(target, name, { value, enumerable: true, writable: true, configurable: true });
  } else target[name] = value;
}

function pick(o: Record<string, unknown>, a: string, b: string, c?: string): unknown {
  const v = o[a];
  if (v !== undefined) return v;
  const w = o[b];
  if (w !== undefined || c === undefined) return w;
  return o[c];
}

/** Validates and normalizes one attribute; returns the wire shape or a failure. */
function validateAttribute(name: string, raw: unknown): MessageAttributeValue | Failure {
  // Shorthand forms.
  if (typeof raw === 'string') return stringValue(name, 'String', 'String', raw);
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) {
      return attrFail(name, 'InvalidAttributeValue', ` is ${String(raw)}; a Number attribute must be finite`);
    }
    return stringValue(name, 'Number', 'Number', String(raw));
  }
  if (raw instanceof Uint8Array) return binaryValue(name, 'Binary', raw);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return attrFail(
      name,
      'InvalidAttributeValue',
      ` is ${describe(raw)}; expected a string, a number or an object with DataType and StringValue or BinaryValue`,
    );
  }
  const o = raw as Record<string, unknown>;
  const dataType = pick(o, 'DataType', 'dataType', 'type');
  if (typeof dataType !== 'string') {
    return attrFail(
      name,
      'InvalidAttributeType',
      dataType === undefined ? ` has no DataType; ${DATA_TYPE_EXPECTED}` : ` has DataType ${describe(dataType)}; ${DATA_TYPE_EXPECTED}`,
    );
  }
  const base = dataTypeBase(dataType);
  if (base === undefined) {
    return attrFail(name, 'InvalidAttributeType', ` has DataType ${quote(dataType)}; ${DATA_TYPE_EXPECTED}`);
  }
  const sv = pick(o, 'StringValue', 'stringValue');
  const bv = pick(o, 'BinaryValue', 'binaryValue');
  const v = o.value;
  if (base === 'Binary') {
    if (sv !== undefined) {
      return attrFail(name, 'InvalidAttributeValue', ` is Binary but has a StringValue; use BinaryValue (base64)`);
    }
    return binaryValue(name, dataType, bv !== undefined ? bv : v);
  }
  if (bv !== undefined) {
    return attrFail(name, 'InvalidAttributeValue', ` is ${base} but has a BinaryValue; use StringValue`);
  }
  let value = sv !== undefined ? sv : v;
  if (base === 'Number' && typeof value === 'number') {
    if (!Number.isFinite(value)) {
      return attrFail(name, 'InvalidAttributeValue', ` is ${String(value)}; a Number attribute must be finite`);
    }
    value = String(value);
  }
  return stringValue(name, dataType, base, value);
}

function stringValue(name: string, dataType: string, base: 'String' | 'Number', value: unknown): MessageAttributeValue | Failure {
  if (typeof value !== 'string') {
    return attrFail(
      name,
      'InvalidAttributeValue',
      value === undefined ? ` (${base}) has no StringValue` : ` (${base}) has StringValue ${describe(value)}; expected a string`,
    );
  }
  if (value.length === 0) return attrFail(name, 'InvalidAttributeValue', ` (${base}) has an empty StringValue`);
  const bad = invalidCharIndex(value);
  if (bad >= 0) {
    return attrFail(name, 'InvalidCharacter', ` StringValue contains a character SQS does not allow: ${badChar(value, bad)}`);
  }
  if (base === 'Number') {
    const problem = numberProblem(value);
    if (problem !== undefined) {
      return attrFail(name, 'InvalidAttributeValue', ` (Number) value ${quote(value)} ${problem}`);
    }
  }
  return { DataType: dataType, StringValue: value };
}

function binaryValue(name: string, dataType: string, value: unknown): MessageAttributeValue | Failure {
  if (value instanceof Uint8Array) {
    if (value.length === 0) return attrFail(name, 'InvalidAttributeValue', ` (Binary) has an empty BinaryValue`);
    return { DataType: dataType, BinaryValue: Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64') };
  }
  if (typeof value !== 'string') {
    return attrFail(
      name,
      'InvalidAttributeValue',
      value === undefined ? ` (Binary) has no BinaryValue` : ` (Binary) has BinaryValue ${describe(value)}; expected a base64 string`,
    );
  }
  if (value.length === 0) return attrFail(name, 'InvalidAttributeValue', ` (Binary) has an empty BinaryValue`);
  const problem = base64Problem(value);
  if (problem !== undefined) {
    return attrFail(name, 'InvalidAttributeValue', ` (Binary) BinaryValue ${quote(value)} ${problem}`);
  }
  return { DataType: dataType, BinaryValue: value };
}

/** Validates the attributes object; undefined when absent or empty. */
function validateAttributes(raw: unknown): MessageAttributes | undefined | Failure {
  if (raw === undefined || raw === null) return undefined;
  const proto: unknown = typeof raw === 'object' ? Object.getPrototypeOf(raw) : undefined;
  if (typeof raw !== 'object' || (proto !== Object.prototype && proto !== null)) {
    // Arrays, Maps, Buffers... would otherwise be read (or silently dropped) as if they were a plain object.
    return fail(
      'AttributesNotObject',
      `attributes is ${describe(raw)}; expected an object mapping attribute names to values`,
      'attributes',
    );
  }
  const names = Object.keys(raw);
  if (names.length === 0) return undefined;
  if (names.length > MAX_ATTRIBUTES) {
    return fail(
      'TooManyAttributes',
      `message has ${names.length} attributes; SQS allows at most ${MAX_ATTRIBUTES}`,
      'attributes',
    );
  }
  const out: MessageAttributes = {};
  for (const name of names) {
    const problem = attributeNameProblem(name);
    if (problem !== undefined) {
      return fail('InvalidAttributeName', `attribute name ${quote(name)} ${problem}`, attrField(name));
    }
    const a = validateAttribute(name, (raw as Record<string, unknown>)[name]);
    if ('ok' in a) return a;
    setOwn(out, name, a);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Delay, group and deduplication ids

/** The delay in seconds, undefined when absent, or a failure. */
function parseDelay(raw: unknown): number | undefined | Failure {
  if (raw === undefined || raw === null || raw === '') return undefined;
  let n: number;
  if (typeof raw === 'number') n = raw;
  else if (typeof raw === 'string') {
    // Digits only (no sign, no spaces, no "1e2"); more than 4 digits is out of range anyway.
    const len = raw.length;
    let ok = len <= 4;
    for (let i = 0; ok && i < len; i++) ok = isDigit(raw.charCodeAt(i));
    if (!ok) {
      return fail(
        'InvalidDelay',
        `delaySeconds ${quote(raw)} is not an integer from 0 to ${MAX_DELAY_SECONDS}`,
        'delaySeconds',
      );
    }
    n = Number(raw);
  } else {
    return fail(
      'InvalidDelay',
      `delaySeconds is ${describe(raw)}; expected an integer from 0 to ${MAX_DELAY_SECONDS}`,
      'delaySeconds',
    );
  }
  if (!Number.isInteger(n) || n < 0 || n > MAX_DELAY_SECONDS) {
    return fail('InvalidDelay', `delaySeconds ${String(n)} is not an integer from 0 to ${MAX_DELAY_SECONDS}`, 'delaySeconds');
  }
  return n;
}

/** Why a group or deduplication id is invalid, or undefined. */
function idProblem(s: string): string | undefined {
  const n = s.length;
  if (n > MAX_ID_LENGTH) return `is ${n} characters long; the maximum is ${MAX_ID_LENGTH}`;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (!isIdChar(c)) {
      const shown = c === 0x20 ? `a space (U+0020) at index ${i}` : badChar(s, i);
      return `contains ${shown}; only letters, digits and ASCII punctuation are allowed`;
    }
  }
  return undefined;
}

/** The id, undefined when absent ("" counts as absent: forms send empty fields), or a failure. */
function parseId(raw: unknown, field: 'groupId' | 'deduplicationId', code: string): string | undefined | Failure {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw !== 'string') return fail(code, `${field} is ${describe(raw)}; expected a string`, field);
  const problem = idProblem(raw);
  if (problem !== undefined) return fail(code, `${field} ${quote(raw)} ${problem}`, field);
  return raw;
}

function isFailure(v: unknown): v is Failure {
  return typeof v === 'object' && v !== null && (v as { ok?: unknown }).ok === false;
}

// ---------------------------------------------------------------------------------------------

export function validateMessage(
  input: MessageInput,
  queue: QueueLimits,
  options?: { defaultGroupId?: string },
): Validation {
  const limit = Math.min(queue.maxMessageBytes, SQS_MAX_MESSAGE_BYTES);

  // Body.
  const body = input.body;
  if (typeof body !== 'string') {
    if (body === undefined || body === null) return fail('EmptyBody', 'body is missing; SQS needs a non-empty message body', 'body');
    return fail('BodyNotString', `body is ${describe(body)}; expected a string`, 'body');
  }
  if (body.length === 0) return fail('EmptyBody', 'body is empty; SQS needs at least 1 character', 'body');
  // Every code unit is at least one UTF-8 byte: a body longer than the limit in characters is too
  // large whatever it holds, so reject it before scanning it.
  if (body.length > limit) {
    return {
      ok: false,
      status: 413,
      code: 'MessageTooLarge',
      message: `message is at least ${body.length} bytes (body alone); the queue's limit is ${limit} bytes`,
      field: 'body',
    };
  }
  const bodyBytes = scan(body);
  if (bodyBytes < 0) {
    return fail('InvalidCharacter', `body contains a character SQS does not allow: ${badChar(body, -bodyBytes - 1)}`, 'body');
  }

  // Delay, group and deduplication ids (cheap; before attributes so their errors come first).
  const delay = parseDelay(input.delaySeconds);
  if (isFailure(delay)) return delay;
  let groupId = parseId(input.groupId, 'groupId', 'InvalidGroupId');
  if (isFailure(groupId)) return groupId;
  const dedupId = parseId(input.deduplicationId, 'deduplicationId', 'InvalidDeduplicationId');
  if (isFailure(dedupId)) return dedupId;

  if (queue.fifo) {
    if (delay !== undefined && delay !== 0) {
      return fail(
        'DelayNotAllowedOnFifo',
        `delaySeconds ${delay} is not allowed: FIFO queues do not support per-message delays; set the queue's DelaySeconds attribute instead`,
        'delaySeconds',
      );
    }
    if (groupId === undefined) {
      const fallback = options?.defaultGroupId;
      if (fallback === undefined || fallback === '') {
        return fail('MissingGroupId', 'groupId is required: the queue is a FIFO queue and no default group id is configured', 'groupId');
      }
      const problem = idProblem(fallback);
      if (problem !== undefined) {
        return fail('InvalidGroupId', `the configured default groupId ${quote(fallback)} ${problem}`, 'groupId');
      }
      groupId = fallback;
    }
  } else if (dedupId !== undefined) {
    return fail(
      'DeduplicationIdOnStandardQueue',
      'deduplicationId is only allowed on FIFO queues; the queue is a standard queue',
      'deduplicationId',
    );
  }

  // Attributes.
  const attributes = validateAttributes(input.attributes);
  if (isFailure(attributes)) return attributes;

  // Size.
  const bytes = attributes === undefined ? bodyBytes : bodyBytes + attributesBytes(attributes);
  if (bytes > limit) {
    return {
      ok: false,
      status: 413,
      code: 'MessageTooLarge',
      message:
        attributes === undefined
          ? `message is ${bytes} bytes; the queue's limit is ${limit} bytes`
          : `message is ${bytes} bytes (body ${bodyBytes} + attributes ${bytes - bodyBytes}); the queue's limit is ${limit} bytes`,
      field: attributes === undefined ? 'body' : 'attributes',
    };
  }

  const message: OutgoingMessage = { body };
  if (attributes !== undefined) message.attributes = attributes;
  // A 0 delay on a FIFO queue is a no-op (the queue's own delay applies): dropped, not rejected.
  if (delay !== undefined && !(queue.fifo && delay === 0)) message.delaySeconds = delay;
  if (groupId !== undefined) message.groupId = groupId;
  if (dedupId !== undefined) message.dedupId = dedupId;
  return { ok: true, message, bytes };
}
