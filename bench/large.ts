/**
 * Memory of large messages (issue 16): the daemon's RSS while 20 clients POST a 32 MiB raw body
 * each at once, with --s3-bucket. Goal: peak RSS at most 2 x one payload (64 MiB) above idle. The
 * daemon (the built CLI) runs as a child process; the fake SQS and a discarding fake S3 (it reads
 * and drops every byte, answers PUT, multipart and HEAD as S3 does) run in this process, so what
 * they hold is not counted. RSS is sampled from /proc/<pid>/status every 20 ms.
 *
 * Where the memory goes: the daemon's own /metrics (prom-client's nodejs_* series) is read every
 * 250 ms, and the peaks of the V8 heap (total, and its new space), external memory (Buffers and
 * what undici/zlib hold outside the heap) and heap used are printed beside RSS.
 *
 *   npm run build && npx tsc -p bench/tsconfig.json && node dist-bench/bench/large.js [--clients 20] [--mib 32] [--bin path/to/bin/sqs-accelerator.js]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { request } from 'undici';
import { startFakeSqs } from '../test/support/fake-sqs.js';

const HERE = dirname(fileURLToPath(import.meta.url)); // dist-bench/bench
const REPO = resolve(HERE, '../..');
const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const CLIENTS = arg('--clients', 20);
const BIN = process.argv.includes('--bin') ? resolve(process.argv[process.argv.indexOf('--bin') + 1] as string) : join(REPO, 'bin/sqs-accelerator.js');
const MIB = arg('--mib', 32);
const PAYLOAD = MIB * 1_048_576;
const log = (s: string) => process.stderr.write(`${s}\n`);

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** A fake S3 that reads every byte and keeps none. */
async function discardingS3(): Promise<{ url: string; bytes: () => number; close: () => Promise<void> }> {
  let received = 0;
  let uploads = 0;
  const server = createServer((req, res) => {
    req.on('data', (c: Buffer) => (received += c.length));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      if (req.method === 'POST' && u.searchParams.has('uploads')) {
        res.writeHead(200, { 'content-type': 'application/xml' }).end(`<InitiateMultipartUploadResult><UploadId>u${++uploads}</UploadId></InitiateMultipartUploadResult>`);
      } else if (req.method === 'POST') {
        res.writeHead(200, { 'content-type': 'application/xml' }).end('<CompleteMultipartUploadResult></CompleteMultipartUploadResult>');
      } else {
        res.writeHead(200, { etag: '"e"' }).end();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, bytes: () => received, close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

/** V8 heap, its new and large-object spaces, and external memory of the daemon, from its /metrics (MiB). */
async function memoryKinds(url: string): Promise<{ heapTotal: number; heapUsed: number; newSpace: number; largeObjectSpace: number; external: number }> {
  const r = await request(`${url}/metrics`);
  const text = await r.body.text();
  const v = (series: string) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? NaN : Number(line.slice(series.length + 1)) / 1_048_576;
  };
  return {
    heapTotal: v('nodejs_heap_size_total_bytes'),
    heapUsed: v('nodejs_heap_size_used_bytes'),
    newSpace: v('nodejs_heap_space_size_total_bytes{space="new"}'),
    largeObjectSpace: v('nodejs_heap_space_size_total_bytes{space="large_object"}'),
    external: v('nodejs_external_memory_bytes'),
  };
}

async function main(): Promise<void> {
  const fake = await startFakeSqs({ queues: ['large-bench'] });
  const s3 = await discardingS3();
  const dir = mkdtempSync(join(tmpdir(), 'sqs-accelerator-large-bench-'));
  const child = spawn(process.execPath, [BIN, '--port', '0', '--host', '127.0.0.1', '--endpoint', fake.endpoint, '--spool-dir', dir, '--s3-bucket', 'bench', '--s3-endpoint', s3.url, '--max-large-message-bytes', String(PAYLOAD * 2), '--max-spool-bytes', String(8 * 1024 * 1_048_576), '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'inherit'], env: { PATH: process.env.PATH ?? '', HOME: dir } });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) res(m[1] as string);
    });
    child.once('exit', () => rej(new Error(`the daemon exited: ${out}`)));
  });
  child.stdout?.resume();
  const pid = child.pid as number;
  try {
    const auth = `Basic ${Buffer.from('AKIDBENCH:bench').toString('base64')}`;
    // Warm up (queue resolved, code paths compiled), then settle to an idle reading.
    await request(`${url}/queues/large-bench`, { method: 'POST', headers: { authorization: auth, 'content-type': 'text/plain' }, body: Buffer.alloc(2 * 1_048_576, 'w') }).then((r) => r.body.dump());
    await fake.waitFor(() => fake.messageCount('large-bench') === 1, 30_000);
    global.gc?.();
    await new Promise((r) => setTimeout(r, 1000));
    const idle = rssMiB(pid);
    let peak = idle;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
    // The daemon's memory by kind, from its /metrics, every 250 ms (peaks; MiB).
    const kinds = { heapTotal: 0, heapUsed: 0, newSpace: 0, largeObjectSpace: 0, external: 0 };
    const idleKinds = await memoryKinds(url);
    let sampling = true;
    const kindSampler = (async () => {
      while (sampling) {
        const k = await memoryKinds(url).catch(() => undefined);
        if (k) for (const key of Object.keys(kinds) as Array<keyof typeof kinds>) kinds[key] = Math.max(kinds[key], k[key]);
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const body = Buffer.alloc(PAYLOAD, 'b'); // one buffer in this process, sent by every client
    const t0 = Date.now();
    const statuses = await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        const r = await request(`${url}/queues/large-bench`, { method: 'POST', headers: { authorization: auth, 'content-type': 'text/plain', 'content-length': String(PAYLOAD) }, body });
        await r.body.dump();
        return r.statusCode;
      }),
    );
    const ackedMs = Date.now() - t0;
    await fake.waitFor(() => fake.messageCount('large-bench') === CLIENTS + 1, 300_000);
    const deliveredMs = Date.now() - t0;
    clearInterval(sampler);
    sampling = false;
    await kindSampler;
    const above = peak - idle;
    const goal = 2 * MIB;
    log(`large-message memory: ${CLIENTS} concurrent ${MIB} MiB raw POSTs, statuses ${[...new Set(statuses)].join(',')}`);
    log(`  daemon RSS idle ${idle.toFixed(1)} MiB, peak ${peak.toFixed(1)} MiB: ${above.toFixed(1)} MiB above idle (goal <= ${goal} MiB: ${above <= goal ? 'met' : 'NOT met'})`);
    const f = (o: Record<string, number>) => Object.entries(o).map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    log(`  daemon memory by kind (MiB), idle: ${f(idleKinds)}`);
    log(`  daemon memory by kind (MiB), peaks while loaded: ${f(kinds)}`);
    log(`  all acked after ${ackedMs} ms, all pointers in SQS after ${deliveredMs} ms; S3 received ${(s3.bytes() / 1_048_576).toFixed(0)} MiB`);
    process.stdout.write(`${JSON.stringify({ clients: CLIENTS, payloadMiB: MIB, idleRssMiB: idle, peakRssMiB: peak, aboveIdleMiB: above, goalMiB: goal, met: above <= goal, ackedMs, deliveredMs, idleKinds, peakKinds: kinds })}\n`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await fake.close();
    await s3.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
