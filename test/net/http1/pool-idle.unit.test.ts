/**
 * Http1Pool's idle sockets after a burst: those past their idle time are closed a few per turn of
 * the event loop (IDLE_CLOSES_PER_TURN), not all in one sweep (closing hundreds at once held the
 * daemon's loop for 10-14 ms, issue 14), and an expired socket is never handed a request again.
 * Against a real node:http server on 127.0.0.1 port 0.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Http1Pool, IDLE_CLOSES_PER_TURN } from '../../../src/net/http1/pool.js';

let server: Server;
let port: number;
let opened = 0;
let gate: Promise<void>;
let openGate: () => void = () => {};

beforeEach(async () => {
  opened = 0;
  gate = new Promise<void>((r) => { openGate = r; });
  server = createServer((req, res) => {
    req.resume();
    // Every request of the burst waits until all of them are in, so each holds its own socket.
    void gate.then(() => res.end('ok'));
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', () => { opened += 1; });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function get(pool: Http1Pool): Promise<number> {
  return new Promise((resolve, reject) => {
    pool.request(`GET / HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n\r\n`, undefined, (failure, answer) => {
      if (failure || !answer) reject(new Error(failure?.message ?? 'no answer'));
      else resolve(answer.status);
    });
  });
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

it('closes the idle sockets of a burst a few per turn, and never reuses an expired one', async () => {
  const burst = 5 * IDLE_CLOSES_PER_TURN;
  // 80 ms timeouts make the sweep tick every 10 ms; idle for 30 ms means expired.
  const pool = new Http1Pool(new URL(`http://127.0.0.1:${port}`), { connections: burst, timeoutMs: 80, connectTimeoutMs: 80, idleMs: 30, maxBodyBytes: 1024, resendOnStale: false, peer: 'test' });
  try {
    const answers = Array.from({ length: burst }, () => get(pool));
    while (opened < burst) await new Promise((r) => setTimeout(r, 5));
    openGate();
    expect(await Promise.all(answers)).toEqual(new Array(burst).fill(200));
    expect(pool.stats().connected).toBe(burst);

    // Watch the sockets close, turn by turn.
    const drops: number[] = [];
    let last = pool.stats().connected;
    const deadline = Date.now() + 3000;
    while (last > 0 && Date.now() < deadline) {
      await turn();
      const now = pool.stats().connected;
      if (now < last) drops.push(last - now);
      last = now;
    }
    expect(last).toBe(0);
    expect(drops.reduce((a, b) => a + b, 0)).toBe(burst);
    expect(Math.max(...drops)).toBeLessThanOrEqual(IDLE_CLOSES_PER_TURN);
    expect(drops.length).toBeGreaterThanOrEqual(burst / IDLE_CLOSES_PER_TURN);

    // A request after they expired gets a new socket, not one being closed.
    const before = opened;
    expect(await get(pool)).toBe(200);
    expect(opened).toBe(before + 1);
  } finally {
    await pool.destroy();
  }
});

it('takes an expired socket out of the idle list before closing it, so a request meanwhile opens a new one', async () => {
  const burst = 3 * IDLE_CLOSES_PER_TURN;
  // A 1 s sweep tick (8 s timeouts): the burst's sockets go idle within a few ms of each other, and
  // with a 10 ms tick a loaded machine spread them over two ticks, so one was still idle (free)
  // when the others' closing began. With 1 s ticks they share a tick but for a ~0.5 % straddle.
  const pool = new Http1Pool(new URL(`http://127.0.0.1:${port}`), { connections: burst + 1, timeoutMs: 8000, connectTimeoutMs: 8000, idleMs: 1000, maxBodyBytes: 1024, resendOnStale: false, peer: 'test' });
  try {
    const answers = Array.from({ length: burst }, () => get(pool));
    while (opened < burst) await new Promise((r) => setTimeout(r, 5));
    openGate();
    await Promise.all(answers);
    // Wait for the first closes, then ask while the rest are still open but expired.
    while (pool.stats().connected === burst) await turn();
    expect(pool.stats().connected).toBeGreaterThan(0);
    expect(pool.stats().free).toBe(0);
    const before = opened;
    expect(await get(pool)).toBe(200);
    expect(opened).toBe(before + 1);
  } finally {
    await pool.destroy();
  }
});
