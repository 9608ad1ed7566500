// Converts between gRPC v2 Messages and the broker's stored messages.
import { crc32, gunzipSync, inflateSync } from 'node:zlib';
import type { MessageRecord } from '../common/message-codec.js';
import { MessageConst } from '../common/message-const.js';
import { string2messageProperties } from '../common/message-properties.js';
import { createMessageId } from '../common/msg-id.js';
import { MessageSysFlag } from '../common/sys-flag.js';
import { Code, ProxyError } from './grpc-code.js';

export const MessageType = { NORMAL: 1, FIFO: 2, DELAY: 3, TRANSACTION: 4, LITE: 5 } as const;
export const Encoding = { IDENTITY: 1, GZIP: 2 } as const;
export const DigestType = { CRC32: 1, MD5: 2, SHA1: 3 } as const;

export interface PbTimestamp {
  seconds?: number;
  nanos?: number;
}
export interface PbDuration {
  seconds?: number;
  nanos?: number;
}

export function toTimestamp(ms: number): PbTimestamp {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}
export function fromTimestamp(t: PbTimestamp | undefined | null): number | undefined {
  if (!t) return undefined;
  return Number(t.seconds ?? 0) * 1000 + Math.floor(Number(t.nanos ?? 0) / 1_000_000);
}
export function toDuration(ms: number): PbDuration {
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}
export const fromDuration = fromTimestamp;

export interface PbSystemProperties {
  tag?: string;
  keys?: string[];
  messageId?: string;
  bodyDigest?: { type?: number; checksum?: string };
  bodyEncoding?: number;
  messageType?: number;
  bornTimestamp?: PbTimestamp;
  bornHost?: string;
  storeTimestamp?: PbTimestamp;
  storeHost?: string;
  deliveryTimestamp?: PbTimestamp;
  receiptHandle?: string;
  queueId?: number;
  queueOffset?: number;
  invisibleDuration?: PbDuration;
  deliveryAttempt?: number;
  messageGroup?: string;
  traceContext?: string;
  orphanedTransactionRecoveryDuration?: PbDuration;
  deadLetterQueue?: { topic?: string; messageId?: string };
  liteTopic?: string;
}

export interface PbMessage {
  topic?: { resourceNamespace?: string; name?: string };
  userProperties?: Record<string, string>;
  systemProperties?: PbSystemProperties;
  body?: Buffer;
}

/** Property names the broker owns; users may not set them, and they are not shown as user properties. */
export const SYSTEM_KEYS: ReadonlySet<string> = new Set(
  Object.entries(MessageConst)
    .filter(([k]) => k !== 'NAME_VALUE_SEPARATOR' && k !== 'PROPERTY_SEPARATOR' && k !== 'KEY_SEPARATOR')
    .map(([, v]) => v),
);

const MAX_USER_PROPERTIES = 128;
const MAX_USER_PROPERTIES_BYTES = 16 * 1024;
const MAX_MESSAGE_GROUP = 64;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface ConvertedSend {
  topic: string;
  body: Buffer;
  properties: string;
  sysFlag: number;
  bornTimestamp: number;
  messageType: number;
  messageId: string;
  messageGroup?: string;
}

/** Validates one gRPC message for sending and builds its properties string (Java proxy checks). */
export function convertForSend(m: PbMessage, maxBodySize: number): ConvertedSend {
  const topic = m.topic?.name ?? '';
  if (!topic) throw new ProxyError(Code.ILLEGAL_TOPIC, 'topic name is empty');
  const sp = m.systemProperties ?? {};
  let body = m.body ?? Buffer.alloc(0);
  if (sp.bodyEncoding === Encoding.GZIP) {
    try {
      body = gunzipSync(body, { maxOutputLength: maxBodySize + 1 });
    } catch (err) {
      throw new ProxyError(Code.MESSAGE_CORRUPTED, `body is labelled GZIP but does not gunzip: ${(err as Error).message}`);
    }
  }
  if (body.length === 0) throw new ProxyError(Code.MESSAGE_BODY_EMPTY, 'message body is empty');
  if (body.length > maxBodySize) {
    throw new ProxyError(Code.MESSAGE_BODY_TOO_LARGE, `message body size ${body.length} exceeds the limit of ${maxBodySize} bytes`);
  }
  const messageId = sp.messageId ?? '';
  if (!messageId) throw new ProxyError(Code.ILLEGAL_MESSAGE_ID, 'message_id is empty');
  const user = m.userProperties ?? {};
  const userKeys = Object.keys(user);
  if (userKeys.length > MAX_USER_PROPERTIES) {
    throw new ProxyError(Code.MESSAGE_PROPERTIES_TOO_LARGE, `${userKeys.length} user properties exceed the limit of ${MAX_USER_PROPERTIES}`);
  }
  let props = '';
  let userBytes = 0;
  for (const k of userKeys) {
    const v = user[k];
    if (SYSTEM_KEYS.has(k)) throw new ProxyError(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, `property key "${k}" is reserved for the system`);
    if (!k || CONTROL.test(k) || CONTROL.test(v)) {
      throw new ProxyError(Code.ILLEGAL_MESSAGE_PROPERTY_KEY, `property "${k.slice(0, 40)}" contains control characters or is empty`);
    }
    userBytes += Buffer.byteLength(k) + Buffer.byteLength(v);
    props += `${k}\u0001${v}\u0002`;
  }
  if (userBytes > MAX_USER_PROPERTIES_BYTES) {
    throw new ProxyError(Code.MESSAGE_PROPERTIES_TOO_LARGE, `user properties of ${userBytes} bytes exceed the limit of ${MAX_USER_PROPERTIES_BYTES}`);
  }
  if (sp.tag !== undefined && sp.tag !== null) {
    if (sp.tag.includes('|') || CONTROL.test(sp.tag) || sp.tag.trim() === '') throw new ProxyError(Code.ILLEGAL_MESSAGE_TAG, `tag "${sp.tag}" is illegal`);
    props = withProperty(props, MessageConst.PROPERTY_TAGS, sp.tag);
  }
  let keys = '';
  for (const k of sp.keys ?? []) {
    if (k === '') continue;
    if (CONTROL.test(k) || k.includes(' ')) throw new ProxyError(Code.ILLEGAL_MESSAGE_KEY, `message key "${k}" is illegal`);
    keys = keys === '' ? k : `${keys} ${k}`;
  }
  props = withProperty(props, MessageConst.PROPERTY_KEYS, keys);
  props = withProperty(props, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX, messageId);
  const messageType = sp.messageType ?? MessageType.NORMAL;
  let sysFlag = 0;
  const bornTimestamp = fromTimestamp(sp.bornTimestamp) ?? Date.now();
  if (sp.messageGroup !== undefined && sp.messageGroup !== null && sp.messageGroup !== '') {
    if (Buffer.byteLength(sp.messageGroup) >= MAX_MESSAGE_GROUP || CONTROL.test(sp.messageGroup)) {
      throw new ProxyError(Code.ILLEGAL_MESSAGE_GROUP, `message group "${sp.messageGroup.slice(0, 80)}" is illegal (at most ${MAX_MESSAGE_GROUP - 1} bytes, no control characters)`);
    }
    props = withProperty(props, MessageConst.PROPERTY_SHARDING_KEY, sp.messageGroup);
  }
  const deliverMs = fromTimestamp(sp.deliveryTimestamp);
  if (deliverMs !== undefined) props = withProperty(props, MessageConst.PROPERTY_TIMER_DELIVER_MS, String(deliverMs));
  if (messageType === MessageType.TRANSACTION) {
    props = withProperty(props, MessageConst.PROPERTY_TRANSACTION_PREPARED, 'true');
    props = withProperty(props, MessageConst.PROPERTY_PRODUCER_GROUP, topic);
    sysFlag |= MessageSysFlag.TRANSACTION_PREPARED_TYPE;
    const recovery = fromDuration(sp.orphanedTransactionRecoveryDuration);
    if (recovery !== undefined && recovery > 0) {
      props = withProperty(props, MessageConst.PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS, String(Math.min(3600, Math.floor(recovery / 1000))));
    }
  }
  props = withProperty(props, MessageConst.PROPERTY_BORN_HOST, sp.bornHost);
  props = withProperty(props, MessageConst.PROPERTY_TRACE_CONTEXT, sp.traceContext);
  return {
    topic,
    body,
    properties: props,
    sysFlag,
    bornTimestamp,
    messageType,
    messageId,
    messageGroup: sp.messageGroup || undefined,
  };
}

/** props with `k=v` appended; an absent or empty value adds nothing. A function of the module, not a closure per message. */
function withProperty(props: string, k: string, v: string | undefined): string {
  return v !== undefined && v !== '' ? `${props}${k}\u0001${v}\u0002` : props;
}

/** The type a stored message was sent as (Java GrpcConverter rules). */
export function messageTypeOf(props: Record<string, string>, sysFlag: number): number {
  if (props[MessageConst.PROPERTY_TRANSACTION_PREPARED] === 'true' || (sysFlag & 0xc) !== 0) return MessageType.TRANSACTION;
  if (props[MessageConst.PROPERTY_DELAY_TIME_LEVEL] || props[MessageConst.PROPERTY_TIMER_DELIVER_MS] || props[MessageConst.PROPERTY_TIMER_OUT_MS]) {
    return MessageType.DELAY;
  }
  if (props[MessageConst.PROPERTY_SHARDING_KEY]) return MessageType.FIFO;
  return MessageType.NORMAL;
}

export interface DeliveryExtras {
  topic: string;
  receiptHandle?: string;
  deliveryAttempt?: number;
  invisibleUntil?: number;
  queueId: number;
  queueOffset: number;
  /** A lite topic's message: message type LITE and its lite topic (issue 18). */
  liteTopic?: string;
}

/** A stored record as a delivered gRPC Message: decompressed body, digest, ids, handle. */
export function convertForDelivery(m: MessageRecord, extra: DeliveryExtras, now: number = Date.now()): PbMessage {
  const props = string2messageProperties(m.properties);
  let body = m.body;
  if ((m.sysFlag & MessageSysFlag.COMPRESSED_FLAG) !== 0) {
    try {
      body = inflateSync(body);
    } catch {
      // Leave it as stored; the digest then tells the client it is corrupt.
    }
  }
  const user: Record<string, string> = {};
  for (const k in props) if (!SYSTEM_KEYS.has(k)) user[k] = props[k];
  const storeHost = `${m.storeHost.address}:${m.storeHost.port}`;
  const sp: PbSystemProperties = {
    messageId: props[MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX] || createMessageId(m.storeHost, m.commitLogOffset),
    // CRC32 as a decimal string: the 5.x clients accept CRC32, MD5 or SHA1, and CRC32 costs a fraction of MD5.
    bodyDigest: { type: DigestType.CRC32, checksum: String(crc32(body)) },
    bodyEncoding: Encoding.IDENTITY,
    messageType: messageTypeOf(props, m.sysFlag),
    bornTimestamp: toTimestamp(m.bornTimestamp),
    bornHost: props[MessageConst.PROPERTY_BORN_HOST] || `${m.bornHost.address}:${m.bornHost.port}`,
    storeTimestamp: toTimestamp(m.storeTimestamp),
    storeHost,
    queueId: extra.queueId,
    queueOffset: extra.queueOffset,
    deliveryAttempt: extra.deliveryAttempt ?? m.reconsumeTimes + 1,
  };
  const tag = props[MessageConst.PROPERTY_TAGS];
  if (tag) sp.tag = tag;
  const keys = props[MessageConst.PROPERTY_KEYS];
  if (keys) sp.keys = keys.split(' ').filter(Boolean);
  if (extra.receiptHandle) sp.receiptHandle = extra.receiptHandle;
  if (extra.invisibleUntil) sp.invisibleDuration = toDuration(Math.max(0, extra.invisibleUntil - now));
  const group = props[MessageConst.PROPERTY_SHARDING_KEY];
  if (group) sp.messageGroup = group;
  const deliver = props[MessageConst.PROPERTY_TIMER_DELIVER_MS] ?? props[MessageConst.PROPERTY_TIMER_OUT_MS];
  if (deliver && Number.isFinite(Number(deliver))) sp.deliveryTimestamp = toTimestamp(Number(deliver));
  const trace = props[MessageConst.PROPERTY_TRACE_CONTEXT];
  if (trace) sp.traceContext = trace;
  if (extra.liteTopic !== undefined) {
    sp.messageType = MessageType.LITE;
    sp.liteTopic = extra.liteTopic;
  }
  return { topic: { name: extra.topic }, userProperties: user, systemProperties: sp, body };
}
