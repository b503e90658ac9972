/**
 * Drives attemptBatch (the SQS client, signing, src/net/http1, the answer and the sorting of its
 * entries) against an in-process raw TCP server with a canned all-success answer, for instruction
 * counts of the delivery side under callgrind (issue 14, eighth sitting). `root` is a built copy
 * of the daemon (its dist/), so two revisions run the same driver:
 *
 *   valgrind --tool=callgrind --smc-check=all-non-file node --single-threaded dist-bench/bench/delivery-drive.js <root> <batches>
 *
 * Per batch = (Ir at 5,000 batches − Ir at 1,000) / 4,000: start-up and warm-up cancel out.
 */
import { hash, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { resolve } from 'node:path';

interface Outcome { delivered: unknown[]; failed: Array<{ error: { code: string } }> }
type Attempt = (client: unknown, resolver: undefined, batch: unknown[], dest: unknown) => Promise<Outcome>;

const root = resolve(process.argv[2] ?? '.');
const total = Number(process.argv[3] ?? 2000);
const LANES = 8;
const { attemptBatch } = (await import(`${root}/dist/src/delivery/attempt.js`)) as { attemptBatch: Attempt };
const { SqsClient } = (await import(`${root}/dist/src/sqs/client.js`)) as { SqsClient: new (o: object) => { close(): Promise<void> } };
const { staticCredentials } = (await import(`${root}/dist/src/sqs/credentials.js`)) as { staticCredentials: (c: object) => unknown };
const { makeDestination } = (await import(`${root}/dist/src/sqs/resolver.js`)) as { makeDestination: (...a: unknown[]) => unknown };

const bodies = Array.from({ length: 10 }, (_, i) => `${'m'.repeat(190)}-${String(i).padStart(8, '0')}`);
const answer = JSON.stringify({ Successful: bodies.map((b, i) => ({ Id: String(i), MessageId: randomUUID(), MD5OfMessageBody: hash('md5', b) })), Failed: [] });
const reply = Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: application/x-amz-json-1.0\r\ncontent-length: ${answer.length}\r\nx-amzn-requestid: ${randomUUID()}\r\nDate: Thu, 03 Dec 2026 08:00:00 GMT\r\nConnection: keep-alive\r\n\r\n${answer}`);
const server = createServer((sock) => {
  let buf = '';
  sock.on('data', (d: Buffer) => {
    buf += d.toString('latin1');
    for (;;) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const len = Number(/content-length: (\d+)/i.exec(buf.slice(0, end))?.[1]);
      if (buf.length < end + 4 + len) return;
      buf = buf.slice(end + 4 + len);
      sock.write(reply);
    }
  });
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
const client = new SqsClient({ endpoint, region: 'us-east-1', connections: LANES });
const creds = staticCredentials({ accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench/secret+key' });
const dest = makeDestination('k', 'q', `${endpoint}/000000000000/q`, { fifo: false, maxMessageBytes: 1_048_576, contentBasedDedup: false }, creds);
let started = 0;
let id = 0;
let delivered = 0;
async function lane(): Promise<void> {
  while (started < total) {
    started += 1;
    const batch = bodies.map((body) => ({ id: `e-${(id++).toString(36)}`, dest, message: { body }, bytes: body.length, acceptedAt: 0, attempts: 0 }));
    const o = await attemptBatch(client, undefined, batch, dest);
    if (o.delivered.length !== batch.length) throw new Error(`not delivered: ${o.failed.map((f) => f.error.code).join(',')}`);
    delivered += o.delivered.length;
  }
}
const c0 = process.cpuUsage();
await Promise.all(Array.from({ length: LANES }, lane));
const c = process.cpuUsage(c0);
console.log(`${root}: ${total} batches, ${delivered} delivered, CPU ${((c.user + c.system) / total).toFixed(1)} µs a batch`);
await client.close();
server.close();
