import { DaemonError } from '../errors.js';

/** SQS queue names: 1-80 of [A-Za-z0-9_-], FIFO ones ending in ".fifo" (within the 80). */
export const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$|^[A-Za-z0-9_-]{1,75}\.fifo$/;

/** Throws 400 InvalidQueueName unless `name` is a valid SQS queue name. */
export function checkQueueName(name: string): void {
  if (!QUEUE_NAME.test(name)) {
    throw new DaemonError('InvalidQueueName', `queue name ${JSON.stringify(name.slice(0, 100))} is not valid: 1-80 letters, digits, "-" or "_", FIFO queues end in ".fifo"`);
  }
}
