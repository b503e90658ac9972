import { createHash } from 'node:crypto';
import { SQSClient, SendMessageBatchCommand, GetQueueUrlCommand, QueueDoesNotExist } from '@aws-sdk/client-sqs';
import { startFakeSqs, type FakeSqs, type FakeSqsOptions } from './fake-sqs.js';

const md5 = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

interface Reply {
  status: number;
  headers: Headers;
  json: Record<string, any>;
}

let fake: FakeSqs;

async function start(options?: FakeSqsOptions): Promise<FakeSqs> {
  fake = await startFakeSqs(options);
  return fake;
}

afterEach(async () => {
  await fake?.close();
});

/** One SQS JSON-protocol call, the way our client makes it. */
async function call(action: string, body: unknown, opts: { akid?: string; rawBody?: string; auth?: boolean } = {}): Promise<Reply> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `AmazonSQS.${action}`,
    'x-amz-date': '20260101T000000Z',
  };
  if (opts.auth !== false) {
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${opts.akid ?? 'AKIDTEST'}/20260101/us-east-1/sqs/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=abc123`;
  }
  const res = await fetch(`${fake.endpoint}/`, { method: 'POST', headers, body: opts.rawBody ?? JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: text ? JSON.parse(text) : {} };
}

function expectError(reply: Reply, status: number, code: string, legacy?: string): void {
  expect({ status: reply.status, type: reply.json.__type }).toEqual({ status, type: `com.amazonaws.sqs#${code}` });
  expect(typeof reply.json.message).toBe('string');
  expect(reply.headers.get('content-type')).toBe('application/x-amz-json-1.0');
  if (legacy) expect(reply.headers.get('x-amzn-query-error')).toBe(legacy);
}

const entries = (bodies: string[], extra: Record<string, unknown> = {}): Array<Record<string, unknown>> =>
  bodies.map((b, i) => ({ Id: `e${i}`, MessageBody: b, ...extra }));

describe('queue actions', () => {
  it('creates, finds, lists, describes and deletes queues', async () => {
    await start({ queues: ['pre', { name: 'pre2.fifo', attributes: { ContentBasedDeduplication: 'true' } }] });
    const created = await call('CreateQueue', { QueueName: 'orders' });
    expect(created.status).toBe(200);
    expect(created.headers.get('content-type')).toBe('application/x-amz-json-1.0');
    expect(created.json.QueueUrl).toBe(`http://127.0.0.1:${fake.port}/000000000000/orders`);
    expect(fake.endpoint).toBe(`http://127.0.0.1:${fake.port}`);

    // idempotent with the same attributes, QueueNameExists with different ones
    expect((await call('CreateQueue', { QueueName: 'orders' })).json.QueueUrl).toBe(created.json.QueueUrl);
    expectError(await call('CreateQueue', { QueueName: 'orders', Attributes: { VisibilityTimeout: '5' } }), 400, 'QueueNameExists', 'QueueAlreadyExists;Sender');

    expect((await call('GetQueueUrl', { QueueName: 'pre' })).json).toEqual({ QueueUrl: fake.queueUrl('pre') });
    expectError(await call('GetQueueUrl', { QueueName: 'nope' }), 400, 'QueueDoesNotExist', 'AWS.SimpleQueueService.NonExistentQueue;Sender');

    expect((await call('ListQueues', {})).json.QueueUrls).toEqual([fake.queueUrl('pre'), fake.queueUrl('pre2.fifo'), created.json.QueueUrl]);
    expect((await call('ListQueues', { QueueNamePrefix: 'pre' })).json.QueueUrls).toHaveLength(2);
    expect((await call('ListQueues', { QueueNamePrefix: 'zzz' })).json.QueueUrls).toBeUndefined();

    const std = await call('GetQueueAttributes', { QueueUrl: created.json.QueueUrl, AttributeNames: ['All'] });
    expect(std.json.Attributes).toMatchObject({ MaximumMessageSize: '1048576', ApproximateNumberOfMessages: '0', VisibilityTimeout: '30' });
    expect(std.json.Attributes.FifoQueue).toBeUndefined();
    expect(std.json.Attributes.ContentBasedDeduplication).toBeUndefined(); // real SQS has none on standard queues

    const fifo = await call('GetQueueAttributes', { QueueUrl: fake.queueUrl('pre2.fifo'), AttributeNames: ['FifoQueue', 'ContentBasedDeduplication', 'MaximumMessageSize'] });
    expect(fifo.json).toEqual({ Attributes: { FifoQueue: 'true', ContentBasedDeduplication: 'true', MaximumMessageSize: '1048576' } });
    expectError(await call('GetQueueAttributes', { QueueUrl: created.json.QueueUrl, AttributeNames: ['Bogus'] }), 400, 'InvalidAttributeName');

    expect((await call('DeleteQueue', { QueueUrl: created.json.QueueUrl })).status).toBe(200);
    expectError(await call('SendMessage', { QueueUrl: created.json.QueueUrl, MessageBody: 'x' }), 400, 'QueueDoesNotExist');
    expect(() => fake.messages('orders')).toThrow(/no queue named "orders"/);
  });

  it('rejects bad queue names and FIFO-only attributes on standard queues', async () => {
    await start();
    expectError(await call('CreateQueue', { QueueName: 'bad name' }), 400, 'InvalidParameterValue');
    expectError(await call('CreateQueue', { QueueName: 'std', Attributes: { ContentBasedDeduplication: 'true' } }), 400, 'InvalidAttributeName');
    expectError(await call('CreateQueue', { QueueName: 'std', Attributes: { FifoQueue: 'true' } }), 400, 'InvalidParameterValue');
    expect(() => fake.createQueue('x', { MaximumMessageSize: '10' })).toThrow(/MaximumMessageSize/);
  });

  it('accepts any QueueUrl whose last path segment is the queue name', async () => {
    await start({ queues: ['q'] });
    const r = await call('SendMessage', { QueueUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q', MessageBody: 'hi' });
    expect(r.status).toBe(200);
    expect(fake.bodies('q')).toEqual(['hi']);
  });
});

describe('sending', () => {
  it('SendMessage stores the message, answers MD5s, records the access key id', async () => {
    await start({ queues: ['q'] });
    const attrs = { trace: { DataType: 'String', StringValue: 'abc' }, n: { DataType: 'Number', StringValue: '42' } };
    const r = await call('SendMessage', { QueueUrl: fake.queueUrl('q'), MessageBody: 'héllo ✓', MessageAttributes: attrs }, { akid: 'AKIAFIRST' });
    expect(r.status).toBe(200);
    expect(r.json.MD5OfMessageBody).toBe(md5('héllo ✓'));
    expect(r.json.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(r.json.Id).toBeUndefined();
    const [m] = fake.messages('q');
    expect(m).toMatchObject({ messageId: r.json.MessageId, body: 'héllo ✓', attributes: attrs, accessKeyId: 'AKIAFIRST' });
    expect(fake.stats.byAction.SendMessage).toBe(1);
    expect(fake.stats.entries).toBe(1);
  });

  it('MD5OfMessageAttributes matches known vectors', async () => {
    await start({ queues: ['q'] });
    const digest = async (MessageAttributes: unknown): Promise<string> =>
      (await call('SendMessage', { QueueUrl: fake.queueUrl('q'), MessageBody: 'x', MessageAttributes })).json.MD5OfMessageAttributes;
    // Vectors published by other SQS implementations (Go sqslite, a Node checksum library), plus one
    // with Binary and non-ASCII values computed by fauxqs. fauxqs is not imported here: it needs Node 22.
    expect(await digest({ ordinal: { DataType: 'Number', StringValue: '1' }, category: { DataType: 'String', StringValue: 'test' } }))
      .toBe('d21ae90c49061e927f57df5f5d72be1f');
    expect(await digest({ SellerName: { DataType: 'String', StringValue: 'Example Store' } })).toBe('cd28f3b68aeee4b2eac9c66f2f694b58');
    expect(await digest({
      b: { DataType: 'Binary', BinaryValue: Buffer.from([0, 1, 2, 255]).toString('base64') },
      a: { DataType: 'String.custom', StringValue: 'ünïcode' },
      n: { DataType: 'Number', StringValue: '-1.5' },
    })).toBe('11bfa52558cc0cc4b1da53dcfe280dc1');
  });

  it('SendMessageBatch stores every entry and counts duplicates by body', async () => {
    await start({ queues: ['q'] });
    const r = await call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(['a', 'b', 'a']) });
    expect(r.status).toBe(200);
    expect(r.json.Failed).toEqual([]);
    expect(r.json.Successful.map((s: any) => [s.Id, s.MD5OfMessageBody])).toEqual([['e0', md5('a')], ['e1', md5('b')], ['e2', md5('a')]]);
    expect(new Set(r.json.Successful.map((s: any) => s.MessageId)).size).toBe(3);
    expect(r.json.Successful[0].SequenceNumber).toBeUndefined();
    expect(fake.bodies('q')).toEqual(['a', 'b', 'a']);
    expect(fake.messageCount('q')).toBe(3);
    expect(fake.countByBody('q')).toEqual(new Map([['a', 2], ['b', 1]]));
    expect(fake.stats.entries).toBe(3);
    expect(fake.stats.billedSendRequests).toBe(1);
  });

  it('bills each 64 KiB of a request\'s messages as one request, as SQS does', async () => {
    await start({ queues: ['q'] });
    const kib = (n: number) => 'x'.repeat(n * 1024);
    // 10 x 6 KiB = 60 KiB: one billed request; 10 x 7 KiB = 70 KiB: two; attributes count too.
    await call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(Array.from({ length: 10 }, () => kib(6))) });
    expect(fake.stats.billedSendRequests).toBe(1);
    await call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(Array.from({ length: 10 }, () => kib(7))) });
    expect(fake.stats.billedSendRequests).toBe(3);
    await call('SendMessage', { QueueUrl: fake.queueUrl('q'), MessageBody: kib(64), MessageAttributes: { a: { DataType: 'String', StringValue: 'v' } } });
    expect(fake.stats.billedSendRequests).toBe(5);
  });

  it('rejects malformed batches as a whole', async () => {
    await start({ queues: ['q'] });
    const url = fake.queueUrl('q');
    const eleven = entries(Array.from({ length: 11 }, (_, i) => `m${i}`));
    expectError(await call('SendMessageBatch', { QueueUrl: url, Entries: eleven }), 400, 'TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest;Sender');
    expectError(await call('SendMessageBatch', { QueueUrl: url, Entries: [{ Id: 'x', MessageBody: 'a' }, { Id: 'x', MessageBody: 'b' }] }), 400, 'BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct;Sender');
    expectError(await call('SendMessageBatch', { QueueUrl: url, Entries: [] }), 400, 'EmptyBatchRequest', 'AWS.SimpleQueueService.EmptyBatchRequest;Sender');
    expectError(await call('SendMessageBatch', { QueueUrl: url, Entries: [{ Id: 'no spaces', MessageBody: 'a' }] }), 400, 'InvalidBatchEntryId');
    const big = 'x'.repeat(300_000);
    expectError(await call('SendMessageBatch', { QueueUrl: url, Entries: entries([big, big, big, big]) }), 400, 'BatchRequestTooLong');
    expect(fake.messageCount('q')).toBe(0);
  });

  it('fails invalid entries individually and stores the rest', async () => {
    await start({ queues: [{ name: 'q', attributes: { MaximumMessageSize: '1024' } }] });
    const r = await call('SendMessageBatch', {
      QueueUrl: fake.queueUrl('q'),
      Entries: [
        { Id: 'ok', MessageBody: 'fine' },
        { Id: 'big', MessageBody: 'x'.repeat(1025) },
        { Id: 'ctl', MessageBody: 'bad \u0001 char' },
        { Id: 'dedup', MessageBody: 'x', MessageDeduplicationId: 'd' },
        { Id: 'attr', MessageBody: 'x', MessageAttributes: { a: { DataType: 'String' } } },
        { Id: 'delay', MessageBody: 'x', DelaySeconds: 901 },
      ],
    });
    expect(r.json.Successful.map((s: any) => s.Id)).toEqual(['ok']);
    expect(r.json.Failed.map((f: any) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['big', 'InvalidParameterValue', true],
      ['ctl', 'InvalidMessageContents', true],
      ['dedup', 'InvalidParameterValue', true],
      ['attr', 'InvalidParameterValue', true],
      ['delay', 'InvalidParameterValue', true],
    ]);
    expect(fake.bodies('q')).toEqual(['fine']);
  });

  it('works with the AWS SDK client (JSON protocol, MD5 checks, modeled errors)', async () => {
    await start({ queues: ['q'] });
    const sqs = new SQSClient({ endpoint: fake.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIASDK', secretAccessKey: 's' } });
    try {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: fake.queueUrl('q'), Entries: [{ Id: '1', MessageBody: 'via sdk', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } }] }));
      expect(out.Successful).toHaveLength(1);
      expect(fake.messages('q')[0]).toMatchObject({ body: 'via sdk', accessKeyId: 'AKIASDK' });
      await expect(sqs.send(new GetQueueUrlCommand({ QueueName: 'missing' }))).rejects.toBeInstanceOf(QueueDoesNotExist);

      fake.faults = { badMd5: 1 };
      await expect(sqs.send(new SendMessageBatchCommand({ QueueUrl: fake.queueUrl('q'), Entries: [{ Id: '1', MessageBody: 'corrupt' }] }))).rejects.toThrow(/MD5/);
    } finally {
      sqs.destroy();
    }
  });
});

describe('FIFO queues', () => {
  it('requires MessageGroupId, and MessageDeduplicationId unless content-based dedup', async () => {
    await start({ queues: ['f.fifo'] });
    const r = await call('SendMessageBatch', {
      QueueUrl: fake.queueUrl('f.fifo'),
      Entries: [
        { Id: 'nogroup', MessageBody: 'a', MessageDeduplicationId: 'd1' },
        { Id: 'nodedup', MessageBody: 'b', MessageGroupId: 'g' },
        { Id: 'delay', MessageBody: 'c', MessageGroupId: 'g', MessageDeduplicationId: 'd3', DelaySeconds: 5 },
        { Id: 'ok', MessageBody: 'd', MessageGroupId: 'g', MessageDeduplicationId: 'd4' },
      ],
    });
    expect(r.json.Failed.map((f: any) => [f.Id, f.Code, f.SenderFault])).toEqual([
      ['nogroup', 'MissingParameter', true],
      ['nodedup', 'InvalidParameterValue', true],
      ['delay', 'InvalidParameterValue', true],
    ]);
    expect(r.json.Successful).toHaveLength(1);
    expect(r.json.Successful[0].SequenceNumber).toMatch(/^\d{20}$/);
    expect(fake.messages('f.fifo')).toEqual([expect.objectContaining({ body: 'd', groupId: 'g', dedupId: 'd4', sequenceNumber: r.json.Successful[0].SequenceNumber })]);
  });

  it('accepts a repeated dedup id within the window without storing it again', async () => {
    await start({ queues: ['f.fifo'], dedupWindowMs: 300 });
    const url = fake.queueUrl('f.fifo');
    const first = await call('SendMessageBatch', { QueueUrl: url, Entries: [{ Id: 'a', MessageBody: 'one', MessageGroupId: 'g', MessageDeduplicationId: 'same' }] });
    const again = await call('SendMessageBatch', { QueueUrl: url, Entries: [{ Id: 'a', MessageBody: 'one', MessageGroupId: 'g', MessageDeduplicationId: 'same' }] });
    expect(again.json.Failed).toEqual([]);
    expect(again.json.Successful[0].MessageId).toBe(first.json.Successful[0].MessageId);
    expect(again.json.Successful[0].SequenceNumber).toBe(first.json.Successful[0].SequenceNumber);
    expect(fake.messageCount('f.fifo')).toBe(1);

    await new Promise((r) => setTimeout(r, 350)); // past the (shortened) dedup window
    const later = await call('SendMessageBatch', { QueueUrl: url, Entries: [{ Id: 'a', MessageBody: 'one', MessageGroupId: 'g', MessageDeduplicationId: 'same' }] });
    expect(later.json.Successful[0].MessageId).not.toBe(first.json.Successful[0].MessageId);
    expect(BigInt(later.json.Successful[0].SequenceNumber)).toBeGreaterThan(BigInt(first.json.Successful[0].SequenceNumber));
    expect(fake.countByBody('f.fifo').get('one')).toBe(2);
  });

  it('deduplicates by body with ContentBasedDeduplication', async () => {
    await start({ queues: [{ name: 'c.fifo', attributes: { ContentBasedDeduplication: 'true' } }] });
    const r = await call('SendMessageBatch', { QueueUrl: fake.queueUrl('c.fifo'), Entries: entries(['x', 'y', 'x'], { MessageGroupId: 'g' }) });
    expect(r.json.Successful).toHaveLength(3);
    expect(r.json.Successful[2].MessageId).toBe(r.json.Successful[0].MessageId);
    expect(fake.bodies('c.fifo')).toEqual(['x', 'y']);
  });

  it('delivers a group in order and holds it back while a message is in flight', async () => {
    await start({ queues: [{ name: 'o.fifo', attributes: { ContentBasedDeduplication: 'true' } }] });
    const url = fake.queueUrl('o.fifo');
    await call('SendMessageBatch', { QueueUrl: url, Entries: [
      { Id: '1', MessageBody: 'g1-a', MessageGroupId: 'g1' },
      { Id: '2', MessageBody: 'g2-a', MessageGroupId: 'g2' },
      { Id: '3', MessageBody: 'g1-b', MessageGroupId: 'g1' },
    ] });
    const first = await call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 1 });
    expect(first.json.Messages.map((m: any) => m.Body)).toEqual(['g1-a']);
    expect(first.json.Messages[0].Attributes).toMatchObject({ MessageGroupId: 'g1', ApproximateReceiveCount: '1' });
    expect(first.json.Messages[0].Attributes.SequenceNumber).toMatch(/^\d+$/);
    // g1-b is blocked behind the in-flight g1-a
    const second = await call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10 });
    expect(second.json.Messages.map((m: any) => m.Body)).toEqual(['g2-a']);
    await call('DeleteMessage', { QueueUrl: url, ReceiptHandle: first.json.Messages[0].ReceiptHandle });
    const third = await call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10 });
    expect(third.json.Messages.map((m: any) => m.Body)).toEqual(['g1-b']);
  });
});

describe('receiving', () => {
  it('ReceiveMessage, DeleteMessage, PurgeQueue and ApproximateNumberOfMessages', async () => {
    await start({ queues: ['q'] });
    const url = fake.queueUrl('q');
    await call('SendMessageBatch', { QueueUrl: url, Entries: entries(['a', 'b', 'c']) });
    await call('SendMessage', { QueueUrl: url, MessageBody: 'd', MessageAttributes: { k: { DataType: 'String', StringValue: 'v' } } });
    const count = async (): Promise<string> => (await call('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] })).json.Attributes.ApproximateNumberOfMessages;
    expect(await count()).toBe('4');

    const got = await call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 });
    expect(got.json.Messages.map((m: any) => m.Body)).toEqual(['a', 'b', 'c', 'd']);
    const d = got.json.Messages[3];
    expect(d.MD5OfBody).toBe(md5('d'));
    expect(d.MessageAttributes).toEqual({ k: { DataType: 'String', StringValue: 'v' } });
    expect(d.MD5OfMessageAttributes).toMatch(/^[0-9a-f]{32}$/);
    expect(d.Attributes.SenderId).toBe('AKIDTEST');

    // VisibilityTimeout 0: still there; receive again to get current handles
    const again = await call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 2 });
    expect(again.json.Messages.map((m: any) => m.Body)).toEqual(['a', 'b']);
    expect(again.json.Messages[0].Attributes.ApproximateReceiveCount).toBe('2');
    expect((await call('DeleteMessage', { QueueUrl: url, ReceiptHandle: again.json.Messages[0].ReceiptHandle })).status).toBe(200);
    expectError(await call('DeleteMessage', { QueueUrl: url, ReceiptHandle: 'bogus' }), 400, 'ReceiptHandleIsInvalid');
    // 'b' is in flight (30 s default visibility), 'a' deleted
    const attrs = (await call('GetQueueAttributes', { QueueUrl: url, AttributeNames: ['All'] })).json.Attributes;
    expect([attrs.ApproximateNumberOfMessages, attrs.ApproximateNumberOfMessagesNotVisible]).toEqual(['2', '1']);
    expect((await call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10 })).json.Messages.map((m: any) => m.Body)).toEqual(['c', 'd']);

    expect((await call('PurgeQueue', { QueueUrl: url })).status).toBe(200);
    expect(await count()).toBe('0');
    expect((await call('ReceiveMessage', { QueueUrl: url })).json.Messages).toBeUndefined();
    // the delivery log is not consumed by receiving, deleting or purging
    expect(fake.bodies('q')).toEqual(['a', 'b', 'c', 'd']);
  });

  it('holds back messages with DelaySeconds', async () => {
    await start({ queues: ['q'] });
    const url = fake.queueUrl('q');
    await call('SendMessageBatch', { QueueUrl: url, Entries: [{ Id: 'a', MessageBody: 'later', DelaySeconds: 60 }, { Id: 'b', MessageBody: 'now' }] });
    expect((await call('ReceiveMessage', { QueueUrl: url, MaxNumberOfMessages: 10 })).json.Messages.map((m: any) => m.Body)).toEqual(['now']);
    expect(fake.messages('q')[0]).toMatchObject({ body: 'later', delaySeconds: 60 });
  });
});

describe('protocol errors', () => {
  it('unknown action, malformed JSON, missing credentials', async () => {
    await start({ queues: ['q'] });
    expectError(await call('Frobnicate', {}), 400, 'InvalidAction', 'InvalidAction;Sender');
    expectError(await call('SendMessage', undefined, { rawBody: '{"QueueUrl": ' }), 400, 'SerializationException');
    expectError(await call('SendMessage', undefined, { rawBody: '[1,2]' }), 400, 'SerializationException');
    expectError(await call('SendMessage', { QueueUrl: fake.queueUrl('q'), MessageBody: 'x' }, { auth: false }), 403, 'MissingAuthenticationToken');
    expectError(await call('SendMessage', { QueueUrl: fake.queueUrl('q') }), 400, 'MissingParameter');
    expect(fake.messageCount('q')).toBe(0);
    expect(fake.stats.requests).toBe(5);
    expect(fake.stats.byAction).toEqual({ Frobnicate: 1, SendMessage: 4 });
  });
});

describe('faults', () => {
  const batch = (bodies: string[]): Promise<Reply> => call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(bodies) });

  it('throttle=1 always answers 403 RequestThrottled or 400 ThrottlingException, and stores nothing', async () => {
    await start({ queues: ['q'], seed: 1 });
    fake.faults.throttle = 1;
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const r = await batch([`m${i}`]);
      if (r.status === 403) expectError(r, 403, 'RequestThrottled', 'RequestThrottled;Sender');
      else expectError(r, 400, 'ThrottlingException');
      seen.add(r.json.__type);
    }
    expect(seen.size).toBe(2); // both kinds show up over 20 tries
    expect(fake.messageCount('q')).toBe(0);
    expect(fake.stats.faultsInjected).toEqual({ throttle: 20 });
    expect(fake.stats.entries).toBe(20);
  });

  it('serverError=1 answers 500 InternalError or 503 ServiceUnavailable', async () => {
    await start({ queues: ['q'], seed: 2 });
    fake.faults = { serverError: 1 };
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const r = await batch(['x']);
      expect([[500, 'com.amazonaws.sqs#InternalError'], [503, 'com.amazonaws.sqs#ServiceUnavailable']]).toContainEqual([r.status, r.json.__type]);
      expect(r.headers.get('x-amzn-query-error')).toMatch(/;Receiver$/);
      statuses.add(r.status);
    }
    expect([...statuses].sort()).toEqual([500, 503]);
    expect(fake.messageCount('q')).toBe(0);
  });

  it('dropConnection=1 fails the request and stores nothing', async () => {
    await start({ queues: ['q'] });
    fake.faults = { dropConnection: 1 };
    await expect(batch(['lost'])).rejects.toThrow();
    expect(fake.messageCount('q')).toBe(0);
    expect(fake.stats.faultsInjected.dropConnection).toBe(1);
    fake.faults = {};
    expect((await batch(['after'])).status).toBe(200); // the server itself is fine
  });

  it('dropAfterStore=1 stores, then fails the request (a retry duplicates on a standard queue)', async () => {
    await start({ queues: ['q'] });
    fake.faults = { dropAfterStore: 1 };
    await expect(batch(['dup'])).rejects.toThrow();
    expect(fake.bodies('q')).toEqual(['dup']);
    fake.faults = {};
    await batch(['dup']);
    expect(fake.countByBody('q').get('dup')).toBe(2);
  });

  it('dropAfterStore on a FIFO queue: the retry with the same dedup id is absorbed', async () => {
    await start({ queues: ['f.fifo'] });
    const send = (): Promise<Reply> => call('SendMessageBatch', { QueueUrl: fake.queueUrl('f.fifo'), Entries: [{ Id: 'a', MessageBody: 'once', MessageGroupId: 'g', MessageDeduplicationId: 'd' }] });
    fake.faults = { dropAfterStore: 1 };
    await expect(send()).rejects.toThrow();
    fake.faults = {};
    expect((await send()).json.Successful).toHaveLength(1);
    expect(fake.bodies('f.fifo')).toEqual(['once']);
  });

  it('partialFailure=1 fails every entry as retryable InternalError', async () => {
    await start({ queues: ['q'] });
    fake.faults = { partialFailure: 1 };
    const r = await batch(['a', 'b', 'c']);
    expect(r.status).toBe(200);
    expect(r.json.Successful).toEqual([]);
    expect(r.json.Failed).toEqual(['e0', 'e1', 'e2'].map((Id) => expect.objectContaining({ Id, SenderFault: false, Code: 'InternalError' })));
    expect(fake.messageCount('q')).toBe(0);
    expect(fake.stats.faultsInjected.partialFailure).toBe(3);
    // SendMessage has no per-entry result: the fault becomes the response
    expectError(await call('SendMessage', { QueueUrl: fake.queueUrl('q'), MessageBody: 'x' }), 500, 'InternalError');
  });

  it('partialFailure=0.5 with a seed: some entries fail, the rest are stored, and the same seed reproduces it', async () => {
    const run = async (): Promise<string[]> => {
      await start({ queues: ['q'], seed: 12345 });
      fake.faults = { partialFailure: 0.5 };
      const r = await batch(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
      expect(r.json.Successful.length + r.json.Failed.length).toBe(10);
      expect(fake.bodies('q')).toEqual(r.json.Successful.map((s: any) => s.Id.slice(1)));
      const failed = r.json.Failed.map((f: any) => f.Id as string);
      await fake.close();
      return failed;
    };
    const first = await run();
    expect(first.length).toBeGreaterThan(0);
    expect(first.length).toBeLessThan(10);
    expect(await run()).toEqual(first);
  });

  it('kmsThrottled=1 fails every entry with KmsThrottled', async () => {
    await start({ queues: ['q'] });
    fake.faults = { kmsThrottled: 1 };
    const r = await batch(['a', 'b']);
    expect(r.json.Failed.map((f: any) => [f.Code, f.SenderFault])).toEqual([['KmsThrottled', false], ['KmsThrottled', false]]);
    expect(fake.messageCount('q')).toBe(0);
  });

  it('badMd5=1 stores the message but answers a wrong MD5OfMessageBody', async () => {
    await start({ queues: ['q'] });
    fake.faults = { badMd5: 1 };
    const r = await batch(['a']);
    expect(r.json.Successful[0].MD5OfMessageBody).toMatch(/^[0-9a-f]{32}$/);
    expect(r.json.Successful[0].MD5OfMessageBody).not.toBe(md5('a'));
    expect(fake.bodies('q')).toEqual(['a']);
  });

  it('faults.actions limits faults to the listed actions', async () => {
    await start({ queues: ['q'] });
    fake.faults = { throttle: 1, actions: ['SendMessageBatch'] };
    expect((await call('GetQueueAttributes', { QueueUrl: fake.queueUrl('q'), AttributeNames: ['All'] })).status).toBe(200);
    expect((await batch(['x'])).status).not.toBe(200);
  });

  it('down answers 503 ServiceUnavailable to everything until cleared', async () => {
    await start({ queues: ['q'] });
    fake.down = true;
    expectError(await batch(['x']), 503, 'ServiceUnavailable');
    expectError(await call('GetQueueUrl', { QueueName: 'q' }), 503, 'ServiceUnavailable');
    expect(fake.messageCount('q')).toBe(0);
    fake.down = false;
    expect((await batch(['x'])).status).toBe(200);
    expect(fake.stats.faultsInjected.down).toBe(2);
  });
});

describe('latency, concurrency, lifecycle', () => {
  it('applies latencyMs plus extraLatencyMs before responding', async () => {
    await start({ queues: ['q'], latencyMs: 100 });
    let t = performance.now();
    await call('GetQueueUrl', { QueueName: 'q' });
    expect(performance.now() - t).toBeGreaterThanOrEqual(95);
    fake.faults.extraLatencyMs = 150;
    t = performance.now();
    await call('GetQueueUrl', { QueueName: 'q' });
    expect(performance.now() - t).toBeGreaterThanOrEqual(245);
  });

  it('counts concurrent requests in stats.maxConcurrent', async () => {
    await start({ queues: ['q'], latencyMs: 150 });
    await Promise.all(Array.from({ length: 5 }, (_, i) => call('SendMessage', { QueueUrl: fake.queueUrl('q'), MessageBody: `m${i}` })));
    expect(fake.stats.maxConcurrent).toBe(5);
    await call('GetQueueUrl', { QueueName: 'q' });
    expect(fake.stats.maxConcurrent).toBe(5);
    expect(fake.messageCount('q')).toBe(5);
  });

  it('waitFor resolves when the predicate holds and rejects clearly on timeout', async () => {
    await start({ queues: ['q'] });
    setTimeout(() => { void call('SendMessage', { QueueUrl: fake.queueUrl('q'), MessageBody: 'late' }); }, 50);
    await fake.waitFor(() => fake.messageCount('q') === 1, 2000);
    expect(fake.bodies('q')).toEqual(['late']);
    const t = performance.now();
    await expect(fake.waitFor(() => fake.messageCount('q') === 2, 100)).rejects.toThrow(/condition still false after 100 ms.*q=1/);
    expect(performance.now() - t).toBeGreaterThanOrEqual(95);
  });

  it('reset clears messages and stats but keeps queues', async () => {
    await start({ queues: [{ name: 'f.fifo', attributes: { ContentBasedDeduplication: 'true' } }] });
    const send = (): Promise<Reply> => call('SendMessage', { QueueUrl: fake.queueUrl('f.fifo'), MessageBody: 'same', MessageGroupId: 'g' });
    await send();
    fake.reset();
    expect(fake.messages('f.fifo')).toEqual([]);
    expect(fake.stats).toEqual({ requests: 0, byAction: {}, entries: 0, billedSendRequests: 0, faultsInjected: {}, maxConcurrent: 0 });
    await send(); // the dedup cache was cleared too
    expect(fake.bodies('f.fifo')).toEqual(['same']);
    expect(fake.stats.requests).toBe(1);
  });

  it('close destroys open sockets: an in-flight request fails and close does not wait for it', async () => {
    await start({ queues: ['q'], latencyMs: 10_000 });
    const pending = call('GetQueueUrl', { QueueName: 'q' }).then(() => 'answered', (err: unknown) => err);
    await fake.waitFor(() => fake.stats.requests === 1, 2000);
    const t = performance.now();
    await fake.close();
    expect(performance.now() - t).toBeLessThan(1000);
    expect(String(await pending)).toMatch(/TypeError: fetch failed/); // undici's error, from another realm than jest's
  });
});

describe('faults for SQS-compatible servers (issue 10)', () => {
  it('maxBatchBytes: a lower batch limit than SQS\'s, BatchRequestTooLong above it', async () => {
    await start({ queues: ['q'] });
    fake.faults = { maxBatchBytes: 100 };
    expectError(await call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(['x'.repeat(60), 'y'.repeat(60)]) }), 400, 'BatchRequestTooLong', 'AWS.SimpleQueueService.BatchRequestTooLong;Sender');
    expect((await call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(['x'.repeat(60)]) })).status).toBe(200);
    expect(fake.bodies('q')).toEqual(['x'.repeat(60)]);
    expect(fake.stats.faultsInjected.maxBatchBytes).toBe(1);
  });

  it('errorFormat xml: errors as the query protocol\'s ErrorResponse document with the legacy code', async () => {
    await start({ queues: ['q'] });
    fake.faults = { errorFormat: 'xml' };
    const res = await fetch(`${fake.endpoint}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.GetQueueUrl', authorization: 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/sqs/aws4_request, Signature=x' },
      body: JSON.stringify({ QueueName: 'missing' }),
    });
    const text = await res.text();
    expect(res.status).toBe(400);
    expect(text).toMatch(/^<\?xml version="1.0"\?><ErrorResponse [^>]*><Error><Type>Sender<\/Type><Code>AWS\.SimpleQueueService\.NonExistentQueue<\/Code><Message>[^<]+<\/Message>/);
    expect(text).toContain('<RequestId>');
  });

  it('refuseKeys: that access key id is refused with the given code, others are served', async () => {
    await start({ queues: ['q'] });
    fake.faults = { refuseKeys: { AKIDBAD: 'SignatureDoesNotMatch' } };
    expectError(await call('GetQueueUrl', { QueueName: 'q' }, { akid: 'AKIDBAD' }), 403, 'SignatureDoesNotMatch');
    expect((await call('GetQueueUrl', { QueueName: 'q' })).status).toBe(200);
  });

  it('keeps the AWSTraceHeader system attribute and returns it on receive', async () => {
    await start({ queues: ['q'] });
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1';
    await call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(['t'], { MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: trace } } }) });
    expect(fake.messages('q')[0]?.traceHeader).toBe(trace);
    const got = await call('ReceiveMessage', { QueueUrl: fake.queueUrl('q'), MessageSystemAttributeNames: ['All'] });
    expect(got.json.Messages[0].Attributes.AWSTraceHeader).toBe(trace);
  });
});

describe('long polling and the answer\'s trip back (issue 13: the worker bench and its shutdown)', () => {
  it('longPolling: an empty receive waits for a message sent later and answers with it', async () => {
    await start({ queues: ['q'], longPolling: true, latencyMs: 20 });
    const t0 = Date.now();
    const receive = call('ReceiveMessage', { QueueUrl: fake.queueUrl('q'), WaitTimeSeconds: 5, MaxNumberOfMessages: 10 });
    await new Promise((r) => setTimeout(r, 300));
    await call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(['late']) });
    const got = await receive;
    const ms = Date.now() - t0;
    expect(got.json.Messages.map((m: { Body: string }) => m.Body)).toEqual(['late']);
    // Answered when the message came (300 ms + the send's 20 ms + half the latency back), not after the 5 s wait.
    expect(ms).toBeGreaterThanOrEqual(300);
    expect(ms).toBeLessThan(2000);
  });

  it('longPolling: an empty receive answers empty once its wait is over; without WaitTimeSeconds at once', async () => {
    await start({ queues: ['q'], longPolling: true });
    let t0 = Date.now();
    expect((await call('ReceiveMessage', { QueueUrl: fake.queueUrl('q'), WaitTimeSeconds: 1 })).json).toEqual({});
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    t0 = Date.now();
    expect((await call('ReceiveMessage', { QueueUrl: fake.queueUrl('q') })).json).toEqual({});
    expect(Date.now() - t0).toBeLessThan(500);
  });

  it('answerDelayMs: the action takes effect at once and its answer comes later', async () => {
    await start({ queues: ['q'] });
    await call('SendMessageBatch', { QueueUrl: fake.queueUrl('q'), Entries: entries(['a', 'b']) });
    fake.faults = { answerDelayMs: 600, actions: ['ReceiveMessage'] };
    const t0 = Date.now();
    const receive = call('ReceiveMessage', { QueueUrl: fake.queueUrl('q'), MaxNumberOfMessages: 10, VisibilityTimeout: 300 });
    await new Promise((r) => setTimeout(r, 200));
    // Already taken by the receive whose answer is still on its way: not visible to another one.
    const other = await call('GetQueueAttributes', { QueueUrl: fake.queueUrl('q'), AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] });
    expect(other.json.Attributes).toEqual({ ApproximateNumberOfMessages: '0', ApproximateNumberOfMessagesNotVisible: '2' });
    const got = await receive;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
    expect(got.json.Messages).toHaveLength(2);
  });
});
