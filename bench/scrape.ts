/**
 * What a /metrics scrape and a /status page cost the daemon with many queues in use (issue 11:
 * no request holds the event loop more than a few milliseconds). Starts one daemon (the working
 * tree's build, or --daemon-dir) with the turn probe preloaded against the fake SQS (2 ms), sends
 * one message to each of `--queues` queues, then asks each path 15 times, 50 ms apart, and
 * prints the answer times and the longest turns of the event loop after start-up ([at ms, turn
 * ms, ms waiting for a core, ms of GC], from bench/lib/turn-probe.ts).
 *
 *   node dist-bench/bench/scrape.js [--queues 1000] [--paths /metrics,/status] [--daemon-dir DIR]
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSqs } from '../test/support/fake-sqs.js';
import { option } from './lib/args.js';
import { daemonAddresses } from './lib/daemon-child.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const daemonDir = resolve(option(args, '--daemon-dir', join(HERE, '../..')));
const nq = Number(option(args, '--queues', '1000'));
const paths = option(args, '--paths', '/metrics,/status').split(',');

const queues = Array.from({ length: nq }, (_, i) => `scrape-${i}`);
const fake = await startFakeSqs({ latencyMs: 2, seed: 1, queues });
const dir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-scrape-'));
const probeFile = join(dir, 'turn-probe.json');
const d = spawn(process.execPath, ['--import', join(HERE, 'lib/turn-probe.js'), join(daemonDir, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', fake.endpoint, '--spool-dir', join(dir, 'spool')], {
  stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, TURN_PROBE_OUT: probeFile },
});
process.on('exit', () => d.kill('SIGKILL'));
const { url } = await daemonAddresses(d, false);
const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
const auth = `Basic ${Buffer.from('AKIDSCRAPE:scrapesecret').toString('base64')}`;
const ask = (method: string, path: string, body?: string): Promise<{ status: number; ms: number; bytes: number }> =>
  new Promise((res, rej) => {
    const t = performance.now();
    const r = http.request(url + path, { method, agent, headers: { authorization: auth, 'content-type': 'text/plain' } }, (resp) => {
      let bytes = 0;
      resp.on('data', (c: Buffer) => (bytes += c.length));
      resp.on('end', () => res({ status: resp.statusCode ?? 0, ms: performance.now() - t, bytes }));
    });
    r.on('error', rej);
    r.end(body);
  });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
for (let i = 0; i < nq; i += 8) await Promise.all(queues.slice(i, i + 8).map((q) => ask('POST', `/queues/${q}`, 'hello')));
await sleep(2000);
const askedFrom = Date.now();
for (const path of paths) {
  const ms: number[] = [];
  let last = { status: 0, bytes: 0 };
  for (let k = 0; k < 15; k++) {
    const a = await ask('GET', path);
    ms.push(a.ms);
    last = a;
    await sleep(50);
  }
  ms.sort((a, b) => a - b);
  console.log(`${path}: ${last.status}, ${last.bytes} bytes; answered in ms: min ${(ms[0] as number).toFixed(2)}, median ${(ms[7] as number).toFixed(2)}, max ${(ms[14] as number).toFixed(2)}`);
}
agent.destroy();
const exited = new Promise((r) => d.once('exit', r));
d.kill('SIGTERM');
await exited;
await fake.close();
const probe = JSON.parse(readFileSync(probeFile, 'utf8')) as { t0Epoch: number; all: Array<[number, number, number, number]> };
const from = askedFrom - probe.t0Epoch;
const top = probe.all.filter((t) => t[0] >= from).sort((a, b) => b[1] - a[1]).slice(0, 5);
console.log(`longest turns while asked [at ms, turn ms, waiting ms, GC ms]: ${JSON.stringify(top.map((t) => t.map((x) => Math.round(x * 100) / 100)))}`);
rmSync(dir, { recursive: true, force: true });
