/**
 * The SQS actions' input and output shapes, as far as the Query protocol needs them: which
 * members are integers or booleans, and the element names of lists and maps (SQS's Query
 * protocol flattens them all: `AttributeName.1=All`, `MessageAttribute.1.Name=...`).
 * Transcribed from the service model (@aws-sdk/client-sqs schemas: xmlName, xmlFlattened).
 * The JSON protocol needs none of this: its requests are forwarded as they are.
 */

export type Shape =
  | 'string'
  | 'integer'
  | 'boolean'
  | { readonly kind: 'list'; readonly xml: string; readonly member: Shape }
  | { readonly kind: 'map'; readonly xml: string; readonly key: string; readonly value: string; readonly valueShape: Shape }
  | { readonly kind: 'struct'; readonly members: Readonly<Record<string, Shape>> };

export type StructShape = Extract<Shape, { kind: 'struct' }>;

const S = 'string' as const;
const I = 'integer' as const;
const B = 'boolean' as const;
const list = (xml: string, member: Shape = S): Shape => ({ kind: 'list', xml, member });
const map = (xml: string, key: string, value: string, valueShape: Shape = S): Shape => ({ kind: 'map', xml, key, value, valueShape });
const struct = (members: Record<string, Shape>): StructShape => ({ kind: 'struct', members });

const attributeValue = struct({
  StringValue: S,
  BinaryValue: S,
  StringListValues: list('StringListValue'),
  BinaryListValues: list('BinaryListValue'),
  DataType: S,
});
const messageAttributes = map('MessageAttribute', 'Name', 'Value', attributeValue);
const messageSystemAttributes = map('MessageSystemAttribute', 'Name', 'Value', attributeValue);
const queueAttributes = map('Attribute', 'Name', 'Value');
const tags = map('Tag', 'Key', 'Value');
const batchError = struct({ Id: S, SenderFault: B, Code: S, Message: S });
const idOnly = struct({ Id: S });

const sendFields = {
  MessageBody: S,
  DelaySeconds: I,
  MessageAttributes: messageAttributes,
  MessageSystemAttributes: messageSystemAttributes,
  MessageDeduplicationId: S,
  MessageGroupId: S,
};

const message = struct({
  MessageId: S,
  ReceiptHandle: S,
  MD5OfBody: S,
  Body: S,
  Attributes: map('Attribute', 'Name', 'Value'),
  MD5OfMessageAttributes: S,
  MessageAttributes: messageAttributes,
});

export interface ActionShape {
  readonly input: StructShape;
  /** Undefined: the action answers nothing but its request id. */
  readonly output?: StructShape;
}

export const ACTIONS: Readonly<Record<string, ActionShape>> = {
  AddPermission: { input: struct({ QueueUrl: S, Label: S, AWSAccountIds: list('AWSAccountId'), Actions: list('ActionName') }) },
  CancelMessageMoveTask: { input: struct({ TaskHandle: S }), output: struct({ ApproximateNumberOfMessagesMoved: I }) },
  ChangeMessageVisibility: { input: struct({ QueueUrl: S, ReceiptHandle: S, VisibilityTimeout: I }) },
  ChangeMessageVisibilityBatch: {
    input: struct({ QueueUrl: S, Entries: list('ChangeMessageVisibilityBatchRequestEntry', struct({ Id: S, ReceiptHandle: S, VisibilityTimeout: I })) }),
    output: struct({ Successful: list('ChangeMessageVisibilityBatchResultEntry', idOnly), Failed: list('BatchResultErrorEntry', batchError) }),
  },
  CreateQueue: { input: struct({ QueueName: S, Attributes: queueAttributes, tags }), output: struct({ QueueUrl: S }) },
  DeleteMessage: { input: struct({ QueueUrl: S, ReceiptHandle: S }) },
  DeleteMessageBatch: {
    input: struct({ QueueUrl: S, Entries: list('DeleteMessageBatchRequestEntry', struct({ Id: S, ReceiptHandle: S })) }),
    output: struct({ Successful: list('DeleteMessageBatchResultEntry', idOnly), Failed: list('BatchResultErrorEntry', batchError) }),
  },
  DeleteQueue: { input: struct({ QueueUrl: S }) },
  GetQueueAttributes: { input: struct({ QueueUrl: S, AttributeNames: list('AttributeName') }), output: struct({ Attributes: queueAttributes }) },
  GetQueueUrl: { input: struct({ QueueName: S, QueueOwnerAWSAccountId: S }), output: struct({ QueueUrl: S }) },
  ListDeadLetterSourceQueues: { input: struct({ QueueUrl: S, NextToken: S, MaxResults: I }), output: struct({ queueUrls: list('QueueUrl'), NextToken: S }) },
  ListMessageMoveTasks: {
    input: struct({ SourceArn: S, MaxResults: I }),
    output: struct({
      Results: list(
        'ListMessageMoveTasksResultEntry',
        struct({
          TaskHandle: S,
          Status: S,
          SourceArn: S,
          DestinationArn: S,
          MaxNumberOfMessagesPerSecond: I,
          ApproximateNumberOfMessagesMoved: I,
          ApproximateNumberOfMessagesToMove: I,
          FailureReason: S,
          StartedTimestamp: I,
        }),
      ),
    }),
  },
  ListQueues: { input: struct({ QueueNamePrefix: S, NextToken: S, MaxResults: I }), output: struct({ QueueUrls: list('QueueUrl'), NextToken: S }) },
  ListQueueTags: { input: struct({ QueueUrl: S }), output: struct({ Tags: tags }) },
  PurgeQueue: { input: struct({ QueueUrl: S }) },
  ReceiveMessage: {
    input: struct({
      QueueUrl: S,
      // Both serialize as AttributeName.N in the Query protocol; SQS treats them alike.
      AttributeNames: list('AttributeName'),
      MessageAttributeNames: list('MessageAttributeName'),
      MaxNumberOfMessages: I,
      VisibilityTimeout: I,
      WaitTimeSeconds: I,
      ReceiveRequestAttemptId: S,
    }),
    output: struct({ Messages: list('Message', message) }),
  },
  RemovePermission: { input: struct({ QueueUrl: S, Label: S }) },
  SendMessage: {
    input: struct({ QueueUrl: S, ...sendFields }),
    output: struct({ MD5OfMessageBody: S, MD5OfMessageAttributes: S, MD5OfMessageSystemAttributes: S, MessageId: S, SequenceNumber: S }),
  },
  SendMessageBatch: {
    input: struct({ QueueUrl: S, Entries: list('SendMessageBatchRequestEntry', struct({ Id: S, ...sendFields })) }),
    output: struct({
      Successful: list('SendMessageBatchResultEntry', struct({ Id: S, MessageId: S, MD5OfMessageBody: S, MD5OfMessageAttributes: S, MD5OfMessageSystemAttributes: S, SequenceNumber: S })),
      Failed: list('BatchResultErrorEntry', batchError),
    }),
  },
  SetQueueAttributes: { input: struct({ QueueUrl: S, Attributes: queueAttributes }) },
  StartMessageMoveTask: { input: struct({ SourceArn: S, DestinationArn: S, MaxNumberOfMessagesPerSecond: I }), output: struct({ TaskHandle: S }) },
  TagQueue: { input: struct({ QueueUrl: S, Tags: tags }) },
  UntagQueue: { input: struct({ QueueUrl: S, TagKeys: list('TagKey') }) },
};

/** The Query/XML name of a struct member: a list's or map's element name, else the member's own. */
export function wireName(member: string, shape: Shape): string {
  return typeof shape === 'object' && shape.kind !== 'struct' ? shape.xml : member;
}
