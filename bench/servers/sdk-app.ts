/**
 * Baseline A, what web apps do without the daemon: a small node:http endpoint that takes the
 * same form-encoded `message_body` and awaits SendMessage through the AWS SDK (default client
 * settings) before it answers. Arguments: SQS endpoint, queue name.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { serve } from '../lib/serve.js';

const [endpoint, queueName] = process.argv.slice(2);
if (!endpoint || !queueName) throw new Error('usage: sdk-app <endpoint> <queue>');
const sqs = new SQSClient({ region: 'us-east-1', endpoint, credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'secret' } });
const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: form.get('message_body') ?? '' })).then(
      (out) => {
        const body = JSON.stringify({ id: out.MessageId, queue: queueName });
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      },
      (err: unknown) => {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(String((err as Error).name));
      },
    );
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => serve({}, { port: (server.address() as AddressInfo).port }));
