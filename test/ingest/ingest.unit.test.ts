/**
 * The ingest seam on its own, as the SQS-API door and the worker side will use it: a real
 * pipeline and resolver against the fake SQS, no HTTP.
 */
import { Pipeline } from '../../src/delivery/pipeline.js';
import { MemoryStore, type MessageStore } from '../../src/delivery/store.js';
import { isDaemonError } from '../../src/errors.js';
import { Ingest, type IngestEntry } from '../../src/ingest/index.js';
import { createLogger } from '../../src/log.js';
import { SqsClient } from '../../src/sqs/client.js';
import { staticCredentials } from '../../src/sqs/credentials.js';
import { QueueResolver } from '../../src/sqs/resolver.js';
import { type FakeSqs, startFakeSqs } from '../support/fake-sqs.js';

const log = createLogger('silent');
const creds = staticCredentials({ accessKeyId: 'AKIDINGEST', secretAccessKey: 'ingest-secret' });

let fake: FakeSqs;
let client: SqsClient;

beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['plain', 'orders.fifo'] });
  client = new SqsClient({ endpoint: fake.endpoint, region: 'us-east-1', connections: 4 });
});
afterAll(async () => {
  await client.close();
  await fake.close();
});

function build(options: { store?: MessageStore; maxBacklogMessages?: number; maxBacklogBytes?: number; fifoDefaultGroupId?: string } = {}): { ingest: Ingest; pipeline: Pipeline } {
  const resolver = new QueueResolver(client, { maxMessageBytes: 1_048_576 });
  const pipeline = new Pipeline(
    client,
    options.store ?? new MemoryStore(log),
    { lingerMs: 1, maxConcurrency: 4, maxBacklogMessages: options.maxBacklogMessages ?? 1000, maxBacklogBytes: options.maxBacklogBytes ?? 1 << 24, retryBaseMs: 5, retryMaxMs: 20, maxMessageAgeMs: 0 },
    log,
    resolver,
  );
  return { ingest: new Ingest({ pipeline, resolver, log, ...(options.fifoDefaultGroupId ? { fifoDefaultGroupId: options.fifoDefaultGroupId } : {}) }), pipeline };
}

async function rejection(p: Promise<unknown>): Promise<{ code: string; status: number; cause?: unknown; retryAfterSeconds?: number }> {
  try {
    await p;
  } catch (err) {
    expect(isDaemonError(err)).toBe(true);
    return err as { code: string; status: number };
  }
  throw new Error('expected a rejection');
}

it('returns one result per entry, in order, and delivers the accepted ones', async () => {
  const { ingest, pipeline } = build();
  const dest = await ingest.destination(creds, 'plain');
  const entries: IngestEntry[] = [
    { input: { body: 'one' } },
    { error: { code: 'MalformedJson', message: 'line 2 is not valid JSON', status: 400 } },
    { input: { body: '' } },
    { input: { body: 'two', delaySeconds: 901 } },
    { input: { body: 'three', attributes: { kind: 'k' } } },
  ];
  const results = await ingest.send(dest, entries);
  expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['ok', 'MalformedJson', 'EmptyBody', 'InvalidDelay', 'ok']);
  expect(results[3]).toMatchObject({ ok: false, error: { status: 400, field: 'delaySeconds' } });
  const accepted = results.filter((r) => r.ok);
  expect(new Set(accepted.map((r) => r.id)).size).toBe(2);
  // The message as it will be sent: attributes normalised (what an SQS-API door computes MD5s over).
  expect(accepted[1]).toMatchObject({ message: { body: 'three', attributes: { kind: { DataType: 'String', StringValue: 'k' } } } });
  await pipeline.idle();
  expect(fake.bodies('plain').slice(-2)).toEqual(['one', 'three']);
  await pipeline.close(1000);
});

it('FIFO: a stable deduplication id is generated, and the default group applies when configured', async () => {
  const without = build();
  const dest = await without.ingest.destination(creds, 'orders.fifo');
  const [refused] = await without.ingest.send(dest, [{ input: { body: 'no group' } }]);
  expect(refused).toMatchObject({ ok: false, error: { code: 'MissingGroupId' } });
  await without.pipeline.close(1000);

  const withDefault = build({ fifoDefaultGroupId: 'g0' });
  const d2 = await withDefault.ingest.destination(creds, 'orders.fifo');
  const [ok] = await withDefault.ingest.send(d2, [{ input: { body: 'grouped by default' } }]);
  expect(ok).toMatchObject({ ok: true });
  await withDefault.pipeline.idle();
  const last = fake.messages('orders.fifo').at(-1);
  expect(last).toMatchObject({ body: 'grouped by default', groupId: 'g0', dedupId: ok?.ok ? ok.id : 'none' });
  await withDefault.pipeline.close(1000);
});

it('destination: typed errors a door can map to its own wire format', async () => {
  const { ingest, pipeline } = build();
  expect(await rejection(ingest.destination(creds, 'bad name!'))).toMatchObject({ code: 'InvalidQueueName', status: 400 });
  const missing = await rejection(ingest.destination(creds, 'no-such-queue'));
  expect(missing).toMatchObject({ code: 'QueueDoesNotExist', status: 404 });
  // The SQS error behind it is kept (its own code and request id), for doors that relay SQS's codes.
  expect(missing.cause).toMatchObject({ name: 'SqsError', queueMissing: true, requestId: expect.any(String) });
  await pipeline.close(1000);
});

it('rejects the whole send with BacklogFull, SpoolFull or SpoolUnavailable when nothing can be accepted', async () => {
  const full = build({ maxBacklogMessages: 2 });
  const dest = await full.ingest.destination(creds, 'plain');
  fake.down = true; // the backlog stays full
  try {
    expect((await full.ingest.send(dest, [{ input: { body: 'a' } }, { input: { body: 'b' } }])).every((r) => r.ok)).toBe(true);
    expect(await rejection(full.ingest.send(dest, [{ input: { body: 'c' } }]))).toMatchObject({ code: 'BacklogFull', status: 503, retryAfterSeconds: 1 });
    // More than the backlog could ever hold: 413, not a 503 inviting a retry that cannot work.
    expect(await rejection(full.ingest.send(dest, [{ input: { body: 'x' } }, { input: { body: 'y' } }, { input: { body: 'z' } }]))).toMatchObject({ code: 'BatchTooLarge', status: 413 });
  } finally {
    fake.down = false;
  }
  await full.pipeline.close(1000);

  class FailingStore extends MemoryStore {
    constructor(private readonly code: string) {
      super(log);
    }
    override append(): void {
      throw Object.assign(new Error(`append failed (${this.code})`), { code: this.code });
    }
  }
  for (const [code, expected] of [['ESPOOLFULL', 'SpoolFull'], ['ESPOOLWRITE', 'SpoolUnavailable']] as const) {
    const b = build({ store: new FailingStore(code) });
    const d = await b.ingest.destination(creds, 'plain');
    const e = await rejection(b.ingest.send(d, [{ input: { body: 'x' } }]));
    expect(e).toMatchObject({ code: expected, status: 503, retryAfterSeconds: 5, cause: { code } });
    expect(b.pipeline.backlogMessages).toBe(0);
    await b.pipeline.close(1000);
  }
});

it('a batch with no valid entry appends nothing', async () => {
  const { ingest, pipeline } = build();
  const dest = await ingest.destination(creds, 'plain');
  const before = (fake.stats.byAction.SendMessageBatch ?? 0);
  const results = await ingest.send(dest, [{ input: { body: 1 } }, { input: {} }]);
  expect(results.map((r) => (r.ok ? 'ok' : r.error.code))).toEqual(['BodyNotString', 'EmptyBody']);
  expect(pipeline.totals.accepted).toBe(0);
  expect((fake.stats.byAction.SendMessageBatch ?? 0)).toBe(before);
  await pipeline.close(1000);
});

it('keeps an entry\'s trace header (the SQS API\'s AWSTraceHeader) with the message, outside its size', async () => {
  const { ingest, pipeline } = build();
  const dest = await ingest.destination(creds, 'plain');
  const [traced, plain] = await ingest.send(dest, [{ input: { body: 'traced' }, traceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793' }, { input: { body: 'plain' } }]);
  expect(traced).toMatchObject({ ok: true, message: { body: 'traced', traceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793' } });
  expect(plain?.ok && 'traceHeader' in plain.message).toBe(false);
  await pipeline.idle();
  expect(fake.bodies('plain')).toContain('traced');
  await pipeline.close(1000);
});

it('one message alone (its own path, issue 14) gets what the batch loop gives the same entry', async () => {
  const { ingest, pipeline } = build({ fifoDefaultGroupId: 'dflt' });
  const plain = await ingest.destination(creds, 'plain');
  const fifo = await ingest.destination(creds, 'orders.fifo');
  const id = 'own-id-1';
  const cases: Array<[typeof plain, IngestEntry, { trace?: { traceparent: string } }]> = [
    [plain, { input: { body: 'plain' } }, {}],
    [plain, { input: { body: 'attrs', attributes: { kind: 'k' }, delaySeconds: 3 } }, {}],
    [plain, { input: { body: 'traced' }, traceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793' }, {}],
    [plain, { input: { body: 'w3c' } }, { trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } }],
    [plain, { input: { body: 'aws', awsTraceHeader: 'Root=1-5759e988-bd862e3fe1be46a994272793' } }, {}],
    [plain, { input: { body: '' } }, {}],
    [plain, { input: { body: 'x', delaySeconds: 901 } }, {}],
    [plain, { error: { code: 'MalformedJson', message: 'not JSON', status: 400 } }, {}],
    [fifo, { input: { body: 'grouped', groupId: 'g1' } }, {}],
    [fifo, { input: { body: 'default group' } }, {}],
  ];
  const strip = (r: unknown): unknown => {
    const { id: _id, ...rest } = r as { id?: string };
    if ((rest as { message?: { dedupId?: string } }).message?.dedupId !== undefined) (rest as { message: { dedupId?: string } }).message.dedupId = '(generated)';
    return rest;
  };
  for (const [dest, entry, context] of cases) {
    const [alone] = await ingest.send(dest, [entry], context);
    const [inLoop] = await ingest.send(dest, [entry, { input: { body: 'filler', groupId: 'g1' } }], context);
    expect(strip(alone)).toEqual(strip(inLoop));
  }
  // An id the door gave is kept.
  const [own] = await ingest.send(plain, [{ input: { body: 'own id' }, id }]);
  expect(own).toMatchObject({ ok: true, id });
  await pipeline.idle();
  expect(fake.bodies('plain')).toEqual(expect.arrayContaining(['plain', 'attrs', 'traced', 'w3c', 'aws', 'own id']));
  await pipeline.close(1000);

  // One message larger than the whole backlog could ever hold: 413, as for a batch.
  const small = build({ maxBacklogBytes: 10 });
  const d = await small.ingest.destination(creds, 'plain');
  expect(await rejection(small.ingest.send(d, [{ input: { body: 'more than ten bytes' } }]))).toMatchObject({ code: 'BatchTooLarge', status: 413 });
  expect(small.pipeline.backlogMessages).toBe(0);
  await small.pipeline.close(1000);
});
