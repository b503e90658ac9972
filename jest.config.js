/** Jest runs the TypeScript sources directly (SWC strips types) as native ESM:
 * fauxqs is ESM-only, so the suite runs with --experimental-vm-modules (see package.json).
 *
 * Two tiers, told apart by the file name alone, so every test file is in exactly one:
 * - `unit`: files named `*.unit.test.ts`. One module (or a few) through its API, with fakes
 *   in-process (loopback only); no child process, no browser, no fauxqs, no daemon started
 *   (startDaemon/startTestDaemon belong in the other tier). `npm run test:unit` runs only these,
 *   in ~22 s on 2 cores. Here `child_process` functions throw when called, and
 *   importing fauxqs or playwright-core fails, so a test that breaks the rule cannot pass here.
 * - `integration`: every other `*.test.ts` (the daemon end to end, fauxqs, the built CLI as a
 *   child process, headless Chromium, systemd).
 * `npm test` runs both projects, each file once. README "Tests" says the same. */
import { availableParallelism } from 'node:os';

const shared = {
  rootDir: import.meta.dirname,
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testTimeout: 60000,
  // Inside the checkout (git-ignored), never a temp-dir path another checkout could own.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
};

const UNIT = '\\.unit\\.test\\.ts$';
const forbidden = (name) => `<rootDir>/test/support/unit-tier/${name}.cjs`;

export default {
  projects: [
    {
      ...shared,
      displayName: 'unit',
      testRegex: `/test/.*${UNIT}`,
      // A unit test that hangs (a fake timer never advanced) fails in seconds, not a minute.
      testTimeout: 10000,
      moduleNameMapper: {
        ...shared.moduleNameMapper,
        '^(node:)?child_process$': forbidden('no-processes'),
        '^(fauxqs|playwright-core)(/.*)?$': forbidden('no-emulator-or-browser'),
      },
    },
    {
      ...shared,
      displayName: 'integration',
      testRegex: '/test/.*\\.test\\.ts$',
      testPathIgnorePatterns: ['/node_modules/', UNIT],
    },
  ],
  testTimeout: 60000,
  // At least two workers. Jest's default (cores - 1) is one on a 2-core machine, and one worker runs
  // the 159 files one after another while most integration files mostly wait on child processes,
  // sockets and timers; a second worker fills those waits.
  maxWorkers: Math.max(2, availableParallelism() - 1),
  // The long files first, so the short ones fill the end (a fresh clone has no cached durations).
  testSequencer: '<rootDir>/test/support/sequencer.mjs',
  // A handle leaked by a future test must not hang CI for its 90 minutes after every test has
  // passed; `--detectOpenHandles` finds none today, so this only changes how a leak fails.
  forceExit: true,
};
