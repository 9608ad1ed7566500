// The stored message record (RocketMQ CommitLog layout, = a pull response body entry).
// Pure functions over Buffers so both the store and clients can use them. Layout, big-endian:
//   TOTALSIZE int | MAGICCODE int | BODYCRC int | QUEUEID int | FLAG int | QUEUEOFFSET long |
//   PHYSICALOFFSET long | SYSFLAG int | BORNTIMESTAMP long | BORNHOST 4|16 + port int |
//   STORETIMESTAMP long | STOREHOST 4|16 + port int | RECONSUMETIMES int |
//   PREPARED TRANSACTION OFFSET long | BODY int + bytes | TOPIC byte(V1)|short(V2) + bytes |
//   PROPERTIES short + bytes
import { bodyCrc } from './crc.js';
import { readLong, writeLong } from './message-bytes.js';
import { isV6Address, readAddress, writeAddress, type HostPort } from './message-host.js';
import { MessageSysFlag } from './sys-flag.js';

export const MESSAGE_MAGIC_CODE_V1 = 0xdaa320a7 | 0;
export const MESSAGE_MAGIC_CODE_V2 = 0xdaa320ab | 0;
export const BLANK_MAGIC_CODE = 0xcbd43194 | 0;
/** Topics longer than this (in bytes) need V2's int16 topic length. */
export const MAX_V1_TOPIC_LENGTH = 127;
export const MAX_PROPERTIES_LENGTH = 32767;

/** Fixed field positions (the first 48 bytes never move). */
export const RecordPos = {
  TOTALSIZE: 0,
  MAGICCODE: 4,
  BODYCRC: 8,
  QUEUEID: 12,
  FLAG: 16,
  QUEUEOFFSET: 20,
  PHYSICALOFFSET: 28,
  SYSFLAG: 36,
  BORNTIMESTAMP: 40,
  BORNHOST: 48,
} as const;

/** Position of STORETIMESTAMP, which shifts by 12 when the born host is IPv6. */
export function storeTimestampPos(sysFlag: number): number {
  return (sysFlag & MessageSysFlag.BORNHOST_V6_FLAG) === 0 ? 56 : 68;
}

/** The fields a sender supplies; the store adds queueOffset, commitLogOffset and storeTimestamp. */
export interface MessageRecordFields {
  topic: string;
  queueId: number;
  flag: number;
  body: Buffer;
  properties: string;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostPort;
  storeHost: HostPort;
  reconsumeTimes: number;
  preparedTransactionOffset: number;
}

export interface MessageRecordInput extends MessageRecordFields {
  queueOffset: number;
  commitLogOffset: number;
  storeTimestamp: number;
}

export interface MessageRecord extends MessageRecordInput {
  totalSize: number;
  magicCode: number;
  bodyCrc: number;
}

/** Byte sizes worked out once per message and reused by the encoder. */
export interface RecordSizes {
  sysFlag: number;
  topicBytes: number;
  propertiesBytes: number;
  totalSize: number;
  v2: boolean;
}

/** RocketMQ's calMsgLength: total record bytes for these field sizes. */
export function calMsgLength(sysFlag: number, bodyLength: number, topicLength: number, propertiesLength: number): number {
  const bornHostLen = (sysFlag & MessageSysFlag.BORNHOST_V6_FLAG) === 0 ? 8 : 20;
  const storeHostLen = (sysFlag & MessageSysFlag.STOREHOSTADDRESS_V6_FLAG) === 0 ? 8 : 20;
  const topicLenSize = topicLength > MAX_V1_TOPIC_LENGTH ? 2 : 1;
  return (
    4 + // TOTALSIZE
    4 + // MAGICCODE
    4 + // BODYCRC
    4 + // QUEUEID
    4 + // FLAG
    8 + // QUEUEOFFSET
    8 + // PHYSICALOFFSET
    4 + // SYSFLAG
    8 + // BORNTIMESTAMP
    bornHostLen + // BORNHOST
    8 + // STORETIMESTAMP
    storeHostLen + // STOREHOST
    4 + // RECONSUMETIMES
    8 + // PREPARED TRANSACTION OFFSET
    4 + bodyLength + // BODY
    topicLenSize + topicLength + // TOPIC
    2 + propertiesLength // PROPERTIES
  );
}

/**
 * Measures a message and fixes its sysFlag host bits from the hosts given (IPv4-mapped and
 * loopback IPv6 count as IPv4). Throws on a topic over 32767 bytes.
 */
export function measureRecord(m: Pick<MessageRecordFields, 'topic' | 'body' | 'properties' | 'sysFlag' | 'bornHost' | 'storeHost'>): RecordSizes {
  let sysFlag = m.sysFlag & ~(MessageSysFlag.BORNHOST_V6_FLAG | MessageSysFlag.STOREHOSTADDRESS_V6_FLAG);
  if (isV6Address(m.bornHost.address)) sysFlag |= MessageSysFlag.BORNHOST_V6_FLAG;
  if (isV6Address(m.storeHost.address)) sysFlag |= MessageSysFlag.STOREHOSTADDRESS_V6_FLAG;
  const topicBytes = Buffer.byteLength(m.topic, 'utf8');
  if (topicBytes > 32767) throw new Error(`topic too long: ${topicBytes} bytes`);
  const propertiesBytes = Buffer.byteLength(m.properties, 'utf8');
  const totalSize = calMsgLength(sysFlag, m.body.length, topicBytes, propertiesBytes);
  return { sysFlag, topicBytes, propertiesBytes, totalSize, v2: topicBytes > MAX_V1_TOPIC_LENGTH };
}

/**
 * Writes the record into buf at pos (the caller ensures sizes.totalSize bytes fit) and returns
 * the position after it. The commit log encodes straight into its write batch with this.
 */
export function encodeMessageInto(
  buf: Buffer,
  pos: number,
  m: MessageRecordFields,
  sizes: RecordSizes,
  queueOffset: number,
  commitLogOffset: number,
  storeTimestamp: number,
): number {
  let p = pos;
  buf.writeInt32BE(sizes.totalSize, p);
  buf.writeInt32BE(sizes.v2 ? MESSAGE_MAGIC_CODE_V2 : MESSAGE_MAGIC_CODE_V1, p + 4);
  buf.writeInt32BE(bodyCrc(m.body), p + 8);
  buf.writeInt32BE(m.queueId, p + 12);
  buf.writeInt32BE(m.flag | 0, p + 16);
  writeLong(buf, queueOffset, p + 20);
  writeLong(buf, commitLogOffset, p + 28);
  buf.writeInt32BE(sizes.sysFlag, p + 36);
  writeLong(buf, m.bornTimestamp, p + 40);
  p += 48;
  p += writeAddress(buf, m.bornHost.address, p);
  buf.writeInt32BE(m.bornHost.port, p);
  writeLong(buf, storeTimestamp, p + 4);
  p += 12;
  p += writeAddress(buf, m.storeHost.address, p);
  buf.writeInt32BE(m.storeHost.port, p);
  buf.writeInt32BE(m.reconsumeTimes, p + 4);
  writeLong(buf, m.preparedTransactionOffset, p + 8);
  buf.writeInt32BE(m.body.length, p + 16);
  p += 20;
  p += m.body.copy(buf, p);
  if (sizes.v2) {
    buf.writeInt16BE(sizes.topicBytes, p);
    p += 2;
  } else buf[p++] = sizes.topicBytes;
  p += buf.write(m.topic, p, sizes.topicBytes, 'utf8');
  buf.writeInt16BE(sizes.propertiesBytes, p);
  p += 2;
  if (sizes.propertiesBytes > 0) p += buf.write(m.properties, p, sizes.propertiesBytes, 'utf8');
  return p;
}

/** Encodes one record into a fresh Buffer. */
export function encodeMessage(m: MessageRecordInput): Buffer {
  const sizes = measureRecord(m);
  if (sizes.propertiesBytes > MAX_PROPERTIES_LENGTH) throw new Error(`properties too long: ${sizes.propertiesBytes} bytes`);
  const buf = Buffer.allocUnsafe(sizes.totalSize);
  encodeMessageInto(buf, 0, m, sizes, m.queueOffset, m.commitLogOffset, m.storeTimestamp);
  return buf;
}

export class MessageDecodeError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = 'MessageDecodeError';
  }
}

export interface DecodeOptions {
  /** Verify BODYCRC (default true). */
  checkCrc?: boolean;
  /** Copy the body out of buf instead of returning a view on it (default false). */
  copyBody?: boolean;
}

// A module function, not a closure per call: under tsx (keepNames) each closure made a defineProperty
// call per decoded record (issue 17: ~3 % of the consumer's CPU).
function failAt(pos: number, why: string): never {
  throw new MessageDecodeError(`bad record at ${pos}: ${why}`, pos);
}

/** Decodes the record at pos. The body is a view on buf unless copyBody is set. */
export function decodeMessage(buf: Buffer, pos = 0, opts: DecodeOptions = {}): MessageRecord {
  if (buf.length - pos < 8) failAt(pos, `truncated header: ${Math.max(0, buf.length - pos)} bytes`);
  const totalSize = buf.readInt32BE(pos);
  const magicCode = buf.readInt32BE(pos + 4);
  if (magicCode !== MESSAGE_MAGIC_CODE_V1 && magicCode !== MESSAGE_MAGIC_CODE_V2) failAt(pos, `magic 0x${(magicCode >>> 0).toString(16)}`);
  if (totalSize < 91 || pos + totalSize > buf.length) failAt(pos, `total size ${totalSize}`);
  const end = pos + totalSize;
  const sysFlag = buf.readInt32BE(pos + 36);
  const bornV6 = (sysFlag & MessageSysFlag.BORNHOST_V6_FLAG) !== 0;
  const storeV6 = (sysFlag & MessageSysFlag.STOREHOSTADDRESS_V6_FLAG) !== 0;
  // IPv6 hosts move everything behind them by 12 bytes each: the fixed fields up to the body length
  // must fit in the record before they are read (issue 10: a short record read past the buffer).
  const bodyLenEnd = pos + 48 + (bornV6 ? 20 : 8) + 8 + (storeV6 ? 20 : 8) + 4 + 8 + 4;
  if (bodyLenEnd > end) failAt(pos, `total size ${totalSize} is too small for sysFlag 0x${(sysFlag >>> 0).toString(16)}`);
  let p = pos + 48;
  const bornAddress = readAddress(buf, p, bornV6);
  p += bornV6 ? 16 : 4;
  const bornHost = { address: bornAddress, port: buf.readInt32BE(p) };
  const storeTimestamp = readLong(buf, p + 4);
  p += 12;
  const storeAddress = readAddress(buf, p, storeV6);
  p += storeV6 ? 16 : 4;
  const storeHost = { address: storeAddress, port: buf.readInt32BE(p) };
  const reconsumeTimes = buf.readInt32BE(p + 4);
  const preparedTransactionOffset = readLong(buf, p + 8);
  const bodyLen = buf.readInt32BE(p + 16);
  p += 20;
  if (bodyLen < 0 || p + bodyLen > end) failAt(pos, `body length ${bodyLen}`);
  const bodyView = buf.subarray(p, p + bodyLen);
  const crc = buf.readInt32BE(pos + 8);
  if (opts.checkCrc !== false && bodyCrc(bodyView) !== crc) failAt(pos, 'body CRC mismatch');
  p += bodyLen;
  let topicLen: number;
  if (magicCode === MESSAGE_MAGIC_CODE_V2) {
    if (p + 2 > end) failAt(pos, 'truncated topic length');
    topicLen = buf.readInt16BE(p);
    p += 2;
  } else {
    if (p + 1 > end) failAt(pos, 'truncated topic length');
    topicLen = buf.readInt8(p);
    p += 1;
  }
  if (topicLen < 0 || p + topicLen + 2 > end) failAt(pos, `topic length ${topicLen}`);
  const topic = buf.toString('utf8', p, p + topicLen);
  p += topicLen;
  const propsLen = buf.readInt16BE(p);
  p += 2;
  if (propsLen < 0 || p + propsLen !== end) failAt(pos, `properties length ${propsLen}`);
  const properties = propsLen > 0 ? buf.toString('utf8', p, p + propsLen) : '';
  return {
    totalSize,
    magicCode,
    bodyCrc: crc,
    queueId: buf.readInt32BE(pos + 12),
    flag: buf.readInt32BE(pos + 16),
    queueOffset: readLong(buf, pos + 20),
    commitLogOffset: readLong(buf, pos + 28),
    sysFlag,
    bornTimestamp: readLong(buf, pos + 40),
    bornHost,
    storeTimestamp,
    storeHost,
    reconsumeTimes,
    preparedTransactionOffset,
    body: opts.copyBody ? Buffer.from(bodyView) : bodyView,
    topic,
    properties,
  };
}

/** Decodes every record of a buffer of concatenated records (a pull response body). */
export function decodeMessages(buf: Buffer, opts: DecodeOptions = {}): MessageRecord[] {
  const out: MessageRecord[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const m = decodeMessage(buf, pos, opts);
    out.push(m);
    pos += m.totalSize;
  }
  return out;
}
