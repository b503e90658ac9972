/** Wire shapes of the SQS JSON protocol (AWS JSON 1.0) that the daemon uses. */

/** One message attribute as SQS's JSON protocol carries it. BinaryValue is base64. */
export interface MessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: string;
}

export type MessageAttributes = Record<string, MessageAttributeValue>;

/** A message as the sender asked for it, after validation: everything SQS needs, nothing else. */
export interface OutgoingMessage {
  body: string;
  attributes?: MessageAttributes;
  delaySeconds?: number;
  groupId?: string;
  dedupId?: string;
  /** MessageSystemAttributes.AWSTraceHeader (X-Ray), as the SQS API door received it. */
  traceHeader?: string;
}

/** What validation needs to know about the target queue. */
export interface QueueLimits {
  fifo: boolean;
  /** The queue's MaximumMessageSize (bytes), never above the daemon's own cap. */
  maxMessageBytes: number;
  contentBasedDedup: boolean;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SendMessageBatchRequestEntry {
  Id: string;
  MessageBody: string;
  DelaySeconds?: number;
  MessageAttributes?: MessageAttributes;
  MessageGroupId?: string;
  MessageDeduplicationId?: string;
  MessageSystemAttributes?: { AWSTraceHeader: MessageAttributeValue };
}

export interface SendMessageBatchResultEntry {
  Id: string;
  MessageId: string;
  MD5OfMessageBody: string;
  MD5OfMessageAttributes?: string;
  SequenceNumber?: string;
}

export interface BatchResultErrorEntry {
  Id: string;
  SenderFault: boolean;
  Code: string;
  Message?: string;
}

export interface SendMessageBatchResult {
  Successful?: SendMessageBatchResultEntry[];
  Failed?: BatchResultErrorEntry[];
}
