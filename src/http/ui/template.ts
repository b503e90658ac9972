import { escapeHtml } from '../html.js';

/**
 * Markup that is already safe. Only `html` and `raw` make one, so a value can only reach a page
 * unescaped if the code says so where it is written.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Value = SafeHtml | string | number | boolean | null | undefined | readonly Value[];

function render(v: Value): string {
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return (v as readonly Value[]).map(render).join('');
  if (v === null || v === undefined || v === false) return '';
  return escapeHtml(v);
}

/**
 * Tagged template for pages: every interpolated value is escaped (element content and quoted
 * attribute values alike) unless it is SafeHtml; arrays are concatenated; null, undefined and
 * false render as nothing, so `${cond && html`...`}` works.
 */
export function html(strings: TemplateStringsArray, ...values: Value[]): SafeHtml {
  let out = strings[0] as string;
  for (let i = 0; i < values.length; i++) out += render(values[i] as Value) + (strings[i + 1] as string);
  return new SafeHtml(out);
}

/** Trusted markup written in this code base (never data). */
export function raw(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** A path segment for a queue name (names are restricted, but encode anyway). */
export function q(name: string): string {
  return encodeURIComponent(name);
}
