/**
 * bench/lib/unit.ts: the backlog run "with the systemd unit's default flags" starts the daemon
 * with what the unit, its environment file and the Debian wrapper pass, read from the files.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serviceDirectives, unitDurability, unitLaunch } from '../../bench/lib/unit.js';

const REPO = resolve(import.meta.dirname, '../..');
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bench-unit-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A checkout with its own unit, wrapper and shipped files. */
function fakeCheckout(service: string, wrapperFlags = '', defaults = '', example = '{"region": "eu-west-1"}'): string {
  const root = join(dir, 'checkout');
  mkdirSync(join(root, 'systemd'), { recursive: true });
  mkdirSync(join(root, 'scripts'), { recursive: true });
  writeFileSync(join(root, 'systemd/sqs-accelerator.service'), service);
  writeFileSync(join(root, 'systemd/sqs-accelerator.default'), defaults);
  writeFileSync(join(root, 'systemd/config.json.example'), example);
  writeFileSync(join(root, 'scripts/package-deb.ts'), `const WRAPPER = \`#!/bin/sh\nexec "$lib/node/bin/node" ${wrapperFlags} "$lib/bin/\${NAME}.js" "$@"\n\`;\n`);
  return root;
}

describe('unitLaunch', () => {
  it('runs the shipped unit as it is: its (empty) flags, its config file pointed at the fake, STATE_DIRECTORY for the spool', () => {
    const out = join(dir, 'run');
    mkdirSync(out);
    const l = unitLaunch(REPO, out, 'http://127.0.0.1:4566');
    const unit = readFileSync(join(REPO, 'systemd/sqs-accelerator.service'), 'utf8');
    expect(unit).toMatch(/^ExecStart=\/usr\/bin\/sqs-accelerator$/m); // what the expectations below rest on
    expect(l.args).toEqual([]);
    expect(l.nodeArgs).toEqual([]);
    expect(l.env.SQS_ACCELERATOR_CONFIG).toBe(l.configFile);
    expect(l.env.STATE_DIRECTORY).toBe(join(out, 'state'));
    const example = JSON.parse(readFileSync(join(REPO, 'systemd/config.json.example'), 'utf8')) as Record<string, unknown>;
    expect(JSON.parse(readFileSync(l.configFile, 'utf8'))).toEqual({ ...example, endpoint: 'http://127.0.0.1:4566', port: 0 });
    expect(l.describe).toContain('node (no flags), daemon (no flags)');
  });

  it('picks up node flags from the wrapper and NODE_OPTIONS, daemon flags from the last ExecStart, variables from the environment file', () => {
    const root = fakeCheckout(
      [
        '[Unit]',
        'Description=x',
        'Environment=ignored=1',
        '[Service]',
        'Environment=SQS_ACCELERATOR_CONFIG=%E/sqs-accelerator/config.json "NODE_OPTIONS=--max-semi-space-size=2 --max-old-space-size=128"',
        'EnvironmentFile=-/etc/default/sqs-accelerator',
        'ExecStart=/usr/bin/sqs-accelerator --old',
        'ExecStart=',
        'ExecStart=/usr/bin/sqs-accelerator --linger-ms 5',
        'StateDirectory=sqs-accelerator',
      ].join('\n'),
      '--stack-size=2000',
      '# comment\nAWS_REGION=eu-west-2\n',
    );
    const l = unitLaunch(root, dir, 'http://127.0.0.1:1');
    expect(l.nodeArgs).toEqual(['--stack-size=2000']);
    expect(l.args).toEqual(['--linger-ms', '5']);
    expect(l.env).toMatchObject({ NODE_OPTIONS: '--max-semi-space-size=2 --max-old-space-size=128', AWS_REGION: 'eu-west-2', SQS_ACCELERATOR_CONFIG: l.configFile });
    expect(l.env.ignored).toBeUndefined();
  });

  it('a unit that runs node itself: the flags before the script are node\'s; no SQS_ACCELERATOR_CONFIG: --config is passed', () => {
    const root = fakeCheckout('[Service]\nExecStart=/usr/bin/node --max-old-space-size=96 /opt/x/bin/sqs-accelerator.js --durability fsync\nStateDirectory=x\n');
    const l = unitLaunch(root, dir, 'http://127.0.0.1:1');
    expect(l.nodeArgs).toEqual(['--max-old-space-size=96']);
    expect(l.args).toEqual(['--durability', 'fsync', '--config', l.configFile]);
    expect(unitDurability(root, 'write')).toBe('fsync');
  });

  it('refuses what it cannot reproduce', () => {
    expect(() => unitLaunch(fakeCheckout('[Service]\nExecStart=/usr/bin/env foo\nStateDirectory=x\n'), dir, 'http://x')).toThrow(/does not know how that program starts the daemon/);
    expect(() => unitLaunch(fakeCheckout('[Service]\nStateDirectory=x\n'), dir, 'http://x')).toThrow(/no ExecStart=/);
    expect(() => unitLaunch(fakeCheckout('[Service]\nExecStart=/usr/bin/sqs-accelerator\n'), dir, 'http://x')).toThrow(/no StateDirectory=/);
  });

  it('durability: the shipped unit sets none, so the daemon default applies', () => {
    expect(unitDurability(REPO, 'write')).toBe('write');
    expect(serviceDirectives('[Service]\n# c\nA=1\n[Install]\nB=2\n')).toEqual([['A', '1']]);
  });
});
