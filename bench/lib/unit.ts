/**
 * How the systemd unit starts the daemon (issue 14: "RSS ≤ 150 MB with 1,000,000 messages
 * backlogged, with the systemd unit's default flags"), read from the checkout's own files, so a
 * flag added to the unit, to its environment or to the Debian package's /usr/bin wrapper is
 * picked up by the next bench run without touching the bench:
 *
 * - `systemd/sqs-accelerator.service`: the last `ExecStart=` (program and daemon flags),
 *   `Environment=` (NODE_OPTIONS among them), `EnvironmentFile=` (the shipped
 *   `systemd/sqs-accelerator.default`), `StateDirectory=` (→ $STATE_DIRECTORY, the spool).
 * - `/usr/bin/sqs-accelerator` is the Debian package's `sh` wrapper (`scripts/package-deb.ts`,
 *   `exec "$lib/node/bin/node" [node flags] "$lib/bin/sqs-accelerator.js" "$@"`): its node flags.
 * - The configuration file the unit names (`/etc/sqs-accelerator/config.json`) is the shipped
 *   `systemd/config.json.example` plus the two settings the bench cannot do without: `endpoint`
 *   (the fake SQS) and `port` 0. Nothing else is set.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface UnitLaunch {
  /** Flags for node itself (the wrapper's, then NODE_OPTIONS stays in `env` as node reads it). */
  nodeArgs: string[];
  /** Flags for bin/sqs-accelerator.js (ExecStart's, after the program). */
  args: string[];
  env: Record<string, string>;
  configFile: string;
  spoolDir: string;
  /** One line for the report: what the unit passes. */
  describe: string;
}

/** systemd's word splitting, enough for the unit's lines: whitespace, double and single quotes. */
function words(line: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1] ?? m[2] ?? m[3] ?? '');
  return out;
}

/** `[Service]` directives in order, as [key, value] (a directive may repeat). */
export function serviceDirectives(text: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let section = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1] as string;
      continue;
    }
    const eq = line.indexOf('=');
    if (section === 'Service' && eq > 0) out.push([line.slice(0, eq).trim(), line.slice(eq + 1).trim()]);
  }
  return out;
}

/** `VAR=value` lines of an environment file (comments and blanks skipped). */
function envFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
    if (m) out[m[1] as string] = (m[2] as string).replace(/^"(.*)"$/, '$1');
  }
  return out;
}

/** The node flags of the Debian package's wrapper script, from scripts/package-deb.ts. */
function wrapperNodeFlags(daemonDir: string): string[] {
  const file = join(daemonDir, 'scripts/package-deb.ts');
  if (!existsSync(file)) throw new Error(`${file} is missing: cannot tell what /usr/bin/sqs-accelerator passes to node`);
  const m = /exec "\$lib\/node\/bin\/node"(.*?)"\$lib\/bin\//.exec(readFileSync(file, 'utf8'));
  if (!m) throw new Error(`${file}: the wrapper's exec line was not found; the bench cannot tell its node flags`);
  return words(m[1] as string);
}

/**
 * What the unit runs, for a daemon in `daemonDir`, with its config file and spool written under
 * `dir`: node flags, daemon flags and environment, as the unit would pass them.
 */
export function unitLaunch(daemonDir: string, dir: string, endpoint: string): UnitLaunch {
  const unitFile = join(daemonDir, 'systemd/sqs-accelerator.service');
  const directives = serviceDirectives(readFileSync(unitFile, 'utf8'));
  const env: Record<string, string> = {};
  let exec: string[] | undefined;
  let stateDir = false;
  for (const [key, value] of directives) {
    if (key === 'Environment') {
      for (const w of words(value)) {
        const eq = w.indexOf('=');
        if (eq > 0) env[w.slice(0, eq)] = w.slice(eq + 1);
      }
    } else if (key === 'EnvironmentFile') {
      const path = value.replace(/^-/, '');
      // The unit reads /etc/default/sqs-accelerator; the package ships systemd/sqs-accelerator.default there.
      const shipped = path === '/etc/default/sqs-accelerator' ? join(daemonDir, 'systemd/sqs-accelerator.default') : path;
      if (existsSync(shipped)) Object.assign(env, envFile(readFileSync(shipped, 'utf8')));
      else if (!value.startsWith('-')) throw new Error(`${unitFile}: EnvironmentFile=${value} does not exist here`);
    } else if (key === 'ExecStart') {
      exec = value === '' ? undefined : words(value.replace(/^[-@:+!]+/, ''));
    } else if (key === 'StateDirectory') stateDir = value !== '';
  }
  if (!exec || exec.length === 0) throw new Error(`${unitFile}: no ExecStart=`);
  const [program, ...rest] = exec as [string, ...string[]];
  let nodeArgs: string[];
  let args: string[];
  if (program === '/usr/bin/sqs-accelerator' || program.endsWith('/bin/sqs-accelerator')) {
    nodeArgs = wrapperNodeFlags(daemonDir);
    args = rest;
  } else if (/(^|\/)node$/.test(program)) {
    const script = rest.findIndex((w) => w.endsWith('.js'));
    if (script < 0) throw new Error(`${unitFile}: ExecStart runs node without a script`);
    nodeArgs = rest.slice(0, script);
    args = rest.slice(script + 1);
  } else {
    throw new Error(`${unitFile}: ExecStart=${program}: the bench does not know how that program starts the daemon`);
  }
  const example = JSON.parse(readFileSync(join(daemonDir, 'systemd/config.json.example'), 'utf8')) as Record<string, unknown>;
  const configFile = join(dir, 'config.json');
  writeFileSync(configFile, `${JSON.stringify({ ...example, endpoint, port: 0 }, null, 2)}\n`);
  const spoolDir = join(dir, 'state');
  if (env.SQS_ACCELERATOR_CONFIG !== undefined) env.SQS_ACCELERATOR_CONFIG = configFile;
  else args = [...args, '--config', configFile];
  if (stateDir) env.STATE_DIRECTORY = spoolDir;
  else throw new Error(`${unitFile}: no StateDirectory=: the bench does not know where that daemon keeps its spool`);
  const shown = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const describe =
    `as ${unitFile.replace(`${daemonDir}/`, '')} starts it: node ${nodeArgs.length ? nodeArgs.join(' ') : '(no flags)'}, ` +
    `daemon ${args.filter((a) => a !== '--config' && a !== configFile).join(' ') || '(no flags)'}; environment ${shown.join(' ')}; ` +
    `config ${JSON.stringify({ ...example, endpoint: '<fake SQS>', port: 0 })}`;
  return { nodeArgs, args, env, configFile, spoolDir, describe };
}

/** The durability mode the unit's daemon runs in: its flags, its environment, the shipped config, else `fallback` (the daemon's default). */
export function unitDurability(daemonDir: string, fallback: string): string {
  const dir = join(daemonDir, 'systemd');
  const launch = unitLaunchArgsOnly(daemonDir);
  const i = launch.args.indexOf('--durability');
  if (i >= 0 && launch.args[i + 1]) return launch.args[i + 1] as string;
  const eq = launch.args.find((a) => a.startsWith('--durability='));
  if (eq) return eq.slice('--durability='.length);
  if (launch.env.SQS_ACCELERATOR_DURABILITY) return launch.env.SQS_ACCELERATOR_DURABILITY;
  const example = JSON.parse(readFileSync(join(dir, 'config.json.example'), 'utf8')) as { durability?: string };
  return example.durability ?? fallback;
}

function unitLaunchArgsOnly(daemonDir: string): { args: string[]; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-bench-unit-probe-'));
  try {
    const l = unitLaunch(daemonDir, dir, 'http://127.0.0.1:1');
    return { args: l.args, env: l.env };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
