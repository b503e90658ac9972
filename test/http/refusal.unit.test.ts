/**
 * The send fast path's early answer to a client throttled for failed local logins
 * (src/http/refusal.ts, issue 11): prepared once, the same answer the route gives (status,
 * Retry-After, security headers, body), decided by the same first steps every login takes
 * (LocalUsers.answerAtOnce), and never standing in the way of a password verified before.
 */
import type { IncomingMessage } from 'node:http';
import { failureAnswer } from '../../src/http/app.js';
import { type AuthContext, credentialsFor } from '../../src/http/auth.js';
import { errorHeaders } from '../../src/http/errors.js';
import { throttledLogins } from '../../src/http/refusal.js';
import { SECURITY_HEADERS } from '../../src/http/ui/layout.js';
import { hashPassword, LocalUsers, type LoginResult } from '../../src/http/users.js';
import { createLogger } from '../../src/log.js';
import { staticCredentials } from '../../src/sqs/credentials.js';

const basic = (name: string, pass: string): string => `Basic ${Buffer.from(`${name}:${pass}`).toString('base64')}`;
const request = (authorization: string | undefined, ip = '10.0.0.7'): IncomingMessage => ({ headers: authorization === undefined ? {} : { authorization }, socket: { remoteAddress: ip } }) as unknown as IncomingMessage;
const daemonCredentials = staticCredentials({ accessKeyId: 'AKIDDAEMON', secretAccessKey: 'daemon-secret' });

let users: LocalUsers;
let deps: { config: { credentials: 'chain' }; auth: { daemonCredentials: typeof daemonCredentials; localUsers: LocalUsers } };
beforeEach(() => {
  users = new LocalUsers(`${hashPassword('app', 's3cret')}\n`);
  deps = { config: { credentials: 'chain' }, auth: { daemonCredentials, localUsers: users } };
});

/** What the route answers for this request (credentialsFor's refusal, as fast-send.ts writes it). */
async function routeAnswer(req: IncomingMessage): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const ctx: AuthContext = { state: {}, ip: req.socket.remoteAddress ?? '', get: (h: string) => String(req.headers[h] ?? '') };
  const err = await credentialsFor(ctx, deps as never).then(
    () => undefined,
    (e: unknown) => e,
  );
  const { error, payload } = failureAnswer({ log: createLogger('silent'), metrics: undefined }, err, 'POST', '/queues/q');
  const body = JSON.stringify(payload);
  return { status: error.status, headers: { ...SECURITY_HEADERS, ...errorHeaders(error), 'content-type': 'application/json; charset=utf-8', 'content-length': String(Buffer.byteLength(body)) }, body };
}

it('is off without local users (pass-through mode, or chain without --users-file)', () => {
  expect(throttledLogins({ config: { credentials: 'passthrough' } as never, auth: { daemonCredentials: undefined, localUsers: users } as never })).toBeUndefined();
  expect(throttledLogins({ config: { credentials: 'chain' } as never, auth: { daemonCredentials, localUsers: undefined } as never })).toBeUndefined();
});

it('leaves to the route every request it cannot answer at once: no or malformed credentials, a password still to check', () => {
  const early = throttledLogins(deps as never) as NonNullable<ReturnType<typeof throttledLogins>>;
  for (const auth of [undefined, 'Bearer x', 'Basic !!!', basic('app', 'wrong'), basic('nobody', 'x')]) {
    const state: { login?: Promise<LoginResult> } = {};
    expect(early(request(auth), state)).toBeUndefined();
    expect(state.login).toBeUndefined();
  }
  expect(users.throttle.size).toBe(0); // nothing counted: only the route's scrypt check counts a failure
});

it('a throttled client gets the route\'s own 429 (Retry-After, security headers, body), prepared once per wait', async () => {
  const early = throttledLogins(deps as never) as NonNullable<ReturnType<typeof throttledLogins>>;
  for (let i = 0; i < 5; i++) expect(await users.login('10.0.0.7', 'app', `guess-${i}`)).toMatchObject({ ok: false, code: 'InvalidLocalUser' });
  const req = request(basic('app', 'guess-6'));
  const answer = early(req, {});
  expect(answer).toBeDefined();
  const route = await routeAnswer(req);
  expect(route.status).toBe(429);
  expect({ status: answer?.status, headers: Object.fromEntries(chunks(answer?.headers ?? [])), body: answer?.body }).toEqual(route);
  expect(JSON.parse(answer?.body ?? '')).toMatchObject({ error: { code: 'TooManyFailedLogins' } });
  expect(Number(Object.fromEntries(chunks(answer?.headers ?? []))['retry-after'])).toBeGreaterThan(0);
  expect(chunks(answer?.closeHeaders ?? [])).toEqual([...chunks(answer?.headers ?? []), ['connection', 'close']]); // the variant for a connection to close
  expect(answer?.retryAfterMs).toBe(1000 * Number(route.headers['retry-after']));
  expect(early(request(basic('app', 'guess-7')), {})).toBe(answer); // the same prepared answer, not a new one
  // Per client and name, as the throttle counts: another client, or another name, is not refused here.
  expect(early(request(basic('app', 'guess-8'), '10.0.0.8'), {})).toBeUndefined();
  expect(early(request(basic('other', 'guess')), {})).toBeUndefined();
});

it('a password verified before logs in from a throttled client, and the route reuses that answer', async () => {
  expect(await users.login('10.0.0.7', 'app', 's3cret')).toEqual({ ok: true });
  for (let i = 0; i < 5; i++) await users.login('10.0.0.7', 'app', `guess-${i}`);
  const early = throttledLogins(deps as never) as NonNullable<ReturnType<typeof throttledLogins>>;
  expect(early(request(basic('app', 'guess-9')), {})?.status).toBe(429);
  const state: { login?: Promise<LoginResult> } = {};
  expect(early(request(basic('app', 's3cret')), state)).toBeUndefined();
  expect(await state.login).toEqual({ ok: true });
  const ctx: AuthContext = { state, ip: '10.0.0.7', get: (h: string) => (h === 'authorization' ? basic('app', 's3cret') : '') };
  await expect(credentialsFor(ctx, deps as never)).resolves.toBe(daemonCredentials);
});

function chunks(flat: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i] as string, flat[i + 1] as string]);
  return out;
}
