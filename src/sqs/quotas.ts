/** SQS's quotas for one message, checked at ingest by validateMessage (./limits.ts). */

/** Absolute ceiling: SQS's 1 MiB (1,048,576 bytes) since 2025, body + attributes. */
export const SQS_MAX_MESSAGE_BYTES = 1_048_576;
export const MAX_ATTRIBUTES = 10;
export const MAX_DELAY_SECONDS = 900;

/** Longest attribute name and longest DataType (base + custom label). */
export const MAX_ATTRIBUTE_NAME_LENGTH = 256;
export const MAX_DATA_TYPE_LENGTH = 256;
/** Longest MessageGroupId / MessageDeduplicationId. */
export const MAX_ID_LENGTH = 128;
/** Most significant digits a Number attribute may carry. */
export const MAX_NUMBER_DIGITS = 38;
