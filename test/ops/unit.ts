/**
 * Reads systemd/sqs-accelerator.service and turns its Exec lines into what systemd would run:
 * the subset of systemd.unit(5)/systemd.service(5) syntax the unit uses (sections, repeated
 * keys, quoting, %-specifiers, $VAR and ${VAR} expansion). Anything else it does not know
 * throws, so the tests cannot silently run something other than the unit's command.
 */
import { readFileSync } from 'node:fs';

export const UNIT_PATH = new URL('../../systemd/sqs-accelerator.service', import.meta.url);

export type Unit = Record<string, Record<string, string[]>>;

export function parseUnit(text: string): Unit {
  const unit: Unit = {};
  let section: Record<string, string[]> | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    if (line.endsWith('\\')) throw new Error(`line continuations are not supported here: ${line}`);
    const header = /^\[(.+)\]$/.exec(line);
    if (header) {
      section = unit[header[1] as string] ??= {};
      continue;
    }
    const eq = line.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a unit line: ${line}`);
    (section[line.slice(0, eq).trim()] ??= []).push(line.slice(eq + 1).trim());
  }
  return unit;
}

export function readUnit(): Unit {
  return parseUnit(readFileSync(UNIT_PATH, 'utf8'));
}

/** The one value of a key that must appear once. */
export function one(unit: Unit, section: string, key: string): string {
  const values = unit[section]?.[key];
  if (values?.length !== 1) throw new Error(`expected one ${key}= in [${section}], found ${values?.length ?? 0}`);
  return values[0] as string;
}

/** Splits on whitespace, honouring "double" and 'single' quotes (systemd's word rules). */
export function splitWords(s: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(s); m; m = re.exec(s)) words.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : (m[2] ?? m[3] ?? ''));
  return words;
}

/** %-specifiers for a system service; only the ones given are accepted. */
export function expandSpecifiers(s: string, specifiers: Record<string, string>): string {
  return s.replace(/%(.)/g, (_, c: string) => {
    if (c === '%') return '%';
    const v = specifiers[c];
    if (v === undefined) throw new Error(`specifier %${c} is not emulated by this test`);
    return v;
  });
}

/** Environment= lines: `A=1 "B=two words"`, in order, later ones win. */
export function environment(unit: Unit, specifiers: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of unit.Service?.Environment ?? []) {
    for (const word of splitWords(expandSpecifiers(line, specifiers))) {
      const eq = word.indexOf('=');
      if (eq <= 0) throw new Error(`bad Environment= assignment ${word}`);
      env[word.slice(0, eq)] = word.slice(eq + 1);
    }
  }
  return env;
}

/**
 * An Exec*= line as argv: prefixes are refused (the unit uses none), specifiers expanded,
 * then `${VAR}` (one word) and `$VAR` as a word on its own (split on whitespace) from `env`.
 */
export function commandLine(line: string, specifiers: Record<string, string>, env: Record<string, string>): string[] {
  if (/^[-@+!:]/.test(line)) throw new Error(`Exec prefixes are not emulated: ${line}`);
  const argv: string[] = [];
  for (const word of splitWords(expandSpecifiers(line, specifiers))) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(word);
    if (whole) {
      argv.push(...(env[whole[1] as string] ?? '').split(/\s+/).filter((w) => w !== ''));
      continue;
    }
    argv.push(word.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => env[name] ?? ''));
  }
  return argv;
}

/** systemd time span: `30`, `30s`, `2min`, `1min 30s`, in ms. */
export function timeSpanMs(value: string): number {
  let total = 0;
  const re = /(\d+(?:\.\d+)?)\s*(ms|s|sec|min|m|h)?/g;
  let matched = '';
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const n = Number(m[1]);
    const unit = m[2] ?? 's';
    total += n * (unit === 'ms' ? 1 : unit === 'min' || unit === 'm' ? 60_000 : unit === 'h' ? 3_600_000 : 1000);
    matched += m[0];
  }
  if (matched.replace(/\s/g, '') !== value.replace(/\s/g, '')) throw new Error(`unsupported time span ${value}`);
  return total;
}
