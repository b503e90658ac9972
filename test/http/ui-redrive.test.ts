/**
 * Dead-letter queue redrive. fauxqs has no message-move tasks (nor ListDeadLetterSourceQueues):
 * against it the page and the JSON say so and a start is a 501, nothing is faked. The supported
 * path is tested against a stub that answers the five SQS actions as the SQS API reference
 * documents them (requests recorded, so what the daemon asks SQS for is checked too).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { call, createUpstreamQueue, sameOriginBrowser, startUiDaemon, tokenIn, type UiDaemon } from './ui-harness.js';

describe('against fauxqs (no message-move tasks)', () => {
  let emulator: Emulator;
  let ui: UiDaemon;
  beforeAll(async () => {
    emulator = await startEmulator();
    ui = await startUiDaemon(emulator.endpoint);
    await createUpstreamQueue(ui.daemon, 'jobs-dlq');
  });
  afterAll(async () => {
    await ui?.stop();
    await emulator?.close();
  });

  it('says the upstream lacks message-move tasks, in the page and in JSON, and refuses a start with 501', async () => {
    const json = await call(ui.url, 'GET', '/queues/jobs-dlq/redrive');
    expect(json.status).toBe(200);
    expect(json.json).toMatchObject({ name: 'jobs-dlq', sources: { unsupported: 'InvalidAction' }, tasks: { unsupported: 'InvalidAction' } });
    const page = await call(ui.url, 'GET', '/queues/jobs-dlq/redrive', { html: true });
    expect(page.text).toContain('<strong>This upstream has no message-move tasks</strong>: it answered <code>InvalidAction</code> to ListMessageMoveTasks.');
    expect(page.text).not.toContain('Start redrive');
    const start = await call(ui.url, 'POST', '/queues/jobs-dlq/redrive', { json: {} });
    expect([start.status, start.json.error.code]).toEqual([501, 'MessageMoveUnsupported']);
  });
});

describe('against an upstream with message-move tasks', () => {
  const ARN = (name: string): string => `arn:aws:sqs:us-east-1:123456789012:${name}`;
  const requests: Array<{ action: string; params: Record<string, unknown> }> = [];
  let tasks: Array<Record<string, unknown>> = [];
  let stub: Server;
  let ui: UiDaemon;

  beforeAll(async () => {
    stub = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const action = String(req.headers['x-amz-target'] ?? '').replace('AmazonSQS.', '');
        const params = JSON.parse(body || '{}') as Record<string, unknown>;
        requests.push({ action, params });
        const answer = (status: number, out: unknown): void => {
          const text = JSON.stringify(out);
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text) });
          res.end(text);
        };
        const name = String(params.QueueName ?? String(params.QueueUrl ?? '').split('/').pop());
        switch (action) {
          case 'GetQueueUrl':
            return ['jobs', 'jobs-dlq', 'other.fifo', 'elsewhere'].includes(name)
              ? answer(200, { QueueUrl: `http://${req.headers.host}/123456789012/${name}` })
              : answer(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: 'The specified queue does not exist.' });
          case 'GetQueueAttributes':
            return answer(200, { Attributes: { QueueArn: ARN(name), ApproximateNumberOfMessages: '7', ...(name.endsWith('.fifo') ? { FifoQueue: 'true' } : {}) } });
          case 'ListDeadLetterSourceQueues':
            return answer(200, { queueUrls: name === 'jobs-dlq' ? [`http://${req.headers.host}/123456789012/jobs`] : [] });
          case 'ListMessageMoveTasks':
            return answer(200, { Results: tasks });
          case 'StartMessageMoveTask':
            tasks = [{ TaskHandle: 'handle-1', Status: 'RUNNING', SourceArn: params.SourceArn, ...(params.DestinationArn ? { DestinationArn: params.DestinationArn } : {}), ApproximateNumberOfMessagesMoved: 3, ApproximateNumberOfMessagesToMove: 7, StartedTimestamp: 1_700_000_000_000 }];
            return answer(200, { TaskHandle: 'handle-1' });
          case 'CancelMessageMoveTask':
            tasks = tasks.map((t) => ({ ...t, Status: 'CANCELLED' }));
            return answer(200, { ApproximateNumberOfMessagesMoved: 3 });
          default:
            return answer(400, { __type: 'com.amazonaws.sqs#InvalidAction', message: `Unknown action ${action}` });
        }
      });
    });
    await new Promise<void>((resolve) => stub.listen(0, '127.0.0.1', resolve));
    ui = await startUiDaemon(`http://127.0.0.1:${(stub.address() as AddressInfo).port}`);
  });
  afterAll(async () => {
    await ui?.stop();
    await new Promise<void>((resolve) => stub.close(() => resolve()));
  });

  it('lists the source queues, starts a task back to them from the browser, shows its progress with a self-refresh, cancels it', async () => {
    const before = await call(ui.url, 'GET', '/queues/jobs-dlq/redrive', { html: true });
    expect(before.text).toContain('Dead-letter queue of <a href="/queues/jobs">jobs</a>.');
    expect(before.text).toContain('No message-move task from this queue yet.');
    expect(before.text).toContain('About 7 messages to move.');
    expect(before.text).not.toContain('http-equiv="refresh"');

    const forged = await call(ui.url, 'POST', '/queues/jobs-dlq/redrive', { html: true, headers: sameOriginBrowser(ui.url), form: {} });
    expect(forged.status).toBe(403);
    expect(requests.some((r) => r.action === 'StartMessageMoveTask')).toBe(false);

    const started = await call(ui.url, 'POST', '/queues/jobs-dlq/redrive', { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: tokenIn(before.text), destination: '', max_per_second: '' } });
    expect([started.status, started.headers.location]).toEqual([303, '/queues/jobs-dlq/redrive?started=1']);
    expect(requests.filter((r) => r.action === 'StartMessageMoveTask').map((r) => r.params)).toEqual([{ SourceArn: ARN('jobs-dlq') }]);

    const running = await call(ui.url, 'GET', '/queues/jobs-dlq/redrive?started=1', { html: true });
    expect(running.text).toContain('<meta http-equiv="refresh" content="5">');
    expect(running.text).toContain('<td><code>RUNNING</code></td><td class="num">3 of 7 (42 %)</td>');
    expect(running.text).toContain('<td>each message&#39;s source queue</td>');
    const cancelled = await call(ui.url, 'POST', '/queues/jobs-dlq/redrive/cancel', { html: true, headers: sameOriginBrowser(ui.url), form: { _csrf: tokenIn(running.text), task_handle: 'handle-1' } });
    expect(cancelled.status).toBe(303);
    expect(requests.filter((r) => r.action === 'CancelMessageMoveTask').map((r) => r.params)).toEqual([{ TaskHandle: 'handle-1' }]);
    expect((await call(ui.url, 'GET', '/queues/jobs-dlq/redrive')).json.tasks.items[0]).toMatchObject({ Status: 'CANCELLED', ApproximateNumberOfMessagesMoved: 3 });
  });

  it('as JSON: a named destination and rate go to SQS; a destination of the other type or missing is a 400', async () => {
    const r = await call(ui.url, 'POST', '/queues/jobs-dlq/redrive', { json: { destination: 'elsewhere', max_per_second: 50 } });
    expect([r.status, r.json]).toEqual([202, { taskHandle: 'handle-1' }]);
    expect(requests.filter((x) => x.action === 'StartMessageMoveTask').at(-1)?.params).toEqual({ SourceArn: ARN('jobs-dlq'), DestinationArn: ARN('elsewhere'), MaxNumberOfMessagesPerSecond: 50 });
    expect((await call(ui.url, 'POST', '/queues/jobs-dlq/redrive', { json: { destination: 'other.fifo' } })).json.error.code).toBe('InvalidDeadLetterQueue');
    expect((await call(ui.url, 'POST', '/queues/jobs-dlq/redrive', { json: { destination: 'nowhere' } })).json.error.code).toBe('DeadLetterQueueDoesNotExist');
    expect((await call(ui.url, 'POST', '/queues/jobs-dlq/redrive', { json: { max_per_second: 501 } })).json.error.message).toContain('field max_per_second');
  });
});
