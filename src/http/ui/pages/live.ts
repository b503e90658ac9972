import { ratesOf, type Sample, type SqsSample } from '../../../delivery/history.js';
import { lineChart } from '../chart.js';
import { html, type SafeHtml } from '../template.js';

/** The recent numbers a page charts; also part of its JSON answer. */
export interface HistoryData {
  /** Time between the daemon's samples, ms. */
  intervalMs: number;
  /** How far back the charts go, ms. */
  windowMs: number;
  /** The daemon's counters (cumulative since start) and backlog, oldest first. */
  samples: readonly Sample[];
  /** SQS's approximate counts, as pages read them (queue pages only). */
  sqs?: readonly SqsSample[];
}

/** How often live pages reload themselves. seconds. */
export const LIVE_REFRESH_SECONDS = 10;

/** Charts of messages per second, backlog and (for a queue) SQS's counts over the window. */
export function liveCharts(h: HistoryData, now = Date.now()): SafeHtml {
  const common = { now, windowMs: h.windowMs };
  const rates = lineChart({
    ...common,
    id: 'chart-rates',
    title: 'Messages per second',
    unit: 'rate',
    series: [
      { label: 'accepted', points: ratesOf(h.samples, 'accepted') },
      { label: 'delivered', points: ratesOf(h.samples, 'sent') },
      { label: 'retried', points: ratesOf(h.samples, 'retried') },
      { label: 'failed', points: ratesOf(h.samples, 'deadLettered') },
    ],
  });
  const backlog = lineChart({ ...common, id: 'chart-backlog', title: 'Backlog in this daemon', unit: 'count', series: [{ label: 'backlog', points: h.samples.map((s) => [s.at, s.backlog] as const) }] });
  const pick = (k: 'visible' | 'inFlight' | 'delayed'): Array<[number, number]> => (h.sqs ?? []).flatMap((s) => (s[k] === undefined ? [] : [[s.at, s[k] as number] as [number, number]]));
  const sqs = h.sqs
    ? lineChart({
        ...common,
        id: 'chart-sqs',
        title: 'In SQS (approximate, as read by these pages)',
        unit: 'count',
        series: [
          { label: 'available', points: pick('visible') },
          { label: 'in flight', points: pick('inFlight') },
          { label: 'delayed', points: pick('delayed') },
        ],
      })
    : '';
  return html`<div class="charts">${rates}${backlog}${sqs}</div>
<p class="muted">The last ${String(Math.round(h.windowMs / 60_000))} minutes, sampled every ${String(Math.round(h.intervalMs / 1000))} s by this daemon${h.sqs ? "; SQS's counts are recorded whenever this queue's pages read them (the live view does every " + String(LIVE_REFRESH_SECONDS) + ' s)' : ''}.</p>`;
}
