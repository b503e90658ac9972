import { ConfigError, helpText, loadConfig, OPTIONS, parseArgs } from '../src/config.js';

const ENDPOINT = { SQS_ACCELERATOR_ENDPOINT: 'http://127.0.0.1:4566' };

/** The ConfigError thrown for argv/env; fails the test when none is thrown. */
function configError(argv: string[], env: Record<string, string> = ENDPOINT): ConfigError {
  try {
    loadConfig(argv, env);
  } catch (err) {
    expect((err as ConfigError).code).toBe('ECONFIG');
    return err as ConfigError;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(argv)}`);
}

describe('loadConfig', () => {
  it('has documented defaults', () => {
    const c = loadConfig([], { AWS_REGION: 'eu-west-1' });
    expect(c).toMatchObject({
      host: '127.0.0.1',
      port: 9292,
      region: 'eu-west-1',
      endpoint: '',
      credentials: 'pass-through',
      lingerMs: 10,
      maxConcurrency: 256,
      maxMessageBytes: 1_048_576,
      maxRequestBytes: 32 * 1_048_576,
      fifoDefaultGroupId: '',
      allowedHosts: [],
      logLevel: 'info',
    });
    expect(Object.isFrozen(c)).toBe(true);
    for (const o of OPTIONS) expect(c[o.key]).toBeDefined();
  });

  it('flags win over environment, environment over defaults', () => {
    const env = { ...ENDPOINT, SQS_ACCELERATOR_PORT: '7000', SQS_ACCELERATOR_LINGER_MS: '3', SQS_ACCELERATOR_MAX_CONCURRENCY: '8' };
    const c = loadConfig(['--port', '8000', '--linger-ms=4'], env);
    expect(c.port).toBe(8000);
    expect(c.lingerMs).toBe(4);
    expect(c.maxConcurrency).toBe(8);
    expect(c.connections).toBe(256);
    expect(c.endpoint).toBe('http://127.0.0.1:4566');
  });

  it('reads the standard AWS variables, the daemon-specific one first; empty values are unset', () => {
    expect(loadConfig([], { AWS_ENDPOINT_URL_SQS: 'http://a:1', AWS_ENDPOINT_URL: 'http://b:2' }).endpoint).toBe('http://a:1');
    expect(loadConfig([], { SQS_ACCELERATOR_ENDPOINT: 'http://c:3', AWS_ENDPOINT_URL_SQS: 'http://a:1' }).endpoint).toBe('http://c:3');
    expect(loadConfig([], { AWS_ENDPOINT_URL: 'http://b:2' }).endpoint).toBe('http://b:2');
    expect(loadConfig([], { AWS_DEFAULT_REGION: 'us-west-2', AWS_REGION: '' }).region).toBe('us-west-2');
    expect(loadConfig([], { AWS_DEFAULT_REGION: 'us-west-2', AWS_REGION: 'eu-central-1' }).region).toBe('eu-central-1');
    expect(loadConfig(['--region', 'ap-southeast-2'], { AWS_REGION: 'eu-central-1' }).region).toBe('ap-southeast-2');
    expect(loadConfig([], { SQS_ACCELERATOR_LOG_LEVEL: '', LOG_LEVEL: 'debug', AWS_REGION: 'eu-west-1' }).logLevel).toBe('debug');
  });

  it('needs a region or an endpoint; an endpoint alone means us-east-1', () => {
    const e = configError([], {});
    expect(e.message).toMatch(/--region/);
    expect(e.message).toMatch(/--endpoint/);
    expect(loadConfig(['--endpoint', 'http://localhost:4566/some/path'], {}).region).toBe('us-east-1');
    expect(loadConfig(['--endpoint', 'http://localhost:4566'], { AWS_REGION: 'eu-west-3' }).region).toBe('eu-west-3');
  });

  it.each([
    [['--port', 'abc'], '--port'],
    [['--port', '70000'], '--port'],
    [['--port', '-1'], '--port'],
    [['--port', '1.5'], '--port'],
    [['--linger-ms', '10001'], '--linger-ms'],
    [['--max-concurrency', '0'], '--max-concurrency'],
    [['--connections', 'many'], '--connections'],
    [['--request-timeout-ms', '5'], '--request-timeout-ms'],
    [['--retry-base-ms', '0'], '--retry-base-ms'],
    [['--retry-base-ms', '100', '--retry-max-ms', '50'], '--retry-max-ms'],
    [['--max-message-bytes', '2000000'], '--max-message-bytes'],
    [['--max-message-bytes', '0'], '--max-message-bytes'],
    [['--max-request-bytes', '10'], '--max-request-bytes'],
    [['--max-backlog-messages', '0'], '--max-backlog-messages'],
    [['--max-backlog-bytes', '1000'], '--max-backlog-bytes'],
    [['--max-message-age-ms', '1e9'], '--max-message-age-ms'],
    [['--shutdown-grace-ms', '99999999'], '--shutdown-grace-ms'],
    [['--credentials', 'instance'], '--credentials'],
    [['--log-level', 'verbose'], '--log-level'],
    [['--endpoint', 'not a url'], '--endpoint'],
    [['--endpoint', 'ftp://sqs.example'], '--endpoint'],
    [['--region', 'Europe'], '--region'],
    [['--port', '99999999999999999999'], '--port'],
  ])('%j is refused, naming %s', (argv, name) => {
    const env = argv.includes('--endpoint') || argv.includes('--region') ? {} : ENDPOINT;
    const e = configError(argv as string[], env);
    expect(e.message).toContain(name);
  });

  it('names the environment variable a bad value came from', () => {
    const e = configError([], { ...ENDPOINT, SQS_ACCELERATOR_MAX_CONCURRENCY: 'lots' });
    expect(e.message).toContain('--max-concurrency');
    expect(e.message).toContain('SQS_ACCELERATOR_MAX_CONCURRENCY');
    expect(e.message).toContain('"lots"');
  });

  it('refuses unknown flags and flags without a value', () => {
    expect(configError(['--prot', '1']).message).toContain('--prot');
    expect(configError(['--port']).message).toContain('--port');
  });

  it('parses lists and trims strings', () => {
    const c = loadConfig(['--allowed-hosts', ' app.local, ,sqs.internal ', '--fifo-default-group-id', ' default '], ENDPOINT);
    expect(c.allowedHosts).toEqual(['app.local', 'sqs.internal']);
    expect(c.fifoDefaultGroupId).toBe('default');
  });
});

describe('parseArgs and --help', () => {
  it('recognizes --help and --version', () => {
    expect(parseArgs(['--help']).help).toBe(true);
    expect(parseArgs(['-v']).version).toBe(true);
    expect(parseArgs(['--port=1']).values.get('port')).toBe('1');
  });

  it('documents every option with its default and environment variables', () => {
    const text = helpText();
    for (const o of OPTIONS) {
      expect(text).toContain(o.flag);
      expect(text).toContain(o.env[0] as string);
    }
    expect(text).toContain('default: 9292');
    expect(text).toContain('default: 10 ms');
  });
});
