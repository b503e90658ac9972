/**
 * Bounded work per request (issue 11, item 2): a 6 MB request of 3,000,000 bad lines froze the
 * daemon >= 30 s with a 374 MB reply; 100,000 good lines stalled every other client 0.5 s; a
 * batch that could never fit the backlog got "BacklogFull, retry later".
 */
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, postJson, startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { CHUNK_ENTRIES } from '../../src/ingest/ingest.js';

let fake: FakeSqs;
const running: TestDaemon[] = [];

beforeAll(async () => {
  fake = await startFakeSqs({ latencyMs: 0, queues: ['b'] });
});
afterAll(async () => {
  for (const d of running) await d.stop();
  await fake.close();
});

async function daemon(flags: string[] = []): Promise<TestDaemon> {
  const d = await startTestDaemon(fake.endpoint, flags);
  running.push(d);
  return d;
}

const ndjson = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join('\n');

it('more than --max-batch-entries is 413 TooManyEntries naming the limit, as NDJSON or a JSON array; the limit itself is accepted', async () => {
  const d = await daemon(['--max-batch-entries', '1000']);
  const over = await post(d.url, '/queues/b', ndjson(1001, (i) => JSON.stringify({ body: `m${i}` })), { contentType: 'application/x-ndjson' });
  expect(over.status).toBe(413);
  expect(over.json.error.code).toBe('TooManyEntries');
  expect(over.json.error.message).toContain('1000');
  expect(over.json.error.message).toContain('--max-batch-entries');
  const overArray = await postJson(d.url, '/queues/b', Array.from({ length: 1001 }, (_, i) => ({ body: `a${i}` })));
  expect(overArray.status).toBe(413);
  expect(overArray.json.error.code).toBe('TooManyEntries');
  const wrapped = await postJson(d.url, '/queues/b', { messages: Array.from({ length: 1001 }, (_, i) => `w${i}`) });
  expect(wrapped.status).toBe(413);
  const at = await postJson(d.url, '/queues/b', Array.from({ length: 1000 }, (_, i) => ({ body: `ok${i}` })));
  expect(at.status).toBe(202);
  expect(at.json.accepted).toBe(1000);
  expect(at.json.results.map((r: { id?: string }) => typeof r.id)).toEqual(Array(1000).fill('string'));
  await d.daemon.deps.pipeline.idle();
  expect(fake.bodies('b').filter((b) => b.startsWith('ok'))).toHaveLength(1000);
  expect(fake.bodies('b').filter((b) => /^(m|a|w)\d/.test(b))).toEqual([]);
}, 60_000);

it('3,000,000 bad lines by default: 413 at once, with a small answer', async () => {
  const d = await daemon();
  const t0 = Date.now();
  const r = await post(d.url, '/queues/b', 'x\n'.repeat(3_000_000), { contentType: 'application/x-ndjson' });
  expect(r.status).toBe(413);
  expect(r.json.error.code).toBe('TooManyEntries');
  expect(r.json.error.message).toContain('10000');
  expect(r.text.length).toBeLessThan(1000);
  expect(Date.now() - t0).toBeLessThan(10_000);
}, 30_000);

it('a batch of 10,000 bad entries: every entry answered, only the first 100 with their message, and a count per code', async () => {
  const d = await daemon();
  const r = await post(d.url, '/queues/b', ndjson(10_000, (i) => (i % 2 ? '{"body": 1}' : '{"nope": "x"}')), { contentType: 'application/x-ndjson' });
  expect(r.status).toBe(400);
  expect(r.json).toMatchObject({ accepted: 0, rejected: 10_000 });
  expect(r.json.results).toHaveLength(10_000);
  expect(r.json.results.filter((x: { error: { message?: string } }) => x.error.message !== undefined)).toHaveLength(100);
  expect(r.json.results[5000]).toEqual({ error: { code: 'UnknownField' } });
  expect(r.json.rejectedByCode).toEqual({ UnknownField: 5000, [r.json.results[1].error.code]: 5000 });
  expect(r.text.length).toBeLessThan(10_000 * 40 + 100 * 400);
}, 30_000);

it('a batch that could never fit the backlog is 413 BatchTooLarge, not 503', async () => {
  const d = await daemon(['--max-backlog-messages', '100']);
  const r = await postJson(d.url, '/queues/b', Array.from({ length: 150 }, (_, i) => ({ body: `never-${i}` })));
  expect(r.status).toBe(413);
  expect(r.json.error.code).toBe('BatchTooLarge');
  expect(r.json.error.message).toContain('--max-backlog-messages');
  expect(d.daemon.deps.pipeline.backlogMessages).toBe(0);
  const fits = await postJson(d.url, '/queues/b', Array.from({ length: 100 }, (_, i) => ({ body: `fits-${i}` })));
  expect(fits.status).toBe(202);
}, 30_000);

it('a large JSON array whose last element is not JSON is 400 MalformedJson with nothing recorded, though its entries are recorded a piece at a time', async () => {
  const d = await daemon();
  // 1,000 entries: few enough that one message's bound proves the batch fits the backlog, so no
  // first pass reads the entries before the first piece is recorded.
  const good = Array.from({ length: 1000 }, (_, i) => JSON.stringify({ body: `late-${i}-${'x'.repeat(300)}` }));
  const text = `[${good.join(',')},{"body": nope}]`; // framed fine, not JSON
  expect(text.length).toBeGreaterThan(262_144); // past WHOLE_PARSE_CHARS: framed, not parsed whole
  const r = await post(d.url, '/queues/b', text, { contentType: 'application/json' });
  expect(r.status).toBe(400);
  expect(r.json.error.code).toBe('MalformedJson');
  expect(d.daemon.deps.pipeline.backlogMessages).toBe(0);
  const ok = await post(d.url, '/queues/b', `[${good.join(',')}]`, { contentType: 'application/json' });
  expect(ok.status).toBe(202);
  expect(ok.json.accepted).toBe(1000);
  await d.daemon.deps.pipeline.idle();
  expect(fake.bodies('b').filter((b) => b.startsWith('late-'))).toHaveLength(1000);
}, 60_000);

it('a 10,000-entry batch does not hold the event loop while it is recorded: CHUNK_ENTRIES (100) at a time, with turns of the loop between (parsing in slices: slices.unit.test.ts)', async () => {
  const d = await daemon();
  const { pipeline } = d.daemon.deps;
  let turns = 0;
  let spinning = true;
  const spin = () => {
    turns += 1;
    if (spinning) setImmediate(spin);
  };
  // Each call of accept(): how many entries, and how often the loop had turned by then.
  const calls: Array<{ n: number; turns: number }> = [];
  const accept = pipeline.accept.bind(pipeline);
  pipeline.accept = (dest, items) => {
    calls.push({ n: items.length, turns });
    return accept(dest, items);
  };
  const body = ndjson(10_000, (i) => JSON.stringify({ body: `big-${i}`, attributes: { n: { DataType: 'Number', StringValue: String(i) } } }));
  const sent = post(d.url, '/queues/b', body, { contentType: 'application/x-ndjson' });
  setImmediate(spin);
  const r = await sent;
  spinning = false;
  expect(r.status).toBe(202);
  expect(r.json.accepted).toBe(10_000);
  expect(calls.map((c) => c.n)).toEqual(Array(10_000 / CHUNK_ENTRIES).fill(CHUNK_ENTRIES));
  for (let k = 1; k < calls.length; k++) expect(calls[k]!.turns).toBeGreaterThan(calls[k - 1]!.turns);
  await pipeline.idle();
  expect(fake.bodies('b').filter((b) => b.startsWith('big-'))).toHaveLength(10_000);
}, 60_000);
