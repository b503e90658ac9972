/**
 * The known queues file (src/sqs/known-queues.ts): queue URLs and settings kept beside the spool
 * for the next start. Its periodic write runs in libuv's pool, off the event loop (issue 11: an
 * fsync on the loop every time queues' settings were read again); the shutdown's synchronous
 * write supersedes one still under way.
 */
import { jest } from '@jest/globals';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../src/log.js';
import { KnownQueues } from '../../src/sqs/known-queues.js';
import { makeDest } from '../support/delivery-harness.js';

const log = createLogger('silent');
let dir: string;
let file: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sqsa-known-'));
  file = join(dir, 'queues.json');
});
afterEach(() => {
  jest.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

const names = (): string[] => (JSON.parse(readFileSync(file, 'utf8')) as { queues: Array<{ q: string }> }).queues.map((e) => e.q);

it('writes its changes a second later off the event loop, and a new start reads them back', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const known = new KnownQueues(file, log);
  const a = makeDest('orders');
  known.save(a);
  jest.advanceTimersByTime(999);
  expect(existsSync(file)).toBe(false);
  jest.advanceTimersByTime(1);
  // The write has begun, in libuv's pool: nothing of it is done in this turn.
  expect(existsSync(file)).toBe(false);
  jest.useRealTimers();
  await known.settled();
  expect(names()).toEqual(['orders']);
  expect(new KnownQueues(file, log).get(a.credentials.key, 'orders')).toEqual({ queueUrl: a.queueUrl, limits: a.limits });
  // Only the file itself is left: no temporary one.
  expect(readdirSync(dir)).toEqual(['queues.json']);
});

it('a shutdown write while a pool write is under way wins, whichever finishes last', async () => {
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
  const known = new KnownQueues(file, log);
  known.save(makeDest('first'));
  jest.advanceTimersByTime(1000); // the pool write of [first] begins
  known.save(makeDest('second'));
  known.flush(); // shutdown: [first, second], at once
  expect(names()).toEqual(['first', 'second']);
  jest.useRealTimers();
  await known.settled();
  expect(names()).toEqual(['first', 'second']);
  expect(readdirSync(dir)).toEqual(['queues.json']);
  // Nothing left to write: a flush now changes nothing.
  known.flush();
  expect(names()).toEqual(['first', 'second']);
});
