// PULL_MESSAGE (4.x consumers reading by queue offset) and its answer.
import type { HeaderSchema, HeaderValues } from './header-codec.js';

/** Bits of the pull request's sysFlag (Java PullSysFlag). */
export const PullSysFlag = { COMMIT_OFFSET: 1, SUSPEND: 2, SUBSCRIPTION: 4, CLASS_FILTER: 8, LITE_PULL: 16 } as const;

export const PULL_MESSAGE_HEADER = {
  consumerGroup: { type: 'string', required: true },
  topic: { type: 'string', required: true },
  queueId: { type: 'int', required: true },
  queueOffset: { type: 'long', required: true },
  maxMsgNums: { type: 'int', required: true },
  sysFlag: { type: 'int', required: true },
  commitOffset: { type: 'long', required: true },
  /** How long the broker may hold a pull that finds nothing (long polling), in ms. */
  suspendTimeoutMillis: { type: 'long', required: true },
  subscription: { type: 'string' },
  subVersion: { type: 'long', required: true },
  expressionType: { type: 'string' },
  maxMsgBytes: { type: 'int' },
} as const satisfies HeaderSchema;

export type PullMessageRequestHeader = HeaderValues<typeof PULL_MESSAGE_HEADER>;

/** On SUCCESS, PULL_NOT_FOUND, PULL_RETRY_IMMEDIATELY and PULL_OFFSET_MOVED. */
export const PULL_MESSAGE_RESPONSE_HEADER = {
  nextBeginOffset: { type: 'long', required: true },
  minOffset: { type: 'long', required: true },
  maxOffset: { type: 'long', required: true },
  suggestWhichBrokerId: { type: 'long' },
  topicSysFlag: { type: 'int' },
  groupSysFlag: { type: 'int' },
} as const satisfies HeaderSchema;
