// SEND_MESSAGE (full names) and SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE (single letters a..n) headers.
import { decodeHeader, RequestCode, type RemotingCommand } from '../remoting/index.js';

const V1 = {
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
} as const;

const V2 = {
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
} as const;

export interface SendMessageRequestHeader {
  producerGroup: string;
  topic: string;
  defaultTopic: string;
  defaultTopicQueueNums: number;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties: string;
  reconsumeTimes: number;
  maxReconsumeTimes: number | undefined;
  batch: boolean;
}

export function decodeSendHeader(req: RemotingCommand): SendMessageRequestHeader {
  if (req.code === RequestCode.SEND_MESSAGE_V2 || req.code === RequestCode.SEND_BATCH_MESSAGE) {
    const h = decodeHeader(V2, req.extFields);
    return {
      producerGroup: h.a,
      topic: h.b,
      defaultTopic: h.c ?? 'TBW102',
      defaultTopicQueueNums: h.d ?? 4,
      queueId: h.e ?? -1,
      sysFlag: h.f ?? 0,
      bornTimestamp: h.g ?? Date.now(),
      flag: h.h ?? 0,
      properties: h.i ?? '',
      reconsumeTimes: h.j ?? 0,
      maxReconsumeTimes: h.l,
      batch: h.m ?? req.code === RequestCode.SEND_BATCH_MESSAGE,
    };
  }
  const h = decodeHeader(V1, req.extFields);
  return {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic ?? 'TBW102',
    defaultTopicQueueNums: h.defaultTopicQueueNums ?? 4,
    queueId: h.queueId ?? -1,
    sysFlag: h.sysFlag ?? 0,
    bornTimestamp: h.bornTimestamp ?? Date.now(),
    flag: h.flag ?? 0,
    properties: h.properties ?? '',
    reconsumeTimes: h.reconsumeTimes ?? 0,
    maxReconsumeTimes: h.maxReconsumeTimes,
    batch: h.batch ?? false,
  };
}
