/**
 * What a held message costs (issue 11, bench/held.ts): the envelopes of one accept share one
 * AcceptedAt (a time in ms is a heap number of its own in each object that holds it), and ids
 * are unique, in order, and of the form clients see.
 */
import { bodyOf, groupIdOf, messageOf, newEnvelopes, newMessageId, unpinned } from '../../src/delivery/envelope.js';
import { makeDest } from '../support/delivery-harness.js';

it('the envelopes of one accept share one AcceptedAt with the accept time; another accept has its own', () => {
  const dest = makeDest('q');
  const items = Array.from({ length: 3 }, (_, i) => ({ message: { body: `m${i}` }, bytes: 2 }));
  const one = newEnvelopes(dest, items, 1_700_000_000_123).envs;
  expect(one.map((e) => e.accepted.at)).toEqual([1_700_000_000_123, 1_700_000_000_123, 1_700_000_000_123]);
  expect(new Set(one.map((e) => e.accepted)).size).toBe(1);
  const two = newEnvelopes(dest, items, 1_700_000_000_124).envs;
  expect(two[0]?.accepted).not.toBe(one[0]?.accepted);
  expect(two[0]?.accepted.at).toBe(1_700_000_000_124);
});

it('ids: a per-process prefix, a dash and a base-36 counter, each new', () => {
  const a = newMessageId();
  const b = newMessageId();
  const [pa, na] = a.split('-') as [string, string];
  const [pb, nb] = b.split('-') as [string, string];
  expect(a).toMatch(/^[0-9a-z]+-[0-9a-z]+$/);
  expect(pa).toBe(pb);
  expect(parseInt(nb, 36)).toBe(parseInt(na, 36) + 1);
});

it('a new envelope has no field that only delivery or a failure sets (8 bytes each of every held message)', () => {
  const [e] = newEnvelopes(makeDest('q'), [{ message: { body: 'm' }, bytes: 1 }], 1).envs;
  expect(Object.keys(e as object).sort()).toEqual(['accepted', 'attempts', 'bytes', 'dest', 'id', 'message', 'offload', 'spoolLen', 'spoolOff', 'spoolSeg']);
});

it('a message with nothing but a body is held as its body string; any other field keeps the object', () => {
  const withAttr = { body: 'b', attributes: { a: { DataType: 'String', StringValue: 'x' } } };
  const items = [{ message: { body: 'a' }, bytes: 1 }, { message: withAttr, bytes: 2 }, { message: { body: 'c', traceHeader: 'Root=1' }, bytes: 1 }];
  const { envs } = newEnvelopes(makeDest('q'), items, 1);
  expect(envs.map((e) => e.message)).toEqual(['a', withAttr, { body: 'c', traceHeader: 'Root=1' }]);
  expect(envs.map((e) => bodyOf(e.message))).toEqual(['a', 'b', 'c']);
  expect(messageOf(envs[0]!.message)).toEqual({ body: 'a' });
  expect(groupIdOf(newEnvelopes(makeDest('q.fifo'), [{ message: { body: 'f', groupId: 'g' }, bytes: 1 }], 1).envs[0]!.message)).toBe('g');
});

describe('unpinned', () => {
  it('keeps the message as it was: the same body (any code units), the other fields, the same form', () => {
    for (const body of ['plain', '', 'é ✓ \ud83d\ude00', '\ud800 lone \udfff', 'quote " backslash \\ nl \n']) {
      expect(unpinned(body)).toBe(body);
      const m = { body, groupId: 'g', attributes: { a: { DataType: 'String', StringValue: 'v' } } };
      const u = unpinned(m);
      expect(u).toEqual(m);
      expect(u).not.toBe(m); // replaced, not changed in place (an in-flight batch may hold the old object)
    }
  });
});
