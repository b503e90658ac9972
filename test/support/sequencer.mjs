/**
 * The order jest starts test files in (jest.config.js `testSequencer`). Order only: every file
 * still runs once, in a worker of its own choosing; a stale list below costs time, never a test.
 *
 * With two workers the run ends when the later worker does, so the long files should start
 * first and the short ones fill the end. Jest's own order does that from the durations it
 * cached on an earlier run, but CI runs from a fresh clone with no cache, and then jest orders
 * by file size: test/v8-flags.test.ts (38 lines, ~35 s of child processes) started last and ran
 * alone for its last ~28 s. So, for files with no cached duration: the files listed here first
 * (each took 20 s or more in a fresh-clone CI run), then the rest of the integration tier by size,
 * then the unit tier (a second or less a file) by size. Files with a cached duration keep jest's
 * order (failed first, then longest first), after the files without one, as jest places them.
 */
import { relative } from 'node:path';
import Sequencer from '@jest/test-sequencer';

/** Longest first, as measured in CI from a fresh clone (2026-12-03, one worker: 64 s down to 21 s). */
const SLOW = [
  'test/ops/deb.test.ts',
  'test/integration/load.test.ts',
  'test/v8-flags.test.ts',
  'test/spool/crash.test.ts',
  'test/e2e/ui-flows.test.ts',
  'test/sqsapi/sqs-python.test.ts',
  'test/ops/tarball.test.ts',
  'test/ops/systemd.test.ts',
  'test/http/fuzz.test.ts',
];

const Base = Sequencer.default ?? Sequencer;

export default class SlowFirst extends Base {
  sort(tests) {
    const sorted = super.sort(tests);
    const rank = (test) => {
      if (this.time(test) != null) return 3; // jest knows its duration: its own order, after the rest
      const i = SLOW.indexOf(relative(test.context.config.rootDir, test.path));
      if (i >= 0) return i / SLOW.length;
      return test.path.endsWith('.unit.test.ts') ? 2 : 1;
    };
    // Array.prototype.sort is stable: within a rank, jest's order (by size, or by duration) stays.
    return sorted.map((test) => ({ test, r: rank(test) })).sort((a, b) => a.r - b.r).map(({ test }) => test);
  }
}
