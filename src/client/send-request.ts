// The producer's per-message request and response work, done without the generic schema walk:
// SEND_MESSAGE_V2's extFields built as one object literal, and the send answer's three fields read
// directly. Each falls back to the generic codec (encodeHeader / decodeHeader) for any value that
// codec would refuse, so a bad flag or a malformed answer gets the same error text as before; the
// table and property tests in test/client/send-request.test.ts hold both paths to the same output.
import { TopicValidator } from '../common/message-const.js';
import { CLIENT_VERSION, newOpaque, SerializeType, type RemotingCommand } from '../remoting/index.js';
import {
  decodeHeader,
  encodeHeader,
  SEND_MESSAGE_HEADER_V2,
  SEND_MESSAGE_RESPONSE_HEADER,
  toSendHeaderV2,
  type DecodedHeader,
  type SendMessageHeaderValues,
} from '../remoting/protocol/index.js';

/** The fields of one SEND_MESSAGE_V2 that vary per message; the rest are the producer's constants. */
export interface SendHeaderInput {
  producerGroup: string;
  topic: string;
  queueId: number;
  sysFlag: number;
  bornTimestamp: number;
  flag: number;
  properties: string;
  reconsumeTimes: number;
  maxReconsumeTimes: number | undefined;
  batch: boolean;
  brokerName: string;
}

const DEFAULT_TOPIC = TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC;
const DEFAULT_TOPIC_QUEUE_NUMS = '4';

const isInt32 = (n: number): boolean => (n | 0) === n;

/**
 * extFields of SEND_MESSAGE_V2 in the schema's order (a..n, l left out when undefined), as
 * encodeHeader(SEND_MESSAGE_HEADER_V2, toSendHeaderV2(...)) gives them.
 */
export function sendHeaderV2Fields(h: SendHeaderInput): Record<string, string> {
  const mrt = h.maxReconsumeTimes;
  if (
    !isInt32(h.queueId) ||
    !isInt32(h.sysFlag) ||
    !isInt32(h.flag) ||
    !isInt32(h.reconsumeTimes) ||
    (mrt !== undefined && !isInt32(mrt)) ||
    !Number.isSafeInteger(h.bornTimestamp) ||
    typeof h.producerGroup !== 'string' ||
    typeof h.topic !== 'string' ||
    typeof h.properties !== 'string' ||
    typeof h.brokerName !== 'string'
  ) {
    return encodeHeader(SEND_MESSAGE_HEADER_V2, toSendHeaderV2(genericValues(h)));
  }
  // -0 passes the int32 test and String(-0) is "0", as the generic path writes it.
  if (mrt === undefined) {
    return {
      a: h.producerGroup,
      b: h.topic,
      c: DEFAULT_TOPIC,
      d: DEFAULT_TOPIC_QUEUE_NUMS,
      e: String(h.queueId),
      f: String(h.sysFlag),
      g: String(h.bornTimestamp),
      h: String(h.flag),
      i: h.properties,
      j: String(h.reconsumeTimes),
      k: 'false',
      m: h.batch ? 'true' : 'false',
      n: h.brokerName,
    };
  }
  return {
    a: h.producerGroup,
    b: h.topic,
    c: DEFAULT_TOPIC,
    d: DEFAULT_TOPIC_QUEUE_NUMS,
    e: String(h.queueId),
    f: String(h.sysFlag),
    g: String(h.bornTimestamp),
    h: String(h.flag),
    i: h.properties,
    j: String(h.reconsumeTimes),
    k: 'false',
    l: String(mrt),
    m: h.batch ? 'true' : 'false',
    n: h.brokerName,
  };
}

/** The values the generic path takes (it names the offending field in its error). */
export function genericValues(h: SendHeaderInput): SendMessageHeaderValues {
  return {
    producerGroup: h.producerGroup,
    topic: h.topic,
    defaultTopic: DEFAULT_TOPIC,
    defaultTopicQueueNums: Number(DEFAULT_TOPIC_QUEUE_NUMS),
    queueId: h.queueId,
    sysFlag: h.sysFlag,
    bornTimestamp: h.bornTimestamp,
    flag: h.flag,
    properties: h.properties,
    reconsumeTimes: h.reconsumeTimes,
    unitMode: false,
    maxReconsumeTimes: h.maxReconsumeTimes,
    batch: h.batch,
    bname: h.brokerName,
  };
}

/**
 * A request command as createRequest(code, extFields, body) makes it, taking extFields as they are
 * (all strings already: createRequest's copy through String() would give the same object).
 */
export function createSendRequest(code: number, extFields: Record<string, string>, body: Buffer): RemotingCommand {
  return {
    code,
    language: 'JAVA',
    version: CLIENT_VERSION,
    opaque: newOpaque(),
    flag: 0,
    extFields,
    body,
    serializeType: SerializeType.JSON,
  };
}

export type SendResponseHeader = DecodedHeader<typeof SEND_MESSAGE_RESPONSE_HEADER>;

const DIGITS_RE = /^\d{1,15}$/;

/**
 * decodeHeader(SEND_MESSAGE_RESPONSE_HEADER, ext) for the fields a SendResult uses (msgId, queueId,
 * queueOffset, transactionId). Plain decimal digits (what brokers write) are parsed here; anything
 * else (signs, blanks, huge values, a missing field) goes through decodeHeader for its checks and errors.
 */
export function decodeSendResponse(ext: Record<string, string>): Pick<SendResponseHeader, 'msgId' | 'queueId' | 'queueOffset' | 'transactionId'> {
  const msgId = ext.msgId;
  const qid = ext.queueId;
  const qoff = ext.queueOffset;
  if (msgId === undefined || qid === undefined || qoff === undefined || !DIGITS_RE.test(qid) || !DIGITS_RE.test(qoff)) {
    return decodeHeader(SEND_MESSAGE_RESPONSE_HEADER, ext);
  }
  const queueId = Number(qid);
  if (queueId > 2147483647) return decodeHeader(SEND_MESSAGE_RESPONSE_HEADER, ext);
  const tx = ext.transactionId;
  return { msgId, queueId, queueOffset: Number(qoff), transactionId: tx === '' ? '' : tx };
}
