import { EventEmitter } from 'node:events';

/**
 * An EventEmitter whose event names and payloads are checked by the compiler (after
 * bbc/sqs-consumer's src/emitter.ts). Listeners must not throw: a listener's error is
 * caught and logged by the emitter's owner rather than breaking the consumer.
 */
export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> extends EventEmitter {
  override on<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.on(event, listener as (...args: unknown[]) => void);
  }
  override once<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.once(event, listener as (...args: unknown[]) => void);
  }
  override off<K extends keyof Events & string>(event: K, listener: (...args: Events[K]) => void): this {
    return super.off(event, listener as (...args: unknown[]) => void);
  }
  override emit<K extends keyof Events & string>(event: K, ...args: Events[K]): boolean {
    if (this.listenerCount(event) === 0) return false;
    return super.emit(event, ...args);
  }
}
