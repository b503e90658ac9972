import type { Context, Next } from 'koa';
import { STYLESHEET_VERSION } from './style.js';
import { html, type SafeHtml } from './template.js';

export type Section = 'home' | 'queues' | 'new' | 'dead-letters' | 'status';

export interface Flash {
  kind: 'ok' | 'error' | 'warn';
  text: SafeHtml | string;
}

export interface PageOptions {
  title: string;
  section?: Section;
  /** The Basic-auth user (access key id) shown in the header; never the secret. */
  user?: string;
  flashes?: Flash[];
  /** Reload the page by itself this often (live views); no script, a meta refresh. seconds. */
  refreshSeconds?: number;
}

const NAV: Array<[Section, string, string]> = [
  ['home', '/', 'Home'],
  ['queues', '/queues', 'Queues'],
  ['new', '/new-queue', 'New queue'],
  ['dead-letters', '/dead-letters', 'Dead letters'],
  ['status', '/status', 'Daemon status'],
];

/** The page shell: header with navigation, flashes, the content, a footer. No scripts anywhere. */
export function page(options: PageOptions, content: SafeHtml): string {
  const nav = NAV.map(([key, href, label]) => html`<a href="${href}"${options.section === key ? html` class="active" aria-current="page"` : ''}>${label}</a>`);
  const flashes = (options.flashes ?? []).map((f) => html`<div class="flash ${f.kind}" role="${f.kind === 'error' ? 'alert' : 'status'}">${f.text}</div>`);
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSeconds ? html`<meta http-equiv="refresh" content="${String(options.refreshSeconds)}">` : ''}
<title>${options.title} · sqs-accelerator</title>
<link rel="stylesheet" href="/ui/style.css?v=${STYLESHEET_VERSION}">
<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">
</head>
<body>
<header class="top"><div class="bar">
<a class="brand" href="/">sqs-accelerator</a>
<nav aria-label="main">${nav}</nav>
${options.user ? html`<span class="who">signed in as <span class="mono">${options.user}</span></span>` : ''}
</div></header>
<main>
${flashes}
${content}
</main>
<footer>sqs-accelerator · acks at once, delivers to Amazon SQS in the background</footer>
</body>
</html>
`.value;
}

/** Sends an HTML page: never cached (it may hold a CSRF token and live queue data). */
export function sendHtml(ctx: Context, body: string, status = 200): void {
  ctx.status = status;
  ctx.type = 'html';
  ctx.set('cache-control', 'no-store');
  ctx.body = body;
}

/** Does the client want HTML rather than JSON? The same rule as the send route and the error handler. */
export function wantsHtml(ctx: Context): boolean {
  return ctx.accepts('json', 'html') === 'html';
}

/**
 * Headers for every answer (harmless on JSON, essential on HTML): no scripts, styles and
 * forms only from this origin, never framed (clickjacking), no MIME sniffing, and a Referer
 * policy that still sends Origin on same-origin form posts (`no-referrer` would make Chromium
 * send `Origin: null`, which the CSRF guard refuses).
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-security-policy': "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-frame-options': 'DENY',
  'referrer-policy': 'same-origin',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
});

export async function securityHeaders(ctx: Context, next: Next): Promise<void> {
  ctx.set(SECURITY_HEADERS);
  await next();
}
