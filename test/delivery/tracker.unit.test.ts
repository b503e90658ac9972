import { type Envelope, newMessageId } from '../../src/delivery/envelope.js';
import { MessageTracker } from '../../src/delivery/tracker.js';
import { staticCredentials } from '../../src/sqs/credentials.js';
import { makeDestination } from '../../src/sqs/resolver.js';

const mine = staticCredentials({ accessKeyId: 'A', secretAccessKey: 'S' });
const theirs = staticCredentials({ accessKeyId: 'B', secretAccessKey: 'S' });
const limits = { fifo: false, contentBasedDedup: false, maxMessageBytes: 1024 };
const dest = makeDestination(`${mine.key}\0q`, 'q', 'http://x/000/q', limits, mine);

function env(): Envelope {
  return { id: newMessageId(), dest, message: { body: 'b' }, bytes: 1, accepted: { at: 1000 }, attempts: 0 };
}

describe('MessageTracker', () => {
  it('follows a message from spooled to in flight to delivered, with SQS ids; only its owner sees it', () => {
    const t = new MessageTracker(10);
    const e = env();
    t.accepted([e]);
    expect(t.get(e.id)).toMatchObject({ id: e.id, queue: 'q', state: 'spooled', acceptedAt: 1000 });
    e.attempts = 1;
    t.sending([e]);
    expect(t.get(e.id)).toMatchObject({ state: 'in-flight', attempts: 1 });
    e.lastError = { code: 'ThrottlingException', message: 'slow down' };
    t.retrying([e]);
    expect(t.get(e.id)).toMatchObject({ state: 'spooled', error: { code: 'ThrottlingException' } });
    t.delivered([e], ['mid-1'], ['42']);
    const s = t.get(e.id, mine.key);
    expect(s).toMatchObject({ state: 'delivered', messageId: 'mid-1', sequenceNumber: '42' });
    expect(s?.error).toBeUndefined();
    expect(t.get(e.id, theirs.key)).toBeUndefined();
    expect(Object.keys(s as object)).not.toContain('owner'); // the credentials key holds the secret
  });

  it('keeps at most `max` messages, forgetting the oldest', () => {
    const t = new MessageTracker(3);
    const es = Array.from({ length: 5 }, env);
    t.accepted(es);
    expect(t.size).toBe(3);
    expect(t.get(es[0]!.id)).toBeUndefined();
    expect(t.get(es[4]!.id)).toBeDefined();
  });

  it('forgets the oldest first over many windows, a re-accepted id keeping its place', () => {
    const t = new MessageTracker(100);
    const es = Array.from({ length: 1000 }, env);
    for (let i = 0; i < es.length; i += 10) {
      t.accepted(es.slice(i, i + 10));
      // A replayed message accepted again is not made younger (nor tracked twice).
      if (i >= 50) t.accepted([es[i - 50]!]);
      expect(t.size).toBe(Math.min(100, i + 10));
    }
    expect(es.slice(0, 900).filter((e) => t.get(e.id) !== undefined)).toEqual([]);
    expect(es.slice(900).every((e) => t.get(e.id) !== undefined)).toBe(true);
  });

  it('wait() resolves when every message is finished, or at the timeout with the states so far', async () => {
    const t = new MessageTracker(10);
    const [a, b] = [env(), env()];
    t.accepted([a!, b!]);
    const both = t.wait([a!.id, b!.id], 5000);
    t.delivered([a!], ['ma']);
    t.deadLettered([b!], { code: 'AccessDenied', message: 'no' });
    expect((await both).map((s) => [s.state, s.messageId ?? s.error?.code])).toEqual([['delivered', 'ma'], ['dead-lettered', 'AccessDenied']]);
    const c = env();
    t.accepted([c]);
    expect((await t.wait([c.id], 20)).map((s) => s.state)).toEqual(['spooled']);
    expect(t.waiters).toBe(0);
  });

  it('a message waited for is not forgotten by the window before it is finished', async () => {
    const t = new MessageTracker(2);
    const w = env();
    t.accepted([w]);
    const p = t.wait([w.id], 5000);
    t.accepted([env(), env(), env()]);
    expect(t.get(w.id)).toBeDefined();
    expect(t.size).toBeLessThanOrEqual(3);
    t.delivered([w]);
    expect((await p)[0]?.state).toBe('delivered');
  });

  it('a message no longer waited for (its wait timed out) is forgotten in its turn again', async () => {
    const t = new MessageTracker(2);
    const w = env();
    t.accepted([w]);
    expect((await t.wait([w.id], 5))[0]?.state).toBe('spooled');
    t.accepted([env(), env(), env()]);
    expect(t.get(w.id)).toBeUndefined();
    expect(t.size).toBe(2);
  });

  it('a batch larger than the window keeps only its last `max`', () => {
    const t = new MessageTracker(100);
    const es = Array.from({ length: 10_000 }, env);
    t.accepted(es);
    expect(t.size).toBe(100);
    expect(es.filter((e) => t.get(e.id) !== undefined)).toEqual(es.slice(-100));
  });

  it('tracks ids of any format (replayed from older runs), and gives back SQS ids exactly as SQS gave them', () => {
    const t = new MessageTracker(1000);
    const ids = ['0f8fad5b-d9cb-469f-a165-70867728950e', 'lqz1abc123-00a', 'LQZ1ABC123-A', ...Array.from({ length: 80 }, (_, i) => `run${i}-${(i + 1).toString(36)}`)];
    const es = ids.map((id) => ({ ...env(), id }));
    t.accepted(es);
    const mids = ['8a2c3e6f-0c4d-4b8e-9f10-1a2b3c4d5e6f', '8A2C3E6F-0C4D-4B8E-9F10-1A2B3C4D5E6F', 'not-a-uuid'];
    t.delivered(
      es,
      es.map((_, i) => mids[i % 3]),
    );
    expect(es.map((e) => t.get(e.id))).toEqual(es.map((e, i) => expect.objectContaining({ id: e.id, state: 'delivered', messageId: mids[i % 3] })));
    expect(t.get('lqz1abc123-a')).toBeUndefined();
  });

  it("a dead letter's reason is copied, not the caller's object", () => {
    const t = new MessageTracker(10);
    const e = env();
    t.accepted([e]);
    const reason = { code: 'AccessDenied', message: 'no' };
    t.deadLettered([e], reason);
    reason.message = 'changed';
    expect(t.get(e.id)).toMatchObject({ state: 'dead-lettered', error: { code: 'AccessDenied', message: 'no' } });
    expect(t.get(e.id)?.finishedAt).toEqual(expect.any(Number));
  });
});
