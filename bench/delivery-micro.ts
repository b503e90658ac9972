/**
 * Micro-benchmarks of the delivery side's per-batch steps (issue 14), in-process, on a batch of
 * 10 entries of 200 bytes and the answer and head the bench's fake SQS gives for it:
 * the request JSON, signing, JSON.parse of the answer, the head parse.
 * Interleaved rounds; prints min and median µs per batch of each.
 *
 *   node dist-bench/bench/delivery-micro.js [--rounds 40] [--iters 2000]
 */
import { hash, randomUUID } from 'node:crypto';
import { parseHead } from '../src/net/http1/head.js';
import { batchRequestJson } from '../src/sqs/batch-json.js';
import { signRequest } from '../src/sqs/sign.js';
import type { SendMessageBatchRequestEntry } from '../src/sqs/types.js';
import { option } from './lib/args.js';

const args = process.argv.slice(2);
const rounds = Number(option(args, '--rounds', '40'));
const iters = Number(option(args, '--iters', '2000'));

const bodies = Array.from({ length: 10 }, (_, i) => `${'m'.repeat(190)}-${String(i).padStart(8, '0')}`);
const entries: SendMessageBatchRequestEntry[] = bodies.map((b, i) => ({ Id: String(i), MessageBody: b }));
const queueUrl = 'http://127.0.0.1:40000/000000000000/bench-queue';
const answer = JSON.stringify({ Successful: bodies.map((b, i) => ({ Id: String(i), MessageId: randomUUID(), MD5OfMessageBody: hash('md5', b) })), Failed: [] });
const head = `HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: ${answer.length}\r\nx-amzn-requestid: ${randomUUID()}\r\nDate: Thu, 03 Dec 2026 08:00:00 GMT\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5`;
const creds = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench/secret+key' };
const body = batchRequestJson(queueUrl, entries);

let sink = 0;
const cases: Record<string, () => void> = {
  batchRequestJson: () => { sink += batchRequestJson(queueUrl, entries).length; },
  signRequest: () => { sink += signRequest({ host: '127.0.0.1:40000', region: 'us-east-1', target: 'AmazonSQS.SendMessageBatch', body, credentials: creds }).authorization?.length ?? 0; },
  'answer: JSON.parse': () => { sink += (JSON.parse(answer) as { Successful: unknown[] }).Successful.length; },
  parseHead: () => { const h = parseHead(head); sink += typeof h === 'object' ? h.length : 0; },
};

const times: Record<string, number[]> = {};
for (const name in cases) times[name] = [];
for (let r = 0; r < rounds; r++) {
  for (const name in cases) {
    const f = cases[name] as () => void;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < iters; i++) f();
    (times[name] as number[]).push(Number(process.hrtime.bigint() - t0) / 1000 / iters);
  }
}
for (const name in times) {
  const t = (times[name] as number[]).slice(5).sort((a, b) => a - b);
  console.log(`${name.padEnd(22)} min ${(t[0] as number).toFixed(2)} µs  median ${(t[Math.floor(t.length / 2)] as number).toFixed(2)} µs`);
}
if (sink === 42) console.log('');
