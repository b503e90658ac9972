import { option, takeNumber } from '../../bench/lib/args.js';
import { abuseBatchLines } from '../../bench/lib/bodies.js';

it('takes a numeric option and its value out of the arguments, leaving the positional ones', () => {
  const args = ['p.cpuprofile', '--from', '2.5', 'fn', '--to', '9'];
  expect(takeNumber(args, '--from')).toBe(2.5);
  expect(takeNumber(args, '--to')).toBe(9);
  expect(takeNumber(args, '--to')).toBeUndefined();
  expect(args).toEqual(['p.cpuprofile', 'fn']);
});

it('reads a string option, the default when absent or given no value, and leaves the arguments as they are', () => {
  const args = ['--batches', '3', '--keep'];
  expect(option(args, '--batches', '1')).toBe('3');
  expect(option(args, '--top', '25')).toBe('25');
  expect(option(args, '--keep', '')).toBe(''); // the last word: no value after it
  expect(args).toEqual(['--batches', '3', '--keep']);
});

it("the abuse bench's batch: 10,000 unique JSON entries by default, the same text for every tool", () => {
  const lines = abuseBatchLines();
  expect(lines).toHaveLength(10_000);
  expect(JSON.parse(lines[42] as string)).toEqual({ body: `abuse-42-${'b'.repeat(100)}` });
  expect(new Set(lines).size).toBe(10_000);
  expect(abuseBatchLines(3)).toEqual(lines.slice(0, 3));
});
