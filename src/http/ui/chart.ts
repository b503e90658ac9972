import { escapeHtml as escapeText } from '../html.js';
import { count, rate } from './format.js';
import { html, raw, type SafeHtml } from './template.js';

/**
 * Line charts as inline SVG, drawn on the server: no script, no external file, nothing the CSP
 * would refuse (colours come from classes in the stylesheet, not style attributes).
 */

export interface Series {
  label: string;
  points: ReadonlyArray<readonly [number, number]>;
}

const W = 440;
const H = 150;
const LEFT = 48;
const RIGHT = 8;
const TOP = 8;
const BOTTOM = 20;

/** 0.7 -> 1, 13 -> 15, 260 -> 300: a round top for the y axis. */
export function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 3, 5, 7.5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function label(v: number, unit: 'rate' | 'count'): string {
  return unit === 'rate' ? rate(v) : count(Math.round(v));
}

export function lineChart(options: { title: string; series: Series[]; now: number; windowMs: number; unit: 'rate' | 'count'; id?: string }): SafeHtml {
  const { series, now, windowMs } = options;
  const from = now - windowMs;
  // Counts are whole numbers: an axis of at least 0-2 keeps its middle line whole.
  const max = niceMax(Math.max(options.unit === 'count' ? 2 : 0, ...series.flatMap((s) => s.points.map(([, v]) => v))));
  const x = (t: number): number => LEFT + ((t - from) / windowMs) * (W - LEFT - RIGHT);
  const y = (v: number): number => TOP + (1 - v / max) * (H - TOP - BOTTOM);
  const f = (n: number): string => n.toFixed(1);
  const grid = [0, max / 2, max]
    .map((v) => `<line class="gridline" x1="${LEFT}" x2="${W - RIGHT}" y1="${f(y(v))}" y2="${f(y(v))}"/><text class="axis" x="${LEFT - 4}" y="${f(y(v) + 3)}" text-anchor="end">${escapeText(label(v, options.unit))}</text>`)
    .join('');
  const minutes = Math.round(windowMs / 60_000);
  const xAxis = `<text class="axis" x="${LEFT}" y="${H - 5}">−${minutes} min</text><text class="axis" x="${W - RIGHT}" y="${H - 5}" text-anchor="end">now</text>`;
  const lines = series
    .map((s, i) => {
      const pts = s.points.filter(([t]) => t >= from);
      if (pts.length < 2) return '';
      return `<polyline class="s${i + 1}" points="${pts.map(([t, v]) => `${f(x(t))},${f(y(v))}`).join(' ')}"/>`;
    })
    .join('');
  const latest = series.map((s) => {
    const last = s.points[s.points.length - 1];
    return { label: s.label, value: last ? label(last[1], options.unit) : '–' };
  });
  const empty = series.every((s) => s.points.length < 2) ? `<text class="axis" x="${W / 2}" y="${H / 2}" text-anchor="middle">collecting samples…</text>` : '';
  const summary = `${options.title}: ${latest.map((l) => `${l.label} ${l.value}`).join(', ')}`;
  const svg = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeText(summary)}" xmlns="http://www.w3.org/2000/svg"><title>${escapeText(summary)}</title>${grid}${xAxis}${lines}${empty}</svg>`;
  return html`<figure class="chart"${options.id ? html` id="${options.id}"` : ''}><h3>${options.title}</h3>${raw(svg)}
<figcaption class="legend">${latest.map((l, i) => html`<span class="k${String(i + 1)}">${l.label} <strong>${l.value}</strong></span>`)}</figcaption></figure>`;
}
