import { pointerBody, readPointer, sizeAttribute, withoutSizeAttribute } from '../../src/s3/pointer.js';
import { thresholdFor, wantsOffload } from '../../src/ingest/offload.js';
import { signS3, encodeKeyPath } from '../../src/s3/sign.js';

describe('the Extended Client pointer format', () => {
  test('written exactly as the Java library writes it (Jackson default typing of PayloadS3Pointer)', () => {
    expect(pointerBody({ bucket: 'b', key: 'p/k' })).toBe('["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"b","s3Key":"p/k"}]');
    expect(sizeAttribute(42)).toEqual({ DataType: 'Number', StringValue: '42' });
  });
  test('read with either size attribute and either class name; without the attribute a body is never a pointer', () => {
    const body = '["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"b","s3Key":"k"}]';
    expect(readPointer(body, { SQSLargePayloadSize: { DataType: 'Number', StringValue: '7' } })).toEqual({ pointer: { bucket: 'b', key: 'k' }, bytes: 7 });
    expect(readPointer(body, { ExtendedPayloadSize: { DataType: 'Number', StringValue: '7' } })).toEqual({ pointer: { bucket: 'b', key: 'k' }, bytes: 7 });
    expect(readPointer(body, {})).toBeUndefined();
    expect(readPointer('hello', { ExtendedPayloadSize: { DataType: 'Number', StringValue: '7' } })).toEqual({ error: expect.stringContaining('not an S3 pointer') });
    expect(readPointer('["x",{"s3BucketName":"b"}]', { ExtendedPayloadSize: { DataType: 'Number', StringValue: '7' } })).toEqual({ error: expect.stringContaining('not an S3 pointer') });
    expect(withoutSizeAttribute({ a: { DataType: 'String', StringValue: 'x' }, SQSLargePayloadSize: { DataType: 'Number', StringValue: '1' } })).toEqual({ a: { DataType: 'String', StringValue: 'x' } });
  });
});

describe('when a message goes to S3', () => {
  const payloads = {} as never;
  const limits = { fifo: false, maxMessageBytes: 262_144, contentBasedDedup: false };
  test('the threshold is the queue\'s limit, a lower --s3-threshold-bytes, or 0 with --s3-always', () => {
    expect(thresholdFor({ bucket: 'b', prefix: '', thresholdBytes: 0, always: false, maxPayloadBytes: 1, payloads }, limits)).toBe(262_144);
    expect(thresholdFor({ bucket: 'b', prefix: '', thresholdBytes: 1000, always: false, maxPayloadBytes: 1, payloads }, limits)).toBe(1000);
    expect(thresholdFor({ bucket: 'b', prefix: '', thresholdBytes: 900_000, always: false, maxPayloadBytes: 1, payloads }, limits)).toBe(262_144);
    expect(thresholdFor({ bucket: 'b', prefix: '', thresholdBytes: 0, always: true, maxPayloadBytes: 1, payloads }, limits)).toBe(0);
  });
  test('over the threshold, over the queue\'s limit, or always; never a message that already is a pointer', () => {
    const p = { bucket: 'b', prefix: '', thresholdBytes: 100, always: false, maxPayloadBytes: 1, payloads };
    expect(wantsOffload(p, { body: 'x' }, { ok: true, message: { body: 'x' }, bytes: 101 })).toBe(true);
    expect(wantsOffload(p, { body: 'x' }, { ok: true, message: { body: 'x' }, bytes: 100 })).toBe(false);
    expect(wantsOffload({ ...p, thresholdBytes: 0 }, { body: 'x' }, { ok: false, status: 413, code: 'MessageTooLarge', message: '' })).toBe(true);
    expect(wantsOffload({ ...p, thresholdBytes: 0 }, { body: 'x' }, { ok: false, status: 400, code: 'InvalidCharacter', message: '' })).toBe(false);
    const pointer = { body: 'x', attributes: { ExtendedPayloadSize: { DataType: 'Number', StringValue: '1' } } };
    expect(wantsOffload({ ...p, always: true }, pointer, { ok: true, message: pointer, bytes: 500 })).toBe(false);
    expect(wantsOffload({ ...p, always: true }, { body: 'x' }, { ok: true, message: { body: 'x' }, bytes: 1 })).toBe(true);
  });
});

test('SigV4 for S3: the example of the S3 API reference (GET Object with a Range header) gives its signature', () => {
  // "Example: GET Object", Signature Calculations for the Authorization Header (AWS Signature Version 4), Amazon S3 API Reference.
  const h = signS3({
    method: 'GET',
    host: 'examplebucket.s3.amazonaws.com',
    path: `/${encodeKeyPath('test.txt')}`,
    region: 'us-east-1',
    payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    credentials: { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
    headers: { range: 'bytes=0-9' },
    now: new Date('2013-05-24T00:00:00Z'),
  });
  expect(h.authorization).toBe('AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41');
});
