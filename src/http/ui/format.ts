/** Human units for pages. JSON answers keep SQS's raw values; only HTML uses these. */

const DURATION_UNITS: Array<[string, number]> = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** 345600 -> "4 days", 90 -> "1 minute 30 seconds", 0 -> "0 seconds". Exact: every non-zero unit. */
export function duration(totalSeconds: number): string {
  if (!Number.isFinite(totalSeconds) || totalSeconds < 0) return String(totalSeconds);
  let rest = Math.round(totalSeconds);
  if (rest === 0) return '0 seconds';
  const parts: string[] = [];
  for (const [unit, size] of DURATION_UNITS) {
    if (rest < size) continue;
    const n = Math.floor(rest / size);
    rest -= n * size;
    parts.push(`${n} ${unit}${n === 1 ? '' : 's'}`);
  }
  return parts.join(' ');
}

/** 1048576 -> "1 MiB", 262144 -> "256 KiB", 1500 -> "1.46 KiB", 12 -> "12 bytes". */
export function bytes(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (n < 1024) return `${n} byte${n === 1 ? '' : 's'}`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  const text = Number.isInteger(v) ? String(v) : v.toFixed(v >= 100 ? 0 : v >= 10 ? 1 : 2);
  return `${text} ${units[i]}`;
}

/** Epoch seconds (SQS timestamps) or ms -> "2026-11-21 18:49:44 UTC". */
export function timestamp(value: number, unit: 's' | 'ms' = 'ms'): string {
  const ms = unit === 's' ? value * 1000 : value;
  if (!Number.isFinite(ms)) return String(value);
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** 12345 -> "12,345". */
export function count(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : String(n);
}

/** Per-second rate with sensible precision. */
export function rate(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return '–';
  if (perSecond === 0) return '0/s';
  if (perSecond < 0.1) return `${(perSecond * 60).toFixed(2)}/min`;
  return `${perSecond >= 100 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toFixed(1)}/s`;
}

/** Shortens text for a table cell; the full value stays available elsewhere. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
