/**
 * What the bench scripts that start one daemon of their own (held.ts, alloc.ts, survivors.ts,
 * own-turns.ts)
 * share: waiting for its addresses, and posting one NDJSON batch to it.
 */
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';

/**
 * The daemon's base URL (from its `"url":…` log line) and, if it was started with `--inspect`,
 * its inspector's `ws://` address (Node prints it on stderr); rejects if it exits first. The
 * listeners stay on its output, so that it keeps flowing.
 */
export function daemonAddresses(d: ChildProcess, inspector: boolean): Promise<{ url: string; ws: string }> {
  let url = '';
  let ws = '';
  return new Promise((done, fail) => {
    const ready = (): void => {
      if (url && (ws || !inspector)) {
        d.removeListener('exit', exited);
        done({ url, ws });
      }
    };
    const exited = (c: number | null): void => fail(new Error(`daemon exited (${c}) at start`));
    d.once('exit', exited);
    d.stderr?.on('data', (c: Buffer) => {
      const m = /ws:\/\/\S+/.exec(String(c));
      if (inspector && m && !ws) (ws = m[0]), ready();
    });
    d.stdout?.on('data', (c: Buffer) => {
      const m = /"url":"(http:[^"]+)"/.exec(String(c));
      if (m && !url) (url = m[1] as string), ready();
    });
  });
}

/** A function that posts `body` as one NDJSON batch (or of `contentType`) to `queue` and resolves to the status. */
export function ndjsonPoster(url: string, queue: string, auth: string, body: string, agent: http.Agent, contentType = 'application/x-ndjson'): () => Promise<number> {
  return () =>
    new Promise((done, fail) => {
      const r = http.request(`${url}/queues/${queue}`, { method: 'POST', agent, headers: { 'content-type': contentType, authorization: auth, 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => done(res.statusCode ?? 0));
      });
      r.on('error', fail);
      r.end(body);
    });
}
