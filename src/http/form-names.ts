/**
 * Validation speaks the JSON API's field names (`groupId`, `delaySeconds`); a form's fields are
 * named `group_id`, `delay_seconds` (the 2009 API's style). A form send's error names the form's
 * fields, so the person who filled it in can find the one to fix.
 */
const FORM_NAMES: Readonly<Record<string, string>> = {
  body: 'message_body',
  delaySeconds: 'delay_seconds',
  groupId: 'group_id',
  deduplicationId: 'deduplication_id',
};

/** The form field for a JSON field name (attributes are `attr.<name>` or the attribute rows). */
export function formFieldName(jsonField: string): string {
  return FORM_NAMES[jsonField] ?? (jsonField === 'attributes' ? 'attr' : jsonField);
}

/** A validation message with the JSON field names replaced by the form's. */
export function withFormFieldNames(message: string): string {
  return message.replace(/\b(delaySeconds|groupId|deduplicationId)\b/g, (name) => FORM_NAMES[name] as string);
}
