// RocketMQ's message-trace data encoding (the client's TraceDataEncoder) and Apogee's broker-side
// records in the same framing. A trace message body is a run of records; each record is fields
// separated by CONTENT_SPLITOR (\u0001) and ended by FIELD_SPLITOR (\u0002); its first field names
// its type. Pure functions: no broker, store or network knowledge.

export const CONTENT_SPLITOR = '\u0001';
export const FIELD_SPLITOR = '\u0002';

/** MessageType ordinals as the Java client writes them in Pub and EndTransaction records. */
export const TRACE_MSG_TYPES = ['Normal_Msg', 'Trans_Msg_Half', 'Trans_msg_Commit', 'Delay_Msg', 'Order_Msg'] as const;
/** ConsumeReturnType ordinals (SubAfter's contextCode). */
export const CONSUME_RETURN_TYPES = ['SUCCESS', 'TIME_OUT', 'EXCEPTION', 'RETURNNULL', 'FAILED'] as const;

export interface PubRecord {
  type: 'Pub';
  timeStamp: number;
  regionId: string;
  groupName: string;
  topic: string;
  msgId: string;
  tags: string;
  keys: string;
  storeHost: string;
  bodyLength: number;
  costTime: number;
  msgType: number;
  /** Absent in the oldest (13-field) form. */
  offsetMsgId?: string;
  success: boolean;
  /** Only in the 15-field form. */
  clientHost?: string;
}

export interface SubBeforeRecord {
  type: 'SubBefore';
  timeStamp: number;
  regionId: string;
  groupName: string;
  requestId: string;
  msgId: string;
  retryTimes: number;
  keys: string;
}

export interface SubAfterRecord {
  type: 'SubAfter';
  requestId: string;
  msgId: string;
  costTime: number;
  success: boolean;
  keys: string;
  /** ConsumeReturnType ordinal; absent in the 6-field form. */
  contextCode?: number;
  /** Absent on the CLOUD channel and in old forms: then the matching SubBefore's time applies. */
  timeStamp?: number;
  groupName?: string;
}

export interface EndTransactionRecord {
  type: 'EndTransaction';
  timeStamp: number;
  regionId: string;
  groupName: string;
  topic: string;
  msgId: string;
  tags: string;
  keys: string;
  storeHost: string;
  msgType: number;
  transactionId: string;
  /** LocalTransactionState name: COMMIT_MESSAGE, ROLLBACK_MESSAGE, UNKNOW. */
  transactionState: string;
  fromTransactionCheck: boolean;
}

export interface RecallRecord {
  type: 'Recall';
  timeStamp: number;
  regionId: string;
  groupName: string;
  topic: string;
  msgId: string;
  success: boolean;
}

// Apogee's broker-side records. Type names start with "Broker" so RocketMQ's decoder, which
// matches the five names above, passes over them.

/**
 * Messages stored (after the append was acknowledged): one record per queue, producer and client
 * in a batch, the queue offsets as ranges. The message's own stored record holds the rest (tags,
 * keys, size, store time), so nothing is indexed per message.
 */
export interface BrokerStoredRecord {
  type: 'BrokerStored';
  timeStamp: number;
  producerGroup: string;
  /** The topic the producer addressed. */
  topic: string;
  /** Where it went: differs for delay, timer and transaction half messages. */
  storedTopic: string;
  queueId: number;
  /** Offsets in storedTopic, "5-9,12". */
  offsets: string;
  /** Bytes stored, all messages of the record together. */
  bytes: number;
  clientHost: string;
  protocol: string;
}

/**
 * Messages handed to a consumer: one record per pull or pop and queue, the queue offsets as ranges
 * ("5-9,12"), resolved to messages at query time so a delivery costs one record, not one per message.
 */
export interface BrokerDeliveredRecord {
  type: 'BrokerDelivered';
  timeStamp: number;
  group: string;
  topic: string;
  queueId: number;
  offsets: string;
  clientHost: string;
  kind: 'pull' | 'pop';
  protocol: string;
}

/** A committed consumer offset passing [fromOffset, toOffset) (fromOffset -1: not known since start), or a pop ack of one offset. */
export interface BrokerConsumedRecord {
  type: 'BrokerConsumed';
  timeStamp: number;
  group: string;
  topic: string;
  queueId: number;
  fromOffset: number;
  toOffset: number;
  kind: 'offset' | 'ack';
}

export interface BrokerRetriedRecord {
  type: 'BrokerRetried';
  timeStamp: number;
  group: string;
  originTopic: string;
  retryTopic: string;
  reconsumeTimes: number;
  delayLevel: number;
  /** When the retry becomes due (0 when the delay level is unknown). */
  nextDeliverTime: number;
  /** The original message's offset message id (ORIGIN_MESSAGE_ID). */
  msgId: string;
}

export interface BrokerDeadLetteredRecord {
  type: 'BrokerDeadLettered';
  timeStamp: number;
  group: string;
  originTopic: string;
  dlqTopic: string;
  reconsumeTimes: number;
  msgId: string;
}

/** A half message committed or rolled back; topic and queue are the half topic's, offsets the half message's. */
export interface BrokerTransactionRecord {
  type: 'BrokerTransaction';
  timeStamp: number;
  producerGroup: string;
  topic: string;
  queueId: number;
  offsets: string;
  state: 'COMMIT' | 'ROLLBACK';
  fromTransactionCheck: boolean;
}

/** A timer message recalled before it was due (keyed by its unique key). */
export interface BrokerRecalledRecord {
  type: 'BrokerRecalled';
  timeStamp: number;
  topic: string;
  msgId: string;
}

export type ClientTraceRecord = PubRecord | SubBeforeRecord | SubAfterRecord | EndTransactionRecord | RecallRecord;
export type BrokerTraceRecord =
  | BrokerStoredRecord
  | BrokerDeliveredRecord
  | BrokerConsumedRecord
  | BrokerRetriedRecord
  | BrokerDeadLetteredRecord
  | BrokerTransactionRecord
  | BrokerRecalledRecord;
export type TraceRecord = ClientTraceRecord | BrokerTraceRecord;

export interface DecodedTraceData {
  records: TraceRecord[];
  /** Records of an unknown type or with a malformed field, passed over. */
  skipped: number;
}

type Fields = readonly string[];

const int = (s: string | undefined): number => {
  if (s === undefined || !/^-?\d+$/.test(s)) throw new Error(`not an integer: ${String(s)}`);
  return Number(s);
};
const str = (s: string | undefined): string => {
  if (s === undefined) throw new Error('missing field');
  return s;
};
const bool = (s: string | undefined): boolean => s === 'true';
const need = (f: Fields, n: number): void => {
  if (f.length < n) throw new Error(`${f[0]} needs ${n} fields, got ${f.length}`);
};

function decodePub(f: Fields): PubRecord {
  need(f, 13);
  const r: PubRecord = {
    type: 'Pub',
    timeStamp: int(f[1]),
    regionId: f[2],
    groupName: f[3],
    topic: f[4],
    msgId: f[5],
    tags: f[6],
    keys: f[7],
    storeHost: f[8],
    bodyLength: int(f[9]),
    costTime: int(f[10]),
    msgType: int(f[11]),
    success: bool(f[12]),
  };
  // As Java's decoder: 13 fields have no offsetMsgId, 14 add it, 15 or more add the client host.
  if (f.length >= 14) {
    r.offsetMsgId = f[12];
    r.success = bool(f[13]);
  }
  if (f.length >= 15) r.clientHost = f[14];
  return r;
}

function decodeSubAfter(f: Fields): SubAfterRecord {
  need(f, 6);
  const r: SubAfterRecord = { type: 'SubAfter', requestId: f[1], msgId: f[2], costTime: int(f[3]), success: bool(f[4]), keys: f[5] };
  if (f.length >= 7 && f[6] !== '') r.contextCode = int(f[6]);
  if (f.length >= 9) {
    r.timeStamp = int(f[7]);
    r.groupName = f[8];
  }
  return r;
}

const DECODERS: Record<string, (f: Fields) => TraceRecord> = {
  Pub: decodePub,
  SubBefore: (f) => {
    need(f, 8);
    return { type: 'SubBefore', timeStamp: int(f[1]), regionId: f[2], groupName: f[3], requestId: f[4], msgId: f[5], retryTimes: int(f[6]), keys: f[7] };
  },
  SubAfter: decodeSubAfter,
  EndTransaction: (f) => {
    need(f, 13);
    return {
      type: 'EndTransaction',
      timeStamp: int(f[1]),
      regionId: f[2],
      groupName: f[3],
      topic: f[4],
      msgId: f[5],
      tags: f[6],
      keys: f[7],
      storeHost: f[8],
      msgType: int(f[9]),
      transactionId: f[10],
      transactionState: f[11],
      fromTransactionCheck: bool(f[12]),
    };
  },
  Recall: (f) => {
    need(f, 7);
    return { type: 'Recall', timeStamp: int(f[1]), regionId: f[2], groupName: f[3], topic: f[4], msgId: f[5], success: bool(f[6]) };
  },
  BrokerStored: (f) => {
    need(f, 10);
    parseOffsetRanges(f[6]);
    return {
      type: 'BrokerStored',
      timeStamp: int(f[1]),
      producerGroup: f[2],
      topic: f[3],
      storedTopic: f[4],
      queueId: int(f[5]),
      offsets: f[6],
      bytes: int(f[7]),
      clientHost: f[8],
      protocol: f[9],
    };
  },
  BrokerDelivered: (f) => {
    need(f, 9);
    const kind = f[7] === 'pop' ? 'pop' : 'pull';
    parseOffsetRanges(f[5]);
    return { type: 'BrokerDelivered', timeStamp: int(f[1]), group: f[2], topic: f[3], queueId: int(f[4]), offsets: f[5], clientHost: f[6], kind, protocol: f[8] };
  },
  BrokerConsumed: (f) => {
    need(f, 8);
    const kind = f[7] === 'ack' ? 'ack' : 'offset';
    return { type: 'BrokerConsumed', timeStamp: int(f[1]), group: f[2], topic: f[3], queueId: int(f[4]), fromOffset: int(f[5]), toOffset: int(f[6]), kind };
  },
  BrokerRetried: (f) => {
    need(f, 9);
    return {
      type: 'BrokerRetried',
      timeStamp: int(f[1]),
      group: f[2],
      originTopic: f[3],
      retryTopic: f[4],
      reconsumeTimes: int(f[5]),
      delayLevel: int(f[6]),
      nextDeliverTime: int(f[7]),
      msgId: str(f[8]),
    };
  },
  BrokerTransaction: (f) => {
    need(f, 8);
    parseOffsetRanges(f[5]);
    const state = f[6] === 'COMMIT' ? 'COMMIT' : f[6] === 'ROLLBACK' ? 'ROLLBACK' : undefined;
    if (!state) throw new Error(`bad transaction state ${f[6]}`);
    return { type: 'BrokerTransaction', timeStamp: int(f[1]), producerGroup: f[2], topic: f[3], queueId: int(f[4]), offsets: f[5], state, fromTransactionCheck: bool(f[7]) };
  },
  BrokerRecalled: (f) => {
    need(f, 4);
    return { type: 'BrokerRecalled', timeStamp: int(f[1]), topic: f[2], msgId: f[3] };
  },
  BrokerDeadLettered: (f) => {
    need(f, 7);
    return { type: 'BrokerDeadLettered', timeStamp: int(f[1]), group: f[2], originTopic: f[3], dlqTopic: f[4], reconsumeTimes: int(f[5]), msgId: str(f[6]) };
  },
};

/**
 * Decodes a trace message body. Like Java's decoder it splits on both separators and ignores
 * empty trailing fields; unlike it, a record with an unknown type or a malformed number is
 * counted in `skipped` instead of failing the whole body.
 */
export function decodeTraceData(text: string): DecodedTraceData {
  const records: TraceRecord[] = [];
  let skipped = 0;
  for (const chunk of text.split(FIELD_SPLITOR)) {
    if (chunk.length === 0) continue;
    const fields = chunk.split(CONTENT_SPLITOR);
    while (fields.length > 1 && fields[fields.length - 1] === '') fields.pop();
    const dec = DECODERS[fields[0]];
    if (!dec) {
      skipped++;
      continue;
    }
    try {
      records.push(dec(fields));
    } catch {
      skipped++;
    }
  }
  return { records, skipped };
}

const join = (fields: readonly (string | number | boolean | undefined)[]): string => fields.map((v) => (v === undefined ? '' : String(v))).join(CONTENT_SPLITOR) + FIELD_SPLITOR;

/** One record in the encoding Java's TraceDataEncoder writes (SubAfter with its timestamp and group, the non-CLOUD form). */
export function encodeTraceRecord(r: TraceRecord): string {
  switch (r.type) {
    case 'Pub': {
      const f: (string | number | boolean)[] = [r.type, r.timeStamp, r.regionId, r.groupName, r.topic, r.msgId, r.tags, r.keys, r.storeHost, r.bodyLength, r.costTime, r.msgType];
      if (r.offsetMsgId !== undefined) f.push(r.offsetMsgId);
      f.push(r.success);
      if (r.clientHost !== undefined) f.push(r.clientHost);
      return join(f);
    }
    case 'SubBefore':
      return join([r.type, r.timeStamp, r.regionId, r.groupName, r.requestId, r.msgId, r.retryTimes, r.keys]);
    case 'SubAfter': {
      const f: (string | number | boolean | undefined)[] = [r.type, r.requestId, r.msgId, r.costTime, r.success, r.keys, r.contextCode];
      if (r.timeStamp !== undefined) f.push(r.timeStamp, r.groupName);
      return join(f);
    }
    case 'EndTransaction':
      return join([r.type, r.timeStamp, r.regionId, r.groupName, r.topic, r.msgId, r.tags, r.keys, r.storeHost, r.msgType, r.transactionId, r.transactionState, r.fromTransactionCheck]);
    case 'Recall':
      return join([r.type, r.timeStamp, r.regionId, r.groupName, r.topic, r.msgId, r.success]);
    case 'BrokerStored':
      return join([r.type, r.timeStamp, r.producerGroup, r.topic, r.storedTopic, r.queueId, r.offsets, r.bytes, r.clientHost, r.protocol]);
    case 'BrokerDelivered':
      return join([r.type, r.timeStamp, r.group, r.topic, r.queueId, r.offsets, r.clientHost, r.kind, r.protocol]);
    case 'BrokerConsumed':
      return join([r.type, r.timeStamp, r.group, r.topic, r.queueId, r.fromOffset, r.toOffset, r.kind]);
    case 'BrokerRetried':
      return join([r.type, r.timeStamp, r.group, r.originTopic, r.retryTopic, r.reconsumeTimes, r.delayLevel, r.nextDeliverTime, r.msgId]);
    case 'BrokerTransaction':
      return join([r.type, r.timeStamp, r.producerGroup, r.topic, r.queueId, r.offsets, r.state, r.fromTransactionCheck]);
    case 'BrokerRecalled':
      return join([r.type, r.timeStamp, r.topic, r.msgId]);
    case 'BrokerDeadLettered':
      return join([r.type, r.timeStamp, r.group, r.originTopic, r.dlqTopic, r.reconsumeTimes, r.msgId]);
  }
}

/** "5-9,12" → [[5, 9], [12, 12]]; throws on anything else. */
export function parseOffsetRanges(s: string): [number, number][] {
  const out: [number, number][] = [];
  if (s === '') return out;
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`bad offset range "${part}"`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`bad offset range "${part}"`);
    out.push([a, b]);
  }
  return out;
}

export function rangesContain(s: string, offset: number): boolean {
  for (const [a, b] of parseOffsetRanges(s)) if (offset >= a && offset <= b) return true;
  return false;
}

/** Sorted ascending offsets → "a-b,c" (the compact form BrokerDelivered carries). */
export function formatOffsetRanges(sorted: readonly number[]): string {
  let out = '';
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    if (out) out += ',';
    out += i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`;
    i = j + 1;
  }
  return out;
}
