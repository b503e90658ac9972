/**
 * A large batch's plain bodies are slices of the request's text (Frames.plainBody, issue 11: the
 * text is in V8's large-object space, which scavenges never copy, so a held body costs them a
 * 32-byte slice instead of its own string), and unpinned() gives a body a string of its own
 * (what a failed attempt does, so a retry does not keep its batch's text alive). Checked on V8
 * itself, in a child under --allow-natives-syntax (test/support/slice-child.mjs).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freshBuild, NODE, ROOT } from '../ops/build.js';

it('keeps a large batch\'s plain bodies as slices of its text (of its parts, for a JSON array in parts), a small batch\'s as strings of their own, and unpinned() copies them', () => {
  const build = freshBuild();
  const r = spawnSync(NODE, ['--allow-natives-syntax', join(ROOT, 'test/support/slice-child.mjs'), build], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`child failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const got = JSON.parse(r.stdout);
  expect(got).toEqual({ large: { count: 2000, sliced: 2000 }, small: { count: 200, sliced: 0 }, unpinnedSliced: 0, array: { parts: [262_144, 262_144, 200_000], count: true, unsliced: expect.any(Number) }, control: true });
  // A JSON array in parts: every body a slice but those of the (at most two) elements the cuts fall in.
  expect(got.array.unsliced).toBeLessThanOrEqual(2);
}, 180_000);
