/**
 * The --config file and the one documented precedence: flags > environment > file > defaults.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ConfigError, helpText, loadConfig, OPTIONS } from '../../src/config.js';
import { renderConfigSection, updateReadme } from '../../scripts/config-docs.js';

const ENDPOINT = { SQS_ACCELERATOR_ENDPOINT: 'http://127.0.0.1:4566' };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-config-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(content: unknown, name = 'config.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

function configError(argv: string[], env: Record<string, string> = ENDPOINT): string {
  try {
    loadConfig(argv, env);
  } catch (err) {
    expect((err as ConfigError).code).toBe('ECONFIG');
    return (err as Error).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(argv)} ${JSON.stringify(env)}`);
}

describe('config file', () => {
  it('sits between the environment and the defaults', () => {
    const path = file({ port: 7000, lingerMs: 5, maxConcurrency: 8, logLevel: 'debug', region: 'eu-west-1' });
    const c = loadConfig(['--config', path, '--linger-ms', '3'], { SQS_ACCELERATOR_PORT: '8000' });
    expect(c.lingerMs).toBe(3); // flag beats file
    expect(c.port).toBe(8000); // environment beats file
    expect(c.maxConcurrency).toBe(8); // file beats default
    expect(c.logLevel).toBe('debug');
    expect(c.region).toBe('eu-west-1');
    expect(c.connections).toBe(256); // default
    expect(c.configFile).toBe(path);
  });

  it('can be named by SQS_ACCELERATOR_CONFIG; a flag names another', () => {
    const a = file({ lingerMs: 1 }, 'a.json');
    const b = file({ lingerMs: 2 }, 'b.json');
    expect(loadConfig([], { ...ENDPOINT, SQS_ACCELERATOR_CONFIG: a }).lingerMs).toBe(1);
    expect(loadConfig(['--config', b], { ...ENDPOINT, SQS_ACCELERATOR_CONFIG: a }).lingerMs).toBe(2);
  });

  it('takes lists as arrays or comma-separated strings', () => {
    expect(loadConfig(['--config', file({ allowedHosts: ['a.local', 'b.local'] })], ENDPOINT).allowedHosts).toEqual(['a.local', 'b.local']);
    expect(loadConfig(['--config', file({ allowedHosts: 'c.local, d.local' })], ENDPOINT).allowedHosts).toEqual(['c.local', 'd.local']);
  });

  it('refuses unknown keys, naming the file and suggesting the right name', () => {
    const path = file({ 'linger-ms': 5 });
    const msg = configError(['--config', path]);
    expect(msg).toContain(path);
    expect(msg).toContain('"linger-ms"');
    expect(msg).toContain('did you mean "lingerMs"');
    expect(configError(['--config', file({ configFile: '/etc/other.json' })])).toContain('unknown option "configFile"');
    expect(configError(['--config', file({ colour: 'blue' })])).toContain('unknown option "colour"');
  });

  it('refuses values of the wrong JSON type or out of range, naming option, file and key', () => {
    expect(configError(['--config', file({ port: '9292' })])).toMatch(/"port" must be a JSON number/);
    const frac = configError(['--config', file({ lingerMs: 1.5 })]);
    expect(frac).toContain('--linger-ms');
    expect(frac).toContain('config file');
    expect(frac).toContain('key "lingerMs"');
    expect(configError(['--config', file({ port: 70000 })])).toMatch(/--port .*at most 65535/);
    expect(configError(['--config', file({ logLevel: 'loud' })])).toMatch(/--log-level .*must be one of/);
    expect(configError(['--config', file({ host: 9 })])).toMatch(/"host" must be a JSON string/);
    expect(configError(['--config', file({ allowedHosts: [1, 2] })])).toMatch(/array of strings/);
  });

  it('refuses a missing file, bad JSON, and JSON that is not one object', () => {
    expect(configError(['--config', join(dir, 'absent.json')])).toMatch(/cannot read .*absent\.json: no such file/);
    expect(configError(['--config', file('{"port": 1,}')])).toMatch(/is not valid JSON/);
    expect(configError(['--config', file([{ port: 1 }])])).toMatch(/must hold one JSON object/);
    expect(configError(['--config', file('null')])).toMatch(/must hold one JSON object/);
  });

  it('the region can come from the file, and its absence says where it may come from', () => {
    expect(loadConfig(['--config', file({ region: 'ap-south-1' })], {}).region).toBe('ap-south-1');
    expect(configError(['--config', file({ lingerMs: 5 })], {})).toContain('"region" in the config file');
  });
});

describe('environment variables', () => {
  it('an unknown SQS_ACCELERATOR_* variable is a typo and fails, with a suggestion', () => {
    const msg = configError([], { ...ENDPOINT, SQS_ACCELERATOR_LINGER: '5' });
    expect(msg).toContain('SQS_ACCELERATOR_LINGER');
    expect(msg).toContain('did you mean SQS_ACCELERATOR_LINGER_MS');
  });
  it('other variables are none of our business', () => {
    expect(loadConfig([], { ...ENDPOINT, SQS_ACCELERATORS: 'x', PATH: '/bin', HOME: '/root' }).port).toBe(9292);
  });
});

describe('documentation', () => {
  it('every option has a config key in --help and an example or a default', () => {
    const text = helpText();
    expect(text).toContain('flags > environment > config file > defaults');
    for (const o of OPTIONS) {
      if (o.key !== 'configFile') expect(text).toContain(`config key: ${o.key}`);
      expect(o.example ?? o.default).not.toBe('');
    }
  });

  it('the README configuration section is generated from OPTIONS and up to date', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = renderConfigSection();
    for (const o of OPTIONS) expect(section).toContain(`| \`${o.flag}\` |`);
    if (updateReadme(readme) !== readme) {
      throw new Error('README.md\'s <!-- section:config --> differs from OPTIONS in src/config/schema.ts. Regenerate it: npm run build && node dist/scripts/config-docs.js --write');
    }
  });
});
