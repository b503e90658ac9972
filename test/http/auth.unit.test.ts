/**
 * credentialsFor in pass-through mode: the Basic-auth pair (and X-Amz-Security-Token) becomes the
 * credentials the daemon signs with. An app sends the same pair with every message, so the last
 * pair that parsed is kept with its credentials (issue 14): asserted here that the cache returns
 * the very same credentials for the same pair, and never another pair's, nor lets a bad header
 * through after a good one.
 */
import { credentialsFor } from '../../src/http/auth.js';

const deps = { config: { credentials: 'pass-through' as const }, auth: {} } as unknown as Parameters<typeof credentialsFor>[1];
const basic = (user: string, pass: string): string => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;
function ctx(headers: Record<string, string>): Parameters<typeof credentialsFor>[0] {
  return { state: {}, ip: '127.0.0.1', get: (n: string) => headers[n.toLowerCase()] ?? '' } as Parameters<typeof credentialsFor>[0];
}

it('the same Basic-auth pair gives the same credentials, built once', async () => {
  const a = await credentialsFor(ctx({ authorization: basic('AKIDONE', 'secret/one') }), deps);
  const b = await credentialsFor(ctx({ authorization: basic('AKIDONE', 'secret/one') }), deps);
  expect(b).toBe(a);
  expect(await a.get()).toEqual({ accessKeyId: 'AKIDONE', secretAccessKey: 'secret/one' });
});

it('another pair, or the same pair with a session token, gets its own credentials', async () => {
  const one = await credentialsFor(ctx({ authorization: basic('AKIDONE', 'secret/one') }), deps);
  const two = await credentialsFor(ctx({ authorization: basic('AKIDTWO', 'secret/two') }), deps);
  expect(await two.get()).toEqual({ accessKeyId: 'AKIDTWO', secretAccessKey: 'secret/two' });
  expect(two.key).not.toBe(one.key);
  const withToken = await credentialsFor(ctx({ authorization: basic('AKIDTWO', 'secret/two'), 'x-amz-security-token': 'tok' }), deps);
  expect(await withToken.get()).toEqual({ accessKeyId: 'AKIDTWO', secretAccessKey: 'secret/two', sessionToken: 'tok' });
  const again = await credentialsFor(ctx({ authorization: basic('AKIDONE', 'secret/one') }), deps);
  expect(await again.get()).toEqual({ accessKeyId: 'AKIDONE', secretAccessKey: 'secret/one' });
});

it('a missing or malformed header after a good one is still refused', async () => {
  await credentialsFor(ctx({ authorization: basic('AKIDONE', 'secret/one') }), deps);
  await expect(credentialsFor(ctx({}), deps)).rejects.toMatchObject({ code: 'MissingCredentials' });
  await expect(credentialsFor(ctx({ authorization: basic('not-a-key!', 'x') }), deps)).rejects.toMatchObject({ code: 'MalformedCredentials' });
  await expect(credentialsFor(ctx({ authorization: basic('AKIDONE', '') }), deps)).rejects.toMatchObject({ code: 'MalformedCredentials' });
  await expect(credentialsFor(ctx({ authorization: 'Bearer xyz' }), deps)).rejects.toMatchObject({ code: 'MalformedCredentials' });
});

it('a header of the same length that differs in one character is not taken for the last one', async () => {
  const good = basic('AKIDONE', 'secret/one');
  await credentialsFor(ctx({ authorization: good }), deps);
  const sameLength = basic('AKIDONE', 'secret/onf');
  expect(sameLength.length).toBe(good.length);
  expect(await (await credentialsFor(ctx({ authorization: sameLength }), deps)).get()).toEqual({ accessKeyId: 'AKIDONE', secretAccessKey: 'secret/onf' });
  const cached = await credentialsFor(ctx({ authorization: good }), deps);
  // The same header with its last character's code unit raised by 256 (same low byte): refused, not the cached pair.
  const last = good.charCodeAt(good.length - 1);
  const widened = good.slice(0, -1) + String.fromCharCode(last + 256);
  await expect(credentialsFor(ctx({ authorization: widened }), deps)).rejects.toMatchObject({ code: 'MalformedCredentials' });
  expect(await credentialsFor(ctx({ authorization: good }), deps)).toBe(cached);
});
