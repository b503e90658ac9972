/**
 * Summarises a V8 .heapsnapshot: self size and count per kind of object (constructor name for
 * objects, "(string)", "(array)", "(code)"...), largest first. Prints JSON to stdout.
 *
 *   node --max-old-space-size=8000 dist-bench/bench/heap-summary.js <file.heapsnapshot> [top]
 *
 * Self sizes only (no retained sizes: that needs the dominator tree); enough to see what a
 * backlog is made of.
 */
import { readFileSync } from 'node:fs';

export interface HeapRow {
  kind: string;
  count: number;
  selfBytes: number;
}

export interface HeapSummary {
  totalBytes: number;
  nodes: number;
  top: HeapRow[];
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function summariseHeap(snap: Snapshot, top = 30): HeapSummary {
  const fields = snap.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snap.snapshot.meta.node_types[0];
  const rows = new Map<string, HeapRow>();
  let total = 0;
  const { nodes, strings } = snap;
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + typeAt] as number] ?? '?';
    const size = nodes[i + sizeAt] as number;
    total += size;
    const kind = type === 'object' || type === 'closure' ? `${strings[nodes[i + nameAt] as number] ?? '?'}${type === 'closure' ? ' (closure)' : ''}` : `(${type})`;
    let row = rows.get(kind);
    if (!row) rows.set(kind, (row = { kind, count: 0, selfBytes: 0 }));
    row.count += 1;
    row.selfBytes += size;
  }
  return { totalBytes: total, nodes: nodes.length / width, top: [...rows.values()].sort((a, b) => b.selfBytes - a.selfBytes).slice(0, top) };
}

if (process.argv[1]?.endsWith('heap-summary.js')) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: node dist-bench/bench/heap-summary.js <file.heapsnapshot> [top]\n');
    process.exit(2);
  }
  const summary = summariseHeap(JSON.parse(readFileSync(file, 'utf8')) as Snapshot, Number(process.argv[3] ?? 30));
  process.stdout.write(`${JSON.stringify(summary)}\n`);
}
