import type { OutageSnapshot } from '../../../delivery/outage.js';
import type { DeadLetter, StoreInfo } from '../../../delivery/store.js';
import type { WorkerStatus } from '../../../worker/index.js';
import { bytes, count, duration, rate, timestamp, truncate } from '../format.js';
import { type Flash, page } from '../layout.js';
import type { QueuesPage, StatusQueue } from '../status-queues.js';
import type { UpstreamStatus } from '../../../upstreams/index.js';
import type { UploadBacklog } from '../../../s3/stats.js';
import { html, q, type SafeHtml } from '../template.js';
import { LIVE_REFRESH_SECONDS, type HistoryData, liveCharts } from './live.js';

/** The daemon status page's data; also the JSON answer of GET /status. */
export interface StatusData {
  startedAt: string;
  uptimeSeconds: number;
  /** The primary upstream (the only one without failover). */
  upstream: { endpoint: string; region: string };
  /** Failover upstreams, the primary first: health and queues using each (absent with one upstream). */
  upstreams?: UpstreamStatus[];
  /** Failover: messages delivered by one upstream after a failed request to another that may have stored them. */
  possibleDuplicates?: number;
  backlog: { messages: number; bytes: number };
  inFlightRequests: number;
  /** Whether batches go (`delivering`) or wait behind one probe while SQS fails every request (`outage-probe`). */
  delivery?: OutageSnapshot;
  totals: { accepted: number; sent: number; retried: number; deadLettered: number; md5Mismatch: number; requests: number; requestErrors: number };
  /** Averages since the daemon started, per second. */
  rates: { acceptedPerSecond: number; sentPerSecond: number; requestsPerSecond: number };
  store: StoreInfo;
  /** One page of the queues, sorted by name (see queuesPage). */
  queues: StatusQueue[];
  /** The worker side: one entry per --worker queue. */
  workers: WorkerStatus[];
  queuesPage: QueuesPage;
  /**
   * null: memory-only mode keeps no dead letters (they are only logged). scope 'yours': only the
   * letters sent with the caller's credentials (pass-through mode); 'all': chain mode.
   */
  deadLetters: null | { scope: 'yours' | 'all'; total: number; offset: number; limit: number; queue?: string; items: DeadLetter[] };
  /** The last minutes of the daemon's numbers (charts). */
  history?: HistoryData;
  /** Large messages through S3 (absent when the daemon has no S3 client). */
  s3?: StatusS3;
}

/** /status's S3 part: the bucket, the payloads not yet uploaded, and totals since start. */
export interface StatusS3 {
  /** --s3-bucket; null when S3 is only read (worker side). */
  bucket: string | null;
  /** Payloads accepted and not yet in S3; null without --s3-bucket. */
  uploadBacklog: UploadBacklog | null;
  uploaded: number;
  uploadedBytes: number;
  downloaded: number;
  downloadedBytes: number;
  deleted: number;
  failures: number;
}

function s3Section(s: StatusS3): SafeHtml {
  const b = s.uploadBacklog;
  return html`<div class="grid">
${stat('Uploads waiting', b ? count(b.waiting + b.uploading) : '—', b ? `${bytes(b.bytes)} of payloads not yet in S3; ${count(b.uploading)} uploading now` : 'no --s3-bucket: payloads are only read')}
${stat('Uploaded', count(s.uploaded), `${bytes(s.uploadedBytes)}${s.bucket ? html` to <span class="mono">${s.bucket}</span>` : ''}`)}
${stat('Downloaded', count(s.downloaded), `${bytes(s.downloadedBytes)} read to the end`)}
${stat('Deleted', count(s.deleted), 'objects of handled messages and purged dead letters')}
${stat('S3 failures', count(s.failures), 'failed requests, retried ones included')}
</div>`;
}

function stat(label: string, value: string, note?: string | SafeHtml): SafeHtml {
  return html`<div class="stat"><div class="label">${label}</div><div class="value">${value}</div>${note ? html`<div class="label">${note}</div>` : ''}</div>`;
}

function storeSection(s: StoreInfo): SafeHtml {
  if (s.durability === 'memory') {
    return html`<div class="card"><strong>Memory only.</strong> Accepted messages live in this process until SQS confirms them: a crash or a
restart past the shutdown grace period loses the backlog. Start the daemon with its spool for durability.</div>`;
  }
  return html`<table class="kv"><tbody>
<tr><th scope="row">Durability</th><td>${s.durability === 'fsync' ? 'fsync: survives a power loss' : 'write: survives a crash of the daemon'}</td></tr>
${s.dir ? html`<tr><th scope="row">Spool directory</th><td class="mono">${s.dir}</td></tr>` : ''}
<tr><th scope="row">Spool size on disk</th><td>${bytes(s.spoolBytes)}</td></tr>
<tr><th scope="row">Writable</th><td>${s.writable ? 'yes' : html`<strong>no</strong>: new sends are refused with 503 until it is`}</td></tr>
<tr><th scope="row">Recovered at start</th><td>${count(s.recovered)} messages${s.corruptRecords > 0 ? html`; <strong>${count(s.corruptRecords)} damaged records</strong> skipped` : ''}</td></tr>
</tbody></table>`;
}

function upstreamSection(list: UpstreamStatus[], duplicates: number): SafeHtml {
  const rows = list.map(
    (u) => html`<tr><td class="mono">${u.name}${u.primary ? html` <span class="muted">(primary)</span>` : ''}</td><td>${u.region}</td><td class="mono">${u.endpoint || 'AWS'}</td>
<td>${u.state === 'healthy' ? 'healthy' : html`<strong>down</strong>${u.nextProbeAt ? html` <span class="muted">next probe ${timestamp(Date.parse(u.nextProbeAt))}</span>` : ''}`} <span class="muted">since ${timestamp(Date.parse(u.since))}</span></td>
<td class="num">${count(u.queues)}</td><td class="num">${count(u.sent)}</td><td class="num">${count(u.failuresTotal)}</td>
<td>${u.lastError ? html`<code>${u.lastError.code}</code> ${truncate(u.lastError.message, 120)} <span class="muted">${timestamp(Date.parse(u.lastError.at))}</span>` : '—'}</td></tr>`,
  );
  return html`<p class="muted">New batches of a queue go to the first healthy upstream that has the queue; a down upstream is probed and gets its queues back once it answers.
${count(duplicates)} messages delivered after a failed request elsewhere that may have stored them (possible duplicates).</p>
<div class="scroll"><table><thead><tr><th>Upstream</th><th>Region</th><th>Endpoint</th><th>Health</th><th class="num">Queues routed here</th><th class="num">Sent</th><th class="num">Failures</th><th>Last failure</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

function workerSection(workers: WorkerStatus[]): SafeHtml {
  if (workers.length === 0) return html`<div class="card">No workers configured (start with <code>--worker &lt;queue&gt;=&lt;url&gt;</code> to deliver a queue's messages to a local app).</div>`;
  const rows = workers.map(
    (w) => html`<tr><td><a href="/queues/${q(w.queue)}">${w.queue}</a>${w.upstream ? html` <span class="muted">in ${w.upstream}</span>` : ''}</td><td class="mono">${w.url}</td><td>${w.state}</td>
<td class="num">${count(w.inFlight)} / ${count(w.limit)}</td><td class="num">${count(w.delivered)}</td><td class="num">${count(w.failed)}</td><td class="num">${count(w.retried)}</td>
<td class="num">${count(w.leftToRedrive)}</td><td class="num">${count(w.replies)}</td><td class="num">${w.appLatencyMs.toFixed(1)} ms</td>
<td>${w.lastError ? html`<code>${w.lastError.code}</code> ${truncate(w.lastError.message, 120)} <span class="muted">${timestamp(Date.parse(w.lastError.at))}</span>` : '—'}</td></tr>`,
  );
  return html`<div class="scroll"><table><thead><tr><th>Queue</th><th>App URL</th><th>State</th><th class="num">In flight / limit</th><th class="num">Delivered</th><th class="num">Failed</th><th class="num">Retried</th><th class="num">Left to redrive</th><th class="num">Replies</th><th class="num">App latency</th><th>Last error</th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

function deadLetterSection(d: StatusData['deadLetters'], inStore: number): SafeHtml {
  if (d === null) {
    return html`<div class="card">This daemon runs without a dead-letter store (memory-only mode). A message SQS refuses for good is logged
with its id, queue and reason, and counted under “dead-lettered” above; it is not kept, so it cannot be shown or replayed here.</div>`;
  }
  const filter = d.queue ? html` for <strong>${d.queue}</strong> (<a href="/status#dead-letters">all queues</a>)` : '';
  const scope =
    d.scope === 'yours'
      ? html` sent with your credentials${inStore > d.total && !d.queue ? html` (the store holds ${count(inStore)}; the others were sent with other credentials)` : ''}`
      : '';
  if (d.items.length === 0) return html`<div class="card">No dead letters${scope}${filter}.</div>`;
  const rows = d.items.map(
    (x) => html`<tr>
<td class="mono"><a href="/dead-letters/${q(x.id)}">${x.id}</a></td>
<td><a href="/queues/${q(x.queueName)}">${x.queueName}</a></td>
<td><code>${x.code}</code> ${truncate(x.reason, 160)}</td>
<td class="num">${count(x.attempts)}</td>
<td>${timestamp(x.deadAt)}</td>
<td class="mono">${truncate(x.body, 120)}</td>
</tr>`,
  );
  const base = d.queue ? `/status?queue=${q(d.queue)}&` : '/status?';
  const next = d.offset + d.items.length < d.total ? html`<a href="${base}dl_offset=${String(d.offset + d.limit)}#dead-letters">Older →</a>` : '';
  const prev = d.offset > 0 ? html`<a href="${base}dl_offset=${String(Math.max(0, d.offset - d.limit))}#dead-letters">← Newer</a>` : '';
  return html`<p class="muted">${count(d.total)}${d.scope === 'yours' ? '' : ' kept'}${scope}${filter}; showing ${count(d.offset + 1)}–${count(d.offset + d.items.length)}. <a href="/dead-letters${d.queue ? `?queue=${q(d.queue)}` : ''}">Open the dead letters</a> to see one in full, replay or purge them (or use <code>sqs-accelerator dead-letters</code>).</p>
<div class="scroll"><table><thead><tr><th>Id</th><th>Queue</th><th>Reason</th><th class="num">Attempts</th><th>Dead since</th><th>Body</th></tr></thead><tbody>${rows}</tbody></table></div>
<div class="pager">${prev}${next}</div>`;
}

function queuePager(p: QueuesPage, shown: number): SafeHtml {
  if (p.total <= shown) return html``;
  const next = p.offset + shown < p.total ? html`<a href="/status?q_offset=${String(p.offset + p.limit)}">Next →</a>` : '';
  const prev = p.offset > 0 ? html`<a href="/status?q_offset=${String(Math.max(0, p.offset - p.limit))}">← Previous</a>` : '';
  return html`<p class="muted">${count(p.total)} queues; showing ${count(p.offset + 1)}–${count(p.offset + shown)}.</p><div class="pager">${prev}${next}</div>`;
}

export function statusPage(data: StatusData, options: { user: string; flashes: Flash[]; refresh?: boolean }): string {
  const t = data.totals;
  const queueRows = data.queues.map(
    (x) => html`<tr><td><a href="/queues/${q(x.name)}">${x.name}</a></td><td class="num">${count(x.backlog)}</td><td class="num">${count(x.inFlight)}</td>
<td class="num">${count(x.accepted)}</td><td class="num">${count(x.sent)}</td><td class="num">${count(x.retried)}</td><td class="num">${count(x.deadLettered)}</td>${x.route ? html`<td><span class="mono">${x.route.upstream}</span> <span class="muted">${x.route.reason}: ${x.route.detail}</span></td>` : ''}</tr>`,
  );
  const routeHead = data.upstreams ? html`<th>Upstream (why)</th>` : '';
  const body = html`<h1>Daemon status</h1>
<p class="lead">Up ${duration(data.uptimeSeconds)} (since ${timestamp(Date.parse(data.startedAt))}) · upstream <span class="mono">${data.upstream.endpoint}</span> (${data.upstream.region})</p>
<div class="grid">
${stat('Backlog', count(data.backlog.messages), `${bytes(data.backlog.bytes)} accepted, not yet confirmed by SQS`)}
${stat('Requests in flight', count(data.inFlightRequests), 'SendMessageBatch calls to SQS now')}
${data.delivery?.state === 'outage-probe' ? stat('Delivery', 'held', `SQS fails every request: one probe at a time${data.delivery.nextProbeAt ? `, the next at ${timestamp(Date.parse(data.delivery.nextProbeAt))}` : ' (in flight)'}; ${count(data.delivery.probesFailed)} failed so far`) : ''}
${stat('Accepted', count(t.accepted), `${rate(data.rates.acceptedPerSecond)} on average`)}
${stat('Sent', count(t.sent), `${rate(data.rates.sentPerSecond)} on average`)}
${stat('Retried', count(t.retried), 'entries sent again after transient failures')}
${stat('Dead-lettered', count(t.deadLettered), 'refused by SQS for good')}
${stat('SQS requests', count(t.requests), `${rate(data.rates.requestsPerSecond)} on average; ${count(t.requestErrors)} failed`)}
${stat('MD5 mismatches', count(t.md5Mismatch), 'entries resent because SQS\'s checksum differed')}
</div>
${data.history
  ? html`<h2 id="charts">Last ${String(Math.round(data.history.windowMs / 60_000))} minutes <span class="muted">(${options.refresh ? html`this page reloads itself every ${String(LIVE_REFRESH_SECONDS)} s; <a href="/status?refresh=off">stop</a>` : html`<a href="/status">reload by itself</a>`})</span></h2>
${liveCharts(data.history)}`
  : ''}
<h2>Queues this daemon has sent to${data.queuesPage.scope === 'yours' ? ' with your credentials' : ''}</h2>
${data.queues.length === 0
  ? html`<div class="card">${data.queuesPage.total > 0 ? 'No queues on this page.' : 'Nothing accepted lately.'}</div>`
  : html`<div class="scroll"><table><thead><tr><th>Queue</th><th class="num">Backlog</th><th class="num">Sending</th><th class="num">Accepted</th><th class="num">Sent</th><th class="num">Retried</th><th class="num">Failed</th>${routeHead}</tr></thead>
<tbody>${queueRows}</tbody></table></div>${queuePager(data.queuesPage, data.queues.length)}`}
${data.upstreams ? html`<h2 id="upstreams">Upstreams</h2>
${upstreamSection(data.upstreams, data.possibleDuplicates ?? 0)}` : ''}
${data.s3 ? html`<h2 id="s3">Large messages (S3)</h2>
${s3Section(data.s3)}` : ''}
<h2 id="workers">Workers</h2>
${workerSection(data.workers)}
<h2>Message store</h2>
${storeSection(data.store)}
<h2 id="dead-letters">Dead letters</h2>
${deadLetterSection(data.deadLetters, data.store.deadLetters)}`;
  return page({ title: 'Daemon status', section: 'status', user: options.user, flashes: options.flashes, ...(options.refresh ? { refreshSeconds: LIVE_REFRESH_SECONDS } : {}) }, body);
}
