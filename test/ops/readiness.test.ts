/**
 * /readyz tells the truth (issue 10): not ready, with the reason in its JSON and one log line per
 * change, while chain credentials cannot be had or are refused, while the backlog or the spool
 * bound refuses sends, and while SQS is known unreachable, including before any queue was resolved.
 */
import { request } from 'undici';
import type { CredentialProvider } from '../../src/sqs/credentials.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';
import { post, runBounded, startTestDaemon, type TestDaemon, until } from '../support/daemon.js';

async function readyz(url: string): Promise<{ status: number; json: any }> {
  const res = await request(`${url}/readyz`, { headers: { host: 'localhost' } });
  return { status: res.statusCode, json: await res.body.json() };
}

let fake: FakeSqs;
beforeAll(async () => {
  fake = await startFakeSqs({ queues: ['q'] });
});
afterAll(async () => {
  await fake?.close();
});
afterEach(() => {
  fake.down = false;
  fake.faults = {};
});

const noAuth = { contentType: 'text/plain', headers: { authorization: undefined } };

describe('--credentials chain', () => {
  it('no credentials available: logged once at start with the reason, /readyz not ready, ready again once they come', async () => {
    let available = false;
    const credentialProvider: CredentialProvider = async () => {
      if (!available) throw Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' });
      return { accessKeyId: 'AKIDCHAIN', secretAccessKey: 'chain-secret' };
    };
    const d = await startTestDaemon(fake.endpoint, ['--credentials', 'chain'], 'info', { credentialProvider });
    try {
      await until(() => d.logs.find('no AWS credentials can be had').length > 0, 5000, 'the log line');
      let r = await readyz(d.url);
      expect(r.status).toBe(503);
      expect(r.json.checks.credentials).toBe('unavailable');
      expect(r.json.reason).toContain('Could not load credentials from any providers');
      const send = await post(d.url, '/queues/q', 'x', noAuth);
      expect([send.status, send.json.error.code]).toEqual([503, 'CredentialsUnavailable']);
      expect(d.logs.find('no AWS credentials can be had')).toHaveLength(1); // once per change, not per attempt
      expect(d.logs.find('not ready:')).toHaveLength(1);
      available = true;
      expect((await post(d.url, '/queues/q', 'y', noAuth)).status).toBe(202);
      r = await readyz(d.url);
      expect([r.status, r.json.checks.credentials, r.json.reason]).toEqual([200, 'ok', undefined]);
      expect(d.logs.find('ready again')).toHaveLength(1);
      expect(JSON.stringify(d.logs.lines)).not.toContain('chain-secret');
    } finally {
      await d.stop();
    }
  });

  it('credentials SQS refuses: /readyz not ready saying so', async () => {
    fake.faults = { refuseKeys: { AKIDREVOKED: 'InvalidClientTokenId' } };
    const credentialProvider: CredentialProvider = async () => ({ accessKeyId: 'AKIDREVOKED', secretAccessKey: 's' });
    const d = await startTestDaemon(fake.endpoint, ['--credentials', 'chain'], 'info', { credentialProvider });
    try {
      expect((await post(d.url, '/queues/q', 'x', noAuth)).status).toBe(401);
      const r = await readyz(d.url);
      expect([r.status, r.json.checks.credentials]).toEqual([503, 'refused']);
      expect(r.json.reason).toContain('InvalidClientTokenId');
    } finally {
      await d.stop();
    }
  });
});

describe('pass-through', () => {
  let d: TestDaemon;
  afterEach(async () => {
    fake.down = false;
    await d?.stop();
  });

  it('SQS unreachable before any queue was resolved: not ready (upstream), sends still accepted', async () => {
    d = await startTestDaemon(fake.endpoint, [], 'info');
    expect((await readyz(d.url)).json.checks).toEqual({ listener: 'ok', spool: 'ok', backlog: 'ok', upstream: 'unknown' });
    fake.down = true;
    for (const name of ['a', 'b', 'c']) expect((await post(d.url, `/queues/${name}`, 'x', { contentType: 'text/plain' })).status).toBe(202);
    const r = await readyz(d.url);
    expect([r.status, r.json.checks.upstream]).toEqual([503, 'unreachable']);
    expect(r.json.reason).toContain('SQS unreachable');
    expect(r.json.reason).toContain('ServiceUnavailable');
    await until(() => d.logs.find('not ready:').length === 1, 3000, 'the readiness log line');
  });

  it('backlog full: not ready with the reason, one line when it turns and one when it clears', async () => {
    d = await startTestDaemon(fake.endpoint, ['--max-backlog-messages', '2'], 'info');
    expect((await post(d.url, '/queues/q', 'first', { contentType: 'text/plain' })).status).toBe(202);
    await until(() => d.daemon.deps.pipeline.backlogMessages === 0, 5000, 'the first delivery');
    fake.faults = { throttle: 1 }; // SQS answers (reachable) but takes nothing
    await runBounded(2, 1, async () => expect((await post(d.url, '/queues/q', 'held', { contentType: 'text/plain' })).status).toBe(202));
    expect((await post(d.url, '/queues/q', 'refused', { contentType: 'text/plain' })).status).toBe(503);
    const r = await readyz(d.url);
    expect([r.status, r.json.checks.backlog]).toEqual([503, 'full']);
    expect(r.json.reason).toContain('backlog full');
    await readyz(d.url);
    expect(d.logs.find('not ready:')).toHaveLength(1);
    fake.faults = {};
    await until(() => d.daemon.deps.pipeline.backlogMessages === 0, 5000, 'the backlog to drain');
    await until(() => d.logs.find('ready again').length === 1, 3000, 'the ready-again line');
    expect((await readyz(d.url)).status).toBe(200);
  });

  it('spool full (--max-spool-bytes): not ready with the reason', async () => {
    d = await startTestDaemon(fake.endpoint, ['--max-spool-bytes', '1048576', '--spool-segment-bytes', '65536', '--max-message-bytes', '262144'], 'info', { spool: true });
    expect((await post(d.url, '/queues/q', 'first', { contentType: 'text/plain' })).status).toBe(202);
    await fake.waitFor(() => fake.messageCount('q') >= 1, 5000);
    fake.down = true;
    const body = 'z'.repeat(200_000);
    let refused: { status: number; json: any } | undefined;
    for (let i = 0; i < 10 && !refused; i++) {
      const r = await post(d.url, '/queues/q', body, { contentType: 'text/plain' });
      if (r.status !== 202) refused = r;
    }
    expect([refused?.status, refused?.json.error.code]).toEqual([503, 'SpoolFull']);
    const r = await readyz(d.url);
    expect([r.status, r.json.checks.spool]).toEqual([503, 'full']);
    expect(r.json.reason).toContain('spool full');
    fake.down = false;
    await until(() => d.daemon.deps.pipeline.backlogMessages === 0, 10_000, 'the backlog to drain');
    await until(() => d.daemon.deps.store.info().spoolBytes < 1_048_576 - 200_000, 5000, 'finished segments deleted');
    expect((await readyz(d.url)).json.checks.spool).toBe('ok');
  });
});
