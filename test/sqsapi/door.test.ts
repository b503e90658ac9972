/**
 * The SQS API door's rules, with the JavaScript SDK as the caller and a scripted upstream that
 * records what the daemon sends: the trace header travels on, pass-through mode says why it
 * cannot serve, a keys file checks signatures, and browsers are kept out.
 */
import { ListQueuesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { batchSuccess, startStubSqs, startTestDaemon, type StubAnswer, type StubCall, type StubSqs, type TestDaemon, until } from '../support/daemon.js';

const daemonCreds = { credentialProvider: async () => ({ accessKeyId: 'DAEMONKEY', secretAccessKey: 'daemon-secret' }) };

function answer(stub: () => StubSqs) {
  return (call: StubCall): StubAnswer => {
    if (call.action === 'GetQueueUrl') return { body: { QueueUrl: `${stub().endpoint}/000000000000/${call.params.QueueName}` } };
    if (call.action === 'GetQueueAttributes') return { body: { Attributes: {} } };
    if (call.action === 'SendMessageBatch') return batchSuccess(call.params);
    if (call.action === 'ListQueues') return { body: { QueueUrls: [`${stub().endpoint}/000000000000/a`] } };
    return { status: 400, body: { __type: 'com.amazonaws.sqs#InvalidAction', message: 'no' } };
  };
}

const client = (url: string, accessKeyId = 'APPKEY', secretAccessKey = 'app-secret') => new SQSClient({ endpoint: url, region: 'eu-west-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 });

describe('with the daemon\'s credentials', () => {
  let stub: StubSqs;
  let d: TestDaemon;
  beforeAll(async () => {
    stub = await startStubSqs(answer(() => stub));
    d = await startTestDaemon(stub.endpoint, ['--credentials', 'chain'], 'warn', daemonCreds);
  });
  afterAll(async () => {
    await d?.stop();
    await stub?.close();
  });

  test('MessageSystemAttributes.AWSTraceHeader travels to SQS with the message, signed with the daemon\'s key', async () => {
    const sqs = client(d.url);
    const trace = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
    await sqs.send(new SendMessageCommand({ QueueUrl: `${d.url}/000000000000/traced`, MessageBody: 'b', MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: trace } } }));
    sqs.destroy();
    await until(() => stub.calls.some((c) => c.action === 'SendMessageBatch'), 5000, 'the batch');
    const batch = stub.calls.find((c) => c.action === 'SendMessageBatch') as StubCall;
    expect(batch.accessKeyId).toBe('DAEMONKEY');
    expect(batch.params.QueueUrl).toBe(`${stub.endpoint}/000000000000/traced`);
    expect(batch.params.Entries).toEqual([expect.objectContaining({ MessageBody: 'b', MessageSystemAttributes: { AWSTraceHeader: { DataType: 'String', StringValue: trace } } })]);
    // The ack is in the ack-latency histogram, like the REST route's.
    const metrics = await (await request(`${d.url}/metrics`, {})).body.text();
    expect(metrics).toMatch(/^sqs_accelerator_ack_duration_seconds_count\{status="200"\} 1$/m);
  });

  test('a Query form posted by a web page is refused', async () => {
    const res = await request(`${d.url}/`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' },
      body: 'Action=SendMessage&QueueUrl=http%3A%2F%2F127.0.0.1%2F000000000000%2Fq&MessageBody=x',
    });
    const text = await res.body.text();
    expect(res.statusCode).toBe(403);
    expect(text).toContain('<Code>AccessDenied</Code>');
    expect(text).toContain('web browser');
  });

  test('GET Query at a queue URL\'s path: the path is the QueueUrl, mapped to the upstream\'s; the answer is XML', async () => {
    const res = await request(`${d.url}/000000000000/orders?Action=ListQueueTags&Version=2012-11-05`, {});
    expect(res.statusCode).toBe(400); // the stub knows no ListQueueTags: its error comes back in Query form
    expect(await res.body.text()).toContain('<Code>InvalidAction</Code>');
    const call = stub.calls.filter((c) => c.action === 'ListQueueTags').at(-1);
    expect(call?.params).toEqual({ QueueUrl: `${stub.endpoint}/000000000000/orders` });
    expect(call?.accessKeyId).toBe('DAEMONKEY');
  });

  test('a body that is not JSON, or an unknown action, gets SQS\'s error shape, and the daemon carries on', async () => {
    const res = await request(`${d.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.SendMessage' }, body: '{nope' });
    expect(res.statusCode).toBe(400);
    expect(await res.body.json()).toMatchObject({ __type: expect.stringMatching(/#SerializationException$/) });
    const q = await request(`${d.url}/?Action=Frobnicate`, {});
    expect(q.statusCode).toBe(400);
    expect(await q.body.text()).toContain('<Code>InvalidAction</Code>');
    const sqs = client(d.url);
    await expect(sqs.send(new ListQueuesCommand({}))).resolves.toMatchObject({ QueueUrls: [`${d.url}/000000000000/a`] });
    sqs.destroy();
  });
});

test('with pass-through credentials every SQS API call gets an error that says why', async () => {
  const stub = await startStubSqs(() => ({ body: {} }));
  const d = await startTestDaemon(stub.endpoint);
  const sqs = client(d.url);
  try {
    const err = await sqs.send(new ListQueuesCommand({})).then(() => undefined, (e: unknown) => e as { name: string; message: string; $metadata: { httpStatusCode: number } });
    expect(err?.name).toBe('DaemonCredentialsRequired');
    expect(err?.message).toContain('--credentials chain');
    expect(err?.$metadata.httpStatusCode).toBe(403);
    expect(stub.calls).toEqual([]);
  } finally {
    sqs.destroy();
    await d.stop();
    await stub.close();
  }
});

describe('with --sqs-api-keys-file', () => {
  let stub: StubSqs;
  let d: TestDaemon;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sqsapi-keys-'));
    const file = join(dir, 'keys');
    writeFileSync(file, 'APPKEY:app-secret\nOTHERAPP:other/secret+\n');
    chmodSync(file, 0o600);
    stub = await startStubSqs(answer(() => stub));
    d = await startTestDaemon(stub.endpoint, ['--credentials', 'chain', '--sqs-api-keys-file', file], 'debug', daemonCreds);
  });
  afterAll(async () => {
    await d?.stop();
    await stub?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const outcome = async (accessKeyId: string, secret: string): Promise<string> => {
    const sqs = client(d.url, accessKeyId, secret);
    try {
      await sqs.send(new ListQueuesCommand({}));
      return 'ok';
    } catch (err) {
      return (err as { name: string }).name;
    } finally {
      sqs.destroy();
    }
  };

  test('the right key passes; a wrong secret and an unknown key are refused as SQS refuses them', async () => {
    expect(await outcome('APPKEY', 'app-secret')).toBe('ok');
    expect(await outcome('OTHERAPP', 'other/secret+')).toBe('ok');
    expect(await outcome('APPKEY', 'wrong-secret')).toBe('SignatureDoesNotMatch');
    expect(await outcome('NOBODY', 'app-secret')).toBe('InvalidClientTokenId');
    // Only the two good calls reached SQS.
    expect(stub.calls.filter((c) => c.action === 'ListQueues')).toHaveLength(2);
    // No secret in anything the daemon wrote, at debug level.
    const written = d.logs.raw.join('\n');
    expect(d.logs.find('request').length).toBeGreaterThanOrEqual(4); // the debug access log saw every call
    for (const secret of ['app-secret', 'other/secret+', 'wrong-secret', 'daemon-secret']) expect(written).not.toContain(secret);
  });

  test('an unsigned request is refused', async () => {
    const res = await request(`${d.url}/?Action=ListQueues`, {});
    expect(res.statusCode).toBe(403);
    expect(await res.body.text()).toContain('<Code>MissingAuthenticationToken</Code>');
  });
});
