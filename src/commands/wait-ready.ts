import { request } from 'node:http';
import type { Config } from '../config.js';

/** How long `wait-ready` polls; under systemd, TimeoutStartSec= usually ends it first. */
export const WAIT_READY_MS = 120_000;

/**
 * `sqs-accelerator wait-ready` (or `--wait-ready`): polls the configured daemon's /readyz
 * (start-up checks only: listener and spool) until it answers 200 or `timeoutMs` passes.
 * systemd's ExecStartPost runs it so that units ordered After=sqs-accelerator.service start
 * once messages can be accepted.
 */
export async function waitUntilReady(config: Pick<Config, 'host' | 'port'>, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  if (config.port === 0) throw new Error('cannot wait for a daemon on port 0 (any free port): give --port');
  const host = config.host === '0.0.0.0' || config.host === '' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await probe(host, config.port, Math.min(2000, timeoutMs))) === 200) return true;
    if (Date.now() + intervalMs > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Status of GET /readyz?exclude=upstream,backlog, or 0 when nothing answers. */
function probe(host: string, port: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    // Host: localhost passes the DNS-rebinding guard whatever address the daemon binds.
    const req = request({ host, port, path: '/readyz?exclude=upstream,backlog', headers: { host: 'localhost', accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}
