/**
 * Errors the SQS API door answers, in SQS's own shapes: the JSON protocol's `__type` plus the
 * `x-amzn-query-error` header (SDKs with awsQueryCompatible read it), and the Query protocol's
 * ErrorResponse. SDKs raise their typed errors (QueueDoesNotExist, ...) from these.
 */

/**
 * JSON code -> the Query protocol's code, where they differ (SQS's awsQueryError traits, from
 * the service model). Every other code is the same in both protocols.
 */
export const QUERY_CODES: Readonly<Record<string, string>> = {
  BatchEntryIdsNotDistinct: 'AWS.SimpleQueueService.BatchEntryIdsNotDistinct',
  BatchRequestTooLong: 'AWS.SimpleQueueService.BatchRequestTooLong',
  EmptyBatchRequest: 'AWS.SimpleQueueService.EmptyBatchRequest',
  InvalidBatchEntryId: 'AWS.SimpleQueueService.InvalidBatchEntryId',
  KmsAccessDenied: 'KMS.AccessDeniedException',
  KmsDisabled: 'KMS.DisabledException',
  KmsInvalidKeyUsage: 'KMS.InvalidKeyUsageException',
  KmsInvalidState: 'KMS.InvalidStateException',
  KmsNotFound: 'KMS.NotFoundException',
  KmsOptInRequired: 'KMS.OptInRequired',
  KmsThrottled: 'KMS.ThrottlingException',
  MessageNotInflight: 'AWS.SimpleQueueService.MessageNotInflight',
  PurgeQueueInProgress: 'AWS.SimpleQueueService.PurgeQueueInProgress',
  QueueDeletedRecently: 'AWS.SimpleQueueService.QueueDeletedRecently',
  QueueDoesNotExist: 'AWS.SimpleQueueService.NonExistentQueue',
  QueueNameExists: 'QueueAlreadyExists',
  TooManyEntriesInBatchRequest: 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest',
  UnsupportedOperation: 'AWS.SimpleQueueService.UnsupportedOperation',
};

/** Codes whose `__type` lives in the coral namespace in real SQS answers, not in com.amazonaws.sqs. */
const CORAL = new Set(['InvalidClientTokenId', 'SignatureDoesNotMatch', 'MissingAuthenticationToken', 'IncompleteSignature', 'UnknownOperationException', 'SerializationException', 'InternalFailure', 'ServiceUnavailable']);

export class SqsApiError extends Error {
  override readonly name = 'SqsApiError';
  readonly status: number;
  /** The JSON protocol's code (`__type` suffix). */
  readonly code: string;
  /** The Query protocol's code. */
  readonly queryCode: string;
  /** Sender (the caller's fault) or Receiver (ours / SQS's). */
  readonly fault: 'Sender' | 'Receiver';
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options: { queryCode?: string; headers?: Record<string, string> } = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.queryCode = options.queryCode ?? QUERY_CODES[code] ?? code;
    this.fault = status >= 500 ? 'Receiver' : 'Sender';
    this.headers = options.headers ?? {};
  }

  /** `__type` as SQS spells it. */
  get type(): string {
    return `${CORAL.has(this.code) ? 'com.amazon.coral.service' : 'com.amazonaws.sqs'}#${this.code}`;
  }
}

export function isSqsApiError(err: unknown): err is SqsApiError {
  return (err as { name?: unknown })?.name === 'SqsApiError' && typeof (err as { status?: unknown }).status === 'number';
}

export const missingParameter = (name: string): SqsApiError => new SqsApiError(400, 'MissingParameter', `The request must contain the parameter ${name}.`);

export const invalidParameter = (message: string): SqsApiError => new SqsApiError(400, 'InvalidParameterValue', message);

export const queueDoesNotExist = (): SqsApiError => new SqsApiError(400, 'QueueDoesNotExist', 'The specified queue does not exist.');
