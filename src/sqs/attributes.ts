/**
 * Message attributes: validation and normalization of names, DataTypes and values (Number and
 * base64 checks included) into the wire shape, and their size as SQS counts it.
 */
import {
  badChar,
  describe,
  hex,
  invalidCharIndex,
  isBase64Char,
  isDigit,
  isNameChar,
  quote,
  QUOTE_MAX,
  utf8Bytes,
} from './chars.js';
import { MAX_ATTRIBUTE_NAME_LENGTH, MAX_ATTRIBUTES, MAX_DATA_TYPE_LENGTH, MAX_NUMBER_DIGITS } from './quotas.js';
import type { MessageAttributeValue, MessageAttributes } from './types.js';
import { fail, type Failure } from './validation.js';

/** Number of bytes a valid base64 string decodes to. */
function base64DecodedBytes(s: string): number {
  const n = s.length;
  let pad = 0;
  if (n > 0 && s.charCodeAt(n - 1) === 0x3d) pad = n > 1 && s.charCodeAt(n - 2) === 0x3d ? 2 : 1;
  return (n / 4) * 3 - pad;
}

export function attributesBytes(attributes: MessageAttributes | undefined): number {
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
export function validateAttributes(raw: unknown): MessageAttributes | undefined | Failure {
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
