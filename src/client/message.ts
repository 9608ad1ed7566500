// The client's message model: what a producer sends (Message), what a consumer gets
// (MessageExt), queues, and the conversions between them and the wire forms.
import { inflateSync } from 'node:zlib';
import { MessageConst, MixAll } from '../common/message-const.js';
import { createMessageId } from '../common/msg-id.js';
import { MessageSysFlag } from '../common/sys-flag.js';
import type { MessageRecord } from '../common/message-codec.js';
import { ClientUniqIdGenerator } from './uniq-id.js';

export interface Message {
  topic: string;
  body: Buffer | string;
  tags?: string;
  /** One key or several; stored space-separated in KEYS and indexed by the broker. */
  keys?: string | string[];
  /** User properties; system keys given here are overridden by the fields above. */
  properties?: Record<string, string>;
  /** Delay level 1..18 (DELAY). */
  delayTimeLevel?: number;
  /** Absolute delivery time in ms (TIMER_DELIVER_MS, 5.x timer). */
  deliverTimeMs?: number;
  flag?: number;
}

export interface MessageQueue {
  topic: string;
  brokerName: string;
  queueId: number;
}

/** A consumed message. `body` is decompressed; when it was not compressed it is a view on the pull response frame. */
export interface MessageExt {
  /** The original topic: a retried message shows RETRY_TOPIC, not %RETRY%<group>. */
  topic: string;
  body: Buffer;
  tags?: string;
  keys: string[];
  properties: Record<string, string>;
  /** UNIQ_KEY when present, else offsetMsgId. */
  msgId: string;
  offsetMsgId: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  reconsumeTimes: number;
  bornTimestamp: number;
  storeTimestamp: number;
  bornHost: string;
  storeHost: string;
  flag: number;
  sysFlag: number;
  /** Broker the message was pulled from (send-back goes there). */
  brokerName: string;
  /** Transaction messages: the transaction id (UNIQ_KEY), set on check-back and local execution. */
  transactionId?: string;
}

export function mqKey(mq: MessageQueue): string {
  return `${mq.topic}@${mq.brokerName}@${mq.queueId}`;
}

/** MessageQueue.compareTo: topic, then broker name, then queue id. */
export function compareMessageQueue(a: MessageQueue, b: MessageQueue): number {
  if (a.topic !== b.topic) return a.topic < b.topic ? -1 : 1;
  if (a.brokerName !== b.brokerName) return a.brokerName < b.brokerName ? -1 : 1;
  return a.queueId - b.queueId;
}

export function retryTopicOf(group: string): string {
  return MixAll.RETRY_GROUP_TOPIC_PREFIX + group;
}

const NV = '\u0001';
const SEP = '\u0002';
const TOPIC_RE = /^[%|a-zA-Z0-9_-]+$/;

/** Java Validators.checkTopic. Returns an error text or undefined. */
export function checkTopic(topic: string): string | undefined {
  if (!topic) return 'the specified topic is blank';
  if (topic.length > 127) return `the specified topic is longer than topic max length 127: ${topic}`;
  if (!TOPIC_RE.test(topic)) return `the specified topic[${topic}] contains illegal characters, allowing only ^[%|a-zA-Z0-9_-]+$`;
  return undefined;
}

function checkText(what: string, s: string): void {
  if (s.includes(NV) || s.includes(SEP)) throw new Error(`${what} contains a \\u0001 or \\u0002 character: ${JSON.stringify(s)}`);
}

// Whole entry pieces, so that an entry is one or two concatenations instead of four.
const TAGS_PREFIX = MessageConst.PROPERTY_TAGS + NV;
const KEYS_PREFIX = MessageConst.PROPERTY_KEYS + NV;
const WAIT_TRUE_ENTRY = MessageConst.PROPERTY_WAIT_STORE_MSG_OK + NV + 'true' + SEP;
const UNIQ_PREFIX = MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX + NV;

const EXPLICIT = new Set<string>([
  MessageConst.PROPERTY_TAGS,
  MessageConst.PROPERTY_KEYS,
  MessageConst.PROPERTY_DELAY_TIME_LEVEL,
  MessageConst.PROPERTY_TIMER_DELIVER_MS,
]);

export function keysString(keys: string | string[] | undefined): string | undefined {
  if (keys === undefined) return undefined;
  const s = typeof keys === 'string' ? keys : keys.join(MessageConst.KEY_SEPARATOR);
  return s.length > 0 ? s : undefined;
}

/**
 * The properties string of an outgoing message. WAIT=true is added unless given (Java's Message
 * constructor does the same); UNIQ_KEY is appended unless the user set one.
 */
export function encodeSendProperties(msg: Message, uniqKey: string | undefined): string {
  let s = '';
  let hasWait = false;
  let hasUniq = false;
  const up = msg.properties;
  if (up) {
    for (const k in up) {
      const v = up[k];
      if (v === undefined || v === null || EXPLICIT.has(k)) continue;
      checkText('property name', k);
      checkText(`property ${k}`, v);
      if (k === MessageConst.PROPERTY_WAIT_STORE_MSG_OK) hasWait = true;
      else if (k === MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) hasUniq = true;
      s += k + NV + v + SEP;
    }
  }
  if (msg.tags) {
    checkText('tags', msg.tags);
    s += TAGS_PREFIX + msg.tags + SEP;
  }
  const keys = keysString(msg.keys);
  if (keys) {
    checkText('keys', keys);
    s += KEYS_PREFIX + keys + SEP;
  }
  if (msg.delayTimeLevel !== undefined && msg.delayTimeLevel > 0) s += MessageConst.PROPERTY_DELAY_TIME_LEVEL + NV + String(msg.delayTimeLevel) + SEP;
  if (msg.deliverTimeMs !== undefined) s += MessageConst.PROPERTY_TIMER_DELIVER_MS + NV + String(msg.deliverTimeMs) + SEP;
  if (!hasWait) s += WAIT_TRUE_ENTRY;
  if (uniqKey !== undefined && !hasUniq) s += UNIQ_PREFIX + uniqKey + SEP;
  return s;
}

let idSetter: ClientUniqIdGenerator | undefined;

/** UNIQ_KEY in Java's MessageClientIDSetter form, generated on the client as Java does. */
export function createClientUniqID(ip: string): string {
  idSetter ??= new ClientUniqIdGenerator(ip);
  return idSetter.create();
}

/** Java MessageDecoder.decompress: zlib for type 0 / ZLIB; LZ4 and ZSTD are not supported here. */
function decompressBody(body: Buffer, sysFlag: number): Buffer {
  const type = sysFlag & MessageSysFlag.COMPRESSION_TYPE_COMPARATOR;
  if (type !== 0 && type !== MessageSysFlag.COMPRESSION_ZLIB_TYPE) {
    throw new Error(`compression type 0x${type.toString(16)} (LZ4/ZSTD) is not supported by this client`);
  }
  return inflateSync(body);
}

// The "ip:port" texts of the last hosts seen: a pull answer's records share one store host and a
// few born hosts, and a template string per record and host was a visible share of the consumer's
// allocation (issue 17).
let lastBornAddress = '';
let lastBornPort = -1;
let lastBornText = '';
let lastStoreAddress = '';
let lastStorePort = -1;
let lastStoreText = '';

function bornHostText(address: string, port: number): string {
  if (address !== lastBornAddress || port !== lastBornPort) {
    lastBornText = `${address}:${port}`;
    lastBornAddress = address;
    lastBornPort = port;
  }
  return lastBornText;
}

function storeHostText(address: string, port: number): string {
  if (address !== lastStoreAddress || port !== lastStorePort) {
    lastStoreText = `${address}:${port}`;
    lastStoreAddress = address;
    lastStorePort = port;
  }
  return lastStoreText;
}

// RocketMQ's property names by length: a pulled message's names are nearly all of them, and taking
// the constant (an internalized string) instead of a slice saves a string and its internalization
// per property as it becomes a key (issue 17).
const KNOWN_NAMES: string[][] = [];
for (const [k, v] of Object.entries(MessageConst)) {
  if (k.startsWith('PROPERTY_') && typeof v === 'string' && v.length > 1) (KNOWN_NAMES[v.length] ??= []).push(v);
}

function nameAt(s: string, start: number, end: number): string {
  const known = KNOWN_NAMES[end - start];
  if (known !== undefined) {
    for (let i = 0; i < known.length; i++) if (s.startsWith(known[i], start)) return known[i];
  }
  return s.slice(start, end);
}

/** string2messageProperties (common/message-properties.ts) with known names taken from the constants; same result. */
export function parsePulledProperties(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < s.length) {
    let end = s.indexOf(SEP, pos);
    if (end < 0) end = s.length;
    const nv = s.indexOf(NV, pos);
    if (nv > pos && nv < end) out[nameAt(s, pos, nv)] = s.slice(nv + 1, end);
    pos = end + 1;
  }
  return out;
}

/** A pulled record as a MessageExt; the body is inflated when the COMPRESSED flag is set. */
export function toMessageExt(r: MessageRecord, brokerName: string): MessageExt {
  const props = parsePulledProperties(r.properties);
  const offsetMsgId = createMessageId(r.storeHost, r.commitLogOffset);
  const keys = props[MessageConst.PROPERTY_KEYS];
  const compressed = (r.sysFlag & MessageSysFlag.COMPRESSED_FLAG) !== 0;
  return {
    topic: r.topic,
    body: compressed ? decompressBody(r.body, r.sysFlag) : r.body,
    tags: props[MessageConst.PROPERTY_TAGS],
    keys: keys ? keys.split(MessageConst.KEY_SEPARATOR).filter(Boolean) : [],
    properties: props,
    msgId: props[MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX] || offsetMsgId,
    offsetMsgId,
    queueId: r.queueId,
    queueOffset: r.queueOffset,
    commitLogOffset: r.commitLogOffset,
    reconsumeTimes: r.reconsumeTimes,
    bornTimestamp: r.bornTimestamp,
    storeTimestamp: r.storeTimestamp,
    bornHost: bornHostText(r.bornHost.address, r.bornHost.port),
    storeHost: storeHostText(r.storeHost.address, r.storeHost.port),
    flag: r.flag,
    sysFlag: r.sysFlag,
    brokerName,
  };
}
