/**
 * The baseline of the worker benchmark: what one would write by hand with `sqs-consumer` and the
 * AWS SDK. `consumers` Consumer instances (one long poll each, 10 messages), each message POSTed
 * to the app over one undici pool, the batch deleted by sqs-consumer once every POST answered 2xx.
 * Arguments: endpoint, queue URL, app URL, consumers (default 5, like the daemon's 50 / 10).
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import { Consumer } from 'sqs-consumer';
import { Pool } from 'undici';

const [endpoint, queueUrl, appUrl, n] = process.argv.slice(2) as [string, string, string, string | undefined];
const app = new URL(appUrl);
const pool = new Pool(app.origin, { connections: 50 });
const sqs = new SQSClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDBENCH', secretAccessKey: 'benchsecret' } });
const consumers = Array.from({ length: Number(n ?? 5) }, () =>
  Consumer.create({
    queueUrl,
    sqs,
    batchSize: 10,
    waitTimeSeconds: 20,
    pollingWaitTimeMs: 0,
    messageSystemAttributeNames: ['All'],
    handleMessageBatch: async (messages) => {
      await Promise.all(messages.map(async (m) => {
        const res = await pool.request({ path: app.pathname, method: 'POST', body: m.Body ?? '', headers: { 'content-type': 'application/json', 'x-aws-sqsd-msgid': m.MessageId ?? '' } });
        await res.body.dump();
        if (res.statusCode < 200 || res.statusCode >= 300) throw new Error(`app answered ${res.statusCode}`);
      }));
      return messages;
    },
  }),
);
for (const c of consumers) {
  c.on('error', (err) => process.stderr.write(`consumer error: ${err.message}\n`));
  c.start();
}
process.stdout.write('{"msg":"consumer started"}\n');
process.on('SIGTERM', () => {
  for (const c of consumers) c.stop();
  void pool.close().then(() => process.exit(0));
});
