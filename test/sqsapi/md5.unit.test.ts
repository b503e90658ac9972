import { createHash } from 'node:crypto';
import { md5OfAttributes, md5OfBody, md5OfTraceHeader } from '../../src/sqsapi/md5.js';
import { md5Hex, sqsMd5OfAttributes } from '../support/sqs-md5.js';

describe('the MD5s SQS returns', () => {
  test('of the body: MD5 of its UTF-8 bytes', () => {
    expect(md5OfBody('hello')).toBe('5d41402abc4b2a76b9719d911017c592');
    expect(md5OfBody('ünïcødé ✓ 😀')).toBe(md5Hex('ünïcødé ✓ 😀'));
  });

  test('of attributes: names sorted, length-prefixed name, type, transport byte and value', () => {
    const attrs = {
      zeta: { DataType: 'String', StringValue: 'last ✓' },
      alpha: { DataType: 'Number', StringValue: '-1.5e3' },
      blob: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255, 254]).toString('base64') },
      custom: { DataType: 'String.json', StringValue: '{"a":1}' },
    };
    expect(md5OfAttributes(attrs)).toBe(sqsMd5OfAttributes(attrs));
    // Order of the object's keys does not matter; the value does.
    expect(md5OfAttributes({ alpha: attrs.alpha, zeta: attrs.zeta, custom: attrs.custom, blob: attrs.blob })).toBe(md5OfAttributes(attrs));
    expect(md5OfAttributes({ ...attrs, alpha: { DataType: 'Number', StringValue: '-1.5e4' } })).not.toBe(md5OfAttributes(attrs));
  });

  test('a known vector: one String attribute', () => {
    // Bytes: 00000004 "name" 00000006 "String" 01 00000005 "value"
    const bytes = Buffer.concat([Buffer.from([0, 0, 0, 4]), Buffer.from('name'), Buffer.from([0, 0, 0, 6]), Buffer.from('String'), Buffer.from([1, 0, 0, 0, 5]), Buffer.from('value')]);
    expect(md5OfAttributes({ name: { DataType: 'String', StringValue: 'value' } })).toBe(createHash('md5').update(bytes).digest('hex'));
  });

  test('no attributes: no digest (SQS leaves the field out)', () => {
    expect(md5OfAttributes(undefined)).toBeUndefined();
    expect(md5OfAttributes({})).toBeUndefined();
  });

  test('of system attributes: AWSTraceHeader as a String attribute', () => {
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    expect(md5OfTraceHeader(trace)).toBe(sqsMd5OfAttributes({ AWSTraceHeader: { DataType: 'String', StringValue: trace } }));
    expect(md5OfTraceHeader(undefined)).toBeUndefined();
  });
});
