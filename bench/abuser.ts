/**
 * The abusive clients of bench/abuse.ts, in a process of their own (so their work does not
 * slow the trickle's measurement), driven over IPC:
 *   passwords: 20 clients posting with wrong passwords, as fast as the daemon answers;
 *   batch:     one client posting a 10,000-entry NDJSON batch, again and again (closed loop: the
 *              next as soon as the last is answered);
 *   batch1s:   one client posting a 10,000-entry NDJSON batch once a second (open loop: the next
 *              at the next whole second after the start, or at once if the last took longer);
 *   slow:      1,000 connections that send their headers one byte every 500 ms.
 * `start {kind, origin}` begins one, `stop` ends it and answers what the daemon replied.
 */
import { connect, type Socket } from 'node:net';
import { Pool } from 'undici';
import { abuseBatchLines } from './lib/bodies.js';
import { serve } from './lib/serve.js';

let stopping = false;
let running: Promise<void> = Promise.resolve();
const statuses: Record<string, number> = {};
const sockets = new Set<Socket>();

const count = (k: string | number): void => {
  statuses[String(k)] = (statuses[String(k)] ?? 0) + 1;
};

async function passwords(origin: string): Promise<void> {
  const pool = new Pool(origin, { connections: 20 });
  const client = async (c: number): Promise<void> => {
    for (let i = 0; !stopping; i++) {
      try {
        const res = await pool.request({ path: '/queues/bench-abuse', method: 'POST', headers: { authorization: `Basic ${Buffer.from(`app:wrong-${c}-${i}`).toString('base64')}`, 'content-type': 'text/plain' }, body: 'x' });
        await res.body.dump();
        count(res.statusCode);
      } catch (err) {
        count((err as { code?: string }).code ?? 'error');
      }
    }
  };
  await Promise.all(Array.from({ length: 20 }, (_, c) => client(c)));
  await pool.destroy();
}

/** `everyMs`: 0, the next batch as soon as the last is answered; else at most one batch per `everyMs`, on a fixed schedule. */
async function batch(origin: string, auth: string, everyMs: number): Promise<void> {
  const body = abuseBatchLines().join('\n');
  const pool = new Pool(origin, { connections: 1 });
  const t0 = Date.now();
  for (let n = 0; !stopping; n++) {
    if (everyMs > 0) {
      const wait = t0 + n * everyMs - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (stopping) break;
    }
    try {
      const res = await pool.request({ path: '/queues/bench-abuse', method: 'POST', headers: { authorization: `Basic ${Buffer.from(auth).toString('base64')}`, 'content-type': 'application/x-ndjson' }, body });
      await res.body.dump();
      count(res.statusCode);
    } catch (err) {
      count((err as { code?: string }).code ?? 'error');
    }
  }
  await pool.destroy();
}

async function slow(origin: string): Promise<void> {
  const { hostname, port } = new URL(origin);
  const head = `POST /queues/bench-abuse HTTP/1.1\r\nHost: localhost\r\nX-Slow: ${'s'.repeat(4000)}\r\n\r\n`;
  const open = (): void => {
    if (stopping) return;
    const s = connect(Number(port), hostname);
    sockets.add(s);
    let i = 0;
    const timer = setInterval(() => s.write(head[i++ % head.length] as string), 500);
    s.on('error', () => {});
    s.on('data', (b: Buffer) => count(/^HTTP\/1\.1 (\d{3})/.exec(b.toString('latin1'))?.[1] ?? 'data'));
    s.once('close', () => {
      clearInterval(timer);
      sockets.delete(s);
      count('closed');
      setTimeout(open, 10); // the daemon closed it: open another, so 1,000 stay open
    });
  };
  for (let i = 0; i < 1000; i++) {
    open();
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20));
  }
  while (!stopping) await new Promise((r) => setTimeout(r, 100));
  for (const s of sockets) s.destroy();
}

serve({
  start: (a) => {
    stopping = false;
    for (const k of Object.keys(statuses)) delete statuses[k];
    const origin = String(a.origin);
    const kind = String(a.kind);
    running = kind === 'passwords' ? passwords(origin) : kind === 'batch' ? batch(origin, String(a.auth), 0) : kind === 'batch1s' ? batch(origin, String(a.auth), 1000) : slow(origin);
    return { started: kind };
  },
  stop: async () => {
    stopping = true;
    await running;
    return { ...statuses };
  },
});
