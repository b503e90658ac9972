import {
  classify,
  classifyEntry,
  fromNetworkError,
  fromResponse,
  isSqsError,
  mayHaveArrived,
  normalizeCode,
  SqsError,
  upstreamFault,
} from '../../src/sqs/errors.js';

const json = (type: string, message = 'm') => JSON.stringify({ __type: `com.amazonaws.sqs#${type}`, message });

describe('fromResponse: request-level errors', () => {
  it.each([
    // Throttling: RequestThrottled is a 403 and must not be mistaken for access denied.
    [403, 'RequestThrottled', 'retry'],
    [400, 'ThrottlingException', 'retry'],
    [400, 'Throttling', 'retry'],
    [429, 'TooManyRequestsException', 'retry'],
    [400, 'KmsThrottled', 'retry'],
    [400, 'KMS.ThrottlingException', 'retry'],
    [503, 'ServiceUnavailable', 'retry'],
    [500, 'InternalError', 'retry'],
    [500, 'InternalFailure', 'retry'],
    [408, 'RequestTimeout', 'retry'],
    [502, 'SomethingNew', 'retry'], // any 5xx
    // Permanent.
    [400, 'QueueDoesNotExist', 'permanent'],
    [400, 'AWS.SimpleQueueService.NonExistentQueue', 'permanent'],
    [403, 'AccessDenied', 'permanent'],
    [400, 'AccessDeniedException', 'permanent'],
    [400, 'InvalidMessageContents', 'permanent'],
    [400, 'InvalidParameterValue', 'permanent'],
    [400, 'KmsAccessDenied', 'permanent'],
    // Refused credentials: refreshed in chain mode, dead letters for a pass-through pair (see sortUndelivered).
    [403, 'InvalidClientTokenId', 'refresh-credentials'],
    [403, 'SignatureDoesNotMatch', 'refresh-credentials'],
    [400, 'InvalidSignatureException', 'refresh-credentials'],
    [400, 'UnrecognizedClientException', 'refresh-credentials'],
    [400, 'IncompleteSignature', 'refresh-credentials'],
    // The batch as a whole: split and sent again.
    [400, 'BatchRequestTooLong', 'split'],
    [400, 'AWS.SimpleQueueService.BatchRequestTooLong', 'split'],
    [400, 'TooManyEntriesInBatchRequest', 'split'],
    // Stale credentials.
    [400, 'ExpiredToken', 'refresh-credentials'],
    [403, 'ExpiredTokenException', 'refresh-credentials'],
  ])('HTTP %i %s -> %s', (status, code, disposition) => {
    const e = fromResponse(status, json(code, 'details'), 'req-1');
    expect(e.code).toBe(code);
    expect(e.httpStatus).toBe(status);
    expect(e.disposition).toBe(disposition);
    expect(e.requestId).toBe('req-1');
    expect(e.message).toBe('details');
    expect(isSqsError(e)).toBe(true);
  });

  it('knows a missing queue in both spellings', () => {
    expect(fromResponse(400, json('QueueDoesNotExist')).queueMissing).toBe(true);
    expect(fromResponse(400, JSON.stringify({ code: 'AWS.SimpleQueueService.NonExistentQueue' })).queueMissing).toBe(true);
    expect(fromResponse(403, json('AccessDenied')).queueMissing).toBe(false);
  });

  it('reads __type with or without a namespace or a trailing URL, and legacy `code` and `Message`', () => {
    expect(fromResponse(400, JSON.stringify({ __type: 'QueueDoesNotExist' })).code).toBe('QueueDoesNotExist');
    expect(fromResponse(400, JSON.stringify({ __type: 'com.amazon.coral.service#ExpiredTokenException:http://internal.amazon.com/coral/' })).code).toBe('ExpiredTokenException');
    const legacy = fromResponse(400, JSON.stringify({ code: 'InvalidMessageContents', Message: 'bad char' }));
    expect([legacy.code, legacy.message, legacy.disposition]).toEqual(['InvalidMessageContents', 'bad char', 'permanent']);
    expect(normalizeCode('a.b#C')).toBe('C');
    expect(normalizeCode('Plain')).toBe('Plain');
  });

  it.each([
    [502, '<html>Bad Gateway</html>', 'ServiceUnavailable', 'retry'],
    [503, '', 'ServiceUnavailable', 'retry'],
    [500, 'oops', 'ServiceUnavailable', 'retry'],
    [429, 'slow down', 'Http429', 'retry'],
    [403, '<html>Forbidden</html>', 'AccessDenied', 'permanent'],
    [400, 'not json', 'Http400', 'permanent'],
    [400, '{"no":"type"}', 'Http400', 'permanent'],
    [400, '[1,2', 'Http400', 'permanent'],
  ])('a body that is not SQS JSON: HTTP %i %j -> %s (%s)', (status, body, code, disposition) => {
    const e = fromResponse(status, body);
    expect(e.code).toBe(code);
    expect(e.disposition).toBe(disposition);
    expect(e.message).toBe(`SQS answered HTTP ${status}`);
  });

  const xml = (code: string, message: string, type = 'Sender') =>
    `<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>${type}</Type><Code>${code}</Code>` +
    `<Message>${message}</Message><Detail/></Error><RequestId>rid-xml-1</RequestId></ErrorResponse>`;

  it.each([
    [403, 'SignatureDoesNotMatch', 'refresh-credentials'],
    [403, 'InvalidClientTokenId', 'refresh-credentials'],
    [400, 'AWS.SimpleQueueService.NonExistentQueue', 'permanent'],
    [400, 'AWS.SimpleQueueService.BatchRequestTooLong', 'split'],
    [403, 'AccessDenied', 'permanent'],
    [400, 'Throttling', 'retry'],
  ])('an XML error document (query protocol): HTTP %i %s -> %s', (status, code, disposition) => {
    const e = fromResponse(status, xml(code, 'The request signature &amp; &lt;details&gt;'));
    expect([e.code, e.disposition, e.requestId]).toEqual([code, disposition, 'rid-xml-1']);
    expect(e.message).toBe('The request signature & <details>');
  });

  it('XML: a bare <Error> (no ErrorResponse), CDATA and numeric entities; the header request id wins', () => {
    const e = fromResponse(403, '<Error><Code>InvalidAccessKeyId</Code><Message><![CDATA[key <AKID> unknown]]> &#233;&#x263a;</Message><RequestId>x</RequestId></Error>', 'from-header');
    expect([e.code, e.message, e.requestId, e.disposition]).toEqual(['InvalidAccessKeyId', 'key <AKID> unknown é☺', 'from-header', 'refresh-credentials']);
    expect(fromResponse(400, '<html><body>Bad Request</body></html>').code).toBe('Http400');
    expect(fromResponse(400, '<Error><Code>X</Code><Message>&#99999999;</Message></Error>').message).toBe('\ufffd');
  });

  it('the x-amzn-query-error header names the code when the body does not', () => {
    const e = fromResponse(400, '', 'r', 'AWS.SimpleQueueService.NonExistentQueue;Sender');
    expect([e.code, e.queueMissing, e.disposition]).toEqual(['AWS.SimpleQueueService.NonExistentQueue', true, 'permanent']);
    expect(fromResponse(403, '<html>nope</html>', 'r', 'InvalidClientTokenId;Sender').code).toBe('InvalidClientTokenId');
    // The JSON body's code wins over the header (same code in another spelling).
    expect(fromResponse(400, json('QueueDoesNotExist'), 'r', 'AWS.SimpleQueueService.NonExistentQueue;Sender').code).toBe('QueueDoesNotExist');
  });

  it('never echoes the request; the message is only what SQS said', () => {
    const e = fromResponse(400, json('InvalidParameterValue', 'Value for parameter X is invalid'));
    expect(e.message).toBe('Value for parameter X is invalid');
    expect(e.name).toBe('SqsError');
  });
});

describe('classify', () => {
  it('prefers the code, falls back on the status', () => {
    expect(classify('RequestThrottled', 403)).toBe('retry');
    expect(classify('Unknown', 500)).toBe('retry');
    expect(classify('Unknown', 429)).toBe('retry');
    expect(classify('Unknown', 400)).toBe('permanent');
    expect(classify('Unknown', 403)).toBe('permanent');
    expect(classify('RequestExpired', 400)).toBe('refresh-credentials');
  });
  it('an explicit disposition wins', () => {
    expect(new SqsError('X', 'm', 400, undefined, 'retry').disposition).toBe('retry');
  });
});

describe('fromNetworkError', () => {
  it.each([
    [{ code: 'ECONNRESET', message: 'socket hang up' }, 'NetworkError', 'ECONNRESET'],
    [{ code: 'UND_ERR_SOCKET', message: 'other side closed' }, 'NetworkError', 'UND_ERR_SOCKET'],
    [{ code: 'ECONNREFUSED' }, 'NetworkError', 'ECONNREFUSED'],
    [{ code: 'UND_ERR_HEADERS_TIMEOUT' }, 'TimeoutError', 'UND_ERR_HEADERS_TIMEOUT'],
    [{ code: 'UND_ERR_BODY_TIMEOUT' }, 'TimeoutError', 'UND_ERR_BODY_TIMEOUT'],
    [{ code: 'UND_ERR_CONNECT_TIMEOUT' }, 'TimeoutError', 'UND_ERR_CONNECT_TIMEOUT'],
    [{ name: 'TimeoutError', message: 'aborted' }, 'TimeoutError', 'aborted'],
    [new Error('weird'), 'NetworkError', 'weird'],
    [undefined, 'NetworkError', 'unknown'],
  ])('%j -> %s, retried', (err, code, detail) => {
    const e = fromNetworkError(err);
    expect(e.code).toBe(code);
    expect(e.disposition).toBe('retry');
    expect(e.httpStatus).toBe(0);
    expect(e.message).toContain(detail);
  });
});

describe('upstreamFault and mayHaveArrived: what failover reads', () => {
  it.each([
    [fromNetworkError({ code: 'ECONNREFUSED' }), true, false],
    [fromNetworkError({ code: 'UND_ERR_CONNECT_TIMEOUT' }), true, false],
    [fromNetworkError({ code: 'ENOTFOUND' }), true, false],
    [fromNetworkError({ code: 'ECONNRESET' }), true, true],
    [fromNetworkError({ code: 'UND_ERR_HEADERS_TIMEOUT' }), true, true],
    [fromResponse(500, '{"__type":"InternalError"}'), true, true],
    [fromResponse(503, ''), true, true],
    [fromResponse(503, '{"__type":"SlowDown"}'), false, true],
    [fromResponse(403, '{"__type":"com.amazonaws.sqs#RequestThrottled"}'), false, false],
    [fromResponse(400, '{"__type":"ThrottlingException"}'), false, false],
    [fromResponse(400, '{"__type":"com.amazonaws.sqs#QueueDoesNotExist"}'), false, false],
    [fromResponse(403, '{"__type":"AccessDenied"}'), false, false],
    [new SqsError('BadResponse', 'not JSON', 200, undefined, 'retry'), true, true],
    [new SqsError('Aborted', 'aborted', 0, undefined, 'permanent'), false, false],
    [new SqsError('CredentialsUnavailable', 'none', 0, undefined, 'retry'), false, false],
  ])('%s: fault %s, may have arrived %s', (err, fault, arrived) => {
    expect(upstreamFault(err)).toBe(fault);
    if (fault) expect(mayHaveArrived(err)).toBe(arrived);
  });
});

describe('classifyEntry: per-entry failures of SendMessageBatch', () => {
  it.each([
    ['InternalError', false, 'retry'],
    ['ServiceUnavailable', false, 'retry'],
    ['KmsThrottled', false, 'retry'],
    ['KmsThrottled', true, 'retry'],
    ['RequestThrottled', true, 'retry'],
    ['SomethingTransient', false, 'retry'], // not the sender's fault: worth another try
    ['InvalidMessageContents', true, 'permanent'],
    ['InvalidParameterValue', true, 'permanent'],
    ['AccessDenied', true, 'permanent'],
    ['KmsAccessDenied', true, 'permanent'],
    ['ExpiredToken', true, 'refresh-credentials'],
    ['InvalidClientTokenId', true, 'refresh-credentials'],
  ])('%s (SenderFault %s) -> %s', (code, senderFault, disposition) => {
    expect(classifyEntry(code, senderFault)).toBe(disposition);
  });
});

describe('isSqsError', () => {
  it('checks the shape, not the realm', () => {
    expect(isSqsError({ name: 'SqsError', code: 'X' })).toBe(true);
    expect(isSqsError(new Error('x'))).toBe(false);
    expect(isSqsError(undefined)).toBe(false);
    expect(isSqsError({ name: 'SqsError' })).toBe(false);
  });
});
