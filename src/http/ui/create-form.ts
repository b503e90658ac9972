import { MAX_RECEIVE_COUNT, QUEUE_ATTRIBUTE_RULES, type RuledAttribute } from '../../sqs/admin.js';
import { QUEUE_NAME } from '../../ingest/index.js';
import { duration, bytes } from './format.js';
import { type Fields, field, flag } from './form.js';
import { page } from './layout.js';
import { html, type SafeHtml } from './template.js';

/**
 * The create-queue form: its fields (the 2009 `queue_name` and `visibility_timeout` kept), how
 * they are read (from a form or JSON, same names), checked against SQS's rules with an error per
 * field, and drawn.
 */

interface NumberField {
  name: string;
  attribute: RuledAttribute;
  label: string;
  hint: string;
}

export const NUMBER_FIELDS: readonly NumberField[] = [
  { name: 'visibility_timeout', attribute: 'VisibilityTimeout', label: 'Visibility timeout', hint: 'How long a received message stays hidden from other consumers. 0 s to 12 h.' },
  { name: 'delay_seconds', attribute: 'DelaySeconds', label: 'Delivery delay', hint: 'Every new message waits this long before it can be received. 0 s to 15 min.' },
  { name: 'message_retention_period', attribute: 'MessageRetentionPeriod', label: 'Retention period', hint: 'How long SQS keeps a message nobody deletes. 1 min to 14 days.' },
  { name: 'maximum_message_size', attribute: 'MaximumMessageSize', label: 'Maximum message size', hint: 'Largest message (body + attributes) the queue accepts. 1 KiB to 1 MiB.' },
  { name: 'receive_message_wait_time_seconds', attribute: 'ReceiveMessageWaitTimeSeconds', label: 'Receive wait time', hint: 'Long polling: how long a receive waits for messages. 0 to 20 s.' },
];

/** Everything the user typed, to redraw the form as it was. */
export interface CreateValues {
  queue_name: string;
  fifo: boolean;
  content_based_deduplication: boolean;
  dead_letter_queue: string;
  max_receive_count: string;
  [numberField: string]: string | boolean;
}

export interface CreateRequest {
  name: string;
  fifo: boolean;
  /** CreateQueue Attributes, except RedrivePolicy (needs the target's ARN). */
  attributes: Record<string, string>;
  deadLetter?: { queueName: string; maxReceiveCount: number };
}

export type FieldErrors = Record<string, string>;

const DURATION = /^(\d{1,9})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?|d|days?)?$/i;
const SIZE = /^(\d{1,9})\s*(b|bytes?|k|kb|kib|m|mb|mib)?$/i;

/** "90", "90s", "15m", "12h", "4d" -> seconds; undefined when unreadable. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase()[0];
  return n * (unit === 'd' ? 86_400 : unit === 'h' ? 3_600 : unit === 'm' ? 60 : 1);
}

/** "1024", "256k", "256 KiB", "1 MiB" -> bytes (K = 1024). */
export function parseSize(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'b').toLowerCase()[0];
  return n * (unit === 'm' ? 1_048_576 : unit === 'k' ? 1024 : 1);
}

export function valuesFrom(fields: Fields): CreateValues {
  const values: CreateValues = {
    queue_name: field(fields, 'queue_name') || field(fields, 'name'),
    fifo: flag(fields, 'fifo'),
    content_based_deduplication: flag(fields, 'content_based_deduplication'),
    dead_letter_queue: field(fields, 'dead_letter_queue'),
    max_receive_count: field(fields, 'max_receive_count'),
  };
  for (const f of NUMBER_FIELDS) values[f.name] = field(fields, f.name);
  return values;
}

function describeRange(attribute: RuledAttribute): string {
  const r = QUEUE_ATTRIBUTE_RULES[attribute];
  return r.unit === 'bytes' ? `${bytes(r.min)} to ${bytes(r.max)}` : `${duration(r.min)} to ${duration(r.max)}`;
}

/** The number fields (durations, sizes) into SQS attributes, or an error per field; empty fields are left out. */
export function checkNumberFields(values: Record<string, string | boolean>, errors: FieldErrors, attributes: Record<string, string>): void {
  for (const f of NUMBER_FIELDS) {
    const text = String(values[f.name] ?? '');
    if (text === '') continue;
    const rule = QUEUE_ATTRIBUTE_RULES[f.attribute];
    const n = rule.unit === 'bytes' ? parseSize(text) : parseDuration(text);
    if (n === undefined) {
      errors[f.name] = rule.unit === 'bytes' ? 'Give a size in bytes, or with KiB/MiB (e.g. 262144, 256 KiB).' : 'Give a duration in seconds, or with m/h/d (e.g. 30, 5m, 4d).';
    } else if (n < rule.min || n > rule.max) {
      errors[f.name] = `Must be from ${describeRange(f.attribute)}; ${rule.unit === 'bytes' ? bytes(n) : duration(n)} is outside.`;
    } else {
      attributes[f.attribute] = String(n);
    }
  }
}

/** The dead-letter queue fields, checked without asking SQS (whether it exists is the route's question). */
export function checkDeadLetter(values: { dead_letter_queue: string; max_receive_count: string }, name: string, fifo: boolean, errors: FieldErrors): CreateRequest['deadLetter'] {
  if (values.dead_letter_queue !== '') {
    const target = values.dead_letter_queue;
    if (!QUEUE_NAME.test(target)) errors.dead_letter_queue = 'Not a valid queue name.';
    else if (target === name) errors.dead_letter_queue = 'A queue cannot be its own dead-letter queue.';
    else if (fifo !== target.endsWith('.fifo')) errors.dead_letter_queue = fifo ? 'A FIFO queue needs a FIFO dead-letter queue (name ending in ".fifo").' : 'A standard queue needs a standard dead-letter queue.';
    const countText = values.max_receive_count || '5';
    const count = /^\d{1,6}$/.test(countText) ? Number(countText) : NaN;
    if (!(count >= MAX_RECEIVE_COUNT.min && count <= MAX_RECEIVE_COUNT.max)) errors.max_receive_count = `A whole number from ${MAX_RECEIVE_COUNT.min} to ${MAX_RECEIVE_COUNT.max}.`;
    else if (errors.dead_letter_queue === undefined) return { queueName: target, maxReceiveCount: count };
  } else if (values.max_receive_count !== '') {
    errors.max_receive_count = 'Only used with a dead-letter queue: name one, or leave this empty.';
  }
  return undefined;
}

/** Checks the values; either a request for SQS or an error per field. */
export function checkCreate(values: CreateValues): { ok: true; request: CreateRequest } | { ok: false; errors: FieldErrors; deadLetter?: CreateRequest['deadLetter'] } {
  const errors: FieldErrors = {};
  const name = values.queue_name;
  // A name ending in .fifo means a FIFO queue (SQS requires the suffix; scripts of 2009 send only the name).
  const fifo = values.fifo || name.endsWith('.fifo');
  if (name === '') errors.queue_name = 'Give the queue a name.';
  else if (!QUEUE_NAME.test(name)) errors.queue_name = 'Use 1 to 80 letters, digits, "-" or "_" (FIFO queues end in ".fifo", within the 80).';
  else if (values.fifo && !name.endsWith('.fifo')) errors.queue_name = 'A FIFO queue\'s name must end in ".fifo".';
  if (values.content_based_deduplication && !fifo) errors.content_based_deduplication = 'Content-based deduplication exists only for FIFO queues.';

  const attributes: Record<string, string> = {};
  if (fifo) attributes.FifoQueue = 'true';
  if (fifo && values.content_based_deduplication) attributes.ContentBasedDeduplication = 'true';
  checkNumberFields(values, errors, attributes);
  const deadLetter = checkDeadLetter(values, name, fifo, errors);

  // The dead-letter queue, when its own fields are fine, so the route can check that it exists along with the others.
  if (Object.keys(errors).length > 0) return deadLetter ? { ok: false, errors, deadLetter } : { ok: false, errors };
  return { ok: true, request: deadLetter ? { name, fifo, attributes, deadLetter } : { name, fifo, attributes } };
}

export function emptyValues(): CreateValues {
  return valuesFrom(new Map());
}

export function fieldRow(id: string, label: string, control: SafeHtml, hint: string, error: string | undefined): SafeHtml {
  return html`<label for="${id}">${label}</label>
<div class="field${error ? ' invalid' : ''}">${control}${error ? html`<div class="error" id="${id}-error">${error}</div>` : ''}<div class="hint">${hint}</div></div>`;
}

export function describedBy(id: string, error: string | undefined): SafeHtml | string {
  return error ? html` aria-invalid="true" aria-describedby="${id}-error"` : '';
}

/** The create form, filled with `values`, with each error beside its field and a form-wide `problem` on top. */
export function createPage(options: { values: CreateValues; errors: FieldErrors; token: string; user: string; problem?: string }): string {
  const { values, errors } = options;
  const numberRows = NUMBER_FIELDS.map((f) => {
    const rule = QUEUE_ATTRIBUTE_RULES[f.attribute];
    const placeholder = rule.sqsDefault === null ? 'SQS default' : `SQS default: ${duration(rule.sqsDefault)}`;
    const control = html`<input type="text" id="${f.name}" name="${f.name}" value="${String(values[f.name] ?? '')}" placeholder="${placeholder}" size="24"${describedBy(f.name, errors[f.name])}>`;
    return fieldRow(f.name, f.label, control, f.hint, errors[f.name]);
  });
  const checkbox = (name: 'fifo' | 'content_based_deduplication', text: string): SafeHtml =>
    html`<input type="checkbox" id="${name}" name="${name}" value="on"${values[name] ? ' checked' : ''}${describedBy(name, errors[name])}> ${text}`;
  const body = html`<h1>New queue</h1>
<p class="lead">Empty fields take SQS's defaults. Durations accept <code>30</code>, <code>5m</code>, <code>12h</code>, <code>4d</code>; sizes accept <code>262144</code> or <code>256 KiB</code>.</p>
${options.problem ? html`<div class="flash error" role="alert">${options.problem}</div>` : ''}
<form method="post" action="/queues" class="card" novalidate>
<input type="hidden" name="_csrf" value="${options.token}">
<div class="fields">
${fieldRow('queue_name', 'Name', html`<input type="text" id="queue_name" name="queue_name" value="${values.queue_name}" required maxlength="80" size="40" autofocus${describedBy('queue_name', errors.queue_name)}>`, 'Letters, digits, "-" and "_"; FIFO queue names end in ".fifo".', errors.queue_name)}
<span class="muted">Type</span>
<div class="field checkbox${errors.fifo ? ' invalid' : ''}"><label>${checkbox('fifo', 'FIFO queue (exactly-once processing, order kept per message group)')}</label></div>
<span class="muted">Deduplication</span>
<div class="field checkbox${errors.content_based_deduplication ? ' invalid' : ''}"><label>${checkbox('content_based_deduplication', 'Content-based deduplication (FIFO only: the body\'s SHA-256 is the deduplication id)')}</label>${errors.content_based_deduplication ? html`<div class="error" id="content_based_deduplication-error">${errors.content_based_deduplication}</div>` : ''}</div>
${numberRows}
${fieldRow('dead_letter_queue', 'Dead-letter queue', html`<input type="text" id="dead_letter_queue" name="dead_letter_queue" value="${values.dead_letter_queue}" maxlength="80" size="40" placeholder="none"${describedBy('dead_letter_queue', errors.dead_letter_queue)}>`, 'Name of an existing queue of the same type that receives messages received too often (redrive policy).', errors.dead_letter_queue)}
${fieldRow('max_receive_count', 'Maximum receives', html`<input type="text" id="max_receive_count" name="max_receive_count" value="${values.max_receive_count}" size="8" placeholder="5"${describedBy('max_receive_count', errors.max_receive_count)}>`, 'Receives before a message moves to the dead-letter queue (1 to 1000).', errors.max_receive_count)}
</div>
<div class="actions"><button type="submit">Create queue</button><a href="/queues">Cancel</a></div>
</form>`;
  return page({ title: 'New queue', section: 'new', user: options.user }, body);
}
