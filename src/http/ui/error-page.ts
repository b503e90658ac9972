import type { DaemonError } from '../../errors.js';
import { page } from './layout.js';
import { html, q, type SafeHtml } from './template.js';

/** What the user can do about an error, by status or code. */
function advice(e: DaemonError): SafeHtml | string {
  if (e.status === 401) {
    return html`<p>Your browser will ask for credentials again. Give your <strong>AWS access key id</strong> as the user name and the
<strong>secret access key</strong> as the password; the daemon signs SQS requests with them and keeps them only in memory.</p>
<p class="muted">If the prompt does not appear, close the tab (or the browser) to forget the cached credentials and open this page again.</p>`;
  }
  if (e.code === 'CsrfTokenMissing' || e.code === 'CsrfTokenInvalid' || e.code === 'CrossOriginRequest') {
    return html`<p>The daemon refuses changes that do not come from its own pages (protection against other web sites using your cached
credentials). If you did submit one of this daemon's forms, go back, reload the page and submit it again.</p>`;
  }
  if (e.status === 421) return html`<p>This daemon only answers to its own host names. Open it as <code>http://localhost:9292/</code> or <code>http://127.0.0.1:9292/</code>.</p>`;
  if (e.status === 503) return html`<p>This is usually temporary: try again in a few seconds.</p>`;
  return '';
}

/** The queue a failing request was about, to link back to it. */
function queueOf(path: string): string | undefined {
  const m = /^\/queues\/([^/]+)/.exec(path);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1] as string);
  } catch {
    return undefined;
  }
}

/** The HTML form of an error answer: status, code, message, advice, links. Never a stack trace. */
export function errorPage(e: DaemonError, path: string): string {
  const queue = e.status === 404 && e.code === 'QueueDoesNotExist' ? undefined : queueOf(path);
  return page(
    { title: `${e.status} ${e.code}` },
    html`<h1>${e.status} · ${e.code}</h1>
<div class="flash error" role="alert">${e.message}</div>
${advice(e)}
<p>${queue ? html`<a href="/queues/${q(queue)}">Back to queue ${queue}</a> · ` : ''}<a href="/queues">Queues</a> · <a href="/">Home</a></p>`,
  );
}
