import { queueArn } from '../../../sqs/admin.js';
import { isSqsError } from '../../../sqs/errors.js';
import type { Credentials } from '../../../sqs/types.js';
import type { AppDeps } from '../../deps.js';
import { adminError } from './request.js';

/** Looks up a queue named as a dead-letter queue: its ARN, or why it cannot be one (missing, other type). */
export async function deadLetterTarget(
  deps: AppDeps,
  creds: Credentials,
  queueName: string,
  fifo: boolean,
): Promise<{ ok: true; arn: string } | { ok: false; code: 'InvalidDeadLetterQueue' | 'DeadLetterQueueDoesNotExist'; message: string }> {
  try {
    const target = await queueArn(deps.client, creds, queueName);
    if (target.fifo !== fifo) return { ok: false, code: 'InvalidDeadLetterQueue', message: `${queueName} is a ${target.fifo ? 'FIFO' : 'standard'} queue; the dead-letter queue must be of the same type.` };
    return { ok: true, arn: target.arn };
  } catch (err) {
    if (isSqsError(err) && err.queueMissing) return { ok: false, code: 'DeadLetterQueueDoesNotExist', message: `There is no queue named ${queueName}: create the dead-letter queue first.` };
    throw adminError(err);
  }
}
