/**
 * The dead-letter store: what the spool writes when SQS refuses a message for good, and how
 * it is listed, read and removed, per owner in pass-through mode, never showing a secret.
 */
import { jest } from '@jest/globals';
import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bodyOf, type Envelope } from '../../src/delivery/envelope.js';
import { providerCredentials } from '../../src/sqs/credentials.js';
import type { Destination } from '../../src/sqs/resolver.js';
import { COUNT_REFRESH_MS, DeadLetterDir, FULL_WALK_MS } from '../../src/spool/dead-letters.js';
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
  const { total, items } = (await dl.list());
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
  expect(await dl.get(e2.id)).toEqual(items[1]);
  // Replay needs the queue URL and the credentials: load() has them, the public views do not.
  expect(await dl.load(e1.id)).toMatchObject({ queueUrl: orders.queueUrl, credentials: ALICE });
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

  const everything = JSON.stringify([await dl.list(), ...(await Promise.all(dl.ids().map((id) => dl.get(id))))]);
  for (const secret of [ALICE.secretAccessKey, BOB.secretAccessKey, CREDS.secretAccessKey]) expect(everything).not.toContain(secret);
  expect(everything).not.toContain('"credentials"');
  expect(everything).not.toContain('queueUrl');

  expect((await dl.list({ owner: ALICE })).items.map((i) => i.body)).toEqual(['a1', 'a2']);
  expect((await dl.list({ owner: BOB })).items.map((i) => i.body)).toEqual(['b1']);
  expect(await dl.list({ owner: { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'wrong' } })).toEqual({ total: 0, items: [] });
  expect((await dl.list({ owner: { accessKeyId: ALICE.accessKeyId, secretAccessKey: `${ALICE.secretAccessKey}x` } })).total).toBe(0);
  // The daemon's own credentials are stored as null: accessKeyId null, owned by no client pair.
  const chainLetter = (await dl.list()).items.find((i) => i.body === 'c1');
  expect(chainLetter?.accessKeyId).toBeNull();
  expect((await dl.load(chainLetter?.id as string))?.credentials).toBeNull();
  expect((await dl.list({ owner: CREDS })).total).toBe(0);

  const bobId = (await dl.list({ owner: BOB })).items[0]?.id as string;
  expect((await dl.get(bobId, BOB))?.body).toBe('b1');
  expect(await dl.get(bobId, ALICE)).toBeUndefined();
  expect(await dl.get('no-such-id')).toBeUndefined();
});

it('limit, offset, queue filter; remove() deletes once', async () => {
  for (let i = 0; i < 7; i++) await kill([makeEnvelope(makeDest(i % 2 ? 'odd' : 'even', ALICE), `m${i}`)], 'AccessDenied');
  const dl = spool.deadLetters;
  expect((await dl.list({ limit: 3 })).items.map((i) => i.body)).toEqual(['m0', 'm1', 'm2']);
  expect(await dl.list({ limit: 3, offset: 5 })).toMatchObject({ total: 7, items: [{ body: 'm5' }, { body: 'm6' }] });
  expect(await dl.list({ queue: 'odd' })).toMatchObject({ total: 3, items: [{ body: 'm1' }, { body: 'm3' }, { body: 'm5' }] });
  expect(await dl.list({ queue: 'even', owner: ALICE, limit: 2, offset: 1 })).toMatchObject({ total: 4, items: [{ body: 'm2' }, { body: 'm4' }] });
  const id = dl.ids()[0] as string;
  expect(await dl.remove(id)).toBe(true);
  expect(await dl.remove(id)).toBe(false);
  expect(await dl.get(id)).toBeUndefined();
  expect(dl.count()).toBe(6);
});

it('a second DeadLetterDir on the same spool (the CLI while the daemon runs) sees the same letters; stray files are ignored', async () => {
  await kill([makeEnvelope(makeDest('q', ALICE), 'x')], 'AccessDenied');
  writeFileSync(join(spool.deadLetters.dir, '.half-written.json.tmp'), '{"id":');
  writeFileSync(join(spool.deadLetters.dir, 'README'), 'not a letter');
  const other = new DeadLetterDir(dir);
  expect((await other.list()).items.map((i) => i.body)).toEqual(['x']);
  expect(await other.remove(other.ids()[0] as string)).toBe(true);
  expect(new DeadLetterDir(dir).count()).toBe(0);
  // The daemon's index finds it gone when it reads it (or at its next walk).
  expect(await spool.deadLetters.list()).toEqual({ total: 0, items: [] });
  expect(spool.deadLetters.count()).toBe(0);
});

it('counts its own letters at once, and reads the directory again (off the event loop) only every COUNT_REFRESH_MS', async () => {
  const dl = spool.deadLetters;
  expect(dl.count()).toBe(0); // read from the directory: the first time
  await kill([makeEnvelope(makeDest('q', ALICE), 'a'), makeEnvelope(makeDest('q', ALICE), 'b'), makeEnvelope(makeDest('q', ALICE), 'c')], 'AccessDenied');
  expect(dl.count()).toBe(3);
  expect(await dl.remove(dl.ids()[0] as string)).toBe(true);
  expect(dl.count()).toBe(2);
  // The CLI (another process) removes one: not seen until the count is read again (info() asks
  // for it on every gauge and health check; 100,000 letters took ~120 ms of the loop to read).
  const cli = new DeadLetterDir(dir);
  expect(await cli.remove(cli.ids()[0] as string)).toBe(true);
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
  expect((await spool.deadLetters.list()).items.map((l) => l.body)).toEqual(['one', 'two']);
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

describe('the index of letters (no directory read or file scan per request: issue 11)', () => {
  const bytesRead = (): number => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);

  it('lists, finds and removes from the index: a letter file that appears on disk is seen only at the next walk (COUNT_REFRESH_MS)', async () => {
    await kill([makeEnvelope(makeDest('q', ALICE), 'mine')], 'AccessDenied');
    const dl = spool.deadLetters;
    expect((await dl.list()).total).toBe(1);
    // A letter put there behind the daemon's back (none of its own writes): every request read the directory, so it showed at once.
    const stray = { id: 'stray-1', queueName: 'q', queueUrl: 'http://x/q', accessKeyId: null, body: 'stray', code: 'AccessDenied', reason: 'no', attempts: 1, acceptedAt: 1, deadAt: 2, credentials: null };
    writeFileSync(join(dl.dir, '000000000000002.stray-1.q.json'), JSON.stringify(stray));
    expect((await dl.list()).items.map((l) => l.body)).toEqual(['mine']);
    expect(await dl.get('stray-1')).toBeUndefined();
    expect(await dl.remove('stray-1')).toBe(false);
    const now = Date.now();
    const spy = jest.spyOn(Date, 'now').mockReturnValue(now + COUNT_REFRESH_MS);
    try {
      expect(dl.count()).toBe(1); // the walk begins; the index answers meanwhile
      await dl.recounted();
    } finally {
      spy.mockRestore();
    }
    expect((await dl.list()).items.map((l) => l.body)).toEqual(['stray', 'mine']); // oldest first: its deadAt is 2
    expect(dl.count()).toBe(2);
    expect(await dl.remove('stray-1')).toBe(true);
    expect(readdirSync(dl.dir)).toHaveLength(1);
  });

  it('an owner-scoped list reads each letter file once to learn whose it is, then only the page it shows', async () => {
    const big = 'b'.repeat(10_000);
    await kill(Array.from({ length: 200 }, () => makeEnvelope(makeDest('q', BOB), big)), 'AccessDenied');
    await kill([makeEnvelope(makeDest('q', ALICE), 'a1'), makeEnvelope(makeDest('q', ALICE), 'a2')], 'AccessDenied');
    const other = new DeadLetterDir(dir); // an index that has not read a file yet (as after a restart)
    let before = bytesRead();
    expect((await other.list({ owner: ALICE })).items.map((l) => l.body)).toEqual(['a1', 'a2']);
    const first = bytesRead() - before;
    expect(first).toBeGreaterThan(200 * 10_000); // learned whose each letter is
    before = bytesRead();
    const again = await other.list({ owner: ALICE });
    const second = bytesRead() - before;
    expect([again.total, again.items.map((l) => l.body)]).toEqual([2, ['a1', 'a2']]);
    // Every owner-scoped list read every letter: 2 MB here, 100,000 letters took 1.2-1.4 s of the loop.
    expect(second).toBeLessThan(100_000);
    expect((await other.list({ owner: BOB, limit: 1 })).total).toBe(200);
    expect((await other.list({ owner: { accessKeyId: ALICE.accessKeyId, secretAccessKey: 'wrong' } })).total).toBe(0);
    // learnOwners() (the daemon starts it in pass-through mode) reads them ahead of the first list.
    const warmed = new DeadLetterDir(dir);
    await warmed.learnOwners();
    before = bytesRead();
    expect((await warmed.list({ owner: ALICE })).total).toBe(2);
    expect(bytesRead() - before).toBeLessThan(100_000);
    // Its own letters are known with their owner as they are written (no file read for them).
    await kill([makeEnvelope(makeDest('q', ALICE), 'a3')], 'AccessDenied');
    before = bytesRead();
    expect((await spool.deadLetters.list({ owner: ALICE, limit: 1, offset: 2 })).items.map((l) => l.body)).toEqual(['a3']);
    expect(bytesRead() - before).toBeLessThan(100_000);
  });

  it('a letter removed by another process leaves the index when its file is found gone (read, remove, or the next walk)', async () => {
    const dest = makeDest('q', ALICE);
    await kill([makeEnvelope(dest, 'one'), makeEnvelope(dest, 'two'), makeEnvelope(dest, 'three')], 'AccessDenied');
    const dl = spool.deadLetters;
    const [one, two, three] = dl.ids() as [string, string, string];
    const cli = new DeadLetterDir(dir);
    for (const id of [one, two, three]) expect(await cli.remove(id)).toBe(true);
    expect(dl.count()).toBe(3); // not walked yet
    const listed = await dl.list({ limit: 1 });
    expect(listed).toEqual({ total: 2, items: [] }); // the page's letter was read and found gone
    expect(await dl.get(two)).toBeUndefined();
    expect(await dl.remove(three)).toBe(false);
    expect(dl.count()).toBe(0);
  });

  it('letters written and removed while the directory is walked are neither lost nor brought back', async () => {
    const dest = makeDest('q', ALICE);
    await kill(Array.from({ length: 50 }, (_, i) => makeEnvelope(dest, `old${i}`)), 'AccessDenied');
    const dl = spool.deadLetters;
    const gone = dl.ids().slice(0, 10);
    const now = Date.now();
    const spy = jest.spyOn(Date, 'now').mockReturnValue(now + COUNT_REFRESH_MS);
    try {
      dl.count(); // the walk begins
      await Promise.all([...gone.map((id) => dl.remove(id)), kill([makeEnvelope(dest, 'new')], 'AccessDenied')]);
      await dl.recounted();
    } finally {
      spy.mockRestore();
    }
    expect(dl.count()).toBe(41);
    const bodies = (await dl.list({ limit: 100 })).items.map((l) => l.body);
    expect(bodies).toHaveLength(41);
    expect(bodies).toContain('new');
    expect(bodies).not.toContain('old0');
    expect(readdirSync(dl.dir).filter((n) => n.endsWith('.json'))).toHaveLength(41);
  });

  it('two letters of one id (a message dead-lettered again after a restart): both listed, the older found and removed first', async () => {
    const dl = spool.deadLetters;
    const letter = (deadAt: number, body: string) => ({ id: 'same-id', queueName: 'q', queueUrl: 'http://x/q', accessKeyId: ALICE.accessKeyId, body, code: 'AccessDenied', reason: 'no', attempts: 1, acceptedAt: 1, deadAt, credentials: ALICE });
    await dl.write(letter(2_000, 'later'));
    expect(dl.count()).toBe(1);
    await dl.write(letter(1_000, 'earlier'));
    expect((await dl.list()).items.map((l) => l.body)).toEqual(['earlier', 'later']);
    expect((await dl.get('same-id', ALICE))?.body).toBe('earlier');
    expect(await dl.remove('same-id')).toBe(true);
    expect((await dl.get('same-id'))?.body).toBe('later');
    expect(await dl.remove('same-id')).toBe(true);
    expect(await dl.remove('same-id')).toBe(false);
    expect(dl.count()).toBe(0);
  });
});

it('past --max-dead-letters a refused message stays in the journal (not lost), logged once when the store fills and once when it has room again', async () => {
  await spool.close();
  const opened = openSpool(dir, { maxDeadLetters: 2 });
  spool = opened.spool;
  spool.recover(passThrough);
  const dest = makeDest('q', ALICE);
  await kill([makeEnvelope(dest, 'one'), makeEnvelope(dest, 'two')], 'AccessDenied');
  await kill([makeEnvelope(dest, 'three')], 'AccessDenied');
  await kill([makeEnvelope(dest, 'four')], 'AccessDenied');
  const dl = spool.deadLetters;
  expect((await dl.list()).items.map((l) => l.body)).toEqual(['one', 'two']);
  expect(spool.info()).toMatchObject({ deadLetters: 2, deadLettersLimit: 2 }); // /metrics: dead_letters_stored against _limit
  expect(opened.logs.find('dead-letter store full')).toEqual([expect.objectContaining({ level: 'warn', letters: 2, max: 2 })]);
  // Room again (a letter purged): the next refused message is a letter, and the log says so once.
  expect(await dl.remove(dl.ids()[0] as string)).toBe(true);
  await kill([makeEnvelope(dest, 'five')], 'AccessDenied');
  expect((await dl.list()).items.map((l) => l.body)).toEqual(['two', 'five']);
  expect(opened.logs.find('dead-letter store has room again')).toHaveLength(1);
  // The two kept out of the store are still in the journal: a restart brings them back to be sent again.
  await spool.close();
  spool = openSpool(dir, { maxDeadLetters: 2 }).spool;
  const recovered = spool.recover(passThrough);
  expect(recovered.map((r) => r.count)).toEqual([2]);
  expect(spool.pageIn(recovered[0]?.dest.key as string, 10).envs.map((e) => bodyOf(e.message))).toEqual(['three', 'four']);
});

it('select() and owned() answer from the index (no letter read once owners are known); list() can end a page by its bodies', async () => {
  const big = 'B'.repeat(20_000);
  await kill(Array.from({ length: 50 }, () => makeEnvelope(makeDest('q', BOB), big)), 'AccessDenied');
  await kill([makeEnvelope(makeDest('q', ALICE), 'a1'), makeEnvelope(makeDest('other', ALICE), 'a2')], 'AccessDenied');
  const dl = spool.deadLetters;
  const bobs = dl.ids('q').slice(0, 50);
  const read = (): number => Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
  const before = read();
  expect(await dl.select({ limit: 3, owner: BOB })).toEqual({ total: 50, ids: bobs.slice(0, 3) });
  expect((await dl.select({ limit: 10, owner: ALICE, queue: 'other' })).total).toBe(1);
  expect(await dl.select({ limit: 100, owner: { accessKeyId: BOB.accessKeyId, secretAccessKey: 'wrong' } })).toEqual({ total: 0, ids: [] });
  expect(await dl.owned([bobs[1] as string, 'no-such', bobs[0] as string], BOB)).toEqual([bobs[1], bobs[0]]);
  expect(await dl.owned([bobs[0] as string], ALICE)).toEqual([]);
  expect(await dl.owned([bobs[0] as string, 'no-such'])).toEqual([bobs[0]]);
  expect(read() - before).toBeLessThan(200_000); // its own letters: owners known as written (1 MB of bodies here)
  // A page bounded by its bodies: ends once they pass the bound, never empty.
  const page = await dl.list({ owner: BOB, limit: 50, maxBodyChars: 50_000 });
  expect([page.total, page.items.length]).toEqual([50, 2]);
  expect((await dl.list({ owner: BOB, limit: 50, maxBodyChars: 10 })).items.map((l) => l.id)).toEqual([bobs[0]]);
  expect((await dl.list({ owner: BOB, limit: 50, offset: 48, maxBodyChars: 50_000 })).items.map((l) => l.id)).toEqual(bobs.slice(48));
});

it('skips a walk while the directory\'s mtime is unchanged, but walks at least every FULL_WALK_MS', async () => {
  const letters = join(dir, 'dead-letters');
  const round = new Date(1_700_000_000_000); // whole seconds: set back exactly
  utimesSync(letters, round, round);
  const dl = new DeadLetterDir(dir);
  const stray = (id: string, deadAt: number) => writeFileSync(join(letters, `${String(deadAt).padStart(15, '0')}.${id}.q.json`), JSON.stringify({ id, queueName: 'q', queueUrl: 'http://x/q', accessKeyId: null, body: id, code: 'AccessDenied', reason: 'no', attempts: 1, acceptedAt: 1, deadAt, credentials: null }));
  stray('hidden', 5);
  utimesSync(letters, round, round); // as if nothing changed (a file system with coarse times)
  const now = Date.now();
  const at = (ms: number) => jest.spyOn(Date, 'now').mockReturnValue(now + ms);
  try {
    at(COUNT_REFRESH_MS);
    dl.count();
    await dl.recounted();
    expect(dl.count()).toBe(0); // mtime unchanged: not walked
    at(FULL_WALK_MS + 1);
    dl.count();
    await dl.recounted();
    expect(dl.count()).toBe(1); // walked anyway
    stray('seen', 6); // a real change moves the mtime: the next walk sees it
    at(FULL_WALK_MS + 1 + COUNT_REFRESH_MS);
    dl.count();
    await dl.recounted();
    expect(dl.ids()).toEqual(['hidden', 'seen']);
  } finally {
    jest.restoreAllMocks();
  }
});
