// The bytes of ReceiveMessageResponse { message } straight from a stored record, in one pass over
// its properties string and one buffer: consumption's hot path, where building a Message object
// and handing it to protobufjs cost about a fifth of the broker's time per delivered message.
// It covers the common case (ASCII properties, uncompressed body); anything else returns
// undefined and goes the generic way (convertForDelivery + protobufjs). Both must decode to the
// same Message: test/proxy/delivery-encoder.test.ts compares them over a table of records.
import { crc32 } from 'node:zlib';
import type { MessageRecord } from '../common/message-codec.js';
import type { HostPort } from '../common/message-host.js';
import { MessageConst } from '../common/message-const.js';
import { createMessageId } from '../common/msg-id.js';
import { MessageSysFlag } from '../common/sys-flag.js';
import { DigestType, Encoding, MessageType, SYSTEM_KEYS, type DeliveryExtras } from './message-converter.js';

// The system properties a delivered Message reports, as slots of one scan.
const enum Slot {
  TAGS,
  KEYS,
  UNIQ_KEY,
  BORN_HOST,
  SHARDING_KEY,
  TIMER_DELIVER_MS,
  TIMER_OUT_MS,
  TRACE_CONTEXT,
  TRANSACTION_PREPARED,
  DELAY,
  COUNT,
}
const SLOT_NAMES: readonly string[] = [
  MessageConst.PROPERTY_TAGS,
  MessageConst.PROPERTY_KEYS,
  MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
  MessageConst.PROPERTY_BORN_HOST,
  MessageConst.PROPERTY_SHARDING_KEY,
  MessageConst.PROPERTY_TIMER_DELIVER_MS,
  MessageConst.PROPERTY_TIMER_OUT_MS,
  MessageConst.PROPERTY_TRACE_CONTEXT,
  MessageConst.PROPERTY_TRANSACTION_PREPARED,
  MessageConst.PROPERTY_DELAY_TIME_LEVEL,
];

/** System property names by length, each with its slot (-1: system, but not reported). */
const SYSTEM_BY_LENGTH: { name: string; slot: number }[][] = [];
for (const name of SYSTEM_KEYS) (SYSTEM_BY_LENGTH[name.length] ??= []).push({ name, slot: SLOT_NAMES.indexOf(name) });

const MAX_USER_PROPERTIES = 256;
// Scratch for one message at a time (encoding is synchronous): start/end of each slot's value,
// and key start/end + value start/end of each user property.
const slotStart = new Int32Array(Slot.COUNT);
const slotEnd = new Int32Array(Slot.COUNT);
const user = new Int32Array(MAX_USER_PROPERTIES * 4);

/** -1 when the name at s[from, to) is a user property, else its slot (or -2 for unreported system keys). */
function classify(s: string, from: number, to: number): number {
  const candidates = SYSTEM_BY_LENGTH[to - from];
  if (candidates === undefined) return -1;
  for (const c of candidates) if (s.startsWith(c.name, from)) return c.slot < 0 ? -2 : c.slot;
  return -1;
}

function sameText(s: string, a: number, b: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (s.charCodeAt(a + i) !== s.charCodeAt(b + i)) return false;
  return true;
}

/** Every character is one UTF-8 byte exactly when the string is ASCII (native, several times a JS loop). */
function isAscii(s: string): boolean {
  return Buffer.byteLength(s, 'utf8') === s.length;
}

function varintSize(v: number): number {
  if (v < 0) return 10;
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 4;
  v = Math.floor(v / 0x10000000);
  while (v > 0) {
    n++;
    v = Math.floor(v / 0x80);
  }
  return n;
}

function writeVarint(buf: Buffer, pos: number, v: number): number {
  if (v < 0) {
    // Two's complement over 64 bits, as protobuf writes negative int32/int64.
    let x = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) {
      buf[pos++] = Number(x & 0x7fn) | 0x80;
      x >>= 7n;
    }
    buf[pos++] = Number(x);
    return pos;
  }
  while (v > 0x7fffffff) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

function writeAscii(buf: Buffer, pos: number, s: string, from: number, to: number): number {
  for (let i = from; i < to; i++) buf[pos++] = s.charCodeAt(i);
  return pos;
}

/** Tag + length of a length-delimited field; its len bytes of content follow. */
function writeFieldHeader(buf: Buffer, pos: number, tag: number, len: number): number {
  return writeVarint(buf, writeTag(buf, pos, tag), len);
}

/** Tag + length + text of an ASCII string field. */
function writeStringField(buf: Buffer, pos: number, tag: number, s: string, from: number, to: number): number {
  return writeAscii(buf, writeFieldHeader(buf, pos, tag, to - from), s, from, to);
}

function writeTag(buf: Buffer, pos: number, tag: number): number {
  if (tag < 0x80) {
    buf[pos] = tag;
    return pos + 1;
  }
  return writeVarint(buf, pos, tag);
}

/** Bytes of a length-delimited field (string, bytes or nested message) whose content is len bytes. */
const fieldSize = (tag: number, len: number): number => varintSize(tag) + varintSize(len) + len;

/** google.protobuf.Timestamp / Duration body for a millisecond value, both fields written. */
function timeBodySize(ms: number): number {
  return 1 + varintSize(Math.floor(ms / 1000)) + 1 + varintSize((ms % 1000) * 1_000_000);
}
function writeTimeField(buf: Buffer, pos: number, tag: number, ms: number): number {
  const seconds = Math.floor(ms / 1000);
  const nanos = (ms % 1000) * 1_000_000;
  pos = writeFieldHeader(buf, pos, tag, timeBodySize(ms));
  buf[pos++] = 0x08;
  pos = writeVarint(buf, pos, seconds);
  buf[pos++] = 0x10;
  return writeVarint(buf, pos, nanos);
}

/** "address:port" of a host, remembered for the last host asked (messages of one broker share it). */
function hostTextCache(): (h: HostPort) => string {
  let address = '';
  let port = -1;
  let text = '';
  return (h) => {
    if (h.address !== address || h.port !== port) {
      address = h.address;
      port = h.port;
      text = `${address}:${port}`;
    }
    return text;
  };
}
const storeHostText = hostTextCache();
const bornHostText = hostTextCache();

// Field tags (field number << 3 | wire type) of the v2 schema.
const T = {
  RESPONSE_MESSAGE: 0x12,
  MESSAGE_TOPIC: 0x0a,
  MESSAGE_USER_PROPERTY: 0x12,
  MESSAGE_SYSTEM_PROPERTIES: 0x1a,
  MESSAGE_BODY: 0x22,
  RESOURCE_NAME: 0x12,
  MAP_KEY: 0x0a,
  MAP_VALUE: 0x12,
  SP_TAG: 0x0a,
  SP_KEYS: 0x12,
  SP_MESSAGE_ID: 0x1a,
  SP_BODY_DIGEST: 0x22,
  SP_BODY_ENCODING: 0x28,
  SP_MESSAGE_TYPE: 0x30,
  SP_BORN_TIMESTAMP: 0x3a,
  SP_BORN_HOST: 0x42,
  SP_STORE_TIMESTAMP: 0x4a,
  SP_STORE_HOST: 0x52,
  SP_DELIVERY_TIMESTAMP: 0x5a,
  SP_RECEIPT_HANDLE: 0x62,
  SP_QUEUE_ID: 0x68,
  SP_QUEUE_OFFSET: 0x70,
  SP_INVISIBLE_DURATION: 0x7a,
  SP_DELIVERY_ATTEMPT: 0x80,
  SP_MESSAGE_GROUP: 0x8a,
  SP_TRACE_CONTEXT: 0x92,
  SP_LITE_TOPIC: 0xaa,
  DIGEST_TYPE: 0x08,
  DIGEST_CHECKSUM: 0x12,
} as const;

const present = (slot: Slot): boolean => slotEnd[slot] > slotStart[slot];

/**
 * The encoded ReceiveMessageResponse carrying this record as its message, or undefined when the
 * record needs the generic path (compressed body, non-ASCII text, too many user properties).
 */
export function encodeDelivery(m: MessageRecord, extra: DeliveryExtras, now: number = Date.now()): Buffer | undefined {
  if ((m.sysFlag & MessageSysFlag.COMPRESSED_FLAG) !== 0) return undefined;
  const s = m.properties;
  if (!isAscii(s) || !isAscii(extra.topic)) return undefined;
  const handle = extra.receiptHandle;
  if (handle && !isAscii(handle)) return undefined;
  const lite = extra.liteTopic;
  if (lite !== undefined && !isAscii(lite)) return undefined;

  // One scan of the properties: slots for the system values, ranges for user properties. A
  // repeated name keeps its last value (as a parsed map would); a repeated user name goes the
  // generic way, where the map decides.
  slotStart.fill(0);
  slotEnd.fill(0);
  let users = 0;
  let userBytes = 0;
  for (let pos = 0; pos < s.length; ) {
    let end = s.indexOf('\u0002', pos);
    if (end < 0) end = s.length;
    const nv = s.indexOf('\u0001', pos);
    if (nv > pos && nv < end) {
      const slot = classify(s, pos, nv);
      if (slot >= 0) {
        slotStart[slot] = nv + 1;
        slotEnd[slot] = end;
      } else if (slot === -1) {
        const keyLen = nv - pos;
        for (let u = 0; u < users; u++) {
          const k = u * 4;
          if (user[k + 1] - user[k] === keyLen && sameText(s, user[k], pos, keyLen)) return undefined;
        }
        if (users === MAX_USER_PROPERTIES) return undefined;
        const k = users++ * 4;
        user[k] = pos;
        user[k + 1] = nv;
        user[k + 2] = nv + 1;
        user[k + 3] = end;
        const entry = fieldSize(T.MAP_KEY, keyLen) + fieldSize(T.MAP_VALUE, end - nv - 1);
        userBytes += fieldSize(T.MESSAGE_USER_PROPERTY, entry);
      }
    }
    pos = end + 1;
  }

  // As the generic path reads it: TIMER_DELIVER_MS when that name is there at all, else TIMER_OUT_MS.
  const deliverSlot = slotStart[Slot.TIMER_DELIVER_MS] > 0 ? Slot.TIMER_DELIVER_MS : Slot.TIMER_OUT_MS;
  let hasDeliver = false;
  let deliverMs = 0;
  if (present(deliverSlot)) {
    const n = Number(s.slice(slotStart[deliverSlot], slotEnd[deliverSlot]));
    if (Number.isFinite(n)) {
      if (!Number.isInteger(n)) return undefined;
      hasDeliver = true;
      deliverMs = n;
    }
  }

  let messageType: number = MessageType.NORMAL;
  const prepared = slotEnd[Slot.TRANSACTION_PREPARED] - slotStart[Slot.TRANSACTION_PREPARED] === 4 && s.startsWith('true', slotStart[Slot.TRANSACTION_PREPARED]);
  if (prepared || (m.sysFlag & 0xc) !== 0) messageType = MessageType.TRANSACTION;
  else if (present(Slot.DELAY) || present(Slot.TIMER_DELIVER_MS) || present(Slot.TIMER_OUT_MS)) messageType = MessageType.DELAY;
  else if (present(Slot.SHARDING_KEY)) messageType = MessageType.FIFO;
  if (lite !== undefined) messageType = MessageType.LITE;

  const body = m.body;
  const checksum = String(crc32(body));
  let messageId = s;
  let idFrom = slotStart[Slot.UNIQ_KEY];
  let idTo = slotEnd[Slot.UNIQ_KEY];
  if (idTo <= idFrom) {
    messageId = createMessageId(m.storeHost, m.commitLogOffset);
    idFrom = 0;
    idTo = messageId.length;
  }
  let bornHost = s;
  let bornFrom = slotStart[Slot.BORN_HOST];
  let bornTo = slotEnd[Slot.BORN_HOST];
  if (bornTo <= bornFrom) {
    bornHost = bornHostText(m.bornHost);
    bornFrom = 0;
    bornTo = bornHost.length;
  }
  const storeHost = storeHostText(m.storeHost);
  if (!isAscii(bornHost) || !isAscii(storeHost)) return undefined;
  const attempt = extra.deliveryAttempt ?? m.reconsumeTimes + 1;
  const invisibleMs = extra.invisibleUntil ? Math.max(0, extra.invisibleUntil - now) : -1;

  // Sizes, innermost first.
  let sp = 0;
  if (present(Slot.TAGS)) sp += fieldSize(T.SP_TAG, slotEnd[Slot.TAGS] - slotStart[Slot.TAGS]);
  const keysFrom = slotStart[Slot.KEYS];
  const keysTo = slotEnd[Slot.KEYS];
  for (let i = keysFrom; i < keysTo; ) {
    let j = s.indexOf(' ', i);
    if (j < 0 || j > keysTo) j = keysTo;
    if (j > i) sp += fieldSize(T.SP_KEYS, j - i);
    i = j + 1;
  }
  sp += fieldSize(T.SP_MESSAGE_ID, idTo - idFrom);
  const digestLen = 2 + fieldSize(T.DIGEST_CHECKSUM, checksum.length);
  sp += fieldSize(T.SP_BODY_DIGEST, digestLen);
  sp += 2 + 1 + varintSize(messageType);
  sp += fieldSize(T.SP_BORN_TIMESTAMP, timeBodySize(m.bornTimestamp));
  sp += fieldSize(T.SP_BORN_HOST, bornTo - bornFrom);
  sp += fieldSize(T.SP_STORE_TIMESTAMP, timeBodySize(m.storeTimestamp));
  sp += fieldSize(T.SP_STORE_HOST, storeHost.length);
  if (hasDeliver) sp += fieldSize(T.SP_DELIVERY_TIMESTAMP, timeBodySize(deliverMs));
  if (handle) sp += fieldSize(T.SP_RECEIPT_HANDLE, handle.length);
  sp += 1 + varintSize(extra.queueId);
  sp += 1 + varintSize(extra.queueOffset);
  if (invisibleMs >= 0) sp += fieldSize(T.SP_INVISIBLE_DURATION, timeBodySize(invisibleMs));
  sp += 2 + varintSize(attempt);
  if (present(Slot.SHARDING_KEY)) sp += fieldSize(T.SP_MESSAGE_GROUP, slotEnd[Slot.SHARDING_KEY] - slotStart[Slot.SHARDING_KEY]);
  if (present(Slot.TRACE_CONTEXT)) sp += fieldSize(T.SP_TRACE_CONTEXT, slotEnd[Slot.TRACE_CONTEXT] - slotStart[Slot.TRACE_CONTEXT]);
  if (lite !== undefined) sp += fieldSize(T.SP_LITE_TOPIC, lite.length);

  const resource = fieldSize(T.RESOURCE_NAME, extra.topic.length);
  const message = fieldSize(T.MESSAGE_TOPIC, resource) + userBytes + fieldSize(T.MESSAGE_SYSTEM_PROPERTIES, sp) + fieldSize(T.MESSAGE_BODY, body.length);
  const buf = Buffer.allocUnsafe(fieldSize(T.RESPONSE_MESSAGE, message));

  let p = writeFieldHeader(buf, 0, T.RESPONSE_MESSAGE, message);
  p = writeFieldHeader(buf, p, T.MESSAGE_TOPIC, resource);
  p = writeStringField(buf, p, T.RESOURCE_NAME, extra.topic, 0, extra.topic.length);
  for (let u = 0; u < users; u++) {
    const k = u * 4;
    const entry = fieldSize(T.MAP_KEY, user[k + 1] - user[k]) + fieldSize(T.MAP_VALUE, user[k + 3] - user[k + 2]);
    p = writeFieldHeader(buf, p, T.MESSAGE_USER_PROPERTY, entry);
    p = writeStringField(buf, p, T.MAP_KEY, s, user[k], user[k + 1]);
    p = writeStringField(buf, p, T.MAP_VALUE, s, user[k + 2], user[k + 3]);
  }
  p = writeFieldHeader(buf, p, T.MESSAGE_SYSTEM_PROPERTIES, sp);
  if (present(Slot.TAGS)) p = writeStringField(buf, p, T.SP_TAG, s, slotStart[Slot.TAGS], slotEnd[Slot.TAGS]);
  for (let i = keysFrom; i < keysTo; ) {
    let j = s.indexOf(' ', i);
    if (j < 0 || j > keysTo) j = keysTo;
    if (j > i) p = writeStringField(buf, p, T.SP_KEYS, s, i, j);
    i = j + 1;
  }
  p = writeStringField(buf, p, T.SP_MESSAGE_ID, messageId, idFrom, idTo);
  p = writeFieldHeader(buf, p, T.SP_BODY_DIGEST, digestLen);
  buf[p++] = T.DIGEST_TYPE;
  buf[p++] = DigestType.CRC32;
  p = writeStringField(buf, p, T.DIGEST_CHECKSUM, checksum, 0, checksum.length);
  buf[p++] = T.SP_BODY_ENCODING;
  buf[p++] = Encoding.IDENTITY;
  buf[p++] = T.SP_MESSAGE_TYPE;
  p = writeVarint(buf, p, messageType);
  p = writeTimeField(buf, p, T.SP_BORN_TIMESTAMP, m.bornTimestamp);
  p = writeStringField(buf, p, T.SP_BORN_HOST, bornHost, bornFrom, bornTo);
  p = writeTimeField(buf, p, T.SP_STORE_TIMESTAMP, m.storeTimestamp);
  p = writeStringField(buf, p, T.SP_STORE_HOST, storeHost, 0, storeHost.length);
  if (hasDeliver) p = writeTimeField(buf, p, T.SP_DELIVERY_TIMESTAMP, deliverMs);
  if (handle) p = writeStringField(buf, p, T.SP_RECEIPT_HANDLE, handle, 0, handle.length);
  buf[p++] = T.SP_QUEUE_ID;
  p = writeVarint(buf, p, extra.queueId);
  buf[p++] = T.SP_QUEUE_OFFSET;
  p = writeVarint(buf, p, extra.queueOffset);
  if (invisibleMs >= 0) p = writeTimeField(buf, p, T.SP_INVISIBLE_DURATION, invisibleMs);
  p = writeFieldHeader(buf, p, T.SP_DELIVERY_ATTEMPT, attempt);
  if (present(Slot.SHARDING_KEY)) p = writeStringField(buf, p, T.SP_MESSAGE_GROUP, s, slotStart[Slot.SHARDING_KEY], slotEnd[Slot.SHARDING_KEY]);
  if (present(Slot.TRACE_CONTEXT)) p = writeStringField(buf, p, T.SP_TRACE_CONTEXT, s, slotStart[Slot.TRACE_CONTEXT], slotEnd[Slot.TRACE_CONTEXT]);
  if (lite !== undefined) p = writeStringField(buf, p, T.SP_LITE_TOPIC, lite, 0, lite.length);
  p = writeFieldHeader(buf, p, T.MESSAGE_BODY, body.length);
  p += body.copy(buf, p);
  if (p !== buf.length) throw new Error(`delivery encoder wrote ${p} of ${buf.length} bytes`);
  return buf;
}
