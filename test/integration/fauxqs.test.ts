/**
 * Against fauxqs (a third-party SQS emulator) in-process: what the daemon sends arrives as sent.
 * Queues are created and read with the AWS SDK, as an application would.
 */
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { AKID, post, postJson, SECRET, startTestDaemon, type TestDaemon } from '../support/daemon.js';

let emulator: Emulator;
let sqs: SQSClient;
let d: TestDaemon;
const urls: Record<string, string> = {};

beforeAll(async () => {
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: { accessKeyId: AKID, secretAccessKey: SECRET } });
  for (const [name, attributes] of [
    ['std', {}],
    ['delayed', {}],
    ['orders.fifo', { FifoQueue: 'true' }],
    ['content.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'true' }],
  ] as const) {
    const out = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    urls[name] = out.QueueUrl as string;
  }
  d = await startTestDaemon(emulator.endpoint);
});

afterAll(async () => {
  await d?.stop();
  sqs?.destroy();
  await emulator?.close();
});

/**
 * Receives until `count` messages came or `timeoutMs` passed, with a long visibility timeout so
 * nothing comes twice; deletes what it got when `remove` (a FIFO group is blocked until then).
 */
async function receive(queue: string, count: number, timeoutMs = 5000, remove = false): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: urls[queue],
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 600,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (r.Messages && r.Messages.length > 0) {
      out.push(...r.Messages);
      if (remove) {
        const Entries = r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string }));
        await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: urls[queue], Entries }));
      }
    } else await new Promise((res) => setTimeout(res, 20));
  }
  return out;
}

describe('every content type arrives with body and attributes intact (standard queue)', () => {
  let received: Map<string, Message>;
  const binary = Buffer.from([0, 1, 2, 250, 255]);

  beforeAll(async () => {
    const replies = [
      await post(d.url, '/queues/std', 'message_body=form+h%C3%A9llo+%26+co&attr.kind=created&attr.source=web', { contentType: 'application/x-www-form-urlencoded' }),
      await post(d.url, '/queues/std', 'raw text\n  with lines, "quotes" and <xml/> ✓', { contentType: 'text/plain' }),
      await post(d.url, '/queues/std', '<order id="1"/>', { contentType: 'application/xml' }),
      await postJson(d.url, '/queues/std', {
        body: '{"order":42}',
        attributes: {
          str: { DataType: 'String', StringValue: 'créé' },
          num: { DataType: 'Number', StringValue: '-12.50' },
          bin: { DataType: 'Binary', BinaryValue: binary.toString('base64') },
          custom: { DataType: 'Number.int', StringValue: '7' },
          short: 'shorthand',
          n: 3,
        },
      }),
      await postJson(d.url, '/queues/std', ['array one', { body: 'array two', attributes: { i: 2 } }]),
      await postJson(d.url, '/queues/std', { messages: ['wrapped'] }),
      await post(d.url, '/queues/std', '{"body":"ndjson one"}\n"ndjson two"\n{"body":"ndjson three","attributes":{"k":"v"}}\n', { contentType: 'application/x-ndjson' }),
    ];
    for (const r of replies) expect(r.status).toBe(202);
    expect(replies[0]?.json.id).toEqual(expect.any(String)); // else the next line compares undefined with undefined
    expect(replies[0]?.headers['x-message-id']).toEqual(replies[0]?.json.id);
    received = new Map((await receive('std', 10)).map((m) => [m.Body as string, m]));
  });

  it('form (the 2009 API) with String attributes', () => {
    const m = received.get('form héllo & co');
    expect(m?.MessageAttributes).toEqual({ kind: { DataType: 'String', StringValue: 'created' }, source: { DataType: 'String', StringValue: 'web' } });
  });

  it('raw bodies, byte for byte', () => {
    expect(received.has('raw text\n  with lines, "quotes" and <xml/> ✓')).toBe(true);
    expect(received.has('<order id="1"/>')).toBe(true);
  });

  it('JSON with String, Number, Binary, custom and shorthand attributes', () => {
    const m = received.get('{"order":42}');
    expect(m).toBeDefined();
    const a = m?.MessageAttributes ?? {};
    expect(a.str).toMatchObject({ DataType: 'String', StringValue: 'créé' });
    expect(a.num).toMatchObject({ DataType: 'Number', StringValue: '-12.50' });
    expect(a.custom).toMatchObject({ DataType: 'Number.int', StringValue: '7' });
    expect(a.short).toMatchObject({ DataType: 'String', StringValue: 'shorthand' });
    expect(a.n).toMatchObject({ DataType: 'Number', StringValue: '3' });
    expect(a.bin?.DataType).toBe('Binary');
    expect(Buffer.from(a.bin?.BinaryValue as Uint8Array)).toEqual(binary);
  });

  it('JSON arrays, {"messages"} and NDJSON batches', () => {
    for (const b of ['array one', 'array two', 'wrapped', 'ndjson one', 'ndjson two', 'ndjson three']) expect(received.has(b)).toBe(true);
    expect(received.get('array two')?.MessageAttributes).toEqual({ i: { DataType: 'Number', StringValue: '2' } });
    expect(received.get('ndjson three')?.MessageAttributes).toEqual({ k: { DataType: 'String', StringValue: 'v' } });
    expect(received.size).toBe(10);
  });
});

it('a delayed message is held back by SQS for its delay', async () => {
  expect((await postJson(d.url, '/queues/delayed', { body: 'later', delaySeconds: 1 })).status).toBe(202);
  expect((await post(d.url, '/queues/delayed', 'message_body=now&delay_seconds=0', { contentType: 'application/x-www-form-urlencoded' })).status).toBe(202);
  await d.daemon.deps.pipeline.idle();
  const sent = Date.now();
  const first = await receive('delayed', 1);
  expect(first.map((m) => m.Body)).toEqual(['now']);
  const second = await receive('delayed', 1, 4000);
  expect(second.map((m) => m.Body)).toEqual(['later']);
  expect(Date.now() - sent).toBeGreaterThanOrEqual(500);
});

describe('FIFO queues', () => {
  it('keep group ids, given and generated deduplication ids, and order per group', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const msg = i % 3 === 0 ? { body: `m:${i}`, groupId: `g${i % 2}`, deduplicationId: `given-${i}` } : { body: `m:${i}`, groupId: `g${i % 2}` };
      const r = await postJson(d.url, '/queues/orders.fifo', msg);
      expect(r.status).toBe(202);
      ids.push(r.json.id);
    }
    // A form with the SQS-style field names.
    const form = await post(d.url, '/queues/orders.fifo', 'message_body=m:30&message_group_id=g0&message_deduplication_id=form-30', { contentType: 'application/x-www-form-urlencoded' });
    expect(form.status).toBe(202);
    // The same deduplication id again: SQS drops it (the daemon forwards ids as given).
    expect((await postJson(d.url, '/queues/orders.fifo', { body: 'dup of 0', groupId: 'g0', deduplicationId: 'given-0' })).status).toBe(202);
    await d.daemon.deps.pipeline.idle();
    const got = await receive('orders.fifo', 31, 3000, true);
    expect(got).toHaveLength(31);
    expect(await receive('orders.fifo', 1, 300, true)).toEqual([]);
    const byBody = new Map(got.map((m) => [m.Body as string, m]));
    for (let i = 0; i < 30; i++) {
      const attrs = byBody.get(`m:${i}`)?.Attributes ?? {};
      expect(attrs.MessageGroupId).toBe(`g${i % 2}`);
      expect(attrs.MessageDeduplicationId).toBe(i % 3 === 0 ? `given-${i}` : ids[i]);
    }
    expect(byBody.get('m:30')?.Attributes?.MessageDeduplicationId).toBe('form-30');
    for (const g of ['g0', 'g1']) {
      const seq = got.filter((m) => m.Attributes?.MessageGroupId === g).map((m) => Number((m.Body as string).split(':')[1]));
      expect(seq).toEqual([...seq].sort((a, b) => a - b));
    }
  });

  it('with content-based deduplication, no id is generated and SQS dedups by body', async () => {
    const ids: string[] = [];
    for (const body of ['same', 'same', 'other']) {
      const r = await postJson(d.url, '/queues/content.fifo', { body, groupId: 'g' });
      expect(r.status).toBe(202);
      ids.push(r.json.id);
    }
    await d.daemon.deps.pipeline.idle();
    const got = await receive('content.fifo', 2, 3000, true);
    expect(await receive('content.fifo', 1, 300, true)).toEqual([]);
    expect(got.map((m) => m.Body)).toEqual(['same', 'other']);
    for (const m of got) expect(ids).not.toContain(m.Attributes?.MessageDeduplicationId);
  });

  it('refuses a FIFO send without a group id, and a delay', async () => {
    expect((await postJson(d.url, '/queues/orders.fifo', { body: 'x' })).status).toBe(400);
    expect((await postJson(d.url, '/queues/orders.fifo', { body: 'x', groupId: 'g', delaySeconds: 3 })).status).toBe(400);
  });
});

describe('errors from the emulator', () => {
  it('404 for a queue that does not exist', async () => {
    const r = await post(d.url, '/queues/does-not-exist', 'x', { contentType: 'text/plain' });
    expect(r.status).toBe(404);
    expect(r.json.error.code).toBe('QueueDoesNotExist');
  });
  it('401 with a challenge without credentials', async () => {
    const r = await post(d.url, '/queues/std', 'x', { contentType: 'text/plain', headers: { authorization: undefined } });
    expect(r.status).toBe(401);
    expect(r.headers['www-authenticate']).toMatch(/^Basic /);
  });
  it('a queue created after a 404 is found on the next send', async () => {
    expect((await post(d.url, '/queues/born-late', 'x', { contentType: 'text/plain' })).status).toBe(404);
    const out = await sqs.send(new CreateQueueCommand({ QueueName: 'born-late' }));
    urls['born-late'] = out.QueueUrl as string;
    expect((await post(d.url, '/queues/born-late', 'finally', { contentType: 'text/plain' })).status).toBe(202);
    expect((await receive('born-late', 1)).map((m) => m.Body)).toEqual(['finally']);
  });
});

