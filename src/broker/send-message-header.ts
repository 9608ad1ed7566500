// SEND_MESSAGE (full names) and SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE (single letters a..n) headers,
// decoded with the broker's defaults applied. The schemas are the protocol's.
import { BrokerError, decodeHeader, parseField, RequestCode, ResponseCode, type RemotingCommand } from '../remoting/index.js';
import { SEND_MESSAGE_HEADER } from '../remoting/protocol/send.js';

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
  unitMode: boolean;
  maxReconsumeTimes: number | undefined;
  batch: boolean;
  /** The broker group the sender meant (V2 `n`, V1 `bname`); informational. */
  brokerName: string | undefined;
}

/**
 * The hot path: the V2 header read field by field, with the same rules and error remarks as
 * decodeHeader(SEND_MESSAGE_HEADER_V2) (which the tests hold it to), minus the generic loop and
 * intermediate object.
 */
function decodeSendHeaderV2(req: RemotingCommand): SendMessageRequestHeader {
  const x = req.extFields;
  const a = x.a;
  const b = x.b;
  if (a === undefined) throw missing('a');
  if (b === undefined) throw missing('b');
  const m = x.m;
  const k = x.k;
  return {
    producerGroup: a,
    topic: b,
    defaultTopic: x.c || 'TBW102',
    defaultTopicQueueNums: num(x, 'd', 'int', 4),
    queueId: num(x, 'e', 'int', -1),
    sysFlag: num(x, 'f', 'int', 0),
    bornTimestamp: x.g === undefined || x.g === '' ? Date.now() : num(x, 'g', 'long', 0),
    flag: num(x, 'h', 'int', 0),
    properties: x.i ?? '',
    reconsumeTimes: num(x, 'j', 'int', 0),
    unitMode: k !== undefined && k.toLowerCase() === 'true',
    maxReconsumeTimes: x.l === undefined || x.l === '' ? undefined : num(x, 'l', 'int', 0),
    batch: m === undefined || m === '' ? req.code === RequestCode.SEND_BATCH_MESSAGE : m.toLowerCase() === 'true',
    brokerName: x.n,
  };
}

function missing(name: string): BrokerError {
  return new BrokerError(ResponseCode.INVALID_PARAMETER, `the custom field <${name}> is null`);
}

function num(x: Record<string, string>, name: string, type: 'int' | 'long', dflt: number): number {
  const raw = x[name];
  return raw === undefined || raw === '' ? dflt : (parseField(name, type, raw) as number);
}

export function decodeSendHeader(req: RemotingCommand): SendMessageRequestHeader {
  if (req.code === RequestCode.SEND_MESSAGE_V2 || req.code === RequestCode.SEND_BATCH_MESSAGE) return decodeSendHeaderV2(req);
  const h = decodeHeader(SEND_MESSAGE_HEADER, req.extFields);
  return {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: h.defaultTopic || 'TBW102',
    defaultTopicQueueNums: h.defaultTopicQueueNums ?? 4,
    queueId: h.queueId ?? -1,
    sysFlag: h.sysFlag ?? 0,
    bornTimestamp: h.bornTimestamp ?? Date.now(),
    flag: h.flag ?? 0,
    properties: h.properties ?? '',
    reconsumeTimes: h.reconsumeTimes ?? 0,
    unitMode: h.unitMode ?? false,
    maxReconsumeTimes: h.maxReconsumeTimes,
    batch: h.batch ?? false,
    brokerName: h.bname,
  };
}
