import type { Context } from 'koa';
import { DaemonError } from '../../errors.js';
import { requestForm, requestText } from '../body.js';

/** Management requests are small; this caps what a form or JSON body may be. bytes. */
export const MAX_FORM_BYTES = 256 * 1024;

/** A request body as string fields: urlencoded forms and JSON objects alike (scripts may send either). */
export type Fields = Map<string, string[]>;

export async function readFields(ctx: Context): Promise<Fields> {
  const type = ctx.request.type;
  const length = Number(ctx.get('content-length') || '0');
  if (type === '' && length === 0 && ctx.get('transfer-encoding') === '') return new Map();
  const fields: Fields = new Map();
  const add = (k: string, v: string): void => {
    const list = fields.get(k);
    if (list) list.push(v);
    else fields.set(k, [v]);
  };
  if (type === 'application/x-www-form-urlencoded') {
    // Parsed once: the CSRF guard may have parsed this form already.
    for (const [k, v] of await requestForm(ctx, MAX_FORM_BYTES)) add(k, v);
    return fields;
  }
  const text = await requestText(ctx, MAX_FORM_BYTES);
  if (type === 'application/json') {
    let value: unknown;
    try {
      value = text.trim() === '' ? {} : JSON.parse(text);
    } catch (err) {
      throw new DaemonError('MalformedJson', `request body is not valid JSON: ${(err as Error).message.slice(0, 200)}`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new DaemonError('MalformedJson', 'the JSON body must be an object');
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      for (const item of Array.isArray(v) ? v : [v]) {
        if (item === null || item === undefined) continue;
        if (typeof item === 'object') throw new DaemonError('InvalidField', `JSON field ${JSON.stringify(k)} must be a string, number or boolean`);
        add(k, String(item));
      }
    }
    return fields;
  }
  if (text === '') return fields;
  throw new DaemonError('UnsupportedMediaType', 'send application/x-www-form-urlencoded or application/json');
}

/** First value of a field, trimmed; '' when absent. */
export function field(fields: Fields, name: string): string {
  return (fields.get(name)?.[0] ?? '').trim();
}

/** A checkbox or boolean: on/true/1/yes. */
export function flag(fields: Fields, name: string): boolean {
  return /^(on|true|1|yes)$/i.test(field(fields, name));
}
