/**
 * What a young collection copies of a held 10,000-entry batch (issue 11: a scavenge's pause is
 * proportional to what survives it, and during a batch that is the batch's held messages).
 * Starts the daemon (the working tree's build, or --daemon-dir) against the fake SQS with a young
 * generation large enough that ingesting one batch triggers no collection (64 MiB semi-spaces),
 * warms it up with one delivered batch and a full collection, makes the fake SQS answer nothing,
 * posts one NDJSON batch (bench/abuser.ts's body), and once it is acknowledged forces two young
 * collections through the inspector, reading V8's --trace-gc-nvp counters of each: the first
 * copies the survivors within the young generation (`new_space_survived`), the second promotes
 * them (`promoted`). Objects in the large-object space (a batch's text past 128 KiB) are never
 * copied but V8 counts them in the first collection's `promoted`, so that one is printed apart.
 *
 *   node dist-bench/bench/survivors.js [--daemon-dir DIR] [--runs N] [--node-args "..."]
 *
 * Machine-independent (bytes, not time); in flight to the unanswering fake SQS counts as held.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSqs } from '../test/support/fake-sqs.js';
import { option } from './lib/args.js';
import { daemonAddresses, ndjsonPoster } from './lib/daemon-child.js';
import { abuseBatchLines } from './lib/bodies.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const daemonDir = resolve(option(args, '--daemon-dir', join(HERE, '../..')));
const runs = Number(option(args, '--runs', '1'));
const nodeArgs = option(args, '--node-args', '').split(/\s+/).filter(Boolean);
const BATCH = 10_000;
const batchBody = abuseBatchLines(BATCH).join('\n');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Scavenge {
  survived: number;
  promoted: number;
}

async function once(): Promise<{ first: Scavenge; second: Scavenge }> {
  const fake = await startFakeSqs({ latencyMs: 0, seed: 1, queues: ['held'] });
  const spool = mkdtempSync(join(tmpdir(), 'sqs-accelerator-survivors-'));
  const d = spawn(process.execPath, [...nodeArgs, '--expose-gc', '--trace-gc-nvp', '--min-semi-space-size=64', '--max-semi-space-size=64', '--inspect=127.0.0.1:0', join(daemonDir, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', fake.endpoint, '--spool-dir', spool], { stdio: ['ignore', 'pipe', 'pipe'] });
  const kill = (): void => void d.kill('SIGKILL');
  process.on('exit', kill);
  const scavenges: Scavenge[] = [];
  d.stdout.on('data', (c: Buffer) => {
    for (const l of String(c).split('\n')) {
      if (!l.includes('gc=s ')) continue;
      const n = (k: string): number => Number(new RegExp(` ${k}=(\\d+)`).exec(l)?.[1] ?? NaN);
      scavenges.push({ survived: n('new_space_survived'), promoted: n('promoted') });
    }
  });
  const { url, ws } = await daemonAddresses(d, true);
  const agent = new http.Agent({ keepAlive: true });
  const auth = `Basic ${Buffer.from('AKIDHELD:heldsecret').toString('base64')}`;
  const postBatch = ndjsonPoster(url, 'held', auth, batchBody, agent);
  const sock = new WebSocket(ws);
  await new Promise((r) => sock.addEventListener('open', r, { once: true }));
  let id = 0;
  const pending = new Map<number, () => void>();
  sock.addEventListener('message', (e) => {
    const m = JSON.parse(String(e.data)) as { id?: number };
    const p = m.id !== undefined ? pending.get(m.id) : undefined;
    if (p) pending.delete(m.id as number), p();
  });
  const evaluate = (expression: string): Promise<void> =>
    new Promise((r) => {
      const i = ++id;
      pending.set(i, r);
      sock.send(JSON.stringify({ id: i, method: 'Runtime.evaluate', params: { expression } }));
    });
  try {
    if ((await postBatch()) !== 202) throw new Error('warm-up batch refused');
    for (let i = 0; i < 600 && fake.messageCount('held') < BATCH; i++) await sleep(50);
    await sleep(300);
    await evaluate('gc()');
    fake.latencyMs = 600_000;
    const before = scavenges.length;
    if ((await postBatch()) !== 202) throw new Error('batch refused');
    await sleep(500);
    if (scavenges.length !== before) throw new Error(`${scavenges.length - before} young collections during the batch: a larger young generation is needed`);
    await evaluate("gc({type:'minor'})");
    await evaluate("gc({type:'minor'})");
    for (let i = 0; i < 50 && scavenges.length < before + 2; i++) await sleep(20);
    const [first, second] = scavenges.slice(before) as [Scavenge, Scavenge];
    return { first, second };
  } finally {
    sock.close();
    kill();
    process.off('exit', kill);
    await fake.close();
    rmSync(spool, { recursive: true, force: true });
  }
}

for (let r = 0; r < runs; r++) {
  const { first, second } = await once();
  const per = (b: number): string => (b / BATCH).toFixed(1);
  console.log(`held ${BATCH}: first young collection copied ${per(first.survived)} B/msg within the young generation (and counted ${per(first.promoted)} B/msg promoted: large objects, not copied); the second promoted ${per(second.promoted)} B/msg; copied in all ${per(first.survived + second.promoted)} B/msg`);
}
process.exit(0);
