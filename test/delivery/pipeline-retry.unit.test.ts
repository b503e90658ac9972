/**
 * The Pipeline's retries, with fake timers and an SQS client the test answers by hand: only
 * what failed is sent again, with every field; backoff; what is dead-lettered instead; FIFO
 * order across a retry. Math.random is pinned to 1, so each backoff is its full value.
 */
import { jest } from '@jest/globals';
import { Pipeline, type PipelineObserver, type PipelineOptions } from '../../src/delivery/pipeline.js';
import { SqsError } from '../../src/sqs/errors.js';
import type { Destination, QueueResolver } from '../../src/sqs/resolver.js';
import type { SendMessageBatchRequestEntry } from '../../src/sqs/types.js';
import { advance, allOk, captureLogger, FakeBatchClient, failSome, flush, makeDest, md5, msg, RecordingStore, refreshableCredentials, throttled, useFakeClock } from '../support/delivery-harness.js';

const OPTIONS: PipelineOptions = { lingerMs: 10, maxConcurrency: 8, maxBacklogMessages: 10_000, maxBacklogBytes: 64 * 1_048_576, retryBaseMs: 100, retryMaxMs: 400, maxMessageAgeMs: 0 };

let client: FakeBatchClient;
let store: RecordingStore;
let logs: ReturnType<typeof captureLogger>;

function pipeline(options: Partial<PipelineOptions> = {}, resolver?: QueueResolver, observer?: PipelineObserver): Pipeline {
  return new Pipeline(client.asClient(), store, { ...OPTIONS, ...options }, logs.log, resolver, observer);
}

/** An entry as the second call sent it, without its batch-local Id. */
const fields = ({ Id: _id, ...rest }: SendMessageBatchRequestEntry) => rest;

beforeEach(() => {
  useFakeClock();
  jest.spyOn(Math, 'random').mockReturnValue(1);
  client = new FakeBatchClient();
  store = new RecordingStore();
  logs = captureLogger();
});
afterEach(() => {
  jest.restoreAllMocks();
  jest.useRealTimers();
});

describe('only what failed is sent again, with every field', () => {
  it('standard queue: the failed entry alone, attributes and delay intact, after the backoff', async () => {
    const p = pipeline();
    const d = makeDest('q');
    const attributes = { s: { DataType: 'String', StringValue: 'v' }, b: { DataType: 'Binary', BinaryValue: 'AQI=' } };
    const ids = (await p.accept(d, [msg('a'), msg('b', { attributes, delaySeconds: 7 }), msg('c', { delaySeconds: 1 })])) as string[];
    await flush();
    const sent = client.calls[0]?.entries ?? [];
    client.calls[0]?.answer(failSome((b) => b === 'b')(sent));
    await advance(99);
    expect(client.calls).toHaveLength(1);
    await advance(1); // retryBaseMs
    expect(client.calls[1]?.entries.map(fields)).toEqual([{ MessageBody: 'b', MessageAttributes: attributes, DelaySeconds: 7 }]);
    client.calls[1]?.answer(allOk(client.calls[1].entries));
    await flush();
    expect(store.deliveredIds.sort()).toEqual([...ids].sort());
    expect(p.totals).toMatchObject({ accepted: 3, sent: 3, retried: 1, deadLettered: 0, requests: 2, requestErrors: 0 });
    expect(p.stats('q')).toMatchObject({ sent: 3, retried: 1, backlog: 0, inFlight: 0 });
  });

  it('FIFO queue: a failed request is sent again entry for entry, groups and deduplication ids included', async () => {
    const p = pipeline();
    const d = makeDest('q.fifo');
    await p.accept(d, [msg('x', { groupId: 'g1', attributes: { n: { DataType: 'Number', StringValue: '1' } } }), msg('y', { groupId: 'g2', dedupId: 'given' })]);
    await flush();
    client.calls[0]?.answer(throttled());
    await advance(100);
    expect(client.calls).toHaveLength(2);
    expect(client.calls[1]?.entries).toEqual(client.calls[0]?.entries);
    expect(client.calls[0]?.entries.map((e) => [e.MessageGroupId, typeof e.MessageDeduplicationId])).toEqual([
      ['g1', 'string'],
      ['g2', 'string'],
    ]);
  });

  it('FIFO queue: a failed entry goes again before the rest of its group', async () => {
    const p = pipeline();
    const d = makeDest('q.fifo');
    await p.accept(d, [msg('g1:1', { groupId: 'g1' }), msg('g1:2', { groupId: 'g1' }), msg('g2:1', { groupId: 'g2' }), msg('g2:2', { groupId: 'g2' })]);
    await flush();
    client.calls[0]?.answer(failSome((b) => b === 'g1:1', 'KmsThrottled')(client.calls[0].entries));
    await flush();
    await advance(10); // g2 was released: its next message lingers (g1's retry is pending), then goes
    expect(client.bodies()).toEqual([['g1:1', 'g2:1'], ['g2:2']]);
    await advance(100); // g1's backoff
    expect(client.bodies()[2]).toEqual(['g1:1']);
    client.auto = allOk;
    client.calls[1]?.answer(allOk(client.calls[1].entries));
    client.calls[2]?.answer(allOk(client.calls[2].entries));
    await advance(10);
    expect(client.bodies().flat().filter((b) => b.startsWith('g1'))).toEqual(['g1:1', 'g1:1', 'g1:2']);
  });

  it('an MD5 mismatch sends that entry again, and only it', async () => {
    const p = pipeline();
    await p.accept(makeDest('q'), [msg('a'), msg('b')]);
    await flush();
    const ok = allOk(client.calls[0]?.entries ?? []);
    ok.Successful![1]!.MD5OfMessageBody = md5('something else');
    client.calls[0]?.answer(ok);
    await advance(100);
    expect(client.bodies()).toEqual([['a', 'b'], ['b']]);
    expect(p.totals.md5Mismatch).toBe(1);
    expect(logs.find('mismatching MD5')).toHaveLength(1);
  });

  it('an entry SQS answered nothing about is sent again (at least once)', async () => {
    const p = pipeline();
    await p.accept(makeDest('q'), [msg('a'), msg('b')]);
    await flush();
    client.calls[0]?.answer({ Successful: allOk(client.calls[0].entries).Successful?.slice(0, 1) });
    await advance(100);
    expect(client.bodies()).toEqual([['a', 'b'], ['b']]);
  });
});

describe('the observer (metrics)', () => {
  it('hears of every accept, batch, retry and delivery, with counts, bytes, latency and the request error', async () => {
    const heard: unknown[] = [];
    const observer: PipelineObserver = {
      accepted: (d, count, bytes) => heard.push(['accepted', d.queueName, count, bytes]),
      batchDone: (d, entries, latencyMs, error) => heard.push(['batch', d.queueName, entries, latencyMs, error?.code]),
      retried: (d, code, count) => heard.push(['retried', d.queueName, code, count]),
      delivered: (d, count) => heard.push(['delivered', d.queueName, count]),
    };
    const p = pipeline({}, undefined, observer);
    await p.accept(makeDest('q'), [msg('a', {}, 10), msg('b', {}, 20)]);
    await flush();
    await advance(25);
    client.calls[0]?.answer(throttled());
    await advance(100);
    await advance(5);
    client.calls[1]?.answer(allOk(client.calls[1].entries));
    await flush();
    expect(heard).toEqual([
      ['accepted', 'q', 2, 30],
      ['batch', 'q', 2, 25, 'RequestThrottled'],
      ['retried', 'q', 'RequestThrottled', 2],
      ['batch', 'q', 2, 5, undefined],
      ['delivered', 'q', 2],
    ]);
  });
});

describe('backoff', () => {
  it('doubles per attempt up to retryMaxMs', async () => {
    const p = pipeline();
    await p.accept(makeDest('q'), [msg('a')]);
    await flush();
    client.auto = () => throttled();
    client.calls[0]?.answer(throttled());
    await advance(2000);
    const gaps = client.calls.slice(1, 5).map((c, i) => c.at - (client.calls[i]?.at ?? 0));
    expect(gaps).toEqual([100, 200, 400, 400]);
    expect(logs.find('retrying failed entries')[0]).toMatchObject({ queue: 'q', code: 'RequestThrottled', count: 1, attempt: 1, level: 'debug' });
  });
});

describe('dead letters instead of retries', () => {
  it('an entry SQS refuses for good is dead-lettered with its code and never sent again; the others are delivered', async () => {
    const seen: string[] = [];
    const p = pipeline({}, undefined, { deadLettered: (dest, code, count) => seen.push(`${dest.queueName}:${code}:${count}`) });
    const ids = (await p.accept(makeDest('q'), [msg('good'), msg('bad')])) as string[];
    await flush();
    client.calls[0]?.answer(failSome((b) => b === 'bad', 'InvalidParameterValue', true)(client.calls[0].entries));
    await advance(10_000);
    expect(client.calls).toHaveLength(1);
    expect(store.dead).toEqual([{ id: ids[1], reason: { code: 'InvalidParameterValue', message: 'InvalidParameterValue (unit)' } }]);
    expect(store.deliveredIds).toEqual([ids[0]]);
    expect(seen).toEqual(['q:InvalidParameterValue:1']);
    expect(p.totals).toMatchObject({ sent: 1, deadLettered: 1, retried: 0 });
    expect(p.backlogMessages).toBe(0);
    expect(logs.find('dead-lettered')[0]).toMatchObject({ queue: 'q', code: 'InvalidParameterValue', count: 1, msgIds: [ids[1]], level: 'warn' });
  });

  it('a store that keeps dead letters asynchronously: the messages count as finished only once it has kept them', async () => {
    const seen: string[] = [];
    let keep: () => void = () => {};
    const kept = new Promise<void>((resolve) => (keep = resolve));
    const deadLettered = store.deadLettered.bind(store);
    store.deadLettered = (envs, reason) => {
      deadLettered(envs, reason);
      return kept;
    };
    const p = pipeline({}, undefined, { deadLettered: (dest, code, count) => seen.push(`${dest.queueName}:${code}:${count}`) });
    await p.accept(makeDest('q'), [msg('good'), msg('bad')]);
    await flush();
    client.calls[0]?.answer(failSome((b) => b === 'bad', 'InvalidParameterValue', true)(client.calls[0].entries));
    await flush();
    // Handed to the store, not yet kept: still in the backlog, not yet counted or said dead-lettered.
    expect(store.dead).toHaveLength(1);
    expect(p.backlogMessages).toBe(1);
    expect(p.totals).toMatchObject({ sent: 1, deadLettered: 0 });
    expect(seen).toEqual([]);
    keep();
    await flush();
    expect(p.backlogMessages).toBe(0);
    expect(p.totals).toMatchObject({ sent: 1, deadLettered: 1 });
    expect(seen).toEqual(['q:InvalidParameterValue:1']);
  });

  it('a queue deleted upstream: every entry is dead-lettered and the resolver forgets the queue', async () => {
    const invalidated: Destination[] = [];
    const resolver = { invalidate: (dest: Destination) => invalidated.push(dest) } as unknown as QueueResolver;
    const p = pipeline({}, resolver);
    const d = makeDest('gone');
    await p.accept(d, [msg('a'), msg('b')]);
    await flush();
    client.calls[0]?.answer(new SqsError('QueueDoesNotExist', 'The specified queue does not exist.', 400));
    await advance(10_000);
    expect(client.calls).toHaveLength(1);
    expect(store.dead.map((x) => x.reason.code)).toEqual(['QueueDoesNotExist', 'QueueDoesNotExist']);
    expect(invalidated).toEqual([d]);
  });

  it('past maxMessageAgeMs a failing message is dead-lettered as MaxAgeExceeded, with the last error', async () => {
    const p = pipeline({ maxMessageAgeMs: 1000 });
    await p.accept(makeDest('q'), [msg('old')]);
    await flush();
    client.auto = () => new SqsError('ServiceUnavailable', 'down', 503);
    client.calls[0]?.answer(throttled());
    await advance(5000);
    // Sent at 0, 100, 300, 700, 1100: the answer at 1100 finds it older than 1000 ms.
    expect(client.calls.map((c) => c.at)).toEqual([0, 100, 300, 700, 1100].map((t) => t + (client.calls[0]?.at ?? 0)));
    expect(store.dead).toHaveLength(1);
    expect(store.dead[0]?.reason).toEqual({ code: 'MaxAgeExceeded', message: 'undelivered after 1000 ms; last error ServiceUnavailable: down' });
    expect(p.backlogMessages).toBe(0);
  });

  it('expired daemon credentials are refreshed and the batch sent again at once; expired again, it backs off', async () => {
    const credentials = refreshableCredentials();
    const p = pipeline();
    await p.accept(makeDest('q', { credentials }), [msg('a')]);
    await flush();
    const expired = () => new SqsError('ExpiredToken', 'The security token included in the request is expired', 400);
    client.calls[0]?.answer(expired());
    await flush();
    expect(credentials.refreshes).toBe(1);
    expect(client.calls).toHaveLength(2); // no backoff the first time
    client.calls[1]?.answer(expired());
    await advance(199);
    expect(client.calls).toHaveLength(2);
    await advance(1); // attempt 2: 200 ms
    expect(client.calls).toHaveLength(3);
    expect(credentials.refreshes).toBe(2);
    expect(store.dead).toEqual([]);
  });

  it('expired pass-through credentials cannot be refreshed: dead-lettered', async () => {
    const p = pipeline();
    await p.accept(makeDest('q'), [msg('a')]);
    await flush();
    client.calls[0]?.answer(new SqsError('ExpiredToken', 'expired', 400));
    await advance(10_000);
    expect(client.calls).toHaveLength(1);
    expect(store.dead.map((x) => x.reason.code)).toEqual(['ExpiredToken']);
  });
});
