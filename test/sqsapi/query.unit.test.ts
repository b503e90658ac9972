import { errorXml, escapeXml, jsonToXml, parseQuery, queryToJson } from '../../src/sqsapi/query.js';

const form = (pairs: Record<string, string>): string => new URLSearchParams(pairs).toString();

describe('Query requests as JSON protocol input', () => {
  test('SendMessageBatch with attributes, system attributes and integers', () => {
    const params = parseQuery(
      form({
        Action: 'SendMessageBatch',
        Version: '2012-11-05',
        QueueUrl: 'http://127.0.0.1:9292/000000000000/q',
        'SendMessageBatchRequestEntry.2.Id': 'b',
        'SendMessageBatchRequestEntry.2.MessageBody': 'second & last',
        'SendMessageBatchRequestEntry.1.Id': 'a',
        'SendMessageBatchRequestEntry.1.MessageBody': 'first',
        'SendMessageBatchRequestEntry.1.DelaySeconds': '5',
        'SendMessageBatchRequestEntry.1.MessageAttribute.1.Name': 'kind',
        'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType': 'String',
        'SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue': 'x y',
        'SendMessageBatchRequestEntry.1.MessageAttribute.2.Name': 'blob',
        'SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.DataType': 'Binary',
        'SendMessageBatchRequestEntry.1.MessageAttribute.2.Value.BinaryValue': 'AAEC/w==',
        'SendMessageBatchRequestEntry.1.MessageSystemAttribute.1.Name': 'AWSTraceHeader',
        'SendMessageBatchRequestEntry.1.MessageSystemAttribute.1.Value.DataType': 'String',
        'SendMessageBatchRequestEntry.1.MessageSystemAttribute.1.Value.StringValue': 'Root=1-abc',
      }),
    );
    expect(JSON.parse(JSON.stringify(queryToJson('SendMessageBatch', params)))).toEqual({
      QueueUrl: 'http://127.0.0.1:9292/000000000000/q',
      Entries: [
        {
          Id: 'a',
          MessageBody: 'first',
          DelaySeconds: 5,
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'x y' }, blob: { DataType: 'Binary', BinaryValue: 'AAEC/w==' } },
          MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: 'Root=1-abc' } },
        },
        { Id: 'b', MessageBody: 'second & last' },
      ],
    });
  });

  test('lists and maps of other actions', () => {
    expect(queryToJson('GetQueueAttributes', parseQuery('QueueUrl=u&AttributeName.1=All&AttributeName.2=QueueArn'))).toEqual({ QueueUrl: 'u', AttributeNames: ['All', 'QueueArn'] });
    expect(JSON.parse(JSON.stringify(queryToJson('CreateQueue', parseQuery('QueueName=q&Attribute.1.Name=DelaySeconds&Attribute.1.Value=5&Tag.1.Key=team&Tag.1.Value=a'))))).toEqual({
      QueueName: 'q',
      Attributes: { DelaySeconds: '5' },
      tags: { team: 'a' },
    });
    expect(queryToJson('ReceiveMessage', parseQuery('QueueUrl=u&MaxNumberOfMessages=10&WaitTimeSeconds=0&MessageAttributeName.1=All'))).toEqual({
      QueueUrl: 'u',
      MaxNumberOfMessages: 10,
      WaitTimeSeconds: 0,
      MessageAttributeNames: ['All'],
    });
  });

  test('bad input is refused with SQS\'s codes, never crashes', () => {
    expect(() => parseQuery('QueueUrl=%E0%A4%A')).toThrow(expect.objectContaining({ code: 'MalformedQueryString' }));
    expect(() => queryToJson('NoSuchAction', new Map())).toThrow(expect.objectContaining({ code: 'InvalidAction' }));
    expect(() => queryToJson('ReceiveMessage', parseQuery('MaxNumberOfMessages=ten'))).toThrow(expect.objectContaining({ code: 'InvalidParameterValue' }));
    expect(() => queryToJson('GetQueueAttributes', parseQuery('AttributeName.99999999=All'))).toThrow(expect.objectContaining({ code: 'MalformedQueryString' }));
    expect(() => queryToJson('GetQueueAttributes', parseQuery('AttributeName.x=All'))).toThrow(expect.objectContaining({ code: 'MalformedQueryString' }));
    expect(() => queryToJson('CreateQueue', parseQuery('Attribute.1.Value=5'))).toThrow(expect.objectContaining({ code: 'MissingParameter' }));
    // Bounded before any work: parameter count and name length.
    expect(() => parseQuery('a=1&'.repeat(20_000))).toThrow(expect.objectContaining({ code: 'MalformedQueryString', message: expect.stringContaining('more than 10000 parameters') }));
    expect(() => parseQuery(`${'A.'.repeat(200)}x=1`)).toThrow(expect.objectContaining({ code: 'MalformedQueryString', message: expect.stringContaining('longer than 256') }));
    expect(parseQuery('&&a=1&&b&c=x%3Dy=z&')).toEqual(new Map([['a', '1'], ['b', ''], ['c', 'x=y=z']]));
    // A map key named __proto__ stays a plain key.
    const out = queryToJson('CreateQueue', parseQuery('Attribute.1.Name=__proto__&Attribute.1.Value=x')) as { Attributes: Record<string, string> };
    expect(Object.keys(out.Attributes)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('JSON results as Query XML', () => {
  test('ReceiveMessage: flattened messages, attributes as Name/Value, \\r kept as a character reference', () => {
    const xml = jsonToXml(
      'ReceiveMessage',
      {
        Messages: [
          {
            MessageId: 'm1',
            ReceiptHandle: 'r<1>',
            MD5OfBody: 'x',
            Body: 'a\r\nb & c',
            Attributes: { SenderId: 'S' },
            MessageAttributes: { blob: { DataType: 'Binary', BinaryValue: 'AAE=' } },
          },
        ],
      },
      'req-1',
    );
    expect(xml).toBe(
      '<?xml version="1.0"?><ReceiveMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ReceiveMessageResult>' +
        '<Message><MessageId>m1</MessageId><ReceiptHandle>r&lt;1&gt;</ReceiptHandle><MD5OfBody>x</MD5OfBody><Body>a&#xD;\nb &amp; c</Body>' +
        '<Attribute><Name>SenderId</Name><Value>S</Value></Attribute>' +
        '<MessageAttribute><Name>blob</Name><Value><BinaryValue>AAE=</BinaryValue><DataType>Binary</DataType></Value></MessageAttribute></Message>' +
        '</ReceiveMessageResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></ReceiveMessageResponse>',
    );
  });

  test('lists of URLs, batch results, and actions without a result', () => {
    expect(jsonToXml('ListQueues', { QueueUrls: ['u1', 'u2'] }, 'r')).toContain('<ListQueuesResult><QueueUrl>u1</QueueUrl><QueueUrl>u2</QueueUrl></ListQueuesResult>');
    expect(jsonToXml('SendMessageBatch', { Successful: [{ Id: 'a', MessageId: 'm', MD5OfMessageBody: 'd' }], Failed: [{ Id: 'b', SenderFault: true, Code: 'C', Message: 'M' }] }, 'r')).toContain(
      '<SendMessageBatchResult><SendMessageBatchResultEntry><Id>a</Id><MessageId>m</MessageId><MD5OfMessageBody>d</MD5OfMessageBody></SendMessageBatchResultEntry>' +
        '<BatchResultErrorEntry><Id>b</Id><SenderFault>true</SenderFault><Code>C</Code><Message>M</Message></BatchResultErrorEntry></SendMessageBatchResult>',
    );
    expect(jsonToXml('DeleteMessage', {}, 'r')).toBe('<?xml version="1.0"?><DeleteMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata></DeleteMessageResponse>');
  });

  test('errors', () => {
    expect(errorXml({ fault: 'Sender', queryCode: 'AWS.SimpleQueueService.NonExistentQueue', message: 'The specified queue does not exist.' }, 'r')).toBe(
      '<?xml version="1.0"?><ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/"><Error><Type>Sender</Type><Code>AWS.SimpleQueueService.NonExistentQueue</Code>' +
        '<Message>The specified queue does not exist.</Message><Detail/></Error><RequestId>r</RequestId></ErrorResponse>',
    );
    expect(escapeXml(`<'"&>`)).toBe('&lt;&apos;&quot;&amp;&gt;');
  });
});
