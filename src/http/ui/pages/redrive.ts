import { queueNameFromArn } from '../../../sqs/admin.js';
import type { MoveTask } from '../../../sqs/browse.js';
import { count, timestamp } from '../format.js';
import { type Flash, page } from '../layout.js';
import { html, q, type SafeHtml } from '../template.js';

/** The redrive page's data; also the JSON answer of GET /queues/:name/redrive. */
export interface RedriveData {
  name: string;
  arn: string;
  /** Messages SQS holds in this queue now (ApproximateNumberOfMessages). */
  visible?: number;
  /** Queues that name this one as their dead-letter queue; `unsupported`: the upstream cannot tell (code). */
  sources: { queues: string[] } | { unsupported: string };
  /** Recent message-move tasks from this queue; `unsupported`: the upstream has no message-move tasks (code). */
  tasks: { items: MoveTask[] } | { unsupported: string };
}

function taskRow(name: string, t: MoveTask, token: string): SafeHtml {
  const total = t.ApproximateNumberOfMessagesToMove;
  const progress = total !== undefined && total > 0 ? `${count(t.ApproximateNumberOfMessagesMoved)} of ${count(total)} (${Math.floor((100 * t.ApproximateNumberOfMessagesMoved) / total)} %)` : count(t.ApproximateNumberOfMessagesMoved);
  const cancel =
    t.Status === 'RUNNING' && t.TaskHandle
      ? html`<form method="post" action="/queues/${q(name)}/redrive/cancel" class="inline"><input type="hidden" name="_csrf" value="${token}"><input type="hidden" name="task_handle" value="${t.TaskHandle}"><button type="submit" class="secondary">Cancel</button></form>`
      : '';
  return html`<tr><td><code>${t.Status}</code></td><td class="num">${progress}</td>
<td>${t.DestinationArn ? html`<a href="/queues/${q(queueNameFromArn(t.DestinationArn))}">${queueNameFromArn(t.DestinationArn)}</a>` : 'each message\'s source queue'}</td>
<td>${t.StartedTimestamp !== undefined ? timestamp(t.StartedTimestamp) : '–'}</td><td>${t.MaxNumberOfMessagesPerSecond !== undefined ? `${t.MaxNumberOfMessagesPerSecond}/s` : 'SQS decides'}</td>
<td>${t.FailureReason ?? ''}${cancel}</td></tr>`;
}

export function redrivePage(d: RedriveData, options: { user: string; token: string; flashes: Flash[] }): string {
  const sources =
    'unsupported' in d.sources
      ? html`<p class="muted">The upstream cannot list which queues use ${d.name} as their dead-letter queue (it answered <code>${d.sources.unsupported}</code> to ListDeadLetterSourceQueues).</p>`
      : d.sources.queues.length === 0
        ? html`<p>No queue names <strong>${d.name}</strong> as its dead-letter queue, so there is no source to move messages back to; you can still move them to a queue named below.</p>`
        : html`<p>Dead-letter queue of ${d.sources.queues.map((s, i) => html`${i > 0 ? ', ' : ''}<a href="/queues/${q(s)}">${s}</a>`)}.</p>`;
  let tasks: SafeHtml;
  if ('unsupported' in d.tasks) {
    tasks = html`<div class="flash warn" role="note"><strong>This upstream has no message-move tasks</strong>: it answered <code>${d.tasks.unsupported}</code> to ListMessageMoveTasks.
Amazon SQS has them (StartMessageMoveTask); SQS emulators such as fauxqs do not. Against this upstream, move messages by hand: <a href="/queues/${q(d.name)}#messages">receive them</a> here and send them again.</div>`;
  } else {
    const running = d.tasks.items.some((t) => t.Status === 'RUNNING');
    tasks = html`${d.tasks.items.length === 0
      ? html`<div class="card">No message-move task from this queue yet.</div>`
      : html`<div class="scroll"><table><thead><tr><th>Status</th><th class="num">Moved</th><th>To</th><th>Started</th><th>Rate</th><th>Notes</th></tr></thead>
<tbody>${d.tasks.items.map((t) => taskRow(d.name, t, options.token))}</tbody></table></div>`}
${running
  ? html`<p class="muted">A task is running; SQS runs one per queue at a time. This page refreshes itself every 5 seconds while it runs.</p>`
  : html`<form method="post" action="/queues/${q(d.name)}/redrive" class="card">
<input type="hidden" name="_csrf" value="${options.token}">
<div class="fields">
<label for="destination">Move to</label>
<div class="field"><input type="text" id="destination" name="destination" maxlength="80" size="40" placeholder="each message's source queue"><div class="hint">Empty: every message goes back to the queue it was dead-lettered from. Or name another queue of the same type.</div></div>
<label for="max_per_second">Rate</label>
<div class="field"><input type="number" id="max_per_second" name="max_per_second" min="1" max="500" step="1" placeholder="SQS decides"> <span class="muted">messages per second (1 to 500)</span></div>
</div>
<div class="actions"><button type="submit">Start redrive</button><span class="muted">${d.visible !== undefined ? `About ${count(d.visible)} message${d.visible === 1 ? '' : 's'} to move.` : ''}</span></div>
</form>`}`;
  }
  const body = html`<h1>Redrive from <a href="/queues/${q(d.name)}">${d.name}</a></h1>
<p class="lead">Move the messages of a dead-letter queue back to their source queue (or elsewhere) with an SQS message-move task.</p>
${sources}
<h2>Message-move tasks</h2>
${tasks}`;
  const refresh = !('unsupported' in d.tasks) && d.tasks.items.some((t) => t.Status === 'RUNNING') ? 5 : undefined;
  return page({ title: `Redrive from ${d.name}`, section: 'queues', user: options.user, flashes: options.flashes, ...(refresh ? { refreshSeconds: refresh } : {}) }, body);
}
