// Requests of the operator commands (issue 13) that both the broker and `apogee admin` speak: kept
// here so the command line (and `apogee proxy`, which loads it) never loads broker modules.
import type { HeaderSchema } from './header-codec.js';

/** Java ConsumeMessageDirectlyResultRequestHeader, plus Apogee's optional timeoutMillis. */
export const CONSUME_MESSAGE_DIRECTLY_HEADER = {
  consumerGroup: { type: 'string', required: true },
  clientId: { type: 'string', required: true },
  msgId: { type: 'string', required: true },
  brokerName: { type: 'string' },
  topic: { type: 'string' },
  /** How long to wait for the client (Java waits 10 s); at most 60 s. */
  timeoutMillis: { type: 'long' },
} as const satisfies HeaderSchema;

/** ext {consumerGroup}, body {"offsets": [commit-log offset, …]} → body {"results": DlqResendResult[]}. */
export const RESEND_DLQ_MESSAGES = 880101;
/** ext {consumerGroup} → body {"records": DlqResendRecord[]}. */
export const GET_DLQ_RESEND_LOG = 880102;
/** Most dead letters one request resends: bounded work per request. */
export const MAX_RESEND_BATCH = 1024;

/** ext {topic, prefix?, limit?} → body LiteTopicListBody (issue 18). */
export const GET_LITE_TOPIC_LIST = 880180;

/** Java ResetOffsetRequestHeader (queueId/offset, 5.x's single-queue form, are not taken). */
export const RESET_OFFSET_HEADER = {
  topic: { type: 'string', required: true },
  group: { type: 'string', required: true },
  timestamp: { type: 'long', required: true },
  isForce: { type: 'bool' },
} as const satisfies HeaderSchema;
