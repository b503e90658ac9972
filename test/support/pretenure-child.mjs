// Child process of test/v8-flags.test.ts: the daemon of the build in argv[2], in this process,
// SQS unreachable, 60,000 messages of 200 bytes in batches of 100 through its ingest step (the
// first 10,000 held in memory, the rest paged out to the spool, as in the bench's backlog burst).
// With argv[3] === 'apply' the command line's V8 flags are set first. Run it under
// --trace-pretenuring: V8 prints its allocation-site decisions ("=> tenure") on stdout.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const [, , build, mode] = process.argv;
if (mode === 'apply') (await import(join(build, 'dist/src/v8-flags.js'))).applyDaemonV8Flags();
const { createDaemon } = await import(join(build, 'dist/src/index.js'));
const dir = mkdtempSync(join(tmpdir(), 'pretenure-child-'));
process.env.AWS_ACCESS_KEY_ID = 'AKIDPRETENURE';
process.env.AWS_SECRET_ACCESS_KEY = 'not-a-secret';
const d = createDaemon({ config: { host: '127.0.0.1', port: 0, endpoint: 'http://127.0.0.1:1', spoolDir: dir, credentials: 'chain', logLevel: 'silent', retryMaxMs: 60_000 } });
try {
  await d.start();
  const { ingest, auth } = d.deps;
  const dest = await ingest.destination(auth.daemonCredentials, 'pretenure');
  const pad = 'x'.repeat(180);
  for (let sent = 0; sent < 60_000; sent += 100) {
    const entries = [];
    for (let i = 0; i < 100; i++) entries.push({ input: { body: `${pad}${String(sent + i).padStart(20, '0')}` } });
    const results = await ingest.send(dest, entries);
    if (!results.every((r) => r.ok)) throw new Error(`refused: ${JSON.stringify(results.find((r) => !r.ok))}`);
  }
  console.log('sent 60000');
} finally {
  await d.close();
  rmSync(dir, { recursive: true, force: true });
}
