/**
 * SQS's MD5 of message attributes, written again from the SQS developer guide ("Calculating the
 * MD5 message digest for message attributes") independently of src/sqsapi/md5.ts, so tests
 * compare the daemon's answers against the algorithm, not against the daemon's own code.
 * Only String/Number (transport 1) and Binary (transport 2) values, which is all SQS accepts.
 */
import { createHash } from 'node:crypto';

export interface Attr {
  DataType: string;
  StringValue?: string;
  /** base64 (JSON protocol, boto3 after encoding) or raw bytes. */
  BinaryValue?: string | Uint8Array;
}

function encoded(bytes: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

export function sqsMd5OfAttributes(attrs: Record<string, Attr>): string {
  const parts: Buffer[] = [];
  for (const name of Object.keys(attrs).sort()) {
    const a = attrs[name] as Attr;
    parts.push(encoded(Buffer.from(name)), encoded(Buffer.from(a.DataType)));
    if (a.StringValue !== undefined) parts.push(Buffer.from([1]), encoded(Buffer.from(a.StringValue)));
    else {
      const v = a.BinaryValue;
      parts.push(Buffer.from([2]), encoded(typeof v === 'string' ? Buffer.from(v, 'base64') : Buffer.from(v ?? new Uint8Array())));
    }
  }
  return createHash('md5').update(Buffer.concat(parts)).digest('hex');
}

export const md5Hex = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');
