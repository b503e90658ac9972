import type { ReceivedMessage } from '../../../sqs/consume.js';
import { count, timestamp } from '../format.js';
import { type Flash, page } from '../layout.js';
import { attributeList, bodyBlock, payloadBlock } from '../message-view.js';
import { html, q, type SafeHtml } from '../template.js';

/** What the receive form needs to know about the queue. */
export interface ReceiveFormData {
  name: string;
  /** The queue's redrive policy: every receive counts toward maxReceiveCount. */
  redrive?: { deadLetterQueue: string; maxReceiveCount: number };
  maxMessages: number;
  visibilityTimeout: number;
}

/** The "look at messages" form (POST /queues/:name/receive), on the queue page and above the results. */
export function receiveForm(data: ReceiveFormData, token: string): SafeHtml {
  const warn = data.redrive
    ? html`<div class="flash warn" role="note">This queue has a redrive policy: every receive, a look included, counts toward its maximum of
${count(data.redrive.maxReceiveCount)} receive${data.redrive.maxReceiveCount === 1 ? '' : 's'}; past it SQS moves the message to
<a href="/queues/${q(data.redrive.deadLetterQueue)}">${data.redrive.deadLetterQueue}</a>.</div>`
    : '';
  return html`<form method="post" action="/queues/${q(data.name)}/receive" class="card" id="receive">
<input type="hidden" name="_csrf" value="${token}">
${warn}
<div class="fields">
<label for="max_messages">Messages</label>
<div class="field"><input type="number" id="max_messages" name="max_messages" min="1" max="10" step="1" value="${String(data.maxMessages)}"> <span class="muted">1 to 10</span></div>
<label for="visibility_timeout">Visibility timeout</label>
<div class="field"><input type="number" id="visibility_timeout" name="visibility_timeout" min="0" max="43200" step="1" value="${String(data.visibilityTimeout)}"> <span class="muted">seconds</span>
<div class="hint">0 = look and put back at once. More hides the messages from other consumers that long, so you can delete them.</div></div>
</div>
<div class="actions"><button type="submit">Receive messages</button><span class="muted">A receive is not a read-only peek: SQS counts it (ApproximateReceiveCount).</span></div>
</form>`;
}

/** Labels and human forms of the system attributes SQS documents; others are shown raw. */
const SYSTEM: Array<[string, string, (v: string) => string]> = [
  ['SentTimestamp', 'Sent', (v) => timestamp(Number(v))],
  ['ApproximateReceiveCount', 'Receive count', (v) => v],
  ['ApproximateFirstReceiveTimestamp', 'First received', (v) => timestamp(Number(v))],
  ['MessageGroupId', 'Message group', (v) => v],
  ['MessageDeduplicationId', 'Deduplication id', (v) => v],
  ['SequenceNumber', 'Sequence number', (v) => v],
  ['SenderId', 'Sender', (v) => v],
  ['DeadLetterQueueSourceArn', 'Dead-lettered from', (v) => v],
  ['AWSTraceHeader', 'Trace header', (v) => v],
];

function systemList(system: Record<string, string>): SafeHtml {
  const known = new Set(SYSTEM.map(([k]) => k));
  const rows: SafeHtml[] = [];
  for (const [key, label, show] of SYSTEM) {
    const v = system[key];
    if (v !== undefined) rows.push(html`<dt title="${key}">${label}</dt><dd>${show(v)}</dd>`);
  }
  for (const [key, v] of Object.entries(system).sort(([a], [b]) => a.localeCompare(b))) if (!known.has(key)) rows.push(html`<dt>${key}</dt><dd class="mono">${v}</dd>`);
  return html`<dl>${rows}</dl>`;
}

function messageCard(name: string, m: ReceivedMessage, i: number, token: string, hidden: boolean, maxReceives?: number): SafeHtml {
  const receives = Number(m.system.ApproximateReceiveCount);
  const nearDlq = maxReceives !== undefined && Number.isFinite(receives) && receives >= maxReceives;
  return html`<article class="msg" id="msg-${String(i + 1)}">
<div class="head"><strong>Message ${String(i + 1)}</strong> <span class="mono">${m.messageId}</span><span class="spacer"></span>
<form method="post" action="/queues/${q(name)}/delete-message" class="inline">
<input type="hidden" name="_csrf" value="${token}"><input type="hidden" name="receipt_handle" value="${m.receiptHandle}"><input type="hidden" name="message_id" value="${m.messageId}">
<button type="submit" class="danger" aria-label="delete message ${m.messageId}">Delete</button></form></div>
${nearDlq ? html`<div class="flash warn">Received ${count(receives)} times: the next receive past ${count(maxReceives as number)} moves it to the dead-letter queue.</div>` : ''}
${payloadBlock(m.body, m.attributes)}
${bodyBlock(m.body)}
${systemList(m.system)}
${Object.keys(m.attributes).length > 0 ? html`<h3>Attributes</h3>${attributeList(m.attributes)}` : ''}
${hidden ? '' : html`<p class="muted">Back in the queue already (visibility 0): deleting it may fail if another consumer received it meanwhile.</p>`}
</article>`;
}

export interface MessagesData extends ReceiveFormData {
  fifo: boolean;
  messages: ReceivedMessage[];
}

/** The answer of a receive from the browser: the form again, then each message. */
export function messagesPage(data: MessagesData, options: { user: string; token: string; flashes: Flash[] }): string {
  const hidden = data.visibilityTimeout > 0;
  const list =
    data.messages.length === 0
      ? html`<div class="card">No message was received: the queue is empty, its messages are in flight or delayed${data.fifo ? ', or their message groups are held by other consumers' : ''}. SQS may also answer an empty receive now and then on a nearly empty queue: try again.</div>`
      : html`<p class="muted">${count(data.messages.length)} message${data.messages.length === 1 ? '' : 's'}${hidden ? `, hidden from other consumers for ${count(data.visibilityTimeout)} s` : ', put back at once'}.</p>
${data.messages.map((m, i) => messageCard(data.name, m, i, options.token, hidden, data.redrive?.maxReceiveCount))}`;
  const body = html`<h1>Messages in <a href="/queues/${q(data.name)}">${data.name}</a></h1>
${receiveForm(data, options.token)}
${list}`;
  return page({ title: `Messages in ${data.name}`, section: 'queues', user: options.user, flashes: options.flashes }, body);
}
