import type { QueueStats } from '../../../delivery/pipeline.js';
import { queueNameFromArn } from '../../../sqs/admin.js';
import { redrivePolicyOf } from '../../../sqs/browse.js';
import { bytes, count, duration, timestamp } from '../format.js';
import { type Flash, page } from '../layout.js';
import { html, q, type SafeHtml } from '../template.js';
import { LIVE_REFRESH_SECONDS, type HistoryData, liveCharts } from './live.js';
import { receiveForm } from './messages.js';

/** The queue page's data; also the JSON answer of GET /queues/:name. */
export interface QueueData {
  name: string;
  url: string;
  fifo: boolean;
  /** Every attribute as SQS gave it (strings). */
  attributes: Record<string, string>;
  /** What this daemon did for this queue since it started (all credentials together). */
  daemon: QueueStats;
  /** Dead letters kept for this queue; null in memory-only mode (none are kept). */
  deadLetters: number | null;
  /** The last minutes of this queue's numbers (charts). */
  history?: HistoryData;
}

export const EMPTY_STATS: QueueStats = Object.freeze({ accepted: 0, sent: 0, retried: 0, deadLettered: 0, md5Mismatch: 0, backlog: 0, inFlight: 0 });

type Render = (raw: string) => SafeHtml | string;

const seconds: Render = (v) => duration(Number(v));
const yesNo: Render = (v) => (v === 'true' ? 'yes' : v === 'false' ? 'no' : v);
const epoch: Render = (v) => timestamp(Number(v), 's');

function jsonBlock(v: string): SafeHtml {
  try {
    return html`<pre>${JSON.stringify(JSON.parse(v), null, 2)}</pre>`;
  } catch {
    return html`<pre>${v}</pre>`;
  }
}

function redrive(v: string): SafeHtml | string {
  try {
    const p = JSON.parse(v) as { deadLetterTargetArn?: unknown; maxReceiveCount?: unknown };
    if (typeof p.deadLetterTargetArn === 'string') {
      const target = queueNameFromArn(p.deadLetterTargetArn);
      return html`to <a href="/queues/${q(target)}">${target}</a> after ${String(p.maxReceiveCount ?? '?')} receives`;
    }
  } catch {
    // shown raw below
  }
  return jsonBlock(v);
}

/** Label and human form of each attribute SQS documents, in display order; others are shown raw after them. */
const ATTRIBUTES: Array<[string, string, Render]> = [
  ['VisibilityTimeout', 'Visibility timeout', seconds],
  ['DelaySeconds', 'Delivery delay', seconds],
  ['MessageRetentionPeriod', 'Retention period', seconds],
  ['MaximumMessageSize', 'Maximum message size', (v) => bytes(Number(v))],
  ['ReceiveMessageWaitTimeSeconds', 'Receive wait time (long polling)', seconds],
  ['RedrivePolicy', 'Dead-letter queue', redrive],
  ['RedriveAllowPolicy', 'Who may use this queue as a dead-letter queue', jsonBlock],
  ['FifoQueue', 'FIFO', yesNo],
  ['ContentBasedDeduplication', 'Content-based deduplication', yesNo],
  ['DeduplicationScope', 'Deduplication scope', (v) => (v === 'messageGroup' ? 'per message group' : v === 'queue' ? 'whole queue' : v)],
  ['FifoThroughputLimit', 'Throughput limit', (v) => (v === 'perMessageGroupId' ? 'per message group (high throughput)' : v === 'perQueue' ? 'per queue' : v)],
  ['SqsManagedSseEnabled', 'Encryption with SQS-managed keys', yesNo],
  ['KmsMasterKeyId', 'KMS key', (v) => html`<span class="mono">${v}</span>`],
  ['KmsDataKeyReusePeriodSeconds', 'KMS data key reuse period', seconds],
  ['CreatedTimestamp', 'Created', epoch],
  ['LastModifiedTimestamp', 'Last modified', epoch],
  ['QueueArn', 'ARN', (v) => html`<span class="mono">${v}</span>`],
  ['Policy', 'Access policy', jsonBlock],
];

const COUNTS = new Set(['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed']);
const RAW_SHOWN = new Set(['VisibilityTimeout', 'DelaySeconds', 'MessageRetentionPeriod', 'MaximumMessageSize', 'ReceiveMessageWaitTimeSeconds', 'KmsDataKeyReusePeriodSeconds', 'CreatedTimestamp', 'LastModifiedTimestamp']);

function attributeTable(attributes: Record<string, string>): SafeHtml {
  const known = new Set(ATTRIBUTES.map(([k]) => k));
  const rows: SafeHtml[] = [];
  for (const [key, label, render] of ATTRIBUTES) {
    const v = attributes[key];
    if (v === undefined) continue;
    rows.push(html`<tr><th scope="row" title="${key}">${label}</th><td>${render(v)}${RAW_SHOWN.has(key) ? html`<span class="raw">(${key} = ${v})</span>` : ''}</td></tr>`);
  }
  for (const [key, v] of Object.entries(attributes).sort(([a], [b]) => a.localeCompare(b))) {
    if (known.has(key) || COUNTS.has(key)) continue;
    rows.push(html`<tr><th scope="row">${key}</th><td>${v}</td></tr>`);
  }
  return html`<table class="kv"><tbody>${rows}</tbody></table>`;
}

function stat(label: string, value: number | string, note?: string | SafeHtml): SafeHtml {
  return html`<div class="stat"><div class="label">${label}</div><div class="value">${typeof value === 'number' ? count(value) : value}</div>${note ? html`<div class="label">${note}</div>` : ''}</div>`;
}

function sendForm(data: QueueData, token: string): SafeHtml {
  const attrRows = [0, 1, 2].map(
    (i) => html`<input type="text" name="attr_name" aria-label="attribute ${i + 1} name" placeholder="name" maxlength="256">
<select name="attr_type" aria-label="attribute ${i + 1} type"><option>String</option><option>Number</option></select>
<input type="text" name="attr_value" aria-label="attribute ${i + 1} value" placeholder="value">`,
  );
  return html`<form method="post" action="/queues/${q(data.name)}" class="card" id="send">
<input type="hidden" name="_csrf" value="${token}">
<div class="fields">
<label for="message_body">Body</label>
<div class="field"><textarea id="message_body" name="message_body" required placeholder="the message, e.g. {&quot;order&quot;: 42}"></textarea></div>
${data.fifo
  ? html`<label for="group_id">Message group id</label>
<div class="field"><input type="text" id="group_id" name="group_id" maxlength="128" size="32" required><div class="hint">Required: messages of one group are delivered in order.</div></div>
<label for="deduplication_id">Deduplication id</label>
<div class="field"><input type="text" id="deduplication_id" name="deduplication_id" maxlength="128" size="32"><div class="hint">Optional${data.attributes.ContentBasedDeduplication === 'true' ? ' (the queue deduplicates by content)' : ': without one the daemon gives each accepted message its own, so its retries never duplicate'}.</div></div>`
  : html`<label for="delay_seconds">Delay</label>
<div class="field"><input type="number" id="delay_seconds" name="delay_seconds" min="0" max="900" step="1" placeholder="0"> <span class="muted">seconds (0 to 900)</span></div>`}
<span class="muted">Attributes</span>
<div class="field"><div class="attrs">${attrRows}</div><div class="hint">Optional message attributes; empty rows are ignored.</div></div>
</div>
<div class="actions"><button type="submit">Send message</button><span class="muted">Answered at once; delivered to SQS in the background.</span></div>
</form>`;
}

function sqsCounts(a: Record<string, string>): SafeHtml {
  const approx = (k: string): number | string => (a[k] === undefined ? '–' : Number(a[k]));
  return html`<h2>In SQS <span class="muted">(approximate)</span></h2>
<div class="grid">
${stat('Available', approx('ApproximateNumberOfMessages'), 'ApproximateNumberOfMessages')}
${stat('In flight', approx('ApproximateNumberOfMessagesNotVisible'), 'received, not yet deleted')}
${stat('Delayed', approx('ApproximateNumberOfMessagesDelayed'), 'not yet visible')}
</div>`;
}

/** GET /queues/:name/live: counts and charts only, reloading themselves. */
export function liveQueuePage(data: QueueData, options: { user: string }): string {
  const d = data.daemon;
  const body = html`<h1><a href="/queues/${q(data.name)}">${data.name}</a> <span class="badge">live</span></h1>
<p class="lead">Reloads itself every ${String(LIVE_REFRESH_SECONDS)} seconds. <a href="/queues/${q(data.name)}">Back to the queue</a>.</p>
${sqsCounts(data.attributes)}
<h2>In this daemon <span class="muted">(since it started)</span></h2>
<div class="grid narrow">
${stat('Backlog', d.backlog, 'accepted, not yet confirmed by SQS')}
${stat('Sent', d.sent, `of ${count(d.accepted)} accepted`)}
${stat('Retried', d.retried, 'sent again after a transient failure')}
${stat('Failed', d.deadLettered, 'refused by SQS for good')}
</div>
${data.history ? html`<h2>Last ${String(Math.round(data.history.windowMs / 60_000))} minutes</h2>${liveCharts(data.history)}` : ''}`;
  return page({ title: `${data.name} (live)`, section: 'queues', user: options.user, refreshSeconds: LIVE_REFRESH_SECONDS }, body);
}

export function queuePage(data: QueueData, options: { user: string; token: string; flashes: Flash[] }): string {
  const a = data.attributes;
  const d = data.daemon;
  const body = html`<h1>${data.name} ${data.fifo ? html`<span class="badge fifo">FIFO</span>` : html`<span class="badge">standard</span>`}</h1>
<p class="lead mono">${data.url}</p>
${sqsCounts(a)}
<h2>In this daemon <span class="muted">(since it started)</span></h2>
<div class="grid narrow">
${stat('Backlog', d.backlog, 'accepted, not yet confirmed by SQS')}
${stat('Sending now', d.inFlight, 'in SendMessageBatch requests')}
${stat('Sent', d.sent, `of ${count(d.accepted)} accepted`)}
${stat('Retried', d.retried, 'entries sent again after a transient failure')}
${stat('Failed', d.deadLettered, data.deadLetters === null ? 'refused by SQS for good (logged)' : html`refused for good; ${count(data.deadLetters)} kept, see <a href="/dead-letters?queue=${q(data.name)}">dead letters</a>`)}
</div>
${data.history ? html`<h2 id="charts">Last ${String(Math.round(data.history.windowMs / 60_000))} minutes <span class="muted">(<a href="/queues/${q(data.name)}/live">live view</a>, refreshes itself)</span></h2>
${liveCharts(data.history)}` : ''}
<h2 id="messages">Look at messages</h2>
${receiveForm({ name: data.name, maxMessages: 10, visibilityTimeout: 0, ...redriveOf(a) }, options.token)}
<h2 id="send-heading">Send a message</h2>
${sendForm(data, options.token)}
<h2>Attributes</h2>
${attributeTable(a)}
<h2>Manage</h2>
<div class="toolbar">
<a class="button secondary" href="/queues/${q(data.name)}/settings">Edit settings…</a>
<a class="button secondary" href="/queues/${q(data.name)}/redrive">Redrive…</a>
<a class="button secondary" href="/queues/${q(data.name)}/purge">Purge messages…</a>
<a class="button danger" href="/queues/${q(data.name)}/delete">Delete queue…</a>
<span class="muted">Purge and delete ask for confirmation first.</span>
</div>`;
  return page({ title: data.name, section: 'queues', user: options.user, flashes: options.flashes }, body);
}

function redriveOf(attributes: Record<string, string>): { redrive?: { deadLetterQueue: string; maxReceiveCount: number } } {
  const p = redrivePolicyOf(attributes);
  return p ? { redrive: { deadLetterQueue: p.deadLetterQueue, maxReceiveCount: p.maxReceiveCount } } : {};
}

function messages(n: number): string {
  return `${count(n)} message${n === 1 ? '' : 's'}`;
}

/** Confirmation step for purge or delete of one queue (GET /queues/:name/purge|delete). */
export function confirmQueueActionPage(action: 'purge' | 'delete', data: { name: string; visible?: number; backlog: number }, options: { user: string; token: string }): string {
  const what = action === 'purge' ? 'Purge' : 'Delete';
  const warning =
    action === 'purge'
      ? html`Purging deletes every message in <strong>${data.name}</strong>${data.visible !== undefined ? html` (about ${count(data.visible)} available)` : ''}; it cannot be undone. SQS allows one purge per queue every 60 seconds.
${data.backlog > 0 ? html` The ${messages(data.backlog)} this daemon has not delivered yet ${data.backlog === 1 ? 'is' : 'are'} not affected and arrive${data.backlog === 1 ? 's' : ''} afterwards.` : ''}`
      : html`Deleting <strong>${data.name}</strong> deletes the queue and its messages${data.visible !== undefined ? html` (about ${count(data.visible)} available)` : ''}; it cannot be undone, and the name cannot be reused for 60 seconds.
${data.backlog > 0 ? html` The ${messages(data.backlog)} this daemon still holds for it will be refused by SQS and dead-lettered.` : ''}`;
  const body = html`<h1>${what} ${data.name}?</h1>
<div class="flash warn">${warning}</div>
<form method="post" action="/queues/${q(data.name)}/${action}" class="card">
<input type="hidden" name="_csrf" value="${options.token}">
<div class="actions"><button type="submit" class="danger">${what} ${data.name}</button><a href="/queues/${q(data.name)}">Cancel</a></div>
</form>`;
  return page({ title: `${what} ${data.name}`, section: 'queues', user: options.user }, body);
}
