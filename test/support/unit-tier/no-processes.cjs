// The unit tier (*.unit.test.ts, see jest.config.js) maps child_process here (node_modules
// included): importing it is harmless (test helpers import spawn for other tiers), using it
// fails with this message. Name a test that needs a process *.test.ts instead.
'use strict';
const refuse = (name) =>
  function refused() {
    throw new Error(`${name}() is not allowed in the unit tier (*.unit.test.ts runs no child processes); name the test file *.test.ts`);
  };
for (const name of ['spawn', 'spawnSync', 'exec', 'execSync', 'execFile', 'execFileSync', 'fork', 'ChildProcess']) {
  exports[name] = refuse(name);
}
