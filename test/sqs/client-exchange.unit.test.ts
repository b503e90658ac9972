/**
 * SqsClient's exchange (undici's dispatch() in issue 14, the daemon's own HTTP/1.1 client since
 * issue 13's round 4; client-transport.unit.test.ts has the transport's own cases): answers read whole however SQS chunks them (a character split across chunks, a BOM),
 * the headers it keeps, and what becomes of an abort, a timeout and a closed pool. Against a
 * node:http server on 127.0.0.1 port 0 that answers each request as the test says.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { SqsClient } from '../../src/sqs/client.js';

const creds = { accessKeyId: 'AKIDX', secretAccessKey: 'secret-value' };

let server: Server;
let endpoint: string;
let handle: (req: IncomingMessage, res: ServerResponse, body: string) => void;
let client: SqsClient;

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handle(req, res, Buffer.concat(chunks).toString('utf8')));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  client = new SqsClient({ endpoint, region: 'eu-west-1', requestTimeoutMs: 5000 });
});
afterAll(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

describe('SqsClient exchange', () => {
  it('reads an answer sent in many chunks, with a character split between two of them', async () => {
    const text = JSON.stringify({ QueueUrl: `http://q/${'é'.repeat(3000)}€` });
    const bytes = Buffer.from(text, 'utf8');
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'rid-1' });
      let off = 0;
      const step = (): void => {
        if (off >= bytes.length) return void res.end();
        res.write(bytes.subarray(off, off + 1001)); // odd size: 'é' (2 bytes) is cut in two
        off += 1001;
        setImmediate(step);
      };
      step();
    };
    expect(await client.getQueueUrl('x', creds)).toBe(`http://q/${'é'.repeat(3000)}€`);
  });

  it('sends the hand-built SendMessageBatch body and parses the answer', async () => {
    let seen = '';
    handle = (req, res, body) => {
      seen = body;
      expect(req.headers['x-amz-target']).toBe('AmazonSQS.SendMessageBatch');
      res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(JSON.stringify({ Successful: [{ Id: '0', MessageId: 'm0', MD5OfMessageBody: 'x' }] }));
    };
    const out = await client.sendMessageBatch('http://q/1/a', [{ Id: '0', MessageBody: 'a"\u2028\ud800' }], creds);
    expect(out.Successful?.[0]?.MessageId).toBe('m0');
    expect(seen).toBe(JSON.stringify({ QueueUrl: 'http://q/1/a', Entries: [{ Id: '0', MessageBody: 'a"\u2028\ud800' }] }));
  });

  it('relay hands back status, text (a leading BOM dropped, as body.text() did), request id and query error', async () => {
    handle = (_req, res) => {
      res.writeHead(400, { 'x-amzn-requestid': 'rid-2', 'x-amzn-query-error': 'AWS.SimpleQueueService.NonExistentQueue;Sender' });
      res.end('\ufeff{"__type":"x"}');
    };
    expect(await client.relay('GetQueueUrl', '{}', creds)).toEqual({ status: 400, text: '{"__type":"x"}', requestId: 'rid-2', queryError: 'AWS.SimpleQueueService.NonExistentQueue;Sender' });
    handle = (_req, res) => res.end();
    expect(await client.relay('GetQueueUrl', '{}', creds)).toEqual({ status: 200, text: '' });
  });

  it('an abort signal ends a call waiting for its answer (Aborted), and one aborted before it starts never sends', async () => {
    let arrived = 0;
    handle = () => {
      arrived += 1; // never answers
    };
    const ac = new AbortController();
    const p = client.call('ReceiveMessage', {}, creds, { signal: ac.signal, timeoutMs: 20_000 });
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (arrived > 0) (clearInterval(t), r());
      }, 5);
    });
    const t0 = Date.now();
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'Aborted', disposition: 'permanent' });
    expect(Date.now() - t0).toBeLessThan(1000);
    const early = new AbortController();
    early.abort();
    await expect(client.call('ReceiveMessage', {}, creds, { signal: early.signal })).rejects.toMatchObject({ code: 'Aborted' });
    expect(arrived).toBe(1);
  });

  it('an answer slower than timeoutMs is a retryable TimeoutError', async () => {
    handle = () => {}; // never answers
    await expect(client.call('GetQueueUrl', {}, creds, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'TimeoutError', disposition: 'retry' });
  });

  it('a closed client refuses at once with a NetworkError', async () => {
    const c = new SqsClient({ endpoint, region: 'eu-west-1' });
    await c.close();
    await expect(c.call('GetQueueUrl', {}, creds)).rejects.toMatchObject({ code: 'NetworkError' });
  });
});
