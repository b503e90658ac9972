/**
 * Micro-benchmark of the spool's per-message work on the batch path (issue 14): accept records
 * written 100 at a time (writeAccepts: JSON, CRC, write(2)), each paged out, then all read back
 * 100 at a time (pageIn: pread, CRC check, JSON.parse, envelope), as a batch backlog past
 * --max-in-memory-messages is. Bench-like messages (200-byte bodies, no attributes), durability
 * `write`, a fresh spool in the temp dir per round. Imports the spool of the build at `<root>`
 * (its dist/), so two revisions run the same driver:
 *
 *   node dist-bench/bench/spool-micro.js <root> [--rounds 15] [--messages 20000]
 *
 * Prints min and median µs per message of each step over the rounds.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import pino from 'pino';
import { option } from './lib/args.js';

const args = process.argv.slice(2);
const root = resolve(args[0] ?? '.');
const rounds = Number(option(args, '--rounds', '15'));
const messages = Number(option(args, '--messages', '20000'));

interface Env {
  id: string;
  dest: unknown;
  message: { body: string };
  bytes: number;
  accepted: { at: number };
  attempts: number;
}
interface SpoolLike {
  recover(f: (c: unknown) => unknown): unknown;
  append(envs: Env[]): void;
  pageOut(env: Env): void;
  pageIn(key: string, max: number): { envs: Env[]; consumed: number };
  close(): Promise<void>;
}

const { Spool } = (await import(pathToFileURL(join(root, 'dist/src/spool/spool.js')).href)) as { Spool: new (o: object) => SpoolLike };
const { staticCredentials } = (await import(pathToFileURL(join(root, 'dist/src/sqs/credentials.js')).href)) as { staticCredentials: (c: object) => { key: string } };
const { newMessageId } = (await import(pathToFileURL(join(root, 'dist/src/delivery/envelope.js')).href)) as { newMessageId: () => string };

const credentials = staticCredentials({ accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench/secret+key' });
const dest = Object.freeze({ key: `${credentials.key}\0bench`, queueName: 'bench', queueUrl: 'http://127.0.0.1:1/000000000000/bench', limits: { fifo: false, maxMessageBytes: 1_048_576, contentBasedDedup: false }, credentials });
const log = pino({ level: 'error' });

const times: Record<string, number[]> = { 'writeAccepts (append of 100)': [], 'pageIn (100 at a time)': [] };
let sink = 0;
for (let r = 0; r < rounds; r++) {
  const dir = mkdtempSync(join(tmpdir(), 'spool-micro-'));
  const spool = new Spool({ dir, durability: 'write', maxSpoolBytes: 1 << 30, segmentBytes: 64 * 1_048_576, log });
  spool.recover((c) => (c ? staticCredentials(c as object) : undefined));
  const at = { at: Date.now() };
  const envs: Env[] = new Array(messages);
  for (let i = 0; i < messages; i++) {
    const body = `bench-${String(r)}-${String(i).padStart(8, '0')}-${'m'.repeat(180)}`;
    envs[i] = { id: newMessageId(), dest, message: { body }, bytes: body.length, accepted: at, attempts: 0 };
  }
  let t = performance.now();
  for (let i = 0; i < messages; i += 100) {
    const chunk = envs.slice(i, i + 100);
    spool.append(chunk);
    for (const e of chunk) spool.pageOut(e);
  }
  (times['writeAccepts (append of 100)'] as number[]).push(((performance.now() - t) * 1000) / messages);
  t = performance.now();
  for (;;) {
    const { envs: back, consumed } = spool.pageIn(dest.key, 100);
    if (consumed === 0) break;
    sink += back.length;
  }
  (times['pageIn (100 at a time)'] as number[]).push(((performance.now() - t) * 1000) / messages);
  await spool.close();
  rmSync(dir, { recursive: true, force: true });
}
if (sink !== rounds * messages) throw new Error(`read back ${sink} of ${rounds * messages}`);
for (const [name, ts] of Object.entries(times)) {
  const s = [...ts].sort((a, b) => a - b);
  process.stdout.write(`${name.padEnd(32)} min ${(s[0] as number).toFixed(2)}  median ${(s[Math.floor(s.length / 2)] as number).toFixed(2)} µs a message\n`);
}
