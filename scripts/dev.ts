/**
 * `npm start`: the daemon against an embedded fauxqs SQS emulator, for trying it out.
 * Says loudly that it is an emulator; the real CLI never falls back to one.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from 'fauxqs';
import { loadConfig } from '../src/config.js';
import { installSignalHandlers } from '../src/cli.js';
import { createDaemon } from '../src/index.js';
import { loginLines } from './dev-banner.js';

const emulator = buildApp({ logger: false });
const endpoint = await emulator.listen({ host: '127.0.0.1', port: 0 });
// Demo queues, created through the emulator's own API.
for (const [name, attrs] of [['demo', {}], ['demo.fifo', { FifoQueue: 'true', ContentBasedDeduplication: 'false' }]] as const) {
  await fetch(`${endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amz-target': 'AmazonSQS.CreateQueue', authorization: 'AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0' },
    body: JSON.stringify({ QueueName: name, Attributes: attrs }),
  });
}
// The emulator forgets everything when this process ends, so the spool does too: a temporary one.
const spoolDir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-dev-'));
const config = loadConfig(process.argv.slice(2), { ...process.env, SQS_ACCELERATOR_ENDPOINT: endpoint, SQS_ACCELERATOR_REGION: 'us-east-1', SQS_ACCELERATOR_SPOOL_DIR: spoolDir });
const daemon = await createDaemon({ config }).start();
process.stdout.write(
  [
    '',
    `  sqs-accelerator is running at ${daemon.url}`,
    `  UPSTREAM IS AN EMBEDDED LOCAL SQS EMULATOR (fauxqs) at ${endpoint}, not Amazon SQS.`,
    `  Queues and messages live in this process only (spool: ${spoolDir}, removed at exit).`,
    '  For real SQS run: npx sqs-accelerator --region <region>',
    ...loginLines(config, daemon.url),
    '',
  ].join('\n'),
);
installSignalHandlers(async () => {
  await daemon.stop();
  await emulator.close();
  rmSync(spoolDir, { recursive: true, force: true });
});
