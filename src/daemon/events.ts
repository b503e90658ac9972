import type { Logger } from 'pino';
import type { PipelineObserver } from '../delivery/pipeline.js';
import { describeBug } from '../errors.js';

/**
 * What a daemon tells an embedding program, by queue name (never credentials, never bodies).
 * `count` messages at a time: the pipeline works in batches.
 */
export interface DaemonEvents {
  /** Messages recorded (durably, unless --durability memory) and acknowledged to their sender. */
  accepted: [event: { queue: string; count: number; bytes: number }];
  /** Messages SQS confirmed. */
  delivered: [event: { queue: string; count: number }];
  /** Messages that failed transiently and are scheduled again (`code`: SQS's or ours, e.g. NetworkError). */
  retried: [event: { queue: string; code: string; count: number }];
  /** Messages refused for good (or too old), now in the dead-letter store (`code`: why). */
  'dead-lettered': [event: { queue: string; code: string; count: number }];
}

interface Emitter {
  listenerCount(name: keyof DaemonEvents): number;
  emit<K extends keyof DaemonEvents>(name: K, ...args: DaemonEvents[K]): boolean;
}

/**
 * Turns pipeline hooks into events; nothing is built when nobody listens. A listener that
 * throws is logged and does not disturb delivery (observer hooks must not throw).
 */
export function eventObserver(target: Emitter, log: Logger): PipelineObserver {
  const emitter: Emitter = {
    listenerCount: (name) => target.listenerCount(name),
    emit: (name, ...args) => {
      try {
        return target.emit(name, ...args);
      } catch (err) {
        log.error({ err: describeBug(err), event: name }, 'a listener of a daemon event threw; delivery goes on');
        return true;
      }
    },
  };
  return {
    accepted: (dest, count, bytes) => {
      if (emitter.listenerCount('accepted') > 0) emitter.emit('accepted', { queue: dest.queueName, count, bytes });
    },
    delivered: (dest, count) => {
      if (emitter.listenerCount('delivered') > 0) emitter.emit('delivered', { queue: dest.queueName, count });
    },
    retried: (dest, code, count) => {
      if (emitter.listenerCount('retried') > 0) emitter.emit('retried', { queue: dest.queueName, code, count });
    },
    deadLettered: (dest, code, count) => {
      if (emitter.listenerCount('dead-lettered') > 0) emitter.emit('dead-lettered', { queue: dest.queueName, code, count });
    },
  };
}
