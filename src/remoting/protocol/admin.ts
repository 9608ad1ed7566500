// Administration over remoting (mqadmin's requests to brokers): topics, subscription groups,
// stats, connections, message queries, client bookkeeping.
import type { HeaderSchema } from './header-codec.js';

/** attributes: "+key=value,+key2=value2" (Java's form; a key without "+" is accepted too). */
export const UPDATE_AND_CREATE_TOPIC_HEADER = {
  topic: { type: 'string', required: true },
  defaultTopic: { type: 'string' },
  readQueueNums: { type: 'int', required: true },
  writeQueueNums: { type: 'int', required: true },
  perm: { type: 'int', required: true },
  topicFilterType: { type: 'string' },
  topicSysFlag: { type: 'int' },
  order: { type: 'bool' },
  attributes: { type: 'string' },
} as const satisfies HeaderSchema;

/** DELETE_TOPIC_IN_BROKER, GET_TOPIC_CONFIG, GET_TOPIC_STATS_INFO, QUERY_TOPIC_CONSUME_BY_WHO. */
export const TOPIC_HEADER = { topic: { type: 'string', required: true } } as const satisfies HeaderSchema;

export const DELETE_SUBSCRIPTIONGROUP_HEADER = {
  groupName: { type: 'string', required: true },
  cleanOffset: { type: 'bool' },
} as const satisfies HeaderSchema;

/** Without a topic: every topic the group has offsets on. */
export const GET_CONSUME_STATS_HEADER = {
  consumerGroup: { type: 'string', required: true },
  topic: { type: 'string' },
} as const satisfies HeaderSchema;

/** GET_PRODUCER_CONNECTION_LIST. */
export const PRODUCER_GROUP_HEADER = { producerGroup: { type: 'string', required: true } } as const satisfies HeaderSchema;

/** GET_BROKER_CONFIG's answer: version = the configuration's DataVersion as JSON; the body is the properties text. */
export const GET_BROKER_CONFIG_RESPONSE_HEADER = { version: { type: 'string' } } as const satisfies HeaderSchema;

/** QUERY_MESSAGE by key; with _UNIQUE_KEY_QUERY=true the key is a UNIQ_KEY (and maxNum is the broker's own). */
export const QUERY_MESSAGE_HEADER = {
  topic: { type: 'string', required: true },
  key: { type: 'string', required: true },
  maxNum: { type: 'int', required: true },
  beginTimestamp: { type: 'long', required: true },
  endTimestamp: { type: 'long', required: true },
  _UNIQUE_KEY_QUERY: { type: 'bool' },
} as const satisfies HeaderSchema;

export const QUERY_MESSAGE_RESPONSE_HEADER = {
  indexLastUpdateTimestamp: { type: 'long', required: true },
  indexLastUpdatePhyoffset: { type: 'long', required: true },
} as const satisfies HeaderSchema;

/** VIEW_MESSAGE_BY_ID: offset = the commit-log offset (from an offsetMsgId). */
export const VIEW_MESSAGE_BY_ID_HEADER = { offset: { type: 'long', required: true } } as const satisfies HeaderSchema;

export const UNREGISTER_CLIENT_HEADER = {
  clientID: { type: 'string', required: true },
  producerGroup: { type: 'string' },
  consumerGroup: { type: 'string' },
} as const satisfies HeaderSchema;
