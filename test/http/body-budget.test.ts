/**
 * --max-inflight-body-bytes through a running daemon: while one client holds most of the
 * budget with a half-sent body, a send over the rest is answered 503 TooManyBodyBytes with
 * Retry-After at once, by the send fast path (node:http), by Koa's route (a ?wait=... query
 * goes there) and by the SQS API door (ServiceUnavailable to an AWS SDK, which retries it),
 * while small sends from other clients keep being accepted; once the held body is answered, the
 * same large send goes through. The fake SQS stores what arrives.
 */
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { connect, type Socket } from 'node:net';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { AUTH, post, startTestDaemon, type TestDaemon } from '../support/daemon.js';

const MiB = 1_048_576;
let fake: FakeSqs;
let d: TestDaemon;
const sockets: Socket[] = [];

beforeAll(async () => {
  fake = await startFakeSqs({ latencyMs: 1, queues: ['q'] });
  d = await startTestDaemon(fake.endpoint, ['--max-request-bytes', String(MiB), '--max-inflight-body-bytes', String(1.5 * MiB), '--credentials', 'chain'], 'info', {
    credentialProvider: async () => ({ accessKeyId: 'D', secretAccessKey: 'd' }),
  });
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await d.stop();
  await fake.close();
});

/** The daemon's /metrics gauges without labels, by name. */
async function gauges(): Promise<Record<string, number>> {
  const text = await (await fetch(`${d.url}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^(sqs_accelerator_\w+) (\S+)$/gm)) out[m[1] as string] = Number(m[2]);
  return out;
}

/** A send whose body is declared whole but sent only in part: it holds its declared length until answered. */
function halfSent(bytes: number): { status: Promise<string>; finish: () => void } {
  const { port } = new URL(d.url);
  const socket = connect(Number(port), '127.0.0.1');
  sockets.push(socket);
  let reply = '';
  const status = new Promise<string>((resolve) => {
    socket.on('data', (b: Buffer) => {
      reply += b.toString();
      if (reply.includes('\r\n\r\n')) resolve(reply.slice(9, 12));
    });
    socket.on('close', () => resolve(reply.slice(9, 12)));
  });
  socket.on('error', () => {});
  const body = 'h'.repeat(bytes);
  socket.write(`POST /queues/q HTTP/1.1\r\nHost: localhost\r\nAuthorization: ${AUTH}\r\nContent-Type: text/plain\r\nContent-Length: ${bytes}\r\n\r\n${body.slice(0, 1000)}`);
  return { status, finish: () => socket.write(body.slice(1000)) };
}

it('refuses what would pass the bound at once, at every door, keeps serving what fits, and takes the large send once the held body is answered', async () => {
  expect((await post(d.url, '/queues/q', 'prime', { contentType: 'text/plain' })).status).toBe(202); // the queue is resolved
  const held = halfSent(MiB - 64); // 1 MiB of the 1.5 MiB held
  // Wait until the daemon has taken it: a send of 0.6 MiB is refused only then.
  const large = 'L'.repeat(0.6 * MiB);
  let acceptedBefore = 0;
  let fast = await post(d.url, '/queues/q', large, { contentType: 'text/plain' });
  for (let i = 0; i < 100 && fast.status === 202; i++) {
    acceptedBefore += 1;
    await new Promise((r) => setTimeout(r, 20));
    fast = await post(d.url, '/queues/q', large, { contentType: 'text/plain' });
  }
  expect(fast.status).toBe(503);
  expect(fast.headers['retry-after']).toBe('1');
  expect((fast.json as { error: { code: string; message: string } }).error.code).toBe('TooManyBodyBytes');
  expect((fast.json as { error: { message: string } }).error.message).toContain('--max-inflight-body-bytes (1572864 bytes;');

  const koa = await post(d.url, '/queues/q?wait=0', large, { contentType: 'text/plain' });
  expect([koa.status, (koa.json as { error: { code: string } }).error.code]).toEqual([503, 'TooManyBodyBytes']);

  const sdk = new SQSClient({ endpoint: d.url, region: 'eu-west-1', credentials: { accessKeyId: 'APPKEY', secretAccessKey: 'app-secret' }, maxAttempts: 1 });
  const queueUrl = `${d.url}/000000000000/q`;
  const err = await sdk.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'S'.repeat(0.6 * MiB) })).catch((e: unknown) => e as { name?: string; $metadata?: { httpStatusCode?: number } });
  expect([(err as { name?: string }).name, (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode]).toEqual(['ServiceUnavailable', 503]);

  // Other callers' small sends are not held behind the budget.
  const small = await Promise.all(Array.from({ length: 5 }, (_, i) => post(d.url, '/queues/q', `small ${i}`, { contentType: 'text/plain' })));
  expect(small.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);

  // /metrics shows what is held against the bound: the held body's declared length, and its connection.
  const during = await gauges();
  expect(during.sqs_accelerator_inflight_body_bytes).toBeGreaterThanOrEqual(MiB - 64);
  expect(during.sqs_accelerator_inflight_body_bytes_limit).toBe(1.5 * MiB);
  expect(during.sqs_accelerator_client_connections).toBeGreaterThanOrEqual(1);

  held.finish();
  expect(await held.status).toBe('202');
  // Given back when answered: only the scrape's own request, which has no body, is left.
  let afterwards = await gauges();
  for (let i = 0; i < 100 && afterwards.sqs_accelerator_inflight_body_bytes !== 0; i++) afterwards = await gauges();
  expect(afterwards.sqs_accelerator_inflight_body_bytes).toBe(0);
  const after = await post(d.url, '/queues/q', large, { contentType: 'text/plain' });
  expect(after.status).toBe(202);
  const viaSdk = await sdk.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'S'.repeat(0.6 * MiB) }));
  expect(viaSdk.MessageId).toBeDefined();
  sdk.destroy();

  // What was accepted arrives; what was refused never does.
  const expected = 1 + 1 + acceptedBefore + 5 + 1 + 1; // prime, held, early larges, small, large, SDK
  for (let i = 0; i < 200 && fake.bodies('q').length < expected; i++) await new Promise((r) => setTimeout(r, 20));
  const got = fake.bodies('q');
  expect(got.length).toBe(expected);
  expect(got.filter((b) => b.startsWith('small ')).sort()).toEqual(['small 0', 'small 1', 'small 2', 'small 3', 'small 4']);
  expect(got.filter((b) => b === large).length).toBe(acceptedBefore + 1);
  expect(got.filter((b) => b.length === MiB - 64).length).toBe(1);
  expect(got.filter((b) => b.startsWith('S')).length).toBe(1);
  expect(d.logs.find('answering new ones 503 TooManyBodyBytes').length).toBeGreaterThanOrEqual(1);
});
