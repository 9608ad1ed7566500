// Consumer offsets and queue offsets: QUERY_CONSUMER_OFFSET, UPDATE_CONSUMER_OFFSET, GET_MAX_OFFSET,
// GET_MIN_OFFSET, SEARCH_OFFSET_BY_TIMESTAMP, GET_EARLIEST_MSG_STORETIME, and the group's member
// list (GET_CONSUMER_LIST_BY_GROUP) that rebalancing reads.
import type { HeaderSchema } from './header-codec.js';

export const QUERY_CONSUMER_OFFSET_HEADER = {
  consumerGroup: { type: 'string', required: true },
  topic: { type: 'string', required: true },
  queueId: { type: 'int', required: true },
} as const satisfies HeaderSchema;

export const UPDATE_CONSUMER_OFFSET_HEADER = {
  ...QUERY_CONSUMER_OFFSET_HEADER,
  commitOffset: { type: 'long', required: true },
} as const satisfies HeaderSchema;

/** GET_MAX_OFFSET, GET_MIN_OFFSET, GET_EARLIEST_MSG_STORETIME. */
export const TOPIC_QUEUE_HEADER = {
  topic: { type: 'string', required: true },
  queueId: { type: 'int', required: true },
} as const satisfies HeaderSchema;

export const SEARCH_OFFSET_HEADER = { ...TOPIC_QUEUE_HEADER, timestamp: { type: 'long', required: true } } as const satisfies HeaderSchema;

/** The answer of QUERY_CONSUMER_OFFSET, GET_MAX_OFFSET, GET_MIN_OFFSET and SEARCH_OFFSET_BY_TIMESTAMP. */
export const OFFSET_RESPONSE_HEADER = { offset: { type: 'long', required: true } } as const satisfies HeaderSchema;

export const EARLIEST_MSG_STORETIME_RESPONSE_HEADER = { timestamp: { type: 'long', required: true } } as const satisfies HeaderSchema;

/** GET_CONSUMER_LIST_BY_GROUP (also GET_CONSUMER_CONNECTION_LIST and NOTIFY_CONSUMER_IDS_CHANGED). */
export const CONSUMER_GROUP_HEADER = { consumerGroup: { type: 'string', required: true } } as const satisfies HeaderSchema;
