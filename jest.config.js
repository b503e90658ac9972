/** Jest runs the TypeScript sources directly (SWC strips types) as native ESM:
 * fauxqs is ESM-only, so the suite runs with --experimental-vm-modules (see package.json). */
export default {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2023' }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  testTimeout: 60000,
  // Inside the checkout (git-ignored), never a temp-dir path another checkout could own.
  cacheDirectory: '<rootDir>/node_modules/.cache/jest',
  // A handle leaked by a future test must not hang CI for its 90 minutes after every test has
  // passed; `--detectOpenHandles` finds none today, so this only changes how a leak fails.
  forceExit: true,
};
