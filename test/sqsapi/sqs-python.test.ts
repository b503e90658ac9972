/**
 * The SQS API with Python clients, run as child processes against the daemon in front of fauxqs:
 * boto3 and the AWS CLI 1.x (JSON protocol) from the machine's Python, and Debian's AWS CLI v2
 * (/usr/bin/aws, Query protocol). String, Number and Binary attributes must arrive byte-identical,
 * the MD5s in the answers must be SQS's (boto3 does not check them: this test does), and errors
 * must carry the codes these clients expect.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type Emulator } from '../support/fauxqs.js';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { findDebianAwsCli, findPython, run } from '../support/python.js';
import { md5Hex, sqsMd5OfAttributes, type Attr } from '../support/sqs-md5.js';

const here = dirname(fileURLToPath(import.meta.url));
let emulator: Emulator;
let d: TestDaemon;
let python: string;
let home: string;
let env: Record<string, string>;

beforeAll(async () => {
  python = await findPython();
  emulator = await startEmulator();
  d = await startTestDaemon(emulator.endpoint, ['--credentials', 'chain'], 'warn', {
    credentialProvider: async () => ({ accessKeyId: 'DAEMONKEY', secretAccessKey: 'daemon-secret' }),
  });
  // A clean home: no ~/.aws of the machine's user changes what the clients do.
  home = mkdtempSync(join(tmpdir(), 'sqsapi-py-'));
  env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    ...(process.env.PYENV_ROOT ? { PYENV_ROOT: process.env.PYENV_ROOT } : {}),
    ...(process.env.PYENV_VERSION ? { PYENV_VERSION: process.env.PYENV_VERSION } : {}),
    AWS_ENDPOINT_URL_SQS: d.url,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'APPKEY',
    AWS_SECRET_ACCESS_KEY: 'app-secret',
    AWS_CONFIG_FILE: join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'credentials'),
    AWS_PAGER: '',
  };
}, 60_000);

afterAll(async () => {
  await d?.stop();
  await emulator?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

const BINARY = Buffer.from([0, 1, 2, 0x7f, 0x80, 0xfe, 0xff, 0x0d, 0x0a]);

test('boto3: sends with String, Number and Binary attributes arrive byte-identical, with SQS\'s MD5s; typed errors', async () => {
  const r = await run(python, [join(here, 'boto3_app.py'), 'py-boto3', BINARY.toString('base64')], env, 120_000);
  if (r.code !== 0) throw new Error(`boto3 app failed (exit ${r.code}): ${r.stderr.slice(-3000)}`);
  const out = JSON.parse(r.stdout) as any;
  const url = `${d.url}/000000000000/py-boto3`;
  expect(out.createUrl).toBe(url);
  expect(out.getUrl).toBe(url);
  expect(out.listed).toEqual([url]);

  const attrs: Record<string, Attr> = {
    s: { DataType: 'String', StringValue: 'héllo\r\nwörld ✓ \t<&>' },
    n: { DataType: 'Number', StringValue: '-12345.678901234567890123456789012345e-20' },
    b: { DataType: 'Binary', BinaryValue: BINARY.toString('base64') },
    custom: { DataType: 'String.json', StringValue: '{"a": [1, 2]}' },
  };
  expect(out.send.MD5OfMessageBody).toBe(md5Hex('body ✓ from boto3'));
  expect(out.send.MD5OfMessageAttributes).toBe(sqsMd5OfAttributes(attrs));
  expect(out.batch.Successful).toEqual(['good']);
  expect(out.batch.Failed).toEqual([expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' })]);

  const first = (out.received as any[]).find((m) => m.Body === 'body ✓ from boto3');
  expect(first?.MessageAttributes).toEqual(attrs);
  expect(first?.MD5OfMessageAttributes).toBe(out.send.MD5OfMessageAttributes);
  expect((out.received as any[]).map((m) => m.Body).sort()).toEqual(['body ✓ from boto3', 'second']);
  expect(out.missing).toEqual({ class: 'QueueDoesNotExist', code: 'AWS.SimpleQueueService.NonExistentQueue' });
}, 180_000);

/** Runs `aws sqs <args>` and parses its JSON output. */
async function cli(aws: string[], args: string[]): Promise<{ code: number; json: any; stderr: string }> {
  const [file, ...pre] = aws as [string, ...string[]];
  const r = await run(file, [...pre, 'sqs', ...args, '--output', 'json'], env, 90_000);
  let json: unknown;
  try {
    json = r.stdout.trim() === '' ? undefined : JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { code: r.code, json, stderr: r.stderr };
}

/**
 * One scenario for both CLIs. `binaryArg`: how this CLI takes a BinaryValue (v1 sends the text's
 * bytes; v2 takes base64); `bytes`: what must arrive.
 */
async function cliScenario(aws: string[], queue: string, binaryArg: string, bytes: Buffer, protocolMark: string): Promise<void> {
  const created = await cli(aws, ['create-queue', '--queue-name', queue]);
  expect(created.stderr).toBe('');
  // The protocol this CLI really speaks, from its own debug log.
  const debug = await cli(aws, ['get-queue-url', '--queue-name', queue, '--debug']);
  expect(debug.stderr).toContain(protocolMark);
  const url = `${d.url}/000000000000/${queue}`;
  expect(created.json.QueueUrl).toBe(url);
  expect((await cli(aws, ['get-queue-url', '--queue-name', queue])).json.QueueUrl).toBe(url);

  const attrs = {
    s: { DataType: 'String', StringValue: 'CLI ✓ <&> "quoted"\r\nline' },
    n: { DataType: 'Number', StringValue: '3.14159' },
    b: { DataType: 'Binary', BinaryValue: binaryArg },
  };
  const sent = await cli(aws, ['send-message', '--queue-url', url, '--message-body', 'from the CLI ✓', '--message-attributes', JSON.stringify(attrs)]);
  expect(sent.stderr).toBe('');
  const expectedAttrs: Record<string, Attr> = { ...attrs, b: { DataType: 'Binary', BinaryValue: bytes.toString('base64') } };
  expect(sent.json.MD5OfMessageBody).toBe(md5Hex('from the CLI ✓'));
  expect(sent.json.MD5OfMessageAttributes).toBe(sqsMd5OfAttributes(expectedAttrs));

  const batch = await cli(aws, ['send-message-batch', '--queue-url', url, '--entries', JSON.stringify([{ Id: 'ok', MessageBody: 'fine' }, { Id: 'bad', MessageBody: 'nul \u0000 here' }])]);
  expect(batch.json.Successful.map((e: { Id: string }) => e.Id)).toEqual(['ok']);
  expect(batch.json.Failed).toEqual([expect.objectContaining({ Id: 'bad', SenderFault: true, Code: 'InvalidMessageContents' })]);

  const got: any[] = [];
  for (let i = 0; i < 10 && got.length < 2; i++) {
    const r = await cli(aws, ['receive-message', '--queue-url', url, '--max-number-of-messages', '10', '--wait-time-seconds', '1', '--message-attribute-names', 'All', '--attribute-names', 'All']);
    expect(r.code).toBe(0);
    for (const m of r.json?.Messages ?? []) {
      got.push(m);
      expect((await cli(aws, ['delete-message', '--queue-url', url, '--receipt-handle', m.ReceiptHandle])).code).toBe(0);
    }
  }
  const m = got.find((x) => x.Body === 'from the CLI ✓');
  expect(m?.MessageAttributes).toEqual(expectedAttrs);
  expect(m?.MD5OfMessageAttributes).toBe(sent.json.MD5OfMessageAttributes);
  expect(m?.Attributes?.SenderId).toBeDefined();
  expect(got.map((x) => x.Body).sort()).toEqual(['fine', 'from the CLI ✓']);

  const missing = await cli(aws, ['get-queue-url', '--queue-name', `${queue}-missing`]);
  expect(missing.code).not.toBe(0);
  expect(missing.stderr).toContain('(AWS.SimpleQueueService.NonExistentQueue)');
  const tooMany = await cli(aws, ['send-message-batch', '--queue-url', url, '--entries', JSON.stringify(Array.from({ length: 11 }, (_, i) => ({ Id: `e${i}`, MessageBody: 'x' })))]);
  expect(tooMany.stderr).toContain('(AWS.SimpleQueueService.TooManyEntriesInBatchRequest)');
}

test('the AWS CLI 1.x (JSON protocol), with --endpoint-url', async () => {
  // `aws sqs` in the CLI 1.x replaces a missing --endpoint-url by the region's legacy
  // queue.amazonaws.com name (awscli/customizations/overridesslcommonname.py), so it never reads
  // AWS_ENDPOINT_URL_SQS. It sends a BinaryValue given as text as that text's bytes.
  const withCli = await findPython(true);
  await cliScenario([withCli, '-m', 'awscli', '--endpoint-url', d.url], 'py-cli1', 'raw bytes ✓', Buffer.from('raw bytes ✓'), "'X-Amz-Target': 'AmazonSQS.GetQueueUrl'");
}, 300_000);

test('Debian\'s AWS CLI v2 (Query protocol), which predates AWS_ENDPOINT_URL_SQS: --endpoint-url', async () => {
  const { aws, version } = await findDebianAwsCli();
  expect(version).toMatch(/^2\./);
  await cliScenario([aws, '--endpoint-url', d.url], 'py-cli2', BINARY.toString('base64'), BINARY, "'body': {'Action': 'GetQueueUrl'");
}, 300_000);
