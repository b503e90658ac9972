/**
 * Settler (src/worker/settle.ts): deletes batched by ten, each caller told once whether SQS
 * deleted its message, through a promise (delete) or a callback (deleteWith, the worker's hot path).
 */
import pino from 'pino';
import type { SqsClient } from '../../src/sqs/client.js';
import { Settler } from '../../src/worker/settle.js';

type Call = { action: string; entries: Array<{ Id: string; ReceiptHandle: string }> };

/** A client whose DeleteMessageBatch answers after a turn: `gone` handles fail as ReceiptHandleIsInvalid, the rest succeed. */
function fakeClient(gone: Set<string>): { client: SqsClient; calls: Call[] } {
  const calls: Call[] = [];
  const client = {
    async call(action: string, params: { Entries: Call['entries'] }) {
      calls.push({ action, entries: params.Entries });
      await new Promise((r) => setTimeout(r, 5));
      const Successful = params.Entries.filter((e) => !gone.has(e.ReceiptHandle)).map((e) => ({ Id: e.Id }));
      const Failed = params.Entries.filter((e) => gone.has(e.ReceiptHandle)).map((e) => ({ Id: e.Id, Code: 'ReceiptHandleIsInvalid', SenderFault: true }));
      return { Successful, Failed };
    },
  } as unknown as SqsClient;
  return { client, calls };
}

function settler(client: SqsClient): Settler {
  return new Settler({ client, queueUrl: () => 'http://sqs.local/1/q', credentials: async () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }), log: pino({ level: 'silent' }), onError: () => undefined });
}

it('deleteWith calls back once per handle with what SQS said, batched, and at once after close', async () => {
  const { client, calls } = fakeClient(new Set(['h3']));
  const s = settler(client);
  const told = new Map<string, boolean[]>();
  const all = Array.from({ length: 12 }, (_, i) => `h${i}`);
  await new Promise<void>((resolve) => {
    let left = all.length;
    for (const h of all) {
      s.deleteWith(h, (ok) => {
        told.set(h, [...(told.get(h) ?? []), ok]);
        if (--left === 0) resolve();
      });
    }
  });
  // The first leaves alone (nothing was in flight), the next ten as one full batch, the last when a request is done.
  expect(calls.map((c) => c.entries.length)).toEqual([1, 10, 1]);
  expect(calls.every((c) => c.action === 'DeleteMessageBatch')).toBe(true);
  expect([...told.keys()].sort()).toEqual([...all].sort());
  for (const h of all) expect(told.get(h)).toEqual([h !== 'h3']);
  // The promise form says the same.
  await expect(s.delete('h20')).resolves.toBe(true);
  await s.drain(Date.now() + 1000);
  let after: boolean | undefined;
  s.deleteWith('h21', (ok) => { after = ok; });
  expect(after).toBe(false);
  await expect(s.delete('h22')).resolves.toBe(false);
  expect(calls.length).toBe(4); // none after close
});
