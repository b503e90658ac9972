/**
 * Queue URLs through the door. SQS's answers name queues by URL, and SDKs send later calls to
 * a QueueUrl's own host (SDK v3 does by default), so every URL handed out points at this daemon
 * (`http://<Host the caller used>/<account>/<queue>`) and is mapped back to the upstream on the
 * way in. Stateless both ways: the path (account and queue name) is kept as it is.
 */
import { servedHosts } from '../http/guards.js';

export class QueueUrls {
  private readonly served: (host: string) => boolean;

  /** `upstream`: the SQS endpoint's origin; `extraHosts`: --allowed-hosts. */
  constructor(
    private readonly upstream: string,
    extraHosts: readonly string[],
  ) {
    this.served = servedHosts(extraHosts);
  }

  /** An upstream queue URL as this daemon's (`localOrigin` e.g. `http://127.0.0.1:9292`). Non-URLs are left alone. */
  toLocal(url: string, localOrigin: string): string {
    const u = parse(url);
    return u ? `${localOrigin}${u.pathname}` : url;
  }

  /** A queue URL naming this daemon, as the upstream's; any other URL is passed on unchanged. */
  toUpstream(url: string): string {
    const u = parse(url);
    if (!u || !this.isLocal(u)) return url;
    return `${this.upstream}${u.pathname}`;
  }

  isLocal(u: URL): boolean {
    return this.served(u.host);
  }
}

function parse(url: string): URL | undefined {
  try {
    const u = new URL(url);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : undefined;
  } catch {
    return undefined;
  }
}

/** `/123456789012/orders` -> { account: '123456789012', name: 'orders' }; undefined for other paths. */
export function queuePath(pathname: string): { account: string; name: string } | undefined {
  const m = /^\/([^/]+)\/([^/]+)\/?$/.exec(pathname);
  if (!m) return undefined;
  try {
    return { account: decodeURIComponent(m[1] as string), name: decodeURIComponent(m[2] as string) };
  } catch {
    return undefined;
  }
}

/** Rewrites the queue URLs in an SQS answer (GetQueueUrl, CreateQueue, ListQueues, ListDeadLetterSourceQueues) in place. */
export function rewriteAnswerUrls(result: Record<string, unknown>, toLocal: (url: string) => string): void {
  if (typeof result.QueueUrl === 'string') result.QueueUrl = toLocal(result.QueueUrl);
  for (const key of ['QueueUrls', 'queueUrls']) {
    const list = result[key];
    if (Array.isArray(list)) result[key] = list.map((u) => (typeof u === 'string' ? toLocal(u) : u));
  }
}
