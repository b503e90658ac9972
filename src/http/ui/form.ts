import type { Context } from 'koa';
import { decodeUtf8 } from '../body.js';
import { requestBody } from '../csrf.js';
import { HttpError } from '../errors.js';
import type { ParsedSend } from '../ingest.js';

/** Management requests are small; this caps what a form or JSON body may be. bytes. */
export const MAX_FORM_BYTES = 256 * 1024;

/** A request body as string fields: urlencoded forms and JSON objects alike (scripts may send either). */
export type Fields = Map<string, string[]>;

export async function readFields(ctx: Context): Promise<Fields> {
  const type = ctx.request.type;
  const length = Number(ctx.get('content-length') || '0');
  if (type === '' && length === 0 && ctx.get('transfer-encoding') === '') return new Map();
  const text = decodeUtf8(await requestBody(ctx, MAX_FORM_BYTES));
  const fields: Fields = new Map();
  const add = (k: string, v: string): void => {
    const list = fields.get(k);
    if (list) list.push(v);
    else fields.set(k, [v]);
  };
  if (type === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(text)) add(k, v);
    return fields;
  }
  if (type === 'application/json') {
    let value: unknown;
    try {
      value = text.trim() === '' ? {} : JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, 'MalformedJson', `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new HttpError(400, 'MalformedJson', 'the JSON body must be an object');
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item === null || item === undefined) continue;
        if (typeof item === 'object') throw new HttpError(400, 'InvalidField', `JSON field ${JSON.stringify(k)} must be a string, number or boolean`);
        add(k, String(item));
      }
    }
    return fields;
  }
  if (text === '') return fields;
  throw new HttpError(415, 'UnsupportedMediaType', 'send application/x-www-form-urlencoded or application/json');
}

/** First value of a field, trimmed; '' when absent. */
export function field(fields: Fields, name: string): string {
  return (fields.get(name)?.[0] ?? '').trim();
}

/** A checkbox or boolean: on/true/1/yes. */
export function flag(fields: Fields, name: string): boolean {
  return /^(on|true|1|yes)$/i.test(field(fields, name));
}

/**
 * Message attributes from an HTML form, which cannot name a field after the attribute without
 * script: rows of `attr_name`, `attr_type` (String or Number; default String) and `attr_value`,
 * repeated, matched by position. Empty rows are skipped. Merged into the single message that a
 * form send carries, next to the `attr.<name>=value` fields scripts use.
 */
export function addFormAttributeRows(parsed: ParsedSend, formText: string): void {
  const entry = parsed.entries[0];
  if (parsed.batch || !entry || !('input' in entry)) return;
  const form = new URLSearchParams(formText);
  const names = form.getAll('attr_name');
  const types = form.getAll('attr_type');
  const values = form.getAll('attr_value');
  const rows: Record<string, { DataType: string; StringValue: string }> = {};
  let any = false;
  for (let i = 0; i < Math.max(names.length, values.length); i++) {
    const name = (names[i] ?? '').trim();
    const value = values[i] ?? '';
    if (name === '' && value === '') continue;
    if (name === '') throw new HttpError(400, 'InvalidAttributeName', `message attribute row ${i + 1} has a value but no name`);
    const type = (types[i] ?? 'String').trim() || 'String';
    rows[name] = { DataType: type, StringValue: value };
    any = true;
  }
  if (!any) return;
  const existing = entry.input.attributes;
  entry.input.attributes = existing !== null && typeof existing === 'object' ? { ...(existing as object), ...rows } : rows;
}
