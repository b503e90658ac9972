import type { DeadLetter } from '../../../delivery/store.js';
import { count, timestamp, truncate } from '../format.js';
import { type Flash, page } from '../layout.js';
import { attributeList, bodyBlock, payloadBlock } from '../message-view.js';
import { html, q, type SafeHtml } from '../template.js';

/** A page of dead letters; also the JSON answer of GET /dead-letters. */
export interface DeadLetterListData {
  /** 'yours': only the letters sent with the caller's credentials (pass-through mode); 'all': chain mode. */
  scope: 'yours' | 'all';
  total: number;
  offset: number;
  limit: number;
  queue?: string;
  items: DeadLetter[];
}

/** Which letters a replay or purge is about: chosen ids, or all (of one queue). */
export type Selection = { ids: string[] } | { all: true; queue?: string };

function listUrl(queue: string | undefined, offset: number): string {
  const p = new URLSearchParams();
  if (queue) p.set('queue', queue);
  if (offset > 0) p.set('offset', String(offset));
  const s = p.toString();
  return s ? `/dead-letters?${s}` : '/dead-letters';
}

function selectionFields(sel: Selection): SafeHtml {
  if ('ids' in sel) return html`${sel.ids.map((id) => html`<input type="hidden" name="id" value="${id}">`)}`;
  return html`<input type="hidden" name="all" value="1">${sel.queue ? html`<input type="hidden" name="queue" value="${sel.queue}">` : ''}`;
}

function allUrl(action: 'replay' | 'purge', queue: string | undefined): string {
  return `/${action}-dead-letters?all=1${queue ? `&queue=${q(queue)}` : ''}`;
}

export function deadLetterListPage(d: DeadLetterListData, options: { user: string; flashes: Flash[]; memoryOnly: boolean }): string {
  if (options.memoryOnly) {
    const body = html`<h1>Dead letters</h1>
<div class="card">This daemon runs without a dead-letter store (<code>--durability memory</code>). A message SQS refuses for good is logged
with its id, queue and reason and counted on the status page; it is not kept, so it cannot be shown or replayed here.</div>`;
    return page({ title: 'Dead letters', section: 'dead-letters', user: options.user, flashes: options.flashes }, body);
  }
  const scope = d.scope === 'yours' ? ' sent with your credentials' : '';
  const filter = d.queue ? html` for <strong>${d.queue}</strong> (<a href="/dead-letters">all queues</a>)` : '';
  const rows = d.items.map(
    (x, i) => html`<tr>
<td><input type="checkbox" name="id" value="${x.id}" id="dl-${i}" aria-label="select ${x.id}"></td>
<td class="mono when"><a href="/dead-letters/${q(x.id)}">${x.id}</a></td>
<td><a href="/dead-letters?queue=${q(x.queueName)}">${x.queueName}</a></td>
<td><code>${x.code}</code></td>
<td>${truncate(x.reason, 140)}</td>
<td class="num">${count(x.attempts)}</td>
<td class="when">${timestamp(x.acceptedAt)}</td>
<td class="when">${x.lastAttemptAt !== undefined ? timestamp(x.lastAttemptAt) : '–'}</td>
<td class="when">${timestamp(x.deadAt)}</td>
</tr>`,
  );
  const next = d.offset + d.items.length < d.total ? html`<a href="${listUrl(d.queue, d.offset + d.limit)}" rel="next">Older →</a>` : '';
  const prev = d.offset > 0 ? html`<a href="${listUrl(d.queue, Math.max(0, d.offset - d.limit))}">← Newer</a>` : '';
  const list =
    d.items.length === 0
      ? html`<div class="card">No dead letters${scope}${filter}.</div>`
      : html`<p class="muted">${count(d.total)}${scope}${filter}, oldest first; showing ${count(d.offset + 1)}–${count(d.offset + d.items.length)}. Replay sends a letter to SQS again with every field it had, then removes it.</p>
<form method="get" action="/replay-dead-letters">
<div class="scroll"><table>
<thead><tr><th scope="col"><span class="muted" title="select">✓</span></th><th scope="col">Id</th><th scope="col">Queue</th><th scope="col">Reason</th><th scope="col">Last error</th>
<th scope="col" class="num">Attempts</th><th scope="col">Accepted</th><th scope="col">Last attempt</th><th scope="col">Dead since</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
<div class="actions"><button type="submit">Replay selected…</button><button type="submit" class="danger" formaction="/purge-dead-letters">Purge selected…</button></div>
<div class="actions"><a class="button secondary" href="${allUrl('replay', d.queue)}">Replay all${d.queue ? ' of this queue' : ''}…</a><a class="button secondary" href="${allUrl('purge', d.queue)}">Purge all${d.queue ? ' of this queue' : ''}…</a></div>
</form>
<div class="pager">${prev}${next}</div>`;
  const body = html`<h1>Dead letters</h1>
<p class="lead">Messages SQS refused for good (queue deleted, access denied, invalid contents, too old). Every action asks for confirmation first.</p>
<div class="toolbar">
<form method="get" action="/dead-letters" class="inline" role="search">
<label for="queue" class="muted">Queue</label>
<input type="search" id="queue" name="queue" value="${d.queue ?? ''}" maxlength="80" size="24">
<button type="submit" class="secondary">Filter</button>
</form>
</div>
${list}`;
  return page({ title: 'Dead letters', section: 'dead-letters', user: options.user, flashes: options.flashes }, body);
}

export function deadLetterPage(x: DeadLetter, options: { user: string }): string {
  const row = (label: string, value: SafeHtml | string | undefined): SafeHtml | string => (value === undefined ? '' : html`<tr><th scope="row">${label}</th><td>${value}</td></tr>`);
  const body = html`<h1>Dead letter <span class="mono">${x.id}</span></h1>
<table class="kv"><tbody>
${row('Queue', html`<a href="/queues/${q(x.queueName)}">${x.queueName}</a>`)}
${row('Reason', html`<code>${x.code}</code>`)}
${row('Last error', x.reason)}
${row('Attempts', count(x.attempts))}
${row('Accepted', timestamp(x.acceptedAt))}
${row('First attempt', x.firstAttemptAt !== undefined ? timestamp(x.firstAttemptAt) : undefined)}
${row('Last attempt', x.lastAttemptAt !== undefined ? timestamp(x.lastAttemptAt) : undefined)}
${row('Dead since', timestamp(x.deadAt))}
${row('Sent with', x.accessKeyId === null ? "the daemon's credentials" : html`<span class="mono">${x.accessKeyId}</span>`)}
${row('Message group', x.groupId)}
${row('Deduplication id', x.dedupId)}
${row('Delay', x.delaySeconds !== undefined ? `${x.delaySeconds} s` : undefined)}
</tbody></table>
<h2>Body</h2>
${payloadBlock(x.body, x.attributes)}
${bodyBlock(x.body)}
${x.attributes && Object.keys(x.attributes).length > 0 ? html`<h2>Attributes</h2><div class="msg">${attributeList(x.attributes)}</div>` : ''}
<div class="actions">
<a class="button" href="/replay-dead-letters?id=${q(x.id)}">Replay…</a>
<a class="button danger" href="/purge-dead-letters?id=${q(x.id)}">Purge…</a>
<a href="/dead-letters">All dead letters</a>
</div>`;
  return page({ title: `Dead letter ${x.id}`, section: 'dead-letters', user: options.user }, body);
}

/** Confirmation of a replay or purge (GET /replay-dead-letters, /purge-dead-letters). */
export function confirmDeadLettersPage(
  action: 'replay' | 'purge',
  data: { selection: Selection; letters: DeadLetter[]; total: number; max: number },
  options: { user: string; token: string },
): string {
  const what = action === 'replay' ? 'Replay' : 'Purge';
  const n = Math.min(data.total, data.max);
  const noun = `${count(n)} dead letter${n === 1 ? '' : 's'}`;
  const items = data.letters.map((x) => html`<li><span class="mono">${x.id}</span> → ${x.queueName} <span class="muted">(<code>${x.code}</code>, ${count(x.attempts)} attempt${x.attempts === 1 ? '' : 's'}${action === 'purge' && x.offload ? html`; with s3://${x.offload.bucket}/${x.offload.key}` : ''})</span></li>`);
  const more = data.total > data.letters.length ? html`<li class="muted">and ${count(Math.min(data.total, data.max) - data.letters.length)} more</li>` : '';
  const capped = data.total > data.max ? html` This request takes the oldest ${count(data.max)} of ${count(data.total)}; run it again for the rest.` : '';
  const warning =
    action === 'replay'
      ? html`Replaying sends ${noun} to SQS again, each to the queue it was meant for, with its attributes, group and deduplication ids; each is removed once SQS accepted it, and kept if SQS refuses it again.${capped}`
      : html`Purging deletes ${noun} for good; they cannot be replayed afterwards. A large message the daemon put in S3 takes its payload object with it${data.letters.some((x) => x.offload) ? html` (${count(data.letters.filter((x) => x.offload).length)} listed here)` : ''}; a pointer an app sent ready-made keeps its object.${capped}`;
  const body = html`<h1>${what} ${noun}?</h1>
<div class="flash warn">${warning}</div>
<form method="post" action="/${action}-dead-letters" class="card">
<input type="hidden" name="_csrf" value="${options.token}">
${selectionFields(data.selection)}
<ul>${items}${more}</ul>
<div class="actions"><button type="submit"${action === 'purge' ? html` class="danger"` : ''}>${what} ${noun}</button><a href="/dead-letters">Cancel</a></div>
</form>`;
  return page({ title: `${what} dead letters`, section: 'dead-letters', user: options.user }, body);
}

export interface ReplayRow {
  id: string;
  ok: boolean;
  queue?: string;
  messageId?: string;
  code?: string;
  message?: string;
}

/** Shown when some replays failed (all succeeded: back to the list with a note instead). */
export function replayResultsPage(results: ReplayRow[], options: { user: string }): string {
  const failed = results.filter((r) => !r.ok).length;
  const rows = results.map(
    (r) => html`<tr><td class="mono">${r.id}</td><td>${r.ok ? html`replayed to ${r.queue ?? ''} <span class="muted">(SQS MessageId <span class="mono">${r.messageId ?? '?'}</span>)</span>` : html`<strong>kept</strong>: <code>${r.code ?? ''}</code> ${r.message ?? ''}`}</td></tr>`,
  );
  const body = html`<h1>Replay</h1>
<div class="flash error" role="alert">${count(failed)} of ${count(results.length)} could not be replayed; they are kept.</div>
<div class="scroll"><table><thead><tr><th>Dead letter</th><th>Result</th></tr></thead><tbody>${rows}</tbody></table></div>
<p><a href="/dead-letters">Back to the dead letters</a></p>`;
  return page({ title: 'Replay', section: 'dead-letters', user: options.user }, body);
}
