import { type CredentialProvider, providerCredentials, staticCredentials } from '../../src/sqs/credentials.js';
import { batchSuccess, post, sqsError, startStubSqs, startTestDaemon } from '../support/daemon.js';

describe('staticCredentials', () => {
  it('returns the pair, frozen, keyed by all three parts; refresh does nothing', async () => {
    const a = staticCredentials({ accessKeyId: 'A', secretAccessKey: 'S' });
    const b = staticCredentials({ accessKeyId: 'A', secretAccessKey: 'S2' });
    const c = staticCredentials({ accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T' });
    expect(a.get()).toEqual({ accessKeyId: 'A', secretAccessKey: 'S' });
    expect(Object.isFrozen(a.get())).toBe(true);
    expect(new Set([a.key, b.key, c.key]).size).toBe(3);
    expect(a.refreshable).toBe(false);
    await a.refresh();
    expect(a.get()).toEqual({ accessKeyId: 'A', secretAccessKey: 'S' });
  });
});

describe('providerCredentials', () => {
  function provider(expiresInMs: number | undefined) {
    const calls: Array<{ forceRefresh?: boolean } | undefined> = [];
    let n = 0;
    const fn: CredentialProvider = async (options) => {
      calls.push(options);
      n += 1;
      await new Promise((r) => setTimeout(r, 5));
      return { accessKeyId: `K${n}`, secretAccessKey: 's', ...(expiresInMs === undefined ? {} : { expiration: new Date(Date.now() + expiresInMs) }) };
    };
    return { fn, calls };
  }

  it('fetches once, shares a fetch in progress, and caches until 5 minutes before expiry', async () => {
    const p = provider(3_600_000);
    const src = providerCredentials(p.fn);
    expect(src.refreshable).toBe(true);
    const [a, b] = await Promise.all([src.get(), src.get()]);
    expect(a).toBe(b);
    expect((await src.get()).accessKeyId).toBe('K1');
    expect(p.calls).toHaveLength(1);
  });

  it('fetches again when the credentials are within 5 minutes of expiring', async () => {
    const p = provider(60_000);
    const src = providerCredentials(p.fn);
    expect((await src.get()).accessKeyId).toBe('K1');
    expect((await src.get()).accessKeyId).toBe('K2');
    expect(p.calls).toHaveLength(2);
  });

  it('never-expiring credentials are kept; refresh() forces a new fetch', async () => {
    const p = provider(undefined);
    const src = providerCredentials(p.fn);
    await src.get();
    await src.get();
    expect(p.calls).toHaveLength(1);
    await src.refresh();
    expect(p.calls[1]).toEqual({ forceRefresh: true });
    expect((await src.get()).accessKeyId).toBe('K2');
  });

  it('a failing provider rejects, and the next get() tries again', async () => {
    let fail = true;
    const src = providerCredentials(async () => {
      if (fail) throw new Error('no IMDS');
      return { accessKeyId: 'OK', secretAccessKey: 's' };
    });
    await expect(src.get()).rejects.toThrow('no IMDS');
    fail = false;
    expect((await src.get()).accessKeyId).toBe('OK');
  });
});

describe('expired credentials, end to end', () => {
  it('chain mode: SQS says ExpiredToken, the daemon refreshes its credentials and resends', async () => {
    const stub = await startStubSqs(({ action, params, accessKeyId }) => {
      if (action === 'GetQueueUrl') return { body: { QueueUrl: `http://x/000/${params.QueueName}` } };
      if (action === 'GetQueueAttributes') return { body: { Attributes: {} } };
      if (accessKeyId === 'OLD') return sqsError(400, 'ExpiredToken', 'The security token included in the request is expired');
      return batchSuccess(params);
    });
    let current = 'OLD';
    const forced: boolean[] = [];
    const credentialProvider: CredentialProvider = async (options) => {
      forced.push(options?.forceRefresh === true);
      if (options?.forceRefresh) current = 'NEW';
      return { accessKeyId: current, secretAccessKey: 's', sessionToken: 't' };
    };
    const d = await startTestDaemon(stub.endpoint, ['--credentials', 'chain'], 'warn', { credentialProvider });
    try {
      // No Basic auth needed: the daemon signs with its own credentials.
      const r = await post(d.url, '/queues/q', 'hello', { contentType: 'text/plain', headers: { authorization: undefined } });
      expect(r.status).toBe(202);
      await d.daemon.deps.pipeline.idle();
      const sends = stub.calls.filter((c) => c.action === 'SendMessageBatch');
      expect(sends.map((c) => c.accessKeyId)).toEqual(['OLD', 'NEW']);
      expect(sends[1]?.headers['x-amz-security-token']).toBe('t');
      expect(forced).toContain(true);
      expect(d.daemon.deps.pipeline.totals).toMatchObject({ sent: 1, deadLettered: 0, retried: 1 });
    } finally {
      await d.stop();
      await stub.close();
    }
  });

  it('chain mode: credentials that stay expired after a refresh are retried with backoff, not in a tight loop', async () => {
    const stub = await startStubSqs(({ action, params }) => {
      if (action === 'GetQueueUrl') return { body: { QueueUrl: `http://x/000/${params.QueueName}` } };
      if (action === 'GetQueueAttributes') return { body: { Attributes: {} } };
      return sqsError(400, 'ExpiredToken');
    });
    // e.g. an expired session token in the environment: refreshing gives the same credentials.
    const credentialProvider: CredentialProvider = async () => ({ accessKeyId: 'STALE', secretAccessKey: 's', sessionToken: 't' });
    const d = await startTestDaemon(stub.endpoint, ['--credentials', 'chain', '--retry-base-ms', '100', '--retry-max-ms', '100', '--shutdown-grace-ms', '50'], 'warn', { credentialProvider });
    try {
      expect((await post(d.url, '/queues/q', 'hello', { contentType: 'text/plain', headers: { authorization: undefined } })).status).toBe(202);
      await new Promise((r) => setTimeout(r, 600));
      const sends = stub.calls.filter((c) => c.action === 'SendMessageBatch').length;
      // With a backoff of 50-100 ms: at most ~13 attempts in 600 ms (the first refresh may go at once).
      expect(sends).toBeGreaterThanOrEqual(2);
      expect(sends).toBeLessThanOrEqual(14);
    } finally {
      await d.stop();
      await stub.close();
    }
  });

  it("pass-through mode: the client's expired token cannot be refreshed; the message is dead-lettered, not retried forever", async () => {
    const stub = await startStubSqs(({ action, params }) => {
      if (action === 'GetQueueUrl') return { body: { QueueUrl: `http://x/000/${params.QueueName}` } };
      if (action === 'GetQueueAttributes') return { body: { Attributes: {} } };
      return sqsError(400, 'ExpiredToken');
    });
    const d = await startTestDaemon(stub.endpoint);
    try {
      const r = await post(d.url, '/queues/q', 'hello', { contentType: 'text/plain', headers: { 'x-amz-security-token': 'old-token' } });
      expect(r.status).toBe(202);
      await d.daemon.deps.pipeline.idle();
      expect(stub.calls.filter((c) => c.action === 'SendMessageBatch')).toHaveLength(1);
      expect(stub.calls[0]?.headers['x-amz-security-token']).toBe('old-token');
      const [dead] = d.logs.find('rejected by SQS for good').filter((l) => l.msgId === r.json.id);
      expect(dead).toMatchObject({ code: 'ExpiredToken', queue: 'q' });
      expect(d.logs.raw.join('\n')).not.toContain('old-token');
    } finally {
      await d.stop();
      await stub.close();
    }
  });
});
