import { QUEUE_ATTRIBUTE_RULES } from '../../sqs/admin.js';
import { redrivePolicyOf } from '../../sqs/browse.js';
import { checkDeadLetter, checkNumberFields, type CreateRequest, describedBy, type FieldErrors, fieldRow, NUMBER_FIELDS } from './create-form.js';
import { type Fields, field, flag } from './form.js';
import { page } from './layout.js';
import { html, q, type SafeHtml } from './template.js';

/**
 * The queue settings form (GET/POST /queues/:name/settings): the create form's attributes, filled
 * with the queue's current values, checked by the same rules, changed with SetQueueAttributes.
 * Field names are the create form's, so scripts use one vocabulary.
 */

export interface SettingsValues {
  content_based_deduplication: boolean;
  dead_letter_queue: string;
  max_receive_count: string;
  [numberField: string]: string | boolean;
}

/** What the form shows before any change: the queue's attributes in the form's terms. */
export function currentSettings(attributes: Record<string, string>): SettingsValues {
  const policy = redrivePolicyOf(attributes);
  const values: SettingsValues = {
    content_based_deduplication: attributes.ContentBasedDeduplication === 'true',
    dead_letter_queue: policy?.deadLetterQueue ?? '',
    max_receive_count: policy ? String(policy.maxReceiveCount) : '',
  };
  for (const f of NUMBER_FIELDS) values[f.name] = attributes[f.attribute] ?? '';
  return values;
}

export function settingsFrom(fields: Fields): SettingsValues {
  const values: SettingsValues = {
    content_based_deduplication: flag(fields, 'content_based_deduplication'),
    dead_letter_queue: field(fields, 'dead_letter_queue'),
    max_receive_count: field(fields, 'max_receive_count'),
  };
  for (const f of NUMBER_FIELDS) values[f.name] = field(fields, f.name);
  return values;
}

export interface SettingsChange {
  /** SetQueueAttributes Attributes, except RedrivePolicy when a dead-letter queue is named (needs its ARN). */
  attributes: Record<string, string>;
  /** A dead-letter queue to look up; absent with `removeRedrive` when the field was emptied. */
  deadLetter?: CreateRequest['deadLetter'];
  removeRedrive: boolean;
  errors: FieldErrors;
}

/**
 * Checks what was typed against SQS's rules. An emptied number field keeps the queue's value
 * (SQS has no "unset"); an emptied dead-letter queue removes the redrive policy.
 */
export function checkSettings(values: SettingsValues, queue: { name: string; fifo: boolean; hadRedrive: boolean }): SettingsChange {
  const errors: FieldErrors = {};
  const attributes: Record<string, string> = {};
  checkNumberFields(values, errors, attributes);
  if (queue.fifo) attributes.ContentBasedDeduplication = values.content_based_deduplication ? 'true' : 'false';
  else if (values.content_based_deduplication) errors.content_based_deduplication = 'Content-based deduplication exists only for FIFO queues.';
  const deadLetter = checkDeadLetter(values, queue.name, queue.fifo, errors);
  const removeRedrive = values.dead_letter_queue === '' && queue.hadRedrive;
  if (removeRedrive) attributes.RedrivePolicy = '';
  return deadLetter ? { attributes, deadLetter, removeRedrive, errors } : { attributes, removeRedrive, errors };
}

export function settingsPage(options: { name: string; fifo: boolean; values: SettingsValues; errors: FieldErrors; token: string; user: string; problem?: string }): string {
  const { values, errors, name } = options;
  const numberRows = NUMBER_FIELDS.map((f) => {
    const rule = QUEUE_ATTRIBUTE_RULES[f.attribute];
    const control = html`<input type="text" id="${f.name}" name="${f.name}" value="${String(values[f.name] ?? '')}" size="24"${describedBy(f.name, errors[f.name])}>`;
    return fieldRow(f.name, f.label, control, `${f.hint} ${rule.unit === 'bytes' ? 'Bytes, or with KiB/MiB.' : 'Seconds, or with m/h/d.'}`, errors[f.name]);
  });
  const dedup: SafeHtml | string = options.fifo
    ? html`<span class="muted">Deduplication</span>
<div class="field checkbox${errors.content_based_deduplication ? ' invalid' : ''}"><label><input type="checkbox" id="content_based_deduplication" name="content_based_deduplication" value="on"${values.content_based_deduplication ? ' checked' : ''}> Content-based deduplication (the body's SHA-256 is the deduplication id)</label></div>`
    : '';
  const body = html`<h1>Settings of <a href="/queues/${q(name)}">${name}</a></h1>
<p class="lead">Changes apply to SQS at once (SetQueueAttributes); SQS may take up to a minute to use them everywhere. The type and name of a queue cannot change.</p>
${options.problem ? html`<div class="flash error" role="alert">${options.problem}</div>` : ''}
<form method="post" action="/queues/${q(name)}/settings" class="card" novalidate>
<input type="hidden" name="_csrf" value="${options.token}">
<div class="fields">
${numberRows}
${dedup}
${fieldRow('dead_letter_queue', 'Dead-letter queue', html`<input type="text" id="dead_letter_queue" name="dead_letter_queue" value="${values.dead_letter_queue}" maxlength="80" size="40" placeholder="none"${describedBy('dead_letter_queue', errors.dead_letter_queue)}>`, 'An existing queue of the same type that receives messages received too often. Empty: no redrive policy.', errors.dead_letter_queue)}
${fieldRow('max_receive_count', 'Maximum receives', html`<input type="text" id="max_receive_count" name="max_receive_count" value="${values.max_receive_count}" size="8" placeholder="5"${describedBy('max_receive_count', errors.max_receive_count)}>`, 'Receives before a message moves to the dead-letter queue (1 to 1000).', errors.max_receive_count)}
</div>
<div class="actions"><button type="submit">Save settings</button><a href="/queues/${q(name)}">Cancel</a></div>
</form>`;
  return page({ title: `Settings of ${name}`, section: 'queues', user: options.user }, body);
}
