/**
 * CPU the fake SQS (test/support/fake-sqs.ts) spends per stored message: a child process runs the
 * fake (no latency), this one posts SendMessageBatch requests of 10 bench-like entries over
 * keep-alive connections and reads the child's process.cpuUsage() before and after.
 *
 *   node dist-bench/bench/fake-cost.js [--batches 5000] [--connections 8] [--rounds 3] [--node-args "--cpu-prof ..."]
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';

const argv = process.argv.slice(2);
const opt = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};

if (argv[0] === '--child') {
  const { startFakeSqs } = await import('../test/support/fake-sqs.js');
  const fake = await startFakeSqs({ latencyMs: 0, seed: 1, queues: ['bench'] });
  process.on('message', (m: { op: string }) => {
    if (m.op === 'cpu') process.send!({ cpu: process.cpuUsage(), count: fake.messageCount('bench') });
    else if (m.op === 'exit') void fake.close().then(() => process.exit(0));
  });
  process.send!({ endpoint: fake.endpoint });
} else {
  const batches = Number(opt('batches', '5000'));
  const connections = Number(opt('connections', '8'));
  const rounds = Number(opt('rounds', '3'));
  const nodeArgs = opt('node-args', '').split(' ').filter(Boolean);
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: nodeArgs });
  const ask = <T>(msg?: unknown): Promise<T> => new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    if (msg) child.send(msg as object);
  });
  const { endpoint } = await ask<{ endpoint: string }>();
  const url = new URL(endpoint);
  const agent = new Agent({ keepAlive: true, maxSockets: connections });
  const headers = {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': 'AmazonSQS.SendMessageBatch',
    authorization: 'AWS4-HMAC-SHA256 Credential=AKIDBENCH/20261203/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=00',
  };
  let seq = 0;
  const body = (): string => {
    const entries = [];
    for (let i = 0; i < 10; i++) {
      entries.push({ Id: String(i), MessageBody: `{"tag":"fakecost","seq":${seq++},"pad":"${'x'.repeat(160)}"}` });
    }
    return JSON.stringify({ QueueUrl: `${endpoint}/000000000000/bench`, Entries: entries });
  };
  const post = (): Promise<void> => new Promise((resolve, reject) => {
    const payload = body();
    const req = request({ host: url.hostname, port: url.port, path: '/', method: 'POST', agent, headers: { ...headers, 'content-length': Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(payload);
  });
  for (let r = 0; r < rounds; r++) {
    const before = await ask<{ cpu: NodeJS.CpuUsage; count: number }>({ op: 'cpu' });
    let sent = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: connections }, async () => {
      while (sent < batches) {
        sent++;
        await post();
      }
    }));
    const wall = Number(process.hrtime.bigint() - t0) / 1e6;
    const after = await ask<{ cpu: NodeJS.CpuUsage; count: number }>({ op: 'cpu' });
    const n = after.count - before.count;
    const user = (after.cpu.user - before.cpu.user) / n;
    const system = (after.cpu.system - before.cpu.system) / n;
    console.log(`round ${r + 1}: ${n} messages in ${wall.toFixed(0)} ms; fake CPU ${(user + system).toFixed(2)} us/msg (user ${user.toFixed(2)}, system ${system.toFixed(2)})`);
  }
  child.send({ op: 'exit' });
  agent.destroy();
}
