import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defaultReplyQueueName, loadConfig } from '../../src/config.js';

const ENV = { SQS_ACCELERATOR_ENDPOINT: 'http://127.0.0.1:4566' };

function configError(argv: string[], env: Record<string, string> = ENV): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (err) {
    expect((err as ConfigError).code).toBe('ECONFIG');
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(argv)}`);
}

describe('--worker and the workers list', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'worker-options-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('has no workers by default, and sqsd-like defaults for the ones given', () => {
    expect(loadConfig([], ENV).workers).toEqual([]);
    const c = loadConfig(['--worker', 'orders=http://127.0.0.1:8080/work', '--worker=jobs.fifo=http://localhost:9000/'], ENV);
    expect(c.workers).toEqual([
      { queue: 'orders', url: 'http://127.0.0.1:8080/work', concurrency: 50, visibilityTimeoutSeconds: 300, inactivityTimeoutSeconds: 299, errorVisibilityTimeoutSeconds: 2, maxRetries: 10, waitTimeSeconds: 20, contentType: 'application/json', replyQueue: '', credentials: { kind: 'chain' } },
      expect.objectContaining({ queue: 'jobs.fifo', url: 'http://localhost:9000/' }),
    ]);
    expect(Object.isFrozen(c.workers)).toBe(true);
  });

  it('applies the --worker-* defaults to every entry, and the environment takes space-separated entries', () => {
    const c = loadConfig(['--worker-concurrency', '7', '--worker-error-visibility-timeout', '0'], { ...ENV, SQS_ACCELERATOR_WORKERS: 'a=http://127.0.0.1:1/x  b=http://[::1]:2/' });
    expect(c.workers.map((w) => [w.queue, w.concurrency, w.errorVisibilityTimeoutSeconds])).toEqual([['a', 7, 0], ['b', 7, 0]]);
  });

  it('reads per-worker options from the config file', () => {
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({
      workerMaxRetries: 4,
      workers: [
        'plain=http://127.0.0.1:8000/',
        { queue: 'tuned', url: 'http://127.0.0.1:8001/t', concurrency: 3, visibilityTimeoutSeconds: 60, replyQueue: 'results', contentType: 'text/plain', credentials: { profile: 'worker' } },
        { queue: 'keyed', url: 'http://127.0.0.1:8002/', credentials: { accessKeyId: 'AKID', secretAccessKey: 'shh' } },
      ],
    }));
    const c = loadConfig(['--config', file], ENV);
    expect(c.workers[0]).toMatchObject({ queue: 'plain', maxRetries: 4, concurrency: 50 });
    expect(c.workers[1]).toMatchObject({ queue: 'tuned', concurrency: 3, visibilityTimeoutSeconds: 60, replyQueue: 'results', contentType: 'text/plain', maxRetries: 4, credentials: { kind: 'profile', profile: 'worker' } });
    expect(c.workers[2]?.credentials).toEqual({ kind: 'static', accessKeyId: 'AKID', secretAccessKey: 'shh' });
  });

  it('refuses a non-loopback URL unless its host is allowed', () => {
    expect(configError(['--worker', 'q=http://10.0.0.5/work']).message).toMatch(/not loopback.*--worker-allowed-hosts/);
    expect(configError(['--worker', 'q=http://example.com/']).message).toContain('"example.com"');
    const c = loadConfig(['--worker', 'q=http://app.internal:81/', '--worker-allowed-hosts', 'app.internal'], ENV);
    expect(c.workers[0]?.url).toBe('http://app.internal:81/');
  });

  it('names what is wrong', () => {
    expect(configError(['--worker', 'no-url']).message).toMatch(/expected <queue>=<url>/);
    expect(configError(['--worker', 'bad!name=http://127.0.0.1/']).message).toMatch(/queue must be an SQS queue name/);
    expect(configError(['--worker', 'q=ftp://127.0.0.1/']).message).toMatch(/http or https/);
    expect(configError(['--worker', 'q=http://u:p@127.0.0.1/']).message).toMatch(/user or password/);
    expect(configError(['--worker', 'q=http://127.0.0.1/', '--worker', 'q=http://127.0.0.1:2/']).message).toMatch(/configured twice/);
    expect(configError(['--worker-wait-time', '21']).message).toMatch(/at most 20/);
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ workers: [{ queue: 'q', url: 'http://127.0.0.1/', concurency: 3 }] }));
    expect(configError(['--config', file]).message).toMatch(/unknown field "concurency"/);
    writeFileSync(file, JSON.stringify({ workers: [{ queue: 'q', url: 'http://127.0.0.1/', maxRetries: 0 }] }));
    expect(configError(['--config', file]).message).toMatch(/maxRetries must be a whole number from 1 to 1000/);
    writeFileSync(file, JSON.stringify({ workers: 'q=http://127.0.0.1/' }));
    expect(configError(['--config', file]).message).toMatch(/JSON array/);
  });

  it('never echoes credentials it cannot use', () => {
    const file = join(dir, 'creds.json');
    writeFileSync(file, JSON.stringify({ workers: [{ queue: 'q', url: 'http://127.0.0.1/', credentials: { accessKeyId: 'AKID', secretAccessKey: 'TOPSECRET', extra: 1 } }] }));
    const e = configError(['--config', file]);
    expect(e.message).toMatch(/credentials must be/);
    expect(e.message).not.toContain('TOPSECRET');
  });

  it('names the reply queue after the host by default', () => {
    expect(loadConfig([], ENV).replyQueueName).toMatch(/^sqs-accelerator-replies-[A-Za-z0-9_-]+$/);
    expect(defaultReplyQueueName('web-1.example.com')).toBe('sqs-accelerator-replies-web-1-example-com');
    expect(defaultReplyQueueName('x'.repeat(100)).length).toBe(80);
    expect(loadConfig(['--reply-queue-name', 'mine'], ENV).replyQueueName).toBe('mine');
    expect(configError(['--reply-queue-name', 'no.fifo']).message).toMatch(/standard queue name/);
  });
});
