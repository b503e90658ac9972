/**
 * Renders the README's configuration section from OPTIONS (src/config/schema.ts), so the README
 * cannot drift from the code: test/ops/config-file.unit.test.ts fails when they differ.
 *
 *   npm run build && node dist/scripts/config-docs.js --write    # rewrite README.md's section
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { OPTIONS } from '../src/config.js';

type Option = (typeof OPTIONS)[number];

export const BEGIN = '<!-- section:config -->';
export const END = '<!-- /section:config -->';

const KiB = 1024;

/** `1048576` -> `1048576 (1 MiB)`, `604800000` -> `604800000 (7 d)`. */
function withHuman(value: string, unit: string | undefined): string {
  const n = Number(value);
  if (value === '' || !Number.isFinite(n) || n === 0) return value;
  if (unit === 'bytes') {
    for (const [size, name] of [[KiB ** 3, 'GiB'], [KiB ** 2, 'MiB'], [KiB, 'KiB']] as const) if (n % size === 0) return `${value} (${n / size} ${name})`;
  }
  if (unit === 'ms') {
    for (const [size, name] of [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'min'], [1000, 's']] as const) if (n >= size && n % size === 0) return `${value} (${n / size} ${name})`;
  }
  return value;
}

function type(o: Option): string {
  switch (o.kind) {
    case 'int': {
      const range = o.max !== undefined ? `, ${o.min ?? 0}–${o.max}` : o.min !== undefined ? `, ≥ ${o.min}` : '';
      return `integer${o.unit ? ` (${o.unit})` : ''}${range}`;
    }
    case 'enum':
      return `one of ${(o.values ?? []).map((v) => `\`${v}\``).join(', ')}`;
    case 'list':
      return o.repeatable ? 'list, repeatable (comma-separated; JSON array in the file)' : 'list (comma-separated; JSON array in the file)';
    case 'upstreams':
      return 'JSON array of `{"region", "endpoint", "profile", "name"}` objects';
    case 'workers':
      return '`<queue>=<url>`, repeatable (JSON array of strings or objects in the file)';
    default:
      return 'string';
  }
}

const cell = (s: string) => s.replace(/\|/g, '\\|');
const code = (s: string) => (s === '' ? '(none)' : `\`${s}\``);

export function renderConfigSection(): string {
  const rows = OPTIONS.map((o) => {
    const key = o.key === 'configFile' ? '—' : `\`${o.key}\``;
    const def = o.default === '' ? '(none)' : code(withHuman(o.default, o.unit));
    const example = o.example ?? o.default;
    const doc = `${o.doc}${o.reloadable ? ' **Reloaded on SIGHUP.**' : ''}`;
    return `| \`${o.flag}\` | ${key} | ${o.env.map((e) => `\`${e}\``).join('<br>')} | ${type(o)} | ${def} | ${code(example)} | ${cell(doc)} |`;
  });
  return [
    BEGIN,
    '## Configuration',
    '',
    'Every option can be set in four places; the first one that sets it wins:',
    '',
    '1. a **flag**: `--linger-ms 5` or `--linger-ms=5`;',
    '2. an **environment variable**: `SQS_ACCELERATOR_LINGER_MS=5` (a few options also read the standard AWS variables; an empty value counts as unset);',
    '3. the **config file** named by `--config` (or `SQS_ACCELERATOR_CONFIG`): one JSON object keyed by the names in the *config key* column;',
    '4. the **default**.',
    '',
    'An unknown flag, an unknown key in the config file, an unknown `SQS_ACCELERATOR_*` variable or an',
    'invalid value stops the daemon at start with one line naming the option and where the value came',
    'from, and exit code 2 (see [Operations](#operations)). `sqs-accelerator --help` prints the same list.',
    '',
    '```json',
    '{',
    '  "region": "eu-west-1",',
    '  "lingerMs": 5,',
    '  "maxBacklogBytes": 268435456,',
    '  "allowedHosts": ["sqs-accelerator.internal"],',
    '  "logLevel": "info"',
    '}',
    '```',
    '',
    'In the file, numbers are JSON numbers, lists are arrays of strings, everything else is a string.',
    'SIGHUP re-reads the configuration (same flags and environment, the file as it is now) and applies',
    'the options marked *reloaded on SIGHUP*; it logs the names of other changed options, which need a',
    'restart. A file that no longer parses changes nothing and is logged as an error.',
    '',
    '<!-- generated from OPTIONS in src/config/schema.ts by scripts/config-docs.ts; edit there, then run it with --write -->',
    '| flag | config key | environment | type | default | example | meaning |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    END,
  ].join('\n');
}

/** README text with its configuration section replaced by the rendered one. */
export function updateReadme(readme: string): string {
  const start = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README has no ${BEGIN} ... ${END} section`);
  return readme.slice(0, start) + renderConfigSection() + readme.slice(end + END.length);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const path = new URL(process.argv[1].includes('/dist/') ? '../../README.md' : '../README.md', import.meta.url);
  const readme = readFileSync(path, 'utf8');
  const next = updateReadme(readme);
  if (process.argv.includes('--write')) {
    writeFileSync(path, next);
    process.stdout.write(next === readme ? 'README.md already up to date\n' : 'README.md configuration section rewritten\n');
  } else {
    process.stdout.write(`${renderConfigSection()}\n`);
  }
}
