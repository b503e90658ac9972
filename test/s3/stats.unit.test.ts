import { S3Stats } from '../../src/s3/stats.js';

test('failures are counted by operation and code, with at most 100 distinct pairs (the rest as "(other)")', () => {
  const s = new S3Stats();
  s.failed('upload', 'SlowDown');
  s.failed('upload', 'SlowDown');
  s.failed('download', 'NoSuchKey');
  expect(s.failures()).toEqual([{ op: 'upload', code: 'SlowDown', count: 2 }, { op: 'download', code: 'NoSuchKey', count: 1 }]);
  for (let i = 0; i < 200; i++) s.failed('head', `Code${i}`);
  const all = s.failures();
  expect(all.length).toBe(101); // 100 named pairs and one "(other)"
  expect(all.find((f) => f.code === '(other)')).toEqual({ op: 'head', code: '(other)', count: 102 });
  expect(s.failureTotal()).toBe(203);
});
