// Child process of test/ingest/body-slices.test.ts, run with --allow-natives-syntax: what kind
// of string a large NDJSON batch's bodies are once framed and read (the build in argv[2]), and
// after unpinned(). V8's string kinds are not visible to JavaScript; %HaveSameMap against a
// string known to be a slice (a SlicedString's map) tells them apart.
import { join } from 'node:path';

const [, , build] = process.argv;
const { frameSendSliced } = await import(join(build, 'dist/src/http/decode.js'));
const { unpinned } = await import(join(build, 'dist/src/delivery/envelope.js'));
const { decodeUtf8Parts } = await import(join(build, 'dist/src/http/body.js'));
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
// A JSON array decoded in parts cut anywhere (three parts, the last of 200,000 characters: each
// past SLICE_PARENT_MIN_CHARS): its bodies slices of their parts, but those of the elements a cut
// falls in (their text joined: one a cut).
const arrayChars = 2 * 262_144 + 200_000;
const entries = [];
let chars = 2; // [ and ]
for (let i = 0; ; i++) {
  const e = JSON.stringify({ body: `body-${i}-${'b'.repeat(100)}` });
  if (chars + e.length + 1 > arrayChars) break;
  entries.push(e);
  chars += e.length + (i === 0 ? 0 : 1);
}
const array = `${' '.repeat(arrayChars - chars)}[${entries.join(',')}]`;
const parts = await decodeUtf8Parts(Buffer.from(array), 'character');
const framedArray = await frameSendSliced('application/json', parts, 10_000);
const arrayBodies = framedArray.source.read(0, framedArray.source.count).map((e) => e.input.body);
out.array = { parts: parts.map((p) => p.length), count: arrayBodies.length === entries.length, unsliced: arrayBodies.filter((b) => !isSlice(b)).length };
out.control = isSlice(sliced) && !isSlice(JSON.parse('{"body":"not a slice of anything here"}').body);
console.log(JSON.stringify(out));
