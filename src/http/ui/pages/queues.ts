import type { QueueSummary } from '../../../sqs/admin.js';
import { count } from '../format.js';
import { type Flash, page } from '../layout.js';
import { html, q, type SafeHtml } from '../template.js';

/** The queue list's data; also the JSON answer of GET /queues. */
export interface QueueListData {
  prefix: string;
  limit: number;
  queues: Array<QueueSummary & { daemon: { backlog: number; inFlight: number } }>;
  /** Pass as `next` to get the following page; absent on the last page. */
  nextToken?: string;
  /** True when this is not the first page. */
  paged: boolean;
}

function listUrl(prefix: string, limit: number, next?: string): string {
  const p = new URLSearchParams();
  if (prefix) p.set('prefix', prefix);
  if (limit !== 50) p.set('limit', String(limit));
  if (next) p.set('next', next);
  const s = p.toString();
  return s ? `/queues?${s}` : '/queues';
}

function num(n: number | undefined): string {
  return n === undefined ? '–' : count(n);
}

function typeBadge(fifo: boolean): SafeHtml {
  return fifo ? html`<span class="badge fifo">FIFO</span>` : html`<span class="badge">standard</span>`;
}

export function queueListPage(data: QueueListData, options: { user: string; flashes: Flash[] }): string {
  const rows = data.queues.map(
    (qu, i) => html`<tr>
<td><input type="checkbox" name="name" value="${qu.name}" id="sel-${i}" aria-label="select ${qu.name}"></td>
<td><a href="/queues/${q(qu.name)}">${qu.name}</a></td>
<td>${typeBadge(qu.fifo)}</td>
${qu.error
  ? html`<td colspan="3" class="muted"><code>${qu.error.code}</code> ${qu.error.message}</td>`
  : html`<td class="num">${num(qu.visible)}</td><td class="num">${num(qu.inFlight)}</td><td class="num">${num(qu.delayed)}</td>`}
<td class="num">${count(qu.daemon.backlog)}${qu.daemon.inFlight > 0 ? html` <span class="muted">(${count(qu.daemon.inFlight)} sending)</span>` : ''}</td>
</tr>`,
  );
  const empty = data.prefix ? html`No queue names start with <code>${data.prefix}</code>.` : 'No queues yet.';
  const body = html`<h1>Queues</h1>
<div class="toolbar">
<form method="get" action="/queues" class="inline" role="search">
<label for="prefix" class="muted">Name starts with</label>
<input type="search" id="prefix" name="prefix" value="${data.prefix}" maxlength="80" size="24">
${data.limit !== 50 ? html`<input type="hidden" name="limit" value="${String(data.limit)}">` : ''}
<button type="submit" class="secondary">Filter</button>
${data.prefix ? html`<a href="/queues">clear</a>` : ''}
</form>
<span class="spacer"></span>
<a class="button" href="/new-queue">New queue</a>
</div>
${data.queues.length === 0
  ? html`<div class="card">${empty} <a href="/new-queue">Create a queue</a>.</div>`
  : html`<form method="get" action="/delete-queues">
<div class="scroll"><table>
<thead><tr><th scope="col"><span class="muted" title="select">✓</span></th><th scope="col">Name</th><th scope="col">Type</th>
<th scope="col" class="num" title="ApproximateNumberOfMessages">Available</th>
<th scope="col" class="num" title="ApproximateNumberOfMessagesNotVisible">In flight</th>
<th scope="col" class="num" title="ApproximateNumberOfMessagesDelayed">Delayed</th>
<th scope="col" class="num" title="accepted by this daemon, not yet confirmed by SQS">Daemon backlog</th></tr></thead>
<tbody>${rows}</tbody>
</table></div>
<div class="actions"><button type="submit" class="danger">Delete selected…</button><span class="muted">You will be asked to confirm.</span></div>
</form>`}
<div class="pager">
${data.paged ? html`<a href="${listUrl(data.prefix, data.limit)}">← First page</a>` : ''}
${data.nextToken ? html`<a href="${listUrl(data.prefix, data.limit, data.nextToken)}" rel="next">Next page →</a>` : ''}
<span class="muted">${count(data.queues.length)} shown · counts are SQS's approximate numbers</span>
</div>`;
  return page({ title: 'Queues', section: 'queues', user: options.user, flashes: options.flashes }, body);
}

/** Data of the confirmation step for deleting several queues (GET /delete-queues). */
export interface DeleteManyData {
  queues: Array<{ name: string; exists: boolean; visible?: number; backlog: number }>;
}

export function confirmDeleteManyPage(data: DeleteManyData, options: { user: string; token: string }): string {
  const items = data.queues.map(
    (qu) => html`<li><strong>${qu.name}</strong>${qu.exists
      ? html` <span class="muted">(${qu.visible === undefined ? 'message count unknown' : `${count(qu.visible)} message${qu.visible === 1 ? '' : 's'} available`}${qu.backlog > 0 ? `, ${count(qu.backlog)} still in this daemon's backlog` : ''})</span>`
      : html` <span class="muted">(does not exist)</span>`}
<input type="hidden" name="name" value="${qu.name}"></li>`,
  );
  const body = html`<h1>Delete ${count(data.queues.length)} queue${data.queues.length === 1 ? '' : 's'}?</h1>
<div class="flash warn">Deleting a queue deletes its messages. SQS may take up to 60 seconds to finish, and a queue with the same name cannot be created during that time.
Messages this daemon still holds for these queues will be refused by SQS and dead-lettered.</div>
<form method="post" action="/delete-queues" class="card">
<input type="hidden" name="_csrf" value="${options.token}">
<ul>${items}</ul>
<div class="actions"><button type="submit" class="danger">Delete ${data.queues.length === 1 ? 'this queue' : `these ${count(data.queues.length)} queues`}</button><a href="/queues">Cancel</a></div>
</form>`;
  return page({ title: 'Delete queues', section: 'queues', user: options.user }, body);
}

export interface DeleteResult {
  name: string;
  deleted: boolean;
  /** Why not: SQS's code, a message, and the HTTP status it maps to. */
  error?: { code: string; message: string; status: number };
}

/** Shown when some deletions failed (all succeeded: redirect to the list instead). */
export function deleteResultsPage(results: DeleteResult[], options: { user: string }): string {
  const rows = results.map(
    (r) => html`<tr><td>${r.name}</td><td>${r.deleted ? 'deleted' : html`<strong>not deleted</strong>: <code>${r.error?.code ?? ''}</code> ${r.error?.message ?? ''}`}</td></tr>`,
  );
  const failed = results.filter((r) => !r.deleted).length;
  const body = html`<h1>Delete queues</h1>
<div class="flash error" role="alert">${count(failed)} of ${count(results.length)} could not be deleted.</div>
<div class="scroll"><table><thead><tr><th>Queue</th><th>Result</th></tr></thead><tbody>${rows}</tbody></table></div>
<p><a href="/queues">Back to the queues</a></p>`;
  return page({ title: 'Delete queues', section: 'queues', user: options.user }, body);
}
