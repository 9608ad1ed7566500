// SEND_MESSAGE (full field names), SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE (the same fields named a..n,
// Java SendMessageRequestHeaderV2), their response, and CONSUMER_SEND_MSG_BACK.
import type { DecodedHeader, HeaderSchema, HeaderValues } from './header-codec.js';

/** SEND_MESSAGE; `bname` is RpcRequestHeader's broker name, which V2 sends as `n`. */
export const SEND_MESSAGE_HEADER = {
  producerGroup: { type: 'string', required: true },
  topic: { type: 'string', required: true },
  defaultTopic: { type: 'string' },
  defaultTopicQueueNums: { type: 'int' },
  queueId: { type: 'int' },
  sysFlag: { type: 'int' },
  bornTimestamp: { type: 'long' },
  flag: { type: 'int' },
  properties: { type: 'string' },
  reconsumeTimes: { type: 'int' },
  unitMode: { type: 'bool' },
  maxReconsumeTimes: { type: 'int' },
  batch: { type: 'bool' },
  bname: { type: 'string' },
} as const satisfies HeaderSchema;

/** SEND_MESSAGE_V2 and SEND_BATCH_MESSAGE: each field of SEND_MESSAGE_HEADER under one letter, in the same order. */
export const SEND_MESSAGE_HEADER_V2 = {
  a: { type: 'string', required: true },
  b: { type: 'string', required: true },
  c: { type: 'string' },
  d: { type: 'int' },
  e: { type: 'int' },
  f: { type: 'int' },
  g: { type: 'long' },
  h: { type: 'int' },
  i: { type: 'string' },
  j: { type: 'int' },
  k: { type: 'bool' },
  l: { type: 'int' },
  m: { type: 'bool' },
  n: { type: 'string' },
} as const satisfies HeaderSchema;

export type SendMessageHeaderValues = HeaderValues<typeof SEND_MESSAGE_HEADER>;
export type SendMessageHeaderV2Values = HeaderValues<typeof SEND_MESSAGE_HEADER_V2>;

/** Java SendMessageRequestHeaderV2.createSendMessageRequestHeaderV2. */
export function toSendHeaderV2(h: SendMessageHeaderValues): SendMessageHeaderV2Values {
  return {
    a: h.producerGroup,
    b: h.topic,
    c: h.defaultTopic,
    d: h.defaultTopicQueueNums,
    e: h.queueId,
    f: h.sysFlag,
    g: h.bornTimestamp,
    h: h.flag,
    i: h.properties,
    j: h.reconsumeTimes,
    k: h.unitMode,
    l: h.maxReconsumeTimes,
    m: h.batch,
    n: h.bname,
  };
}

/** Java SendMessageRequestHeaderV2.createSendMessageRequestHeaderV1. */
export function fromSendHeaderV2(v: DecodedHeader<typeof SEND_MESSAGE_HEADER_V2>): DecodedHeader<typeof SEND_MESSAGE_HEADER> {
  return {
    producerGroup: v.a,
    topic: v.b,
    defaultTopic: v.c,
    defaultTopicQueueNums: v.d,
    queueId: v.e,
    sysFlag: v.f,
    bornTimestamp: v.g,
    flag: v.h,
    properties: v.i,
    reconsumeTimes: v.j,
    unitMode: v.k,
    maxReconsumeTimes: v.l,
    batch: v.m,
    bname: v.n,
  };
}

/** The answer to a send; recallHandle is ours (timer messages only, RecallMessage takes it). */
export const SEND_MESSAGE_RESPONSE_HEADER = {
  msgId: { type: 'string', required: true },
  queueId: { type: 'int', required: true },
  queueOffset: { type: 'long', required: true },
  transactionId: { type: 'string' },
  batchUniqId: { type: 'string' },
  MSG_REGION: { type: 'string' },
  TRACE_ON: { type: 'string' },
  recallHandle: { type: 'string' },
} as const satisfies HeaderSchema;

/** CONSUMER_SEND_MSG_BACK: a consumer returns a message it failed to consume (offset = its commit-log offset). */
export const CONSUMER_SEND_MSG_BACK_HEADER = {
  offset: { type: 'long', required: true },
  group: { type: 'string', required: true },
  delayLevel: { type: 'int', required: true },
  originMsgId: { type: 'string' },
  originTopic: { type: 'string' },
  unitMode: { type: 'bool' },
  maxReconsumeTimes: { type: 'int' },
} as const satisfies HeaderSchema;
