/**
 * SqsdHead (the sqsd headers built per message without an intermediate object) must write what
 * the reference pair headerLines(sqsdHeaders(...)) writes, byte for byte: the Beanstalk names and
 * values, in the same order, and the same refusal for an unsendable header.
 */
import type { ReceivedMessage } from '../../src/sqs/consume.js';
import { headerLines, SqsdHead, sqsdHeaders } from '../../src/worker/sqsd-head.js';
import { mulberry32 } from '../support/prng.js';

const base: ReceivedMessage = { messageId: 'm-1', receiptHandle: 'h', body: 'b', attributes: {}, system: {}, receiveCount: 1, firstReceivedAt: 0 };
const reference = (m: ReceivedMessage, q = 'tasks', ct = 'application/json') => headerLines(sqsdHeaders(m, q, ct));

it('writes the Beanstalk sqsd headers, in order, with attributes lower-cased and unsafe values percent-encoded', () => {
  const m: ReceivedMessage = {
    ...base,
    messageId: 'f00-ba7',
    receiveCount: 3,
    firstReceivedAt: Date.UTC(2026, 11, 1, 12, 0, 0, 5),
    system: { SenderId: 'AIDAEXAMPLE' },
    attributes: { Priority: { DataType: 'Number', StringValue: '7' }, Blob: { DataType: 'Binary', BinaryValue: 'AAE=' }, Note: { DataType: 'String', StringValue: 'two\nlines ✓' } },
  };
  expect(new SqsdHead('tasks', 'application/json').lines(m)).toEqual({
    lines: 'content-type: application/json\r\n'
      + 'user-agent: aws-sqsd (sqs-accelerator)\r\n'
      + 'x-aws-sqsd-msgid: f00-ba7\r\n'
      + 'x-aws-sqsd-queue: tasks\r\n'
      + 'x-aws-sqsd-first-received-at: 2026-12-01T12:00:00.005Z\r\n'
      + 'x-aws-sqsd-receive-count: 3\r\n'
      + 'x-aws-sqsd-sender-id: AIDAEXAMPLE\r\n'
      + 'x-aws-sqsd-attr-priority: 7\r\n'
      + 'x-aws-sqsd-attr-blob: AAE=\r\n'
      + 'x-aws-sqsd-attr-note: two%0Alines%20%E2%9C%93\r\n',
  });
  expect(reference(m)).toEqual(new SqsdHead('tasks', 'application/json').lines(m));
});

it('the first-received-at of one message is not reused for the next (the cached date follows the timestamp)', () => {
  const head = new SqsdHead('q', 'text/plain');
  for (const at of [1000, 1000, 2000, 1000]) {
    const m = { ...base, firstReceivedAt: at };
    expect(head.lines(m)).toEqual(reference(m, 'q', 'text/plain'));
  }
});

it('refuses what the reference refuses, naming the same header', () => {
  const head = new SqsdHead('tasks', 'application/json');
  const cases: ReceivedMessage[] = [
    { ...base, messageId: 'a\r\nx-forged: 1' },
    { ...base, system: { SenderId: 'x\ny' } },
    { ...base, attributes: { 'bad name': { DataType: 'String', StringValue: 'v' } } },
    { ...base, attributes: { 'ok': { DataType: 'String', StringValue: 'v' }, 'a:b': { DataType: 'String', StringValue: 'v' } } },
  ];
  for (const m of cases) {
    const got = head.lines(m);
    expect('bad' in got).toBe(true);
    expect(got).toEqual(reference(m));
  }
  const badType = new SqsdHead('tasks', 'text/plain\r\nx: 1');
  expect(badType.lines(base)).toEqual({ bad: 'content-type' });
  expect(new SqsdHead('q\n', 'text/plain').lines(base)).toEqual(reference(base, 'q\n', 'text/plain'));
});

it('an attribute name given twice in different case, a non-string sender id, attributes without a string value, and many attributes: as the reference', () => {
  const head = new SqsdHead('tasks', 'application/json');
  const many: ReceivedMessage['attributes'] = {};
  for (let i = 0; i < 14; i++) many[`A${i}`] = { DataType: 'String', StringValue: String(i) };
  const cases: ReceivedMessage[] = [
    { ...base, attributes: { Foo: { DataType: 'String', StringValue: '1' }, Bar: { DataType: 'String', StringValue: '2' }, foo: { DataType: 'String', StringValue: '3' } } },
    { ...base, system: { SenderId: 42 as unknown as string } },
    { ...base, attributes: { Empty: { DataType: 'String' }, Nul: null as never, Num: 5 as never, '': { DataType: 'String', StringValue: 'anon' } } },
    { ...base, attributes: many },
  ];
  for (const m of cases) expect(head.lines(m)).toEqual(reference(m));
  expect(head.lines(cases[0] as ReceivedMessage)).toEqual({ lines: expect.stringContaining('x-aws-sqsd-attr-foo: 3\r\nx-aws-sqsd-attr-bar: 2\r\n') });
});

it('seeded fuzz: random ids, counts, timestamps, sender ids and attributes give the reference\'s bytes (seed 1313)', () => {
  const rnd = mulberry32(1313);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const chars = ['a', 'Z', '9', '-', '_', '.', ' ', '\t', '\n', '\r', '\0', 'é', '✓', ':', '"', '\u0001', '\u00ff', '😀'];
  const str = (max: number): string => Array.from({ length: Math.floor(rnd() * max) }, () => (rnd() < 0.8 ? pick(['a', 'b', 'X', '1', '-']) : pick(chars))).join('');
  const heads = [new SqsdHead('tasks', 'application/json'), new SqsdHead('orders.fifo', 'text/plain; charset=utf-8')];
  let bad = 0;
  for (let i = 0; i < 3000; i++) {
    const attributes: ReceivedMessage['attributes'] = {};
    const n = Math.floor(rnd() * 13);
    for (let j = 0; j < n; j++) {
      const name = rnd() < 0.15 ? pick(['Foo', 'foo', 'FOO']) : str(8);
      attributes[name] = rnd() < 0.5 ? { DataType: 'String', StringValue: str(20) } : rnd() < 0.7 ? { DataType: 'Binary', BinaryValue: str(12) } : { DataType: 'String' };
    }
    const m: ReceivedMessage = {
      ...base,
      messageId: rnd() < 0.9 ? `id-${i}` : str(10),
      receiveCount: 1 + Math.floor(rnd() * 20),
      firstReceivedAt: rnd() < 0.5 ? 1_764_590_400_000 : Math.floor(rnd() * 2e12),
      system: rnd() < 0.5 ? {} : { SenderId: str(6) },
      attributes,
    };
    const head = heads[i % 2] as SqsdHead;
    const got = head.lines(m);
    expect(got).toEqual(reference(m, head.queueName, head.contentType));
    if ('bad' in got) bad += 1;
  }
  // The fuzz covered both outcomes.
  expect(bad).toBeGreaterThan(100);
  expect(bad).toBeLessThan(2900);
});
