/**
 * A worker whose credentials are "chain" spools its replies without credentials (the chain is
 * the daemon's, never written to disk). In pass-through mode such a reply, still in the spool at
 * a kill -9, must go out after the restart: the chain is made before recovery when a worker uses
 * it. Found by test/worker/crash.test.ts failing when the kill landed while replies were spooled;
 * this test makes that moment deterministic by writing the spool the first daemon would leave.
 */
import { CreateQueueCommand, DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { createServer, type Server } from 'node:http';
import { createDaemon, type Daemon } from '../../src/daemon/index.js';
import { loadConfig } from '../../src/config.js';
import { providerCredentials } from '../../src/sqs/credentials.js';
import type { Destination } from '../../src/sqs/resolver.js';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { captureLog, makeEnvelope, openSpool, passThrough, removeDir, tempDir } from '../support/spool-harness.js';

const CREDS = { accessKeyId: 'AKIDCHAINWORKER', secretAccessKey: 'chain/worker+secret' };
let emulator: Emulator;
let sqs: SQSClient;
let app: Server;
let appUrl: string;
let dir: string;
let daemon: Daemon | undefined;

beforeAll(async () => {
  emulator = await startEmulator();
  sqs = new SQSClient({ endpoint: emulator.endpoint, region: 'us-east-1', credentials: CREDS });
  app = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  });
  await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
  const a = app.address() as { port: number };
  appUrl = `http://127.0.0.1:${a.port}/`;
});

afterAll(async () => {
  await daemon?.stop();
  await new Promise<void>((r) => app.close(() => r()));
  sqs.destroy();
  await emulator.close();
  removeDir(dir);
});

async function receiveAll(queueUrl: string, want: number): Promise<string[]> {
  const got: string[] = [];
  const deadline = Date.now() + 20_000;
  while (got.length < want && Date.now() < deadline) {
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    for (const m of r.Messages ?? []) got.push(m.Body as string);
    if (r.Messages?.length) await sqs.send(new DeleteMessageBatchCommand({ QueueUrl: queueUrl, Entries: r.Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle as string })) }));
  }
  return got;
}

it('replies a chain worker spooled before a kill -9 are sent after a restart in pass-through mode', async () => {
  await sqs.send(new CreateQueueCommand({ QueueName: 'chain-tasks' }));
  const replies = (await sqs.send(new CreateQueueCommand({ QueueName: 'chain-replies' }))).QueueUrl as string;
  dir = tempDir('chain-replies');

  // What the killed daemon left: two replies accepted for the reply queue, signed with the chain.
  const { spool } = openSpool(dir);
  spool.recover(passThrough);
  const chain = providerCredentials(async () => ({ ...CREDS }));
  const dest: Destination = Object.freeze({ key: `${chain.key}\0chain-replies`, queueName: 'chain-replies', queueUrl: replies, limits: { fifo: false, maxMessageBytes: 1_048_576, contentBasedDedup: false }, credentials: chain });
  spool.append([makeEnvelope(dest, 'reply:a'), makeEnvelope(dest, 'reply:b')]);
  await spool.close();

  // The restart: pass-through (the default), one worker with the default credentials ("chain").
  const config = loadConfig(
    ['--port', '0', '--host', '127.0.0.1', '--retry-base-ms', '5', '--retry-max-ms', '50', '--spool-dir', dir, '--worker', `chain-tasks=${appUrl}`, '--worker-reply-queue', 'chain-replies', '--worker-wait-time', '1'],
    { SQS_ACCELERATOR_ENDPOINT: emulator.endpoint },
  );
  const { logs, log } = captureLog('info');
  daemon = await createDaemon({ config, log, credentialProvider: async () => ({ ...CREDS }) }).start();

  expect((await receiveAll(replies, 2)).sort()).toEqual(['reply:a', 'reply:b']);
  expect(logs.find('credentials are not available')).toEqual([]);
}, 60_000);
