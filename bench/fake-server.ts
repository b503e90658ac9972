/**
 * The fake SQS (test/support/fake-sqs.ts) in a process of its own, driven over IPC by
 * bench/run.ts. Arguments: upstream latency in ms (default 20, about a real SQS round trip), and
 * `--long-polling` for receives that wait for messages as SQS's do (bench/worker.ts).
 */
import { startFakeSqs } from '../test/support/fake-sqs.js';
import { BitSet, seqOf } from './lib/bodies.js';
import { serve } from './lib/serve.js';

const latencyMs = Number(process.argv[2] ?? 20);
const fake = await startFakeSqs({ latencyMs, seed: 1, longPolling: process.argv.includes('--long-polling') });

serve(
  {
    createQueue: (a) => fake.createQueue(String(a.name)),
    deleteQueue: (a) => fake.deleteQueue(String(a.name)),
    reset: () => fake.reset(),
    count: (a) => fake.messageCount(String(a.queue)),
    stats: () => fake.stats,
    set: (a) => {
      if (typeof a.down === 'boolean') fake.down = a.down;
      if (typeof a.latencyMs === 'number') fake.latencyMs = a.latencyMs;
    },
    /**
     * Which messages of run `tag` (sequence numbers 0..n-1) are stored, how many were stored
     * more than once, and when the first and the last of them arrived (Date.now() ms).
     */
    verify: (a) => {
      const queue = String(a.queue);
      const tag = String(a.tag);
      const n = Number(a.n);
      const delivered = new BitSet(n);
      let unique = 0;
      let duplicates = 0;
      let foreign = 0;
      for (const [body, count] of fake.countByBody(queue)) {
        const seq = seqOf(tag, body);
        if (seq < 0 || seq >= n) {
          foreign += count;
          continue;
        }
        delivered.set(seq);
        unique += 1;
        duplicates += count - 1;
      }
      const log = fake.messages(queue);
      let firstAt = Infinity;
      let lastAt = -Infinity;
      for (const m of log) {
        if (seqOf(tag, m.body) < 0) continue;
        if (m.receivedAt < firstAt) firstAt = m.receivedAt;
        if (m.receivedAt > lastAt) lastAt = m.receivedAt;
      }
      return { delivered: delivered.toBase64(), unique, duplicates, foreign, firstAt, lastAt };
    },
  },
  { endpoint: fake.endpoint },
);
