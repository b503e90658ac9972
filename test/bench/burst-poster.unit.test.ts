/**
 * bench/lib/burst-poster.ts: which entries of the mid-run batch's answer count as acknowledged
 * (each is then looked for in the fake SQS).
 */
import { ackedOf } from '../../bench/lib/burst-poster.js';

test('every entry when the answer says all were accepted, or lists no results', () => {
  expect(ackedOf(JSON.stringify({ accepted: 3, results: [{ id: 'a' }, { id: 'b' }, { id: 'c' }] }), 3)).toBe('all');
  expect(ackedOf(JSON.stringify({ accepted: 3 }), 3)).toBe('all');
});

test('only the entries with an id when some were refused', () => {
  const answer = { accepted: 2, results: [{ id: 'a' }, { error: { code: 'InvalidMessage' } }, { id: 'c' }] };
  expect(ackedOf(JSON.stringify(answer), 3)).toEqual([0, 2]);
});
