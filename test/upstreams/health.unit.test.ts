import { SqsError } from '../../src/sqs/errors.js';
import { UpstreamHealth, type UpstreamState } from '../../src/upstreams/health.js';

const options = { afterFailures: 3, afterMs: 1000, probeMs: 100, probeMaxMs: 1000 };
const fault = (code = 'NetworkError') => new SqsError(code, `request to SQS failed: ${code}`, 0, undefined, 'retry');

function make() {
  let now = 1_000_000;
  const changes: Array<[UpstreamState, string | undefined]> = [];
  const h = new UpstreamHealth(options, (state, why) => changes.push([state, why?.code]), () => now);
  return { h, changes, advance: (ms: number) => (now += ms) };
}

describe('UpstreamHealth', () => {
  it('is down after the configured run of consecutive faults, told once', () => {
    const { h, changes } = make();
    h.fault(fault());
    h.fault(fault());
    expect(h.healthy).toBe(true);
    h.fault(fault('TimeoutError'));
    expect(h.healthy).toBe(false);
    h.fault(fault());
    expect(changes).toEqual([['down', 'TimeoutError']]);
    expect(h.snapshot()).toMatchObject({ state: 'down', consecutiveFailures: 4, failuresTotal: 4, downTotal: 1, lastError: { code: 'NetworkError' } });
  });

  it('an answer in between starts the run again', () => {
    const { h, changes } = make();
    h.fault(fault());
    h.fault(fault());
    h.answered();
    h.fault(fault());
    h.fault(fault());
    expect(h.healthy).toBe(true);
    expect(changes).toEqual([]);
  });

  it('is down after faults without an answer for afterMs, however few', () => {
    const { h, advance } = make();
    h.fault(fault());
    advance(999);
    h.fault(fault());
    expect(h.healthy).toBe(true);
    advance(1);
    expect(h.healthy).toBe(true); // judged at the next fault, never by a clock alone
    h.fault(fault());
    expect(h.healthy).toBe(false);
  });

  it('is healthy again at the first answer, told once', () => {
    const { h, changes } = make();
    for (let i = 0; i < 3; i++) h.fault(fault());
    h.answered();
    h.answered();
    expect(changes.map((c) => c[0])).toEqual(['down', 'healthy']);
    expect(h.snapshot()).toMatchObject({ state: 'healthy', consecutiveFailures: 0 });
  });

  it('probes back off: doubling per failed probe up to the cap, from the start after an answer', () => {
    const { h } = make();
    expect(h.probeDelayMs()).toBe(100);
    expect([h.probeFailed(), h.probeFailed(), h.probeFailed(), h.probeFailed(), h.probeFailed()]).toEqual([200, 400, 800, 1000, 1000]);
    h.answered();
    expect(h.probeDelayMs()).toBe(100);
  });

  it('shows the next probe only while down', () => {
    const { h } = make();
    h.nextProbeAt = 1_000_100;
    expect(h.snapshot().nextProbeAt).toBeUndefined();
    for (let i = 0; i < 3; i++) h.fault(fault());
    h.nextProbeAt = 1_000_100;
    expect(h.snapshot().nextProbeAt).toBe(new Date(1_000_100).toISOString());
  });
});
