import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, defineConfig, helpText, loadConfig } from '../../src/config.js';

const REGION = { AWS_REGION: 'eu-west-1' };

function configError(argv: string[], env: Record<string, string> = REGION): string {
  try {
    loadConfig(argv, env);
  } catch (err) {
    expect((err as ConfigError).code).toBe('ECONFIG');
    return (err as Error).message;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(argv)}`);
}

describe('failover options', () => {
  it('none by default: a single upstream', () => {
    const c = loadConfig([], REGION);
    expect(c.upstreams).toEqual([]);
    expect(c).toMatchObject({ failoverAfterFailures: 3, failoverAfterMs: 1000, failoverProbeMs: 1000, failoverProbeMaxMs: 30_000, failoverFifo: 'off' });
  });

  it('--failover-region and --failover-endpoint repeat; regions first, then endpoints, each in order', () => {
    const c = loadConfig(['--failover-endpoint', 'http://127.0.0.1:4567/', '--failover-region', 'eu-central-1', '--failover-region=us-east-2'], REGION);
    expect(c.upstreams).toEqual([
      { name: 'eu-central-1', region: 'eu-central-1', endpoint: '', profile: '' },
      { name: 'us-east-2', region: 'us-east-2', endpoint: '', profile: '' },
      { name: '127.0.0.1:4567', region: 'eu-west-1', endpoint: 'http://127.0.0.1:4567', profile: '' },
    ]);
  });

  it('the environment takes comma-separated lists', () => {
    const c = loadConfig([], { ...REGION, SQS_ACCELERATOR_FAILOVER_REGIONS: 'eu-central-1, eu-north-1' });
    expect(c.upstreams.map((u) => u.name)).toEqual(['eu-central-1', 'eu-north-1']);
  });

  it('the config file takes an upstreams list with a profile and a name each', () => {
    const c = loadConfig(['--credentials', 'chain', '--upstreams', JSON.stringify([{ region: 'eu-central-1', profile: 'dr' }, { endpoint: 'https://sqs.example.internal', name: 'onprem', region: 'us-east-1' }])], REGION);
    expect(c.upstreams).toEqual([
      { name: 'eu-central-1', region: 'eu-central-1', endpoint: '', profile: 'dr' },
      { name: 'onprem', region: 'us-east-1', endpoint: 'https://sqs.example.internal', profile: '' },
    ]);
  });

  it('reads "upstreams" from the config file and from createDaemon\'s options', () => {
    const dir = mkdtempSync(join(tmpdir(), 'upstreams-config-'));
    try {
      const file = join(dir, 'config.json');
      writeFileSync(file, JSON.stringify({ region: 'us-east-1', failoverFifo: 'on', upstreams: [{ region: 'us-west-2' }, { endpoint: 'http://127.0.0.1:4566', name: 'local' }] }));
      const c = loadConfig(['--config', file], {});
      expect(c.upstreams.map((u) => [u.name, u.region, u.endpoint])).toEqual([['us-west-2', 'us-west-2', ''], ['local', 'us-east-1', 'http://127.0.0.1:4566']]);
      expect(c.failoverFifo).toBe('on');
      writeFileSync(file, JSON.stringify({ region: 'us-east-1', upstreams: { region: 'us-west-2' } }));
      expect(configError(['--config', file], {})).toMatch(/"upstreams" must be a JSON array/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const e = defineConfig({ region: 'us-east-1', failoverRegions: ['us-west-2'] });
    expect(e.upstreams.map((u) => u.name)).toEqual(['us-west-2']);
    // A Config that loadConfig made passes through createDaemon's options as it is.
    expect(defineConfig(loadConfig(['--failover-region', 'us-west-2'], REGION)).upstreams).toHaveLength(1);
  });

  it('refuses what it cannot use, naming the entry and the field', () => {
    expect(configError(['--failover-region', 'Frankfurt'])).toMatch(/--failover-region must look like eu-west-1; got "Frankfurt"/);
    expect(configError(['--failover-endpoint', 'ftp://x'])).toMatch(/--failover-endpoint: endpoint must use http or https/);
    expect(configError(['--failover-region', 'eu-west-1'])).toMatch(/same region or endpoint as an earlier one/);
    expect(configError(['--upstreams', '[{"region":"eu-central-1","profile":"dr"}]'])).toMatch(/profile only applies with --credentials chain/);
    expect(configError(['--upstreams', '[{"region":"eu-central-1","weight":2}]'])).toMatch(/upstreams entry 1: unknown field "weight"/);
    expect(configError(['--upstreams', '[{}]'])).toMatch(/upstreams entry 1: needs a region, an endpoint, or both/);
    expect(configError(['--upstreams', '{"region":"eu-central-1"}'])).toMatch(/must be a JSON array/);
    expect(configError(['--upstreams', '[{"region":"eu-central-1"}]', '--failover-region', 'us-east-2'])).toMatch(/not both/);
    expect(configError(['--failover-endpoint', 'http://u:p@127.0.0.1:1'])).toMatch(/must not carry a user or password/);
    expect(configError(['--failover-endpoint', 'http://127.0.0.1:1', '--failover-endpoint', 'http://127.0.0.1:1/x'])).toMatch(/"127.0.0.1:1" is the same region or endpoint as an earlier one/);
    expect(configError(['--upstreams', '[{"region":"eu-central-1","name":"dr"},{"region":"us-east-2","name":"dr"}]'])).toMatch(/upstream name "dr" is used twice/);
    expect(configError(['--failover-probe-ms', '5000', '--failover-probe-max-ms', '1000'])).toMatch(/--failover-probe-max-ms \(1000\) must be at least --failover-probe-ms \(5000\)/);
    const many = Array.from({ length: 10 }, (_, i) => ['--failover-endpoint', `http://127.0.0.1:${1000 + i}`]).flat();
    expect(configError(many)).toMatch(/at most 9 failover upstreams/);
  });

  it('never echoes a password given in an endpoint', () => {
    expect(configError(['--failover-endpoint', 'http://u:hunter2@127.0.0.1:1'])).not.toContain('hunter2');
  });

  it('--help names the options, the repeatable ones as such', () => {
    const help = helpText();
    expect(help).toContain('--failover-region <value> (repeatable)');
    expect(help).toContain('--failover-endpoint <value> (repeatable)');
    expect(help).toContain('--upstreams <json>');
    expect(help).toContain('--failover-fifo <off|on>');
  });
});
