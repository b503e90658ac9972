/**
 * What a message held until delivery keeps alive (issue 11: a 10,000-entry batch's messages
 * survive the young collections while they wait, and are promoted). Starts the daemon (the
 * working tree's build, or --daemon-dir) against the fake SQS, warms it up with one batch that is
 * delivered, then makes the fake SQS answer nothing for minutes and posts `--batches N`
 * 10,000-entry NDJSON batches (bench/abuser.ts's body). Once they are acknowledged it takes two
 * heap snapshots (node --heapsnapshot-signal): one before the held batches, one with them held,
 * and prints the difference by kind of object (count and self bytes per held message) and, for
 * the kinds that grew most, what holds them (the retaining object's kind and the edge's name).
 *
 *   node dist-bench/bench/held.js [--daemon-dir DIR] [--batches N] [--top N] [--daemon-args "..."] [--keep DIR]
 *
 * Messages in flight (a batch sent and not answered) are counted with the held ones: they are
 * held too. Sizes are V8's self sizes (a string's characters included; an array's backing store
 * is its own node).
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeSqs } from '../test/support/fake-sqs.js';
import { option } from './lib/args.js';
import { daemonAddresses, ndjsonPoster } from './lib/daemon-child.js';
import { abuseBatchLines } from './lib/bodies.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opt = (name: string, dflt: string): string => option(args, name, dflt);
const daemonDir = resolve(opt('--daemon-dir', join(HERE, '../..')));
const batches = Number(opt('--batches', '1'));
const top = Number(opt('--top', '25'));
const keep = opt('--keep', '');
const daemonArgs = opt('--daemon-args', '').split(/\s+/).filter(Boolean);
const BATCH = 10_000;
const batchBody = abuseBatchLines(BATCH).join('\n');

const fake = await startFakeSqs({ latencyMs: 0, seed: 1, queues: ['held'] });
const spool = mkdtempSync(join(tmpdir(), 'sqs-accelerator-held-'));
const snaps = keep || mkdtempSync(join(tmpdir(), 'sqs-accelerator-held-snap-'));
const d = spawn(process.execPath, ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snaps}`, join(daemonDir, 'bin/sqs-accelerator.js'), '--port', '0', '--endpoint', fake.endpoint, '--spool-dir', spool, ...daemonArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
process.on('exit', () => d.kill('SIGKILL'));
const { url } = await daemonAddresses(d, false);

const agent = new http.Agent({ keepAlive: true });
const auth = `Basic ${Buffer.from('AKIDHELD:heldsecret').toString('base64')}`;
const postBatch = ndjsonPoster(url, 'held', auth, batchBody, agent);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Signals the daemon and waits for its new snapshot file to be complete. */
async function snapshot(): Promise<string> {
  const before = new Set(readdirSync(snaps));
  d.kill('SIGUSR2');
  for (let i = 0; i < 600; i++) {
    await sleep(100);
    const f = readdirSync(snaps).find((x) => x.endsWith('.heapsnapshot') && !before.has(x));
    if (f === undefined) continue;
    const text = readFileSync(join(snaps, f), 'utf8');
    if (text.trimEnd().endsWith('}')) {
      try {
        return JSON.parse(text) !== undefined ? join(snaps, f) : '';
      } catch {
        // still being written
      }
    }
  }
  throw new Error('no heap snapshot after 60 s');
}

// Warm-up: one batch, delivered, so every code path has run and the destination is known.
if ((await postBatch()) !== 202) throw new Error('warm-up batch refused');
for (let i = 0; i < 600 && fake.messageCount('held') < BATCH; i++) await sleep(50);
await sleep(500);
const a = await snapshot();
fake.latencyMs = 600_000;
for (let k = 0; k < batches; k++) if ((await postBatch()) !== 202) throw new Error('batch refused');
await sleep(1000);
const b = await snapshot();
const held = batches * BATCH;
const deliveredDuring = fake.messageCount('held') - BATCH;

interface Snap {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}
interface Kinds {
  count: Map<string, number>;
  bytes: Map<string, number>;
  /** kind -> "retainer kind .edge" -> count */
  holders: Map<string, Map<string, number>>;
}
function kinds(file: string): Kinds {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snap;
  const nf = s.snapshot.meta.node_fields;
  const w = nf.length;
  const typeAt = nf.indexOf('type');
  const nameAt = nf.indexOf('name');
  const sizeAt = nf.indexOf('self_size');
  const edgeCountAt = nf.indexOf('edge_count');
  const ef = s.snapshot.meta.edge_fields;
  const ew = ef.length;
  const eType = ef.indexOf('type');
  const eName = ef.indexOf('name_or_index');
  const eTo = ef.indexOf('to_node');
  const ntypes = s.snapshot.meta.node_types[0];
  const etypes = s.snapshot.meta.edge_types[0];
  const { nodes, edges, strings } = s;
  const n = nodes.length / w;
  const kindOf = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const t = ntypes[nodes[i * w + typeAt] as number] ?? '?';
    const name = strings[nodes[i * w + nameAt] as number] ?? '?';
    kindOf[i] = t === 'object' ? name : t === 'array' ? `(array ${name})` : t === 'closure' ? `${name} (closure)` : `(${t})`;
  }
  // A plain object is named by its first property names ("Object {id,dest,message}"): V8 calls them all Object.
  {
    let e0 = 0;
    for (let i = 0; i < n; i++) {
      const ec = nodes[i * w + edgeCountAt] as number;
      if (kindOf[i] === 'Object') {
        const props: string[] = [];
        for (let j = 0; j < ec && props.length < 4; j++) {
          const x = e0 + j * ew;
          if (etypes[edges[x + eType] as number] === 'property') {
            const nm = String(strings[edges[x + eName] as number]);
            if (nm !== '__proto__' && nm !== 'map') props.push(nm);
          }
        }
        kindOf[i] = `Object {${props.join(',')}}`;
      }
      e0 += ec * ew;
    }
  }
  const count = new Map<string, number>();
  const bytes = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const k = kindOf[i] as string;
    count.set(k, (count.get(k) ?? 0) + 1);
    bytes.set(k, (bytes.get(k) ?? 0) + (nodes[i * w + sizeAt] as number));
  }
  const holders = new Map<string, Map<string, number>>();
  let e = 0;
  for (let i = 0; i < n; i++) {
    const ec = nodes[i * w + edgeCountAt] as number;
    for (let j = 0; j < ec; j++, e += ew) {
      const et = etypes[edges[e + eType] as number];
      if (et === 'weak' || et === 'shortcut') continue;
      const to = (edges[e + eTo] as number) / w;
      const nm = et === 'element' || et === 'hidden' ? `[${et}]` : String(strings[edges[e + eName] as number]);
      const k = kindOf[to] as string;
      let m = holders.get(k);
      if (!m) holders.set(k, (m = new Map()));
      const h = `${kindOf[i]} .${nm}`;
      m.set(h, (m.get(h) ?? 0) + 1);
    }
  }
  return { count, bytes, holders };
}

const ka = kinds(a);
const kb = kinds(b);
const rows = [...kb.count.keys()].map((k) => ({ k, n: (kb.count.get(k) ?? 0) - (ka.count.get(k) ?? 0), b: (kb.bytes.get(k) ?? 0) - (ka.bytes.get(k) ?? 0) })).sort((x, y) => y.b - x.b);
let totalN = 0;
let totalB = 0;
for (const r of rows) {
  totalN += r.n;
  totalB += r.b;
}
const per = (v: number): string => (v / held).toFixed(2).padStart(8);
process.stdout.write(`held ${held} messages (${deliveredDuring} reached SQS before the hold; in flight ones count as held); snapshots ${a} ${b}\n`);
process.stdout.write(`per held message: ${(totalN / held).toFixed(2)} objects, ${(totalB / held).toFixed(0)} bytes (self sizes, difference of the two snapshots)\n`);
process.stdout.write(`${'objects/msg'.padStart(11)} ${'bytes/msg'.padStart(9)}  kind  <- held by (retainer .edge: count/msg, top 3)\n`);
for (const r of rows.slice(0, top)) {
  const ha = ka.holders.get(r.k);
  const hs = [...(kb.holders.get(r.k) ?? new Map<string, number>())].map(([h, c]) => [h, c - (ha?.get(h) ?? 0)] as const).filter(([, c]) => c > held / 100).sort((x, y) => y[1] - x[1]).slice(0, 3);
  process.stdout.write(`${per(r.n).padStart(11)} ${per(r.b).padStart(9)}  ${r.k}  <- ${hs.map(([h, c]) => `${h}: ${(c / held).toFixed(2)}`).join('; ')}\n`);
}
agent.destroy();
d.kill('SIGKILL');
await fake.close();
rmSync(spool, { recursive: true, force: true });
if (!keep) rmSync(snaps, { recursive: true, force: true });
process.exit(0);
