import { readPointer } from '../../s3/pointer.js';
import { bytes, count } from './format.js';
import { html, type SafeHtml } from './template.js';

/** Characters of a body shown before it is cut; the rest is one click away (a <details>, no script). */
export const BODY_PREVIEW_CHARS = 1_500;
/** Lines shown before a body is cut. */
export const BODY_PREVIEW_LINES = 30;

/** JSON bodies pretty-printed, everything else as it is; always escaped (the template escapes). */
export function prettyBody(body: string): { text: string; json: boolean } {
  const t = body.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return { text: JSON.stringify(JSON.parse(body), null, 2), json: true };
    } catch {
      // not JSON after all: shown as sent
    }
  }
  return { text: body, json: false };
}

/**
 * A message body for a page: pretty JSON when it is JSON, cut at `max` characters with the whole
 * text behind "Show all". Every character is escaped by `html`.
 */
export function bodyBlock(body: string, max = BODY_PREVIEW_CHARS): SafeHtml {
  const { text, json } = prettyBody(body);
  const size = bytes(Buffer.byteLength(body));
  const label = html`<span class="muted">${json ? 'JSON, ' : ''}${size}</span>`;
  let cut = Math.min(text.length, max);
  for (let i = 0, line = 0; i < cut; i++) if (text.charCodeAt(i) === 10 && ++line === BODY_PREVIEW_LINES) cut = i;
  if (cut >= text.length) return html`<pre class="body">${text}</pre>${label}`;
  return html`<pre class="body">${text.slice(0, cut)}…</pre>
<details><summary>Show all (${size}${json ? ', JSON' : ''})</summary><pre class="body">${text}</pre></details>`;
}

/** Message attributes (SQS's shape) as a definition list; binary values shown as base64. */
export function attributeList(attributes: Record<string, { DataType?: string; StringValue?: string; BinaryValue?: string }> | undefined): SafeHtml | string {
  const entries = Object.entries(attributes ?? {});
  if (entries.length === 0) return '';
  const rows = entries.map(
    ([name, a]) => html`<dt>${name} <span class="muted">(${a.DataType ?? '?'})</span></dt><dd class="mono">${a.StringValue ?? a.BinaryValue ?? ''}</dd>`,
  );
  return html`<dl>${rows}</dl>`;
}

/**
 * A message whose payload is in S3 (an Amazon SQS Extended Client pointer): where, how large, and
 * a link that fetches it through the daemon (GET /payload). Empty for any other message.
 */
export function payloadBlock(body: string, attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> | undefined): SafeHtml | string {
  const p = readPointer(body, attributes);
  if (p === undefined || 'error' in p) return '';
  const { bucket, key } = p.pointer;
  const href = `/payload?bucket=${encodeURIComponent(bucket)}&key=${encodeURIComponent(key)}`;
  return html`<p class="card payload">In S3: <span class="mono">${bucket}/${key}</span>${p.bytes !== undefined ? html`, ${count(p.bytes)} bytes (${bytes(p.bytes)})` : ''} — <a href="${href}">fetch the payload</a></p>`;
}
