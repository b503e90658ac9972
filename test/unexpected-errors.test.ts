/**
 * A bug is seen, not relabelled: answered 500 InternalError (nothing of it shown), logged with
 * its stack, counted in sqs_accelerator_unexpected_errors_total. On the delivery side the batch
 * is kept and retried.
 */
import { request } from 'undici';
import { loadConfig } from '../src/config.js';
import { Pipeline } from '../src/delivery/pipeline.js';
import { MemoryStore } from '../src/delivery/store.js';
import { Ingest } from '../src/ingest/index.js';
import { createLogger } from '../src/log.js';
import { createDaemon } from '../src/daemon/index.js';
import { Metrics } from '../src/metrics.js';
import { SqsClient } from '../src/sqs/client.js';
import { staticCredentials } from '../src/sqs/credentials.js';
import { QueueResolver } from '../src/sqs/resolver.js';
import { AUTH, LogCapture } from './support/daemon.js';
import { type FakeSqs, startFakeSqs } from './support/fake-sqs.js';

let fake: FakeSqs;
beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['q'] });
});
afterAll(() => fake.close());

it('HTTP: a bug in a route answers 500 InternalError, is logged with its stack and counted', async () => {
  class BuggyStore extends MemoryStore {
    get deadLetters(): never {
      throw new TypeError('bug: secret-free but internal detail');
    }
  }
  const logs = new LogCapture();
  const log = createLogger('info', { write: (s: string) => logs.write(s) });
  const config = loadConfig(['--port', '0', '--host', '127.0.0.1'], { SQS_ACCELERATOR_ENDPOINT: fake.endpoint });
  const daemon = await createDaemon({ config, log, store: new BuggyStore(log) }).start();
  try {
    const r = await request(`${daemon.url}/dead-letters`, { headers: { authorization: AUTH, accept: 'application/json' } });
    const body = (await r.body.json()) as { error: { code: string; message: string } };
    expect([r.statusCode, body.error.code]).toEqual([500, 'InternalError']);
    expect(body.error.message).not.toContain('internal detail');
    const [line] = logs.find('unexpected error while serving a request');
    expect(line).toMatchObject({ level: 'error', path: '/dead-letters', err: { name: 'TypeError', stack: expect.stringContaining('BuggyStore') } });
    const metrics = await (await request(`${daemon.url}/metrics`)).body.text();
    expect(metrics).toMatch(/^sqs_accelerator_unexpected_errors_total\{where="http"\} 1$/m);
  } finally {
    await daemon.stop();
  }
});

it('delivery: a bug while sending is UnexpectedError (not CredentialsUnavailable), logged with its stack; the message is kept and delivered', async () => {
  const logs = new LogCapture();
  const log = createLogger('info', { write: (s: string) => logs.write(s) });
  const client = new SqsClient({ endpoint: fake.endpoint, region: 'us-east-1', connections: 2 });
  let failures = 1;
  const buggy = Object.create(client, {
    sendMessageBatch: {
      value: (...args: Parameters<SqsClient['sendMessageBatch']>) => {
        if (failures-- > 0) throw new RangeError('bug in the client');
        return client.sendMessageBatch(...args);
      },
    },
  }) as SqsClient;
  const metrics = new Metrics({ processMetrics: false });
  const resolver = new QueueResolver(client, { maxMessageBytes: 1_048_576 });
  const store = new MemoryStore(log);
  const pipeline = new Pipeline(buggy, store, { lingerMs: 1, maxConcurrency: 2, maxBacklogMessages: 100, maxBacklogBytes: 1 << 20, retryBaseMs: 5, retryMaxMs: 10, maxMessageAgeMs: 0 }, log, resolver, metrics.observer);
  const ingest = new Ingest({ pipeline, resolver, log });
  const dest = await ingest.destination(staticCredentials({ accessKeyId: 'AKIDBUG', secretAccessKey: 's' }), 'q');
  const [result] = await ingest.send(dest, [{ input: { body: 'survives a bug' } }]);
  expect(result?.ok).toBe(true);
  await pipeline.idle();
  expect(fake.bodies('q')).toContain('survives a bug');
  expect(pipeline.totals).toMatchObject({ sent: 1, retried: 1, deadLettered: 0 });
  const [line] = logs.find('unexpected error while sending a batch');
  expect(line).toMatchObject({ level: 'error', queue: 'q', err: { name: 'RangeError', stack: expect.stringContaining('bug in the client') } });
  expect(logs.raw.join('\n')).not.toContain('CredentialsUnavailable');
  expect(await metrics.render()).toMatch(/^sqs_accelerator_unexpected_errors_total\{where="delivery"\} 1$/m);
  await pipeline.close(1000);
  await client.close();
});
