import { takeNumber } from '../../bench/lib/args.js';

it('takes a numeric option and its value out of the arguments, leaving the positional ones', () => {
  const args = ['p.cpuprofile', '--from', '2.5', 'fn', '--to', '9'];
  expect(takeNumber(args, '--from')).toBe(2.5);
  expect(takeNumber(args, '--to')).toBe(9);
  expect(takeNumber(args, '--to')).toBeUndefined();
  expect(args).toEqual(['p.cpuprofile', 'fn']);
});
