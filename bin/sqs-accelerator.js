#!/usr/bin/env node
// Thin entry: the compiled CLI lives in dist/ (built by `npm run build`, run by `npm ci` and
// `npm pack`). The Node version is checked first, before anything is imported: on an older
// Node the daemon's code fails with an error that names neither the cause nor the fix. This
// file therefore uses only syntax old Nodes parse, and imports the CLI dynamically.
// Supported: what package.json's "engines" says (test/ops/package.test.ts keeps them equal).
var SUPPORTED = '22.13+ or 24';
var v = process.versions.node.split('.').map(Number);
if (!((v[0] === 22 && v[1] >= 13) || v[0] === 24)) {
  process.stderr.write(
    'sqs-accelerator: needs Node.js ' + SUPPORTED + '; this is Node.js ' + process.versions.node + ' (' + process.execPath + ').\n' +
      'Install a supported Node.js first on PATH, or use the Debian package, which brings its own.\n',
  );
  process.exit(2); // like bad configuration: restarting cannot help (the unit's RestartPreventExitStatus=2)
}

import('../dist/src/cli.js')
  .then(function (cli) {
    return cli.main(process.argv.slice(2), process.env);
  })
  .catch(function (err) {
    process.stderr.write('sqs-accelerator: ' + ((err && err.stack) || err) + '\n');
    process.exit(1);
  });
