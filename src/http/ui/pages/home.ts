import { duration, timestamp } from '../format.js';
import { type Flash, page } from '../layout.js';
import { html } from '../template.js';

/** The home page's data; also the JSON answer of GET /. */
export interface HomeData {
  service: 'sqs-accelerator';
  upstream: { endpoint: string; region: string };
  credentials: 'pass-through' | 'chain';
  startedAt: string;
  uptimeSeconds: number;
  durability: string;
  /** The result of a cheap call to SQS with the caller's credentials. */
  sqs: { ok: true } | { ok: false; code: string; message: string };
  links: Record<string, string>;
}

export function homePage(data: HomeData, options: { user: string; origin: string }): string {
  const flashes: Flash[] = data.sqs.ok ? [] : [{ kind: 'warn', text: html`${data.sqs.message} (<code>${data.sqs.code}</code>). Messages the daemon accepts wait in its backlog and are retried.` }];
  const body = html`<h1>sqs-accelerator</h1>
<p class="lead">A local daemon that answers a POSTed message with <code>202 Accepted</code> at once and delivers it to Amazon SQS in the background:
batched, signed and retried. From here you can browse, create, purge and delete queues, send messages, and watch the daemon.</p>
<div class="grid">
<div class="stat"><div class="label">Upstream SQS endpoint</div><div class="value mono">${data.upstream.endpoint}</div><div class="label">region ${data.upstream.region}</div></div>
<div class="stat"><div class="label">Uptime</div><div class="value">${duration(data.uptimeSeconds)}</div><div class="label">since ${timestamp(Date.parse(data.startedAt))}</div></div>
<div class="stat"><div class="label">Credentials</div><div class="value">${data.credentials === 'chain' ? 'daemon\'s own' : 'pass-through'}</div><div class="label">${data.credentials === 'chain' ? 'signed with the AWS default provider chain' : 'signed with the Basic-auth pair you gave'}</div></div>
<div class="stat"><div class="label">Message store</div><div class="value">${data.durability === 'memory' ? 'memory only' : `spool (${data.durability})`}</div><div class="label">${data.durability === 'memory' ? 'a crash loses undelivered messages' : 'undelivered messages survive a crash'}</div></div>
</div>
<h2>Go to</h2>
<ul>
<li><a href="/queues">Queues</a>: list, filter, message counts, delete several</li>
<li><a href="/new-queue">New queue</a>: standard or FIFO, timeouts, size, dead-letter queue</li>
<li><a href="/dead-letters">Dead letters</a>: messages SQS refused for good; see, replay or purge them</li>
<li><a href="/status">Daemon status</a>: backlog, requests in flight, totals, rates and charts, spool, dead letters</li>
</ul>
<h2>Send from a script</h2>
<pre>curl -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -d message_body=hello ${options.origin}/queues/&lt;queue&gt;</pre>
<p class="muted">Every page here also answers JSON to <code>Accept: application/json</code>. See the README's HTTP API section.</p>`;
  return page({ title: 'Home', section: 'home', user: options.user, flashes }, body);
}
