/**
 * The dead-letter store: what the spool writes when SQS refuses a message for good, and how
 * it is listed, read and removed, per owner in pass-through mode, never showing a secret.
 */
import { jest } from '@jest/globals';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bodyOf, type Envelope } from '../../src/delivery/envelope.js';
import { providerCredentials } from '../../src/sqs/credentials.js';
import type { Destination } from '../../src/sqs/resolver.js';
import { COUNT_REFRESH_MS, DeadLetterDir } from '../../src/spool/dead-letters.js';
import type { Spool } from '../../src/spool/spool.js';
import { CREDS, makeDest, makeEnvelope, openSpool, passThrough, removeDir, tempDir } from '../support/spool-harness.js';

let dir: string;
let spool: Spool;

beforeEach(() => {
  dir = tempDir('dead-letters');
  spool = openSpool(dir).spool;
  spool.recover(passThrough);
});
afterEach(async () => {
  await spool.close();
  removeDir(dir);
});

const ALICE = { accessKeyId: 'AKIDALICE', secretAccessKey: 'alice-secret-1234' };
const BOB = { accessKeyId: 'AKIDBOB', secretAccessKey: 'bob-secret-5678' };

/** Appends `envs` and dead-letters them; resolves once their letters are kept (written in libuv's pool). */
async function kill(envs: Envelope[], code: string, attempts = 3): Promise<void> {
  const t = Date.now();
  for (const e of envs) {
    e.attempts = attempts;
    e.tries = { firstAt: t - 1000, lastAt: t };
  }
  spool.append(envs);
  await spool.deadLettered(envs, { code, message: `${code}: refused` });
}

it('writes one file per letter with queue, message, error code, attempts and times; lists them oldest first', async () => {
  const orders = makeDest('orders', ALICE);
  const fifo = makeDest('orders.fifo', ALICE, { fifo: true, maxMessageBytes: 262_144, contentBasedDedup: false });
  const e1 = makeEnvelope(orders, { body: 'one', attributes: { a: { DataType: 'String', StringValue: 'x' } }, delaySeconds: 3 }, 1_700_000_000_000);
  const e2 = makeEnvelope(fifo, { body: 'two', groupId: 'g', dedupId: 'd' }, 1_700_000_000_001);
  await kill([e1], 'QueueDoesNotExist', 1);
  await kill([e2], 'InvalidMessageContents', 4);
  const dl = spool.deadLetters;
  expect(dl.count()).toBe(2);
  expect(spool.info().deadLetters).toBe(2);
  const { total, items } = dl.list();
  expect(total).toBe(2);
  expect(items.map((i) => i.id)).toEqual([e1.id, e2.id]);
  expect(items[0]).toMatchObject({
    id: e1.id,
    queueName: 'orders',
    accessKeyId: ALICE.accessKeyId,
    body: 'one',
    attributes: { a: { DataType: 'String', StringValue: 'x' } },
    delaySeconds: 3,
    code: 'QueueDoesNotExist',
    reason: 'QueueDoesNotExist: refused',
    attempts: 1,
    acceptedAt: 1_700_000_000_000,
    firstAttemptAt: expect.any(Number),
    lastAttemptAt: expect.any(Number),
    deadAt: expect.any(Number),
  });
  expect(items[1]).toMatchObject({ queueName: 'orders.fifo', groupId: 'g', dedupId: 'd', code: 'InvalidMessageContents', attempts: 4 });
  expect(dl.get(e2.id)).toEqual(items[1]);
  // Replay needs the queue URL and the credentials: load() has them, the public views do not.
  expect(dl.load(e1.id)).toMatchObject({ queueUrl: orders.queueUrl, credentials: ALICE });
  expect(dl.ids()).toEqual([e1.id, e2.id]);
  expect(dl.ids('orders.fifo')).toEqual([e2.id]);
});

it('never shows a secret in list() or get(), and filters by owner (same key id with another secret sees nothing)', async () => {
  await kill([makeEnvelope(makeDest('q', ALICE), 'a1'), makeEnvelope(makeDest('q', ALICE), 'a2')], 'AccessDenied');
  await kill([makeEnvelope(makeDest('q', BOB), 'b1')], 'AccessDenied');
  const chain = providerCredentials(async () => ({ ...CREDS }));
  const chainDest: Destination = Object.freeze({ key: 'chain\0q', queueName: 'q', queueUrl: 'http://127.0.0.1:1/000000000000/q', limits: { fifo: false, maxMessageBytes: 1_048_576, contentBasedDedup: false }, credentials: chain });
  await kill([makeEnvelope(chainDest, 'c1')], 'AccessDenied');
  const dl = spool.deadLetters;

  const everything = JSON.stringify([dl.list(), ...dl.ids().map((id) => dl.get(id))]);
  for (const secret of [ALICE.secretAccessKey, BOB.secretAccessKey, CREDS.secretAccessKey]) expect(everything).not.toContain(secret);
  expect(everything).not.toContain('"credentials"');
  expect(everything).not.toContain('queueUrl');

  expect(dl.list({ owner: ALICE }).items.map((i) => i.body)).toEqual(['a1', 'a2']);
  expect(dl.list({ owner: BOB }).items.map((i) => i.body)).toEqual(['b1']);
  expect(dl.list({ owner: { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'wrong' } })).toEqual({ total: 0, items: [] });
  expect(dl.list({ owner: { accessKeyId: ALICE.accessKeyId, secretAccessKey: `${ALICE.secretAccessKey}x` } }).total).toBe(0);
  // The daemon's own credentials are stored as null: accessKeyId null, owned by no client pair.
  const chainLetter = dl.list().items.find((i) => i.body === 'c1');
  expect(chainLetter?.accessKeyId).toBeNull();
  expect(dl.load(chainLetter?.id as string)?.credentials).toBeNull();
  expect(dl.list({ owner: CREDS }).total).toBe(0);

  const bobId = dl.list({ owner: BOB }).items[0]?.id as string;
  expect(dl.get(bobId, BOB)?.body).toBe('b1');
  expect(dl.get(bobId, ALICE)).toBeUndefined();
  expect(dl.get('no-such-id')).toBeUndefined();
});

it('limit, offset, queue filter; remove() deletes once', async () => {
  for (let i = 0; i < 7; i++) await kill([makeEnvelope(makeDest(i % 2 ? 'odd' : 'even', ALICE), `m${i}`)], 'AccessDenied');
  const dl = spool.deadLetters;
  expect(dl.list({ limit: 3 }).items.map((i) => i.body)).toEqual(['m0', 'm1', 'm2']);
  expect(dl.list({ limit: 3, offset: 5 })).toMatchObject({ total: 7, items: [{ body: 'm5' }, { body: 'm6' }] });
  expect(dl.list({ queue: 'odd' })).toMatchObject({ total: 3, items: [{ body: 'm1' }, { body: 'm3' }, { body: 'm5' }] });
  expect(dl.list({ queue: 'even', owner: ALICE, limit: 2, offset: 1 })).toMatchObject({ total: 4, items: [{ body: 'm2' }, { body: 'm4' }] });
  const id = dl.ids()[0] as string;
  expect(dl.remove(id)).toBe(true);
  expect(dl.remove(id)).toBe(false);
  expect(dl.get(id)).toBeUndefined();
  expect(dl.count()).toBe(6);
});

it('a second DeadLetterDir on the same spool (the CLI while the daemon runs) sees the same letters; stray files are ignored', async () => {
  await kill([makeEnvelope(makeDest('q', ALICE), 'x')], 'AccessDenied');
  writeFileSync(join(spool.deadLetters.dir, '.half-written.json.tmp'), '{"id":');
  writeFileSync(join(spool.deadLetters.dir, 'README'), 'not a letter');
  const other = new DeadLetterDir(dir);
  expect(other.list().items.map((i) => i.body)).toEqual(['x']);
  expect(other.remove(other.ids()[0] as string)).toBe(true);
  expect(spool.deadLetters.count()).toBe(0);
});

it('counts its own letters at once, and reads the directory again (off the event loop) only every COUNT_REFRESH_MS', async () => {
  const dl = spool.deadLetters;
  expect(dl.count()).toBe(0); // read from the directory: the first time
  await kill([makeEnvelope(makeDest('q', ALICE), 'a'), makeEnvelope(makeDest('q', ALICE), 'b'), makeEnvelope(makeDest('q', ALICE), 'c')], 'AccessDenied');
  expect(dl.count()).toBe(3);
  expect(dl.remove(dl.ids()[0] as string)).toBe(true);
  expect(dl.count()).toBe(2);
  // The CLI (another process) removes one: not seen until the count is read again (info() asks
  // for it on every gauge and health check; 100,000 letters took ~120 ms of the loop to read).
  const cli = new DeadLetterDir(dir);
  expect(cli.remove(cli.ids()[0] as string)).toBe(true);
  expect(dl.count()).toBe(2);
  const now = Date.now();
  const spy = jest.spyOn(Date, 'now').mockReturnValue(now + COUNT_REFRESH_MS);
  try {
    expect(dl.count()).toBe(2); // a recount begins, the last count is answered meanwhile
    await dl.recounted();
    expect(dl.count()).toBe(1);
  } finally {
    spy.mockRestore();
  }
});

it('writes letters in libuv\'s pool: nothing of them is done in the turn they are handed over, and the journal marks them finished after', async () => {
  const dest = makeDest('q', ALICE);
  const envs = [makeEnvelope(dest, 'one'), makeEnvelope(dest, 'two')];
  spool.append(envs);
  const kept = spool.deadLettered(envs, { code: 'AccessDenied', message: 'no' });
  // On the event loop this was a write and an fsync a letter, before the call returned.
  expect(readdirSync(spool.deadLetters.dir)).toEqual([]);
  await kept;
  expect(spool.deadLetters.list().items.map((l) => l.body)).toEqual(['one', 'two']);
  // Finished in the journal once kept: a restart brings neither back.
  await spool.close();
  spool = openSpool(dir).spool;
  expect(spool.recover(passThrough)).toEqual([]);
});

it('dead-lettered messages are not recovered; when the letter cannot be written they stay in the journal instead', async () => {
  const dest = makeDest('q', ALICE);
  const written = makeEnvelope(dest, 'written');
  await kill([written], 'AccessDenied');
  // Make the dead-letter directory unusable (a regular file in its place; chmod would not stop root).
  rmSync(spool.deadLetters.dir, { recursive: true });
  writeFileSync(spool.deadLetters.dir, 'in the way');
  const stuck = makeEnvelope(dest, 'stuck');
  await kill([stuck], 'AccessDenied');
  await spool.close();
  rmSync(join(dir, 'dead-letters'));
  mkdirSync(join(dir, 'dead-letters'), { mode: 0o700 });
  spool = openSpool(dir).spool;
  const recovered = spool.recover(passThrough);
  expect(recovered.map((r) => r.count)).toEqual([1]);
  const { envs } = spool.pageIn(recovered[0]?.dest.key as string, 10);
  expect(envs.map((e) => bodyOf(e.message))).toEqual(['stuck']);
});

it('letter files are plain JSON that a human (or the CLI) can read', async () => {
  await kill([makeEnvelope(makeDest('q', ALICE), 'readable')], 'AccessDenied');
  const [name] = readdirSync(spool.deadLetters.dir);
  expect(name).toMatch(/^\d{15}\.[A-Za-z0-9-]+\.q\.json$/);
  expect(JSON.parse(readFileSync(join(spool.deadLetters.dir, name as string), 'utf8'))).toMatchObject({ body: 'readable', code: 'AccessDenied', queueName: 'q' });
});
