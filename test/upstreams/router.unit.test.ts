import pino from 'pino';
import { type Envelope, messageOf, newEnvelopes } from '../../src/delivery/envelope.js';
import { SqsClient } from '../../src/sqs/client.js';
import { staticCredentials } from '../../src/sqs/credentials.js';
import { QueueResolver } from '../../src/sqs/resolver.js';
import { type Upstream, Upstreams } from '../../src/upstreams/router.js';
import { startFakeSqs, type FakeSqs } from '../support/fake-sqs.js';

const creds = staticCredentials({ accessKeyId: 'AKID', secretAccessKey: 'S' });
const log = pino({ level: 'silent' });
const health = { afterFailures: 1, afterMs: 60_000, probeMs: 60_000, probeMaxMs: 60_000 };

let fakes: FakeSqs[] = [];
let router: Upstreams;

async function build(queues: string[][], fifo = false): Promise<Upstreams> {
  fakes = await Promise.all(queues.map((q) => startFakeSqs({ queues: q })));
  const list: Upstream[] = fakes.map((f, index) => {
    const client = new SqsClient({ endpoint: f.endpoint, region: 'us-east-1' });
    return {
      index,
      config: { name: `u${index}`, region: 'us-east-1', endpoint: f.endpoint, profile: '' },
      client,
      resolver: new QueueResolver(client, { maxMessageBytes: 1_048_576 }),
      health: Upstreams.health(`u${index}`, health, log, () => undefined),
      credentials: undefined,
    };
  });
  router = new Upstreams(list, { ...health, fifo, log });
  return router;
}

async function batch(queue: string, bodies: string[]): Promise<Envelope[]> {
  const dest = await (router.list[0] as Upstream).resolver.resolve(creds, queue);
  return newEnvelopes(dest, bodies.map((body) => ({ message: { body }, bytes: body.length })), Date.now()).envs;
}

afterEach(async () => {
  await router?.close();
  await (router?.list[0] as Upstream | undefined)?.client.close();
  await Promise.all(fakes.map((f) => f.close()));
});

describe('Upstreams (the failover router)', () => {
  it('with a healthy primary, sends there and keeps no route', async () => {
    await build([['q'], ['q']]);
    const out = await router.send(await batch('q', ['a', 'b']));
    expect(out.delivered.length).toBe(2);
    expect(fakes[0]!.bodies('q')).toEqual(['a', 'b']);
    expect([...router.routedQueues()]).toEqual([]);
    expect(router.routeOf(`${creds.key}\0q`)).toMatchObject({ upstream: 'u0', reason: 'primary' });
    expect(router.status().map((s) => [s.name, s.state, s.sent])).toEqual([['u0', 'healthy', 2], ['u1', 'healthy', 0]]);
  });

  it('a failure that may have stored the batch, then delivery elsewhere: counted as possible duplicates', async () => {
    await build([['q'], ['q']]);
    const envs = await batch('q', ['a', 'b', 'c']);
    fakes[0]!.down = true; // 503 to everything: the request arrived, the answer says nothing of the batch
    const first = await router.send(envs);
    expect(first.requestError?.code).toBe('ServiceUnavailable');
    expect(router.status()[0]!.state).toBe('down');
    const second = await router.send(envs);
    expect(second.delivered.length).toBe(3);
    expect(fakes[1]!.bodies('q')).toEqual(['a', 'b', 'c']);
    expect(router.possibleDuplicates).toBe(3);
    expect(router.switches).toBe(1);
    expect(router.routeOf(envs[0]!.dest.key)).toMatchObject({ upstream: 'u1', reason: 'failover', detail: 'u0 down' });
  });

  it('a failed request says whether another upstream may take the next batch: the pipeline holds batches (outage.ts) only when none can', async () => {
    await build([['q', 'q.fifo'], ['q', 'q.fifo']]);
    const std = await batch('q', ['a']);
    const fifoDest = await (router.list[0] as Upstream).resolver.resolve(creds, 'q.fifo');
    const fifo = newEnvelopes(fifoDest, [{ message: { body: 'f', groupId: 'g' }, bytes: 1 }], Date.now()).envs;
    fakes[0]!.down = true;
    const first = await router.send(std);
    expect(first.requestError?.code).toBe('ServiceUnavailable');
    expect(first.elsewhere).toBe(true); // u1 is healthy: the queue moves there
    // A FIFO queue stays on its upstream (--failover-fifo off): nowhere else to go.
    const stays = await router.send(fifo);
    expect(stays.requestError?.code).toBe('ServiceUnavailable');
    expect(stays.elsewhere).toBeUndefined();
    // Every upstream down: nowhere else either.
    fakes[1]!.down = true;
    const last = await router.send(std);
    expect(last.requestError?.code).toBe('ServiceUnavailable');
    expect(router.status().map((s) => s.state)).toEqual(['down', 'down']);
    expect(last.elsewhere).toBeUndefined();
  });

  it('a refused connection cannot have stored anything: not counted', async () => {
    await build([['q'], ['q']]);
    const envs = await batch('q', ['a']);
    await fakes[0]!.unplug();
    // The pool notices its kept-alive connection closed (else the send is a reset on it, which may
    // have stored the batch): waited for, bounded, not a fixed 50 ms a stalled loop could outlast.
    for (const deadline = Date.now() + 5000; ((router.list[0] as Upstream).client.stats()?.connected ?? 0) > 0; ) {
      if (Date.now() > deadline) throw new Error('the pool still holds a connection to the unplugged fake after 5 s');
      await new Promise((r) => setTimeout(r, 5));
    }
    const first = await router.send(envs);
    expect(first.requestError?.message).toContain('ECONNREFUSED');
    expect((await router.send(envs)).delivered.length).toBe(1);
    expect(router.possibleDuplicates).toBe(0);
  });

  it('a queue deleted in the secondary after the move is retried, never dead-lettered', async () => {
    await build([['q'], ['q']]);
    const envs = await batch('q', ['a']);
    fakes[0]!.down = true;
    await router.send(envs);
    expect((await router.send(envs)).delivered.length).toBe(1);
    fakes[1]!.deleteQueue('q');
    const gone = await router.send(envs);
    expect(gone.requestError).toMatchObject({ code: 'QueueMissingInUpstream', disposition: 'retry' });
    expect(gone.failed.every((f) => f.error.disposition === 'retry')).toBe(true);
  });

  it('throttling is an answer: the upstream stays healthy', async () => {
    await build([['q'], ['q']]);
    fakes[0]!.faults = { throttle: 1, actions: ['SendMessageBatch'] };
    const out = await router.send(await batch('q', ['a']));
    expect(out.requestError?.disposition).toBe('retry');
    expect(router.status()[0]).toMatchObject({ state: 'healthy', failuresTotal: 0 });
  });

  it('FIFO stays on the down primary unless allowed', async () => {
    await build([['q.fifo'], ['q.fifo']]);
    const envs = await batch('q.fifo', ['a']);
    envs[0]!.message = { ...messageOf(envs[0]!.message), groupId: 'g' };
    await fakes[0]!.unplug();
    await router.send(envs);
    const again = await router.send(envs);
    expect(again.requestError?.code).toBe('NetworkError');
    expect(fakes[1]!.stats.byAction.SendMessageBatch ?? 0).toBe(0);
    expect(router.routeOf(envs[0]!.dest.key)).toMatchObject({ upstream: 'u0', reason: 'fifo-stays' });
  });
});
