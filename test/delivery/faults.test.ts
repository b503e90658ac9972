/**
 * The acceptance test of the delivery promise: under about 30% injected faults (throttling, 5xx,
 * dropped connections before and after SQS stored the batch, failed entries), every message that
 * got a 202 reaches SQS. Duplicates are counted: allowed on a standard queue, and only from
 * answers lost after SQS stored the batch (dropAfterStore); none on a FIFO queue.
 */
import { Pool } from 'undici';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, postJson, runBounded, startTestDaemon, type TestDaemon } from '../support/daemon.js';

interface Tally {
  acked: number;
  deliveredUnique: number;
  duplicates: number;
  lost: number;
}

function tally(fake: FakeSqs, queue: string, acked: Set<string>): Tally {
  const counts = fake.countByBody(queue);
  let deliveredUnique = 0;
  let duplicates = 0;
  let lost = 0;
  for (const body of acked) {
    const c = counts.get(body) ?? 0;
    if (c === 0) lost += 1;
    else {
      deliveredUnique += 1;
      duplicates += c - 1;
    }
  }
  return { acked: acked.size, deliveredUnique, duplicates, lost };
}

describe.each([
  ['memory-only', false],
  ['with the spool (the default store)', true],
])('%s', (name, spool) => {
  let fake: FakeSqs;
  let d: TestDaemon;
  let pool: Pool;

  beforeAll(async () => {
    fake = await startFakeSqs({ queues: ['chaos', 'chaos.fifo'], latencyMs: 5, seed: 20261121 });
    d = await startTestDaemon(fake.endpoint, ['--retry-base-ms', '5', '--retry-max-ms', '40'], 'warn', { spool });
    pool = new Pool(d.url, { connections: 50 });
  });

  afterAll(async () => {
    await pool?.close();
    await d?.stop();
    await fake?.close();
  });

  it('every acknowledged message arrives under 30% injected faults; duplicates only from lost answers, none on FIFO', async () => {
    fake.faults = { throttle: 0.1, serverError: 0.1, dropConnection: 0.08, dropAfterStore: 0.08, partialFailure: 0.05, actions: ['SendMessageBatch'] };
    const acked = { chaos: new Set<string>(), 'chaos.fifo': new Set<string>() };

    // Single messages, concurrently, to both queues...
    const SINGLES = 3000;
    await runBounded(SINGLES, 50, async (i) => {
      const fifo = i % 3 === 0;
      const queue = fifo ? 'chaos.fifo' : 'chaos';
      const body = `s-${i}`;
      const r = fifo
        ? await postJson(d.url, `/queues/${queue}`, { body, groupId: `g${i % 7}` }, { dispatcher: pool })
        : await post(d.url, `/queues/${queue}`, body, { contentType: 'text/plain', dispatcher: pool });
      if (r.status === 202) acked[queue].add(body);
    });
    // ...and batches (NDJSON) to the standard queue.
    const BATCHES = 40;
    await runBounded(BATCHES, 10, async (b) => {
      const bodies = Array.from({ length: 25 }, (_, i) => `b-${b}-${i}`);
      const r = await post(d.url, '/queues/chaos', bodies.map((x) => JSON.stringify({ body: x })).join('\n'), { contentType: 'application/x-ndjson', dispatcher: pool });
      if (r.status === 202) for (const [i, res] of (r.json.results as Array<{ id?: string }>).entries()) if (res.id) acked.chaos.add(bodies[i] as string);
    });

    await d.daemon.deps.pipeline.idle();
    const std = tally(fake, 'chaos', acked.chaos);
    const fifo = tally(fake, 'chaos.fifo', acked['chaos.fifo']);
    const faults = fake.stats.faultsInjected;
    const requests = fake.stats.byAction.SendMessageBatch ?? 0;
    const requestFaults = (faults.throttle ?? 0) + (faults.serverError ?? 0) + (faults.dropConnection ?? 0) + (faults.dropAfterStore ?? 0);
    // eslint-disable-next-line no-console
    console.log(
      `fault test, ${name} (seed ${fake.seed}): ${requests} SendMessageBatch, ${requestFaults} request faults (${((requestFaults / requests) * 100).toFixed(1)}%), ` +
        `${faults.partialFailure ?? 0} failed entries, faults ${JSON.stringify(faults)}\n` +
        `standard: ${JSON.stringify(std)}\nfifo: ${JSON.stringify(fifo)}\ndaemon totals: ${JSON.stringify(d.daemon.deps.pipeline.totals)}`,
    );

    expect(std.acked).toBe(SINGLES - SINGLES / 3 + BATCHES * 25); // nothing refused: faults are SQS's, not ours
    expect(fifo.acked).toBe(SINGLES / 3);
    expect(std.lost).toBe(0);
    expect(fifo.lost).toBe(0);
    expect(std.deliveredUnique).toBe(std.acked);
    expect(fifo.deliveredUnique).toBe(fifo.acked);
    // Enough chaos to mean something: about 30% of requests failed as a whole, and 5% of entries on their own.
    expect(requestFaults / requests).toBeGreaterThan(0.25);
    expect(faults.dropAfterStore ?? 0).toBeGreaterThan(5);
    // Duplicates only from answers lost after SQS stored the batch (at most 10 entries each); FIFO dedup ids absorb them.
    expect(std.duplicates).toBeLessThanOrEqual((faults.dropAfterStore ?? 0) * 10);
    expect(fifo.duplicates).toBe(0);
    // No message was given up on.
    expect(d.daemon.deps.pipeline.totals.deadLettered).toBe(0);
    expect(fake.messageCount('chaos')).toBe(std.acked + std.duplicates);
  });
});
