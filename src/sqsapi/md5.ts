import { createHash, type Hash } from 'node:crypto';

/**
 * The MD5 digests SQS returns from SendMessage(Batch), computed as SQS computes them, so SDKs
 * that check them (the JavaScript SDK checks the body's, the Java one the attributes' too)
 * accept the daemon's answers.
 *
 * Attributes: names sorted (byte order; names are ASCII), then for each: the name and its
 * DataType, each as a 4-byte big-endian length and UTF-8 bytes, one transport byte
 * (1 = StringValue, 2 = BinaryValue, 3 = StringListValues, 4 = BinaryListValues: what is set,
 * not what DataType says), and the value(s) the same way. System attributes
 * (AWSTraceHeader) use the same algorithm.
 */

/** An attribute value as the JSON protocol carries it (Binary values base64). */
export interface AttributeValueLike {
  DataType?: string;
  StringValue?: string;
  BinaryValue?: string;
  StringListValues?: readonly string[];
  BinaryListValues?: readonly string[];
}

export function md5OfBody(body: string): string {
  return createHash('md5').update(body, 'utf8').digest('hex');
}

function lengthPrefixed(hash: Hash, bytes: Buffer): void {
  const len = Buffer.allocUnsafe(4);
  len.writeUInt32BE(bytes.length, 0);
  hash.update(len);
  hash.update(bytes);
}

const STRING = Buffer.from([1]);
const BINARY = Buffer.from([2]);
const STRING_LIST = Buffer.from([3]);
const BINARY_LIST = Buffer.from([4]);

/** MD5 of a message-attribute map; undefined when there are none (SQS then omits the field). */
export function md5OfAttributes(attributes: Readonly<Record<string, AttributeValueLike>> | undefined): string | undefined {
  if (attributes === undefined) return undefined;
  const names = Object.keys(attributes);
  if (names.length === 0) return undefined;
  // Byte order of the UTF-8 names, as SQS sorts them (not localeCompare).
  names.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
  const hash = createHash('md5');
  for (const name of names) {
    const a = attributes[name] as AttributeValueLike;
    lengthPrefixed(hash, Buffer.from(name, 'utf8'));
    lengthPrefixed(hash, Buffer.from(a.DataType ?? '', 'utf8'));
    if (a.StringValue !== undefined) {
      hash.update(STRING);
      lengthPrefixed(hash, Buffer.from(a.StringValue, 'utf8'));
    } else if (a.BinaryValue !== undefined) {
      hash.update(BINARY);
      lengthPrefixed(hash, Buffer.from(a.BinaryValue, 'base64'));
    } else if (a.StringListValues !== undefined) {
      hash.update(STRING_LIST);
      for (const v of a.StringListValues) lengthPrefixed(hash, Buffer.from(v, 'utf8'));
    } else if (a.BinaryListValues !== undefined) {
      hash.update(BINARY_LIST);
      for (const v of a.BinaryListValues) lengthPrefixed(hash, Buffer.from(v, 'base64'));
    }
  }
  return hash.digest('hex');
}

/** MD5 of the system attributes SQS returns as MD5OfMessageSystemAttributes (only AWSTraceHeader exists). */
export function md5OfTraceHeader(traceHeader: string | undefined): string | undefined {
  if (traceHeader === undefined) return undefined;
  return md5OfAttributes({ AWSTraceHeader: { DataType: 'String', StringValue: traceHeader } });
}
