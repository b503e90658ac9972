import { endpointFor, SqsClient } from '../../src/sqs/client.js';
import { startFakeSqs } from '../support/fake-sqs.js';
import { sqsError, startStubSqs, type StubSqs } from '../support/daemon.js';

const creds = { accessKeyId: 'AKIDX', secretAccessKey: 'secret-value' };

describe('endpointFor', () => {
  it('builds the regional endpoint, or takes the override origin', () => {
    expect(endpointFor('eu-west-1')).toBe('https://sqs.eu-west-1.amazonaws.com');
    expect(endpointFor('cn-north-1')).toBe('https://sqs.cn-north-1.amazonaws.com.cn');
    expect(endpointFor('us-east-1', 'http://localhost:4566/some/path?x=1')).toBe('http://localhost:4566');
  });
});

describe('SqsClient against a stub', () => {
  let stub: StubSqs;
  let reply: (action: string) => { status?: number; body?: unknown; drop?: boolean };
  let client: SqsClient;
  beforeAll(async () => {
    stub = await startStubSqs(({ action }) => reply(action));
    client = new SqsClient({ endpoint: `${stub.endpoint}/ignored/path`, region: 'eu-west-3' });
  });
  afterAll(async () => {
    await client.close();
    await stub.close();
  });

  it('POSTs a signed JSON-protocol request to / and parses the answer', async () => {
    reply = () => ({ body: { QueueUrl: 'http://q/1/x' } });
    expect(await client.getQueueUrl('x', creds)).toBe('http://q/1/x');
    const call = stub.calls.at(-1);
    expect(call?.action).toBe('GetQueueUrl');
    expect(call?.params).toEqual({ QueueName: 'x' });
    expect(call?.headers['content-type']).toBe('application/x-amz-json-1.0');
    expect(String(call?.headers.authorization)).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDX\/\d{8}\/eu-west-3\/sqs\/aws4_request, /);
    expect(call?.headers.host).toBe(new URL(stub.endpoint).host);
    expect(JSON.stringify(call?.headers)).not.toContain('secret-value');
  });

  it('maps an SQS error with its code, status and request id', async () => {
    reply = () => sqsError(400, 'QueueDoesNotExist', 'The specified queue does not exist.');
    await expect(client.getQueueUrl('nope', creds)).rejects.toMatchObject({ name: 'SqsError', code: 'QueueDoesNotExist', httpStatus: 400, disposition: 'permanent', queueMissing: true, requestId: expect.stringMatching(/^req-/) });
  });

  it('a 200 that is not JSON is a retryable BadResponse; an empty 200 is an empty answer', async () => {
    reply = () => ({ body: '<html>proxy</html>' });
    await expect(client.call('GetQueueUrl', {}, creds)).rejects.toMatchObject({ code: 'BadResponse', disposition: 'retry' });
    reply = () => ({ body: '' });
    expect(await client.call('SetQueueAttributes', {}, creds)).toEqual({});
    await expect(client.getQueueUrl('x', creds)).rejects.toMatchObject({ code: 'BadResponse' });
  });

  it('a dropped connection is a retryable NetworkError', async () => {
    reply = () => ({ drop: true });
    await expect(client.call('SendMessageBatch', { Entries: [] }, creds)).rejects.toMatchObject({ code: 'NetworkError', disposition: 'retry', httpStatus: 0 });
  });

  it('getQueueAttributes returns {} when SQS answers no Attributes', async () => {
    reply = () => ({ body: {} });
    expect(await client.getQueueAttributes('http://q/1/x', ['All'], creds)).toEqual({});
  });
});

describe('SqsClient against the fake', () => {
  it('sends a batch and reads per-entry results', async () => {
    const fake = await startFakeSqs({ queues: ['q'] });
    const client = new SqsClient({ endpoint: fake.endpoint, region: 'us-east-1' });
    try {
      const out = await client.sendMessageBatch(fake.queueUrl('q'), [{ Id: '0', MessageBody: 'a' }, { Id: '1', MessageBody: 'b', DelaySeconds: 2 }], creds);
      expect(out.Successful?.map((s) => s.Id)).toEqual(['0', '1']);
      expect(out.Failed).toEqual([]);
      expect(fake.messages('q').map((m) => [m.body, m.accessKeyId, m.delaySeconds])).toEqual([['a', 'AKIDX', undefined], ['b', 'AKIDX', 2]]);
    } finally {
      await client.close();
      await fake.close();
    }
  });

  it('a refused connection is a retryable NetworkError', async () => {
    const client = new SqsClient({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1' });
    try {
      await expect(client.getQueueUrl('q', creds)).rejects.toMatchObject({ code: 'NetworkError', disposition: 'retry' });
    } finally {
      await client.close();
    }
  });
});
