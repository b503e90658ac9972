/**
 * --max-in-memory-bytes (src/delivery/paging.ts, src/spool/spool.ts pageIn): besides the count,
 * the message bytes held in memory are bounded, so a backlog of large messages waits on disk
 * instead of filling a limited V8 heap; a message is never paged out while nothing is held (no
 * page-in would ever be started for it), and a page-in asks the store for no more bytes than fit.
 * The spool's own pageIn is checked with a real Spool in a temporary directory.
 */
import { getHeapStatistics } from 'node:v8';
import { defaultInMemoryBytes, loadConfig } from '../../src/config.js';
import { bodyOf, type Envelope } from '../../src/delivery/envelope.js';
import { Paging, type PagingHost } from '../../src/delivery/paging.js';
import type { Pager } from '../../src/delivery/store.js';
import type { Destination } from '../../src/sqs/resolver.js';
import { captureLogger, makeDest, makeEnvelope, RecordingStore } from '../support/delivery-harness.js';
import { makeDest as spoolDest, makeEnvelope as spoolEnvelope, openSpool, passThrough, removeDir, tempDir } from '../support/spool-harness.js';

/** A pipeline stand-in counting messages and bytes held. */
class Host implements PagingHost {
  held: Envelope[] = [];
  memory = 0;
  memoryBytes = 0;
  inMemory = () => this.memory;
  inMemoryBytes = () => this.memoryBytes;
  closing = () => false;
  hold = (env: Envelope) => {
    this.held.push(env);
    this.memory += 1;
    this.memoryBytes += env.bytes;
  };
  lost = () => {};
  pagedIn = () => {};
  release(): void {
    this.memory = 0;
    this.memoryBytes = 0;
  }
}

const turn = () => new Promise<void>((r) => setImmediate(r));
const bodies = (envs: Envelope[]) => envs.map((e) => bodyOf(e.message));

function offer(paging: Paging, host: Host, dest: Destination, bodiesToSend: string[]): void {
  for (const body of bodiesToSend) {
    const env = makeEnvelope(dest, body);
    if (!paging.maybePageOut(env)) host.hold(env);
  }
}

describe('the byte bound of paging', () => {
  it('defaults to an eighth of the V8 heap limit; a value given is kept', () => {
    const env = { SQS_ACCELERATOR_ENDPOINT: 'http://127.0.0.1:1' };
    expect(defaultInMemoryBytes(512 * 1_048_576)).toBe(64 * 1_048_576);
    expect(loadConfig([], env).maxInMemoryBytes).toBe(Math.floor(getHeapStatistics().heap_size_limit / 8));
    expect(loadConfig(['--max-in-memory-bytes', '5000000'], env).maxInMemoryBytes).toBe(5_000_000);
  });

  it('pages out a message that would pass the bytes held, whatever the count; later ones of its destination wait behind it', () => {
    const store = new RecordingStore({ paging: true });
    const host = new Host();
    const paging = new Paging(store, 1000, captureLogger().log, host, 1000);
    const q = makeDest('q');
    offer(paging, host, q, ['a'.repeat(400), 'b'.repeat(400), 'c'.repeat(400), 'd'.repeat(10)]);
    expect(bodies(host.held).map((b) => b[0])).toEqual(['a', 'b']);
    expect(host.memoryBytes).toBe(800);
    expect(paging.total).toBe(2); // c did not fit; d is behind it
    offer(paging, host, makeDest('other'), ['o'.repeat(100)]);
    expect(host.memoryBytes).toBe(900); // another destination's small one still fits
  });

  it('holds a message larger than the bound when nothing else is held (it would wait for a page-in nothing starts)', () => {
    const store = new RecordingStore({ paging: true });
    const host = new Host();
    const paging = new Paging(store, 1000, captureLogger().log, host, 100);
    offer(paging, host, makeDest('q'), ['x'.repeat(500)]);
    expect([host.held.length, paging.total]).toEqual([1, 0]);
  });

  it('reads back only below 75% of the byte bound, and asks the store for no more bytes than fit', async () => {
    const store = new RecordingStore({ paging: true });
    const inner = store.pager as Pager;
    const asked: Array<number | undefined> = [];
    const pager: Pager = { pageOut: (e) => inner.pageOut(e), pageIn: (k, max, maxBytes) => (asked.push(maxBytes), inner.pageIn(k, max, maxBytes)) };
    const host = new Host();
    const paging = new Paging({ ...store, info: store.info, pager } as never, 1000, captureLogger().log, host, 1000);
    const q = makeDest('q');
    host.memory = 1;
    host.memoryBytes = 1000;
    offer(paging, host, q, ['m'.repeat(100), 'n'.repeat(100)]);
    expect(paging.total).toBe(2);
    host.memoryBytes = 800; // above 75%
    paging.maybePageIn();
    await turn();
    expect(asked).toEqual([]);
    host.memoryBytes = 700;
    paging.maybePageIn();
    await turn();
    expect(asked[0]).toBe(300);
  });
});

describe('Spool.pageIn with a byte bound', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('page-bytes');
  });
  afterEach(() => removeDir(dir));

  it('returns no more message bytes than asked for, but always the first message, and the rest in order after', async () => {
    const { spool } = openSpool(dir);
    spool.recover(passThrough);
    const q = spoolDest('q');
    const envs = ['a'.repeat(300), 'b'.repeat(300), 'c'.repeat(300), 'd'.repeat(2000)].map((b) => spoolEnvelope(q, b));
    await spool.append(envs);
    for (const e of envs) spool.pageOut(e);
    const first = spool.pageIn(q.key, 10, 700);
    expect([bodies(first.envs).map((b) => b[0]), first.consumed]).toEqual([['a', 'b'], 2]);
    const second = spool.pageIn(q.key, 10, 100); // c alone is larger than 100: it comes all the same
    expect(bodies(second.envs).map((b) => b[0])).toEqual(['c']);
    const rest = spool.pageIn(q.key, 10);
    expect(bodies(rest.envs).map((b) => b.length)).toEqual([2000]);
    await spool.close();
  });
});
