/**
 * Held login refusals (src/http/tarpit.ts, issue 11): a throttled client's 429 waits the
 * delay (at most its Retry-After), at most `maxHeld` wait at once (past it: at once, connection
 * closed), a client that goes away frees its place without a write, and a release (shutdown)
 * answers every held one at once, closing their connections, and holds nothing after.
 */
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { jest } from '@jest/globals';
import { Tarpit } from '../../src/http/tarpit.js';

class FakeRes extends EventEmitter {
  destroyed = false;
  close(): void {
    this.destroyed = true;
    this.emit('close');
  }
}
const res = (): FakeRes & ServerResponse => new FakeRes() as FakeRes & ServerResponse;

beforeEach(() => jest.useFakeTimers());
afterEach(() => jest.useRealTimers());

it('holds a refusal for the delay, then answers it on a connection that stays open', () => {
  const t = new Tarpit(1000, 8);
  const answers: boolean[] = [];
  t.hold(res(), (close) => answers.push(close));
  expect(t.size).toBe(1);
  jest.advanceTimersByTime(999);
  expect(answers).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(answers).toEqual([false]);
  expect(t.size).toBe(0);
});

it('holds no longer than the cap (its Retry-After)', () => {
  const t = new Tarpit(5000, 8);
  const answers: boolean[] = [];
  t.hold(res(), (close) => answers.push(close), 2000);
  jest.advanceTimersByTime(1999);
  expect(answers).toEqual([]);
  jest.advanceTimersByTime(1);
  expect(answers).toEqual([false]);
});

it('past maxHeld answers at once and closes the connection; a place freed is used again', () => {
  const t = new Tarpit(1000, 2);
  const answers: string[] = [];
  const first = res();
  t.hold(first, (close) => answers.push(`a${close}`));
  t.hold(res(), (close) => answers.push(`b${close}`));
  t.hold(res(), (close) => answers.push(`c${close}`));
  expect(answers).toEqual(['ctrue']);
  expect(t.size).toBe(2);
  first.close(); // the client went away: no write, its place is free
  expect(t.size).toBe(1);
  t.hold(res(), (close) => answers.push(`d${close}`));
  expect(answers).toEqual(['ctrue']);
  jest.advanceTimersByTime(1000);
  expect(answers.sort()).toEqual(['bfalse', 'ctrue', 'dfalse']); // never a write for a
});

it('delay 0: every refusal answered at once, the connection kept', () => {
  const t = new Tarpit(0, 8);
  const answers: boolean[] = [];
  t.hold(res(), (close) => answers.push(close));
  expect(answers).toEqual([false]);
  expect(t.size).toBe(0);
});

it('releaseAll answers every held refusal at once with Connection: close, and holds nothing after', () => {
  const t = new Tarpit(60_000, 8);
  const answers: string[] = [];
  t.hold(res(), (close) => answers.push(`a${close}`));
  t.hold(res(), (close) => answers.push(`b${close}`));
  const gone = res();
  t.hold(gone, (close) => answers.push(`c${close}`));
  gone.destroyed = true; // destroyed, its close event not yet delivered: nothing written to it
  t.releaseAll();
  expect(answers).toEqual(['atrue', 'btrue']);
  expect(t.size).toBe(0);
  t.hold(res(), (close) => answers.push(`d${close}`));
  expect(answers).toEqual(['atrue', 'btrue', 'dtrue']);
  jest.advanceTimersByTime(60_000);
  expect(answers).toHaveLength(3); // the released ones' timers are gone: none answered twice
});
