/**
 * Issue 12's benchmark: an app that sends with `@aws-sdk/client-sqs` SendMessage, first straight
 * to the fake SQS (20 ms), then pointed at the daemon's SQS API, at the same rate in the same
 * sitting. App-perceived latency is the app endpoint's answer time (it awaits SendMessage);
 * "app CPU" is the SDK app's own process, "daemon CPU" the daemon behind it. The REST route of
 * the same daemon at the same rate gives the daemon CPU the SQS API is compared with. Every
 * acknowledged message is checked in the fake, as everywhere in the bench.
 */
import type { Bench } from './run.js';

const DAEMON_ENV = { AWS_ACCESS_KEY_ID: 'AKIDBENCH', AWS_SECRET_ACCESS_KEY: 'benchsecret' };

export async function sqsApiPhase(b: Bench): Promise<void> {
  const queue = 'bench-sqsapi';
  const rate = b.plan.sqsApiRate;
  const durationMs = b.plan.rateMs;
  await b.fake.call('createQueue', { name: queue });
  const warm = async (origin: string): Promise<void> => {
    const spec = b.spec(origin, queue, { mode: 'open', rate, durationMs: b.plan.warmMs });
    await b.awaitDelivery(queue, spec.tag, await b.load(spec), 60_000);
  };
  try {
    const direct = await b.startServer('sdk-app', [b.endpoint, queue]);
    try {
      await warm(direct.origin);
      await b.measure({ id: `sqsapi-direct-open-${rate}`, system: 'SDK app → SQS', scenario: `open ${rate}/s`, server: direct.child, queue, spec: b.spec(direct.origin, queue, { mode: 'open', rate, durationMs }) });
    } finally {
      await direct.child.stop(5000);
    }
    const d = await b.startDaemon(b.defaultMode, ['--credentials', 'chain'], [], DAEMON_ENV);
    try {
      const app = await b.startServer('sdk-app', [d.origin, queue]);
      try {
        await warm(app.origin);
        await b.measure({
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
      await warm(d.origin);
      await b.measure({ id: `sqsapi-rest-open-${rate}`, system: 'daemon REST route', mode: d.mode, scenario: `open ${rate}/s`, server: d.child, queue, spec: b.spec(d.origin, queue, { mode: 'open', rate, durationMs }) });
    } finally {
      await b.stopDaemon(d);
    }
  } finally {
    await b.fake.call('deleteQueue', { name: queue });
  }
}
