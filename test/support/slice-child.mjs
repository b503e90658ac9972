// Child process of test/ingest/body-slices.test.ts, run with --allow-natives-syntax: what kind
// of string a large NDJSON batch's bodies are once framed and read (the build in argv[2]), and
// after unpinned(). V8's string kinds are not visible to JavaScript; %HaveSameMap against a
// string known to be a slice (a SlicedString's map) tells them apart.
import { join } from 'node:path';

const [, , build] = process.argv;
const { frameSendSliced } = await import(join(build, 'dist/src/http/decode.js'));
const { unpinned } = await import(join(build, 'dist/src/delivery/envelope.js'));
const big = Buffer.alloc(200_000, 'q').toString('latin1');
const sliced = big.slice(3, 60);
const isSlice = (s) => %HaveSameMap(s, sliced);
function kinds(n) {
  return Array.from({ length: n }, (_, i) => JSON.stringify({ body: `body-${i}-${'b'.repeat(100)}` })).join('\n');
}
const out = {};
for (const [name, n] of [['large', 2000], ['small', 200]]) {
  const framed = await frameSendSliced('application/x-ndjson', kinds(n), 10_000);
  const bodies = framed.source.read(0, framed.source.count).map((e) => e.input.body);
  out[name] = { count: bodies.length, sliced: bodies.filter(isSlice).length };
  if (name === 'large') out.unpinnedSliced = bodies.map((b) => unpinned(b)).filter(isSlice).length + bodies.map((b) => unpinned({ body: b, groupId: 'g' }).body).filter(isSlice).length;
}
out.control = isSlice(sliced) && !isSlice(JSON.parse('{"body":"not a slice of anything here"}').body);
console.log(JSON.stringify(out));
