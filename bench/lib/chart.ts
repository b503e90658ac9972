/**
 * The latency chart of issue 14: ack latency percentiles (p50 … p99.99, log scale) at 2,000 msg/s
 * for the daemon, the Koa and bare node:http floors and the SDK app, whichever ran, as a
 * hand-written SVG (no dependency). Unpinned runs are solid lines, pinned ones dashed.
 * bench/run.ts writes it next to the report (`<time>-<kind>-latency.svg`).
 */
import type { BenchReport, RunRecord } from './types.js';

export const CHART_RATE = 2000;
/** Percentile keys of `Percentiles`, in the order they are drawn. */
export const CHART_PERCENTILES = [
  ['p50', 'p50'],
  ['p90', 'p90'],
  ['p99', 'p99'],
  ['p999', 'p99.9'],
  ['p9999', 'p99.99'],
] as const;

export interface Series {
  label: string;
  color: string;
  pinned: boolean;
  /** ms per percentile of CHART_PERCENTILES; NaN where the run has none. */
  values: number[];
  runId: string;
}

const SYSTEMS: Array<{ key: string; label: string; color: string; ids: (mode: string) => string[] }> = [
  { key: 'daemon', label: 'daemon', color: '#1f6feb', ids: (mode) => [`daemon-${mode}-open-${CHART_RATE}`] },
  { key: 'koa', label: 'Koa floor', color: '#d4a72c', ids: () => [`koa-app-open-${CHART_RATE}`] },
  { key: 'bare', label: 'bare node:http', color: '#2da44e', ids: () => [`bare-open-${CHART_RATE}`] },
  { key: 'sdk', label: 'SDK app', color: '#cf222e', ids: () => [`sdk-open-${CHART_RATE}`] },
];

/** The chart's lines, from the runs the report holds (the SDK app at its own rate if it did not run at 2,000/s). */
export function chartSeries(report: BenchReport): Series[] {
  const out: Series[] = [];
  const byId = new Map(report.runs.map((r) => [r.id, r]));
  const add = (label: string, color: string, r: RunRecord | undefined, pinned: boolean): void => {
    const lat = r?.result?.latency as unknown as Record<string, number> | undefined;
    if (!r || !lat) return;
    out.push({ label, color, pinned, runId: r.id, values: CHART_PERCENTILES.map(([k]) => (typeof lat[k] === 'number' ? (lat[k] as number) : NaN)) });
  };
  for (const sys of SYSTEMS) {
    for (const id of sys.ids(report.defaultMode)) {
      const plain = byId.get(id);
      const pinnedRun = byId.get(`${id}-pinned`);
      const label = sys.key === 'daemon' ? `daemon (${report.defaultMode})` : sys.label;
      add(label, sys.color, plain, plain?.pinned === true);
      add(label, sys.color, pinnedRun, true);
    }
    if (sys.key === 'sdk' && !out.some((s) => s.runId.startsWith('sdk-'))) {
      const other = report.runs.find((r) => r.id.startsWith('sdk-open-'));
      if (other) add(`SDK app at ${(other.load.rate ?? 0).toLocaleString('en-US')}/s`, sys.color, other, other.pinned === true);
    }
  }
  return out;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** `0.1`, `1`, `10`, `1,000`: a decade's label. */
function decadeLabel(x: number): string {
  return x < 1 ? String(Number(x.toPrecision(1))) : x.toLocaleString('en-US');
}

/** Lower and upper decade exponents covering every finite positive value. */
export function decades(values: number[]): [number, number] {
  const v = values.filter((x) => Number.isFinite(x) && x > 0);
  if (v.length === 0) return [-1, 1];
  let lo = Math.floor(Math.log10(Math.min(...v)));
  let hi = Math.ceil(Math.log10(Math.max(...v)));
  if (hi <= lo) hi = lo + 1;
  if (hi - lo < 2) lo -= 1;
  return [lo, hi];
}

/** The SVG, or undefined when no run at 2,000 msg/s was made. */
export function latencyChart(report: BenchReport): string | undefined {
  const series = chartSeries(report);
  if (!series.some((s) => s.runId.includes(`-open-${CHART_RATE}`))) return undefined;
  const W = 860;
  const legendRows = series.length;
  const H = Math.max(470, 150 + legendRows * 22);
  const L = 78;
  const R = 566;
  const T = 84;
  const B = H - 70;
  const [lo, hi] = decades(series.flatMap((s) => s.values));
  const y = (v: number): number => B - ((Math.log10(v) - lo) / (hi - lo)) * (B - T);
  const x = (i: number): number => L + 30 + (i * (R - L - 60)) / (CHART_PERCENTILES.length - 1);
  const font = 'font-family="-apple-system, BlinkMacSystemFont, Segoe UI, Helvetica, Arial, sans-serif"';
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" ${font} font-size="13">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(`<text x="${L}" y="28" font-size="17" font-weight="600" fill="#1f2328">Ack latency percentiles at ${CHART_RATE.toLocaleString('en-US')} msg/s, open loop</text>`);
  const m = report.machine;
  const when = `${report.startedAt.slice(0, 16).replace('T', ' ')} UTC`;
  o.push(`<text x="${L}" y="48" font-size="12" fill="#59636e">${esc(`${when}, ${report.quick ? 'quick' : 'full'} run (npm run bench); ${m.nproc} CPUs (${m.cpuModel}), Node ${m.node}; daemon ${m.daemonCommit.split(' ')[0] ?? ''}`)}</text>`);
  o.push(`<text x="${L}" y="64" font-size="12" fill="#59636e">${esc(`From each request's intended send time to the end of its answer (queueing included); ${report.settings.upstreamLatencyMs ?? 20} ms fake SQS`)}</text>`);
  // Grid: decades, with light lines at 2..9 of each.
  for (let e = lo; e <= hi; e++) {
    const v = 10 ** e;
    o.push(`<line x1="${L}" x2="${R}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#d0d7de" stroke-width="1"/>`);
    o.push(`<text x="${L - 8}" y="${(y(v) + 4).toFixed(1)}" text-anchor="end" fill="#1f2328">${decadeLabel(Number(v.toPrecision(1)))}</text>`);
    if (e < hi) for (let k = 2; k <= 9; k++) o.push(`<line x1="${L}" x2="${R}" y1="${y(k * v).toFixed(1)}" y2="${y(k * v).toFixed(1)}" stroke="#eef1f4" stroke-width="1"/>`);
  }
  CHART_PERCENTILES.forEach(([, name], i) => {
    o.push(`<line x1="${x(i).toFixed(1)}" x2="${x(i).toFixed(1)}" y1="${T}" y2="${B}" stroke="#eef1f4" stroke-width="1"/>`);
    o.push(`<text x="${x(i).toFixed(1)}" y="${B + 20}" text-anchor="middle" fill="#1f2328">${name}</text>`);
  });
  o.push(`<rect x="${L}" y="${T}" width="${R - L}" height="${B - T}" fill="none" stroke="#8c959f" stroke-width="1"/>`);
  o.push(`<text x="${(L + R) / 2}" y="${B + 44}" text-anchor="middle" fill="#1f2328">percentile of requests</text>`);
  o.push(`<text transform="translate(22 ${(T + B) / 2}) rotate(-90)" text-anchor="middle" fill="#1f2328">ack latency, ms (log scale)</text>`);
  for (const s of series) {
    const pts = s.values.map((v, i) => (Number.isFinite(v) && v > 0 ? [x(i), y(v)] : undefined)).filter((p): p is number[] => p !== undefined);
    const dash = s.pinned ? ' stroke-dasharray="7 5"' : '';
    o.push(`<polyline points="${pts.map(([a, b]) => `${(a as number).toFixed(1)},${(b as number).toFixed(1)}`).join(' ')}" fill="none" stroke="${s.color}" stroke-width="2.2"${dash}/>`);
    for (const [a, b] of pts) o.push(`<circle cx="${(a as number).toFixed(1)}" cy="${(b as number).toFixed(1)}" r="4" fill="${s.pinned ? '#ffffff' : s.color}" stroke="${s.color}" stroke-width="2"/>`);
  }
  // Legend, right of the plot: one row per line, with its p99 in ms.
  const lx = R + 22;
  o.push(`<text x="${lx}" y="${T + 4}" font-weight="600" fill="#1f2328">p99, ms</text>`);
  series.forEach((s, i) => {
    const ly = T + 26 + i * 22;
    const dash = s.pinned ? ' stroke-dasharray="7 5"' : '';
    o.push(`<line x1="${lx}" x2="${lx + 30}" y1="${ly - 4}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2.2"${dash}/>`);
    o.push(`<circle cx="${lx + 15}" cy="${ly - 4}" r="4" fill="${s.pinned ? '#ffffff' : s.color}" stroke="${s.color}" stroke-width="2"/>`);
    const p99 = s.values[2] as number;
    const p99Text = Number.isFinite(p99) ? ` (${p99 < 10 ? p99.toFixed(2) : p99.toFixed(0)})` : '';
    o.push(`<text x="${lx + 38}" y="${ly}" font-size="12" fill="#1f2328">${esc(`${s.label}${s.pinned ? ', pinned' : ''}${p99Text}`)}</text>`);
  });
  const noteY = T + 40 + series.length * 22;
  o.push(`<text x="${lx}" y="${noteY}" font-size="11" fill="#59636e">solid: unpinned (production)</text>`);
  o.push(`<text x="${lx}" y="${noteY + 16}" font-size="11" fill="#59636e">dashed: pinned with taskset</text>`);
  o.push(`<text x="${lx}" y="${noteY + 32}" font-size="11" fill="#59636e">(the stress case)</text>`);
  o.push('</svg>');
  return `${o.join('\n')}\n`;
}
