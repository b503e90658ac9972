/**
 * Issue 12's benchmark, in two parts, same sitting:
 *
 * 1. App-perceived latency: an app that sends with `@aws-sdk/client-sqs` SendMessage, first
 *    straight to the fake SQS (20 ms), then pointed at the daemon's SQS API, at each rate of
 *    `plan.sqsApiRates`. The app endpoint awaits SendMessage before it answers; "app CPU" is
 *    the SDK app's own process, "daemon CPU" the daemon behind it. The SDK app runs on the load
 *    generator's core (it is the daemon's client; the daemon keeps the server core to itself, as
 *    everywhere in the bench), the same core in both rows. A rate the SDK alone cannot sustain
 *    shows up as queueing in both rows: the report says so instead of judging it.
 * 2. The door's own cost: the load generator sends hand-built AWS JSON 1.0 SendMessage
 *    requests (no SDK anywhere) straight to the daemon, then form posts to its REST route, at
 *    the same rate; daemon CPU per message of the two is the issue's "within 1.3×" comparison.
 *
 * Every acknowledged message is checked in the fake, as everywhere in the bench.
 */
import type { Bench } from './run.js';

const DAEMON_ENV = { AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'benchsecret' };

export async function sqsApiPhase(b: Bench): Promise<void> {
  const queue = 'bench-sqsapi';
  const durationMs = b.plan.rateMs;
  // The split of CPU between the SDK app and the daemon behind it wants them on their own cores:
  // pinned whenever the sitting measures the pinned layout at all.
  const pin = b.pins.includes('pinned') ? 'pinned' : 'unpinned';
  await b.fake.call('createQueue', { name: queue });
  const warm = async (origin: string, rate: number, extra: { sqsQueueUrl?: string } = {}): Promise<void> => {
    const spec = b.spec(origin, queue, { mode: 'open', rate, durationMs: b.plan.warmMs, ...extra });
    await b.awaitDelivery(queue, spec.tag, await b.load(spec), 60_000);
  };
  try {
    for (const rate of b.plan.sqsApiRates) {
      const direct = await b.startServer('sdk-app', [b.endpoint, queue], 'client');
      try {
        await warm(direct.origin, rate);
        await b.measure({ pin, id: `sqsapi-direct-open-${rate}`, system: 'SDK app → SQS', scenario: `open ${rate}/s`, server: direct.child, queue, spec: b.spec(direct.origin, queue, { mode: 'open', rate, durationMs }) });
      } finally {
        await direct.child.stop(5000);
      }
    }
    const d = await b.startDaemon(b.defaultMode, ['--credentials', 'chain'], [], DAEMON_ENV);
    try {
      for (const rate of b.plan.sqsApiRates) {
        const app = await b.startServer('sdk-app', [d.origin, queue], 'client');
        try {
          await warm(app.origin, rate);
          await b.measure({
            pin,
            id: `sqsapi-daemon-open-${rate}`,
            system: 'SDK app → daemon (SQS API)',
            mode: d.mode,
            scenario: `open ${rate}/s`,
            server: app.child,
            behind: d.child,
            queue,
            spec: b.spec(app.origin, queue, { mode: 'open', rate, durationMs }),
          });
        } finally {
          await app.child.stop(5000);
        }
      }
      const rate = b.plan.sqsApiDoorRate;
      // A queue URL naming the daemon, as the door hands them out: it keeps the path
      // (/<account>/<queue>) and maps the host back to the upstream.
      const sqsQueueUrl = `${d.origin}/000000000000/${queue}`;
      await warm(d.origin, rate, { sqsQueueUrl });
      await b.measure({ pin, id: `sqsapi-door-open-${rate}`, system: 'daemon SQS API door (JSON)', mode: d.mode, scenario: `open ${rate}/s`, server: d.child, queue, spec: b.spec(d.origin, queue, { mode: 'open', rate, durationMs, sqsQueueUrl }) });
      await warm(d.origin, rate);
      await b.measure({ pin, id: `sqsapi-rest-open-${rate}`, system: 'daemon REST route', mode: d.mode, scenario: `open ${rate}/s`, server: d.child, queue, spec: b.spec(d.origin, queue, { mode: 'open', rate, durationMs }) });
    } finally {
      await b.stopDaemon(d);
    }
  } finally {
    await b.fake.call('deleteQueue', { name: queue });
  }
}
