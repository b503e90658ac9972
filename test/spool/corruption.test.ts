/**
 * A damaged journal at start (torn tail after a crash, a flipped byte, a garbage segment):
 * the daemon starts, delivers every valid record, reports the damage in a log line and a
 * metric, and does not fail again at the next start.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, type TestDaemon } from '../support/daemon.js';
import { RecordType, scanBuffer } from '../../src/spool/journal.js';
import { postLoad, removeDir, startSpoolDaemon, tempDir } from '../support/spool-harness.js';

let fake: FakeSqs;
let dir: string;
const running: TestDaemon[] = [];

beforeEach(async () => {
  fake = await startFakeSqs({ latencyMs: 1, queues: ['damaged'] });
  dir = tempDir('corruption');
});
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
  await fake.close();
  removeDir(dir);
});

async function start(): Promise<TestDaemon> {
  const d = await startSpoolDaemon(fake.endpoint, dir, ['--shutdown-grace-ms', '0', '--spool-segment-bytes', '65536']);
  running.push(d);
  return d;
}

async function stop(d: TestDaemon): Promise<void> {
  running.splice(running.indexOf(d), 1);
  await d.stop();
}

it('a torn tail and a flipped byte: the valid records are delivered, the damage is logged and counted, and the next start is clean', async () => {
  const t0 = Date.now();
  // A journal of undelivered messages: SQS down while they are accepted, then a stop.
  let d = await start();
  expect((await post(d.url, '/queues/damaged', 'resolve', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.messageCount('damaged') === 1, 5000);
  fake.down = true;
  const load = await postLoad(d.url, 'damaged', { from: 0, to: 300, prefix: `m-${'x'.repeat(400)}` }, { concurrency: 8 });
  expect(load.acked).toHaveLength(300);
  await stop(d);
  fake.down = false;

  const segs = readdirSync(dir).filter((n) => n.startsWith('seg-')).sort();
  expect(segs.length).toBeGreaterThanOrEqual(2); // 300 x ~450 B over 64 KiB segments
  // Accept records per segment, with their bodies, before the damage.
  const accepts = (name: string) => {
    const out: Array<{ offset: number; length: number; body: string }> = [];
    scanBuffer(readFileSync(join(dir, name)), (r) => {
      if (r.type === RecordType.Accept) out.push({ offset: r.offset, length: r.length, body: (JSON.parse(r.payload.toString('utf8')) as { m: { body: string } }).m.body });
    });
    return out;
  };
  const first = segs[0] as string;
  const last = segs.filter((n) => accepts(n).length > 0).at(-1) as string;
  // Flip a byte inside one record of the first segment.
  const flipped = accepts(first)[10] as { offset: number; length: number; body: string };
  const buf1 = readFileSync(join(dir, first));
  buf1[flipped.offset + 30] = (buf1[flipped.offset + 30] as number) ^ 0x04;
  writeFileSync(join(dir, first), buf1);
  // Cut the last segment in the middle of its last accept record (a torn write).
  const torn = accepts(last).at(-1) as { offset: number; length: number; body: string };
  const buf2 = readFileSync(join(dir, last));
  writeFileSync(join(dir, last), buf2.subarray(0, torn.offset + Math.floor(torn.length / 2)));

  d = await start();
  const info = d.daemon.deps.store.info();
  expect(info.corruptRecords).toBeGreaterThanOrEqual(2);
  expect(info.recovered).toBe(298);
  const damage = d.logs.find('spool segment damaged');
  expect(damage.length).toBe(first === last ? 1 : 2);
  expect(damage[0]).toMatchObject({ level: 'error', segment: first, corruptBytes: expect.any(Number) });
  const metrics = await (await request(`${d.url}/metrics`)).body.text();
  expect(metrics).toMatch(/^sqs_accelerator_spool_corrupt_records [1-9]/m);

  const expected = load.acked.filter((b) => b !== flipped.body && b !== torn.body);
  expect(expected).toHaveLength(298);
  await fake.waitFor(() => fake.messageCount('damaged') >= 1 + expected.length, 20_000);
  const counts = fake.countByBody('damaged');
  expect(expected.filter((b) => !counts.has(b))).toEqual([]);
  expect(counts.has(flipped.body) || counts.has(torn.body)).toBe(false);
  // Still serving.
  expect((await post(d.url, '/queues/damaged', 'after', { contentType: 'text/plain' })).status).toBe(202);
  await d.daemon.deps.pipeline.idle();
  await stop(d);

  // The damaged segments were deleted once their valid messages were delivered: a clean start.
  d = await start();
  expect(d.daemon.deps.store.info()).toMatchObject({ corruptRecords: 0, recovered: 0 });
  expect(d.logs.find('spool segment damaged')).toEqual([]);
  console.log(`corruption test: 298 of 300 recovered and delivered (1 flipped, 1 torn), ${Date.now() - t0} ms`);
}, 60_000);

it('a segment of garbage and an empty segment do not stop the daemon', async () => {
  writeFileSync(join(dir, 'seg-0000000001.log'), Buffer.from('not a journal at all '.repeat(500)));
  writeFileSync(join(dir, 'seg-0000000002.log'), Buffer.alloc(0));
  writeFileSync(join(dir, 'seg-notanumber.log'), 'ignored');
  const d = await start();
  expect(d.daemon.deps.store.info()).toMatchObject({ corruptRecords: 1, recovered: 0, writable: true });
  expect(d.logs.find('spool segment damaged')).toHaveLength(1);
  expect((await post(d.url, '/queues/damaged', 'works', { contentType: 'text/plain' })).status).toBe(202);
  await fake.waitFor(() => fake.bodies('damaged').includes('works'), 5000);
  // Nothing live in them: deleted at start.
  expect(readdirSync(dir).filter((n) => n.startsWith('seg-')).sort()).toEqual(['seg-0000000003.log', 'seg-notanumber.log']);
});
