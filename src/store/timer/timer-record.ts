// One timer-log record. Unlike RocketMQ's fixed 52-byte TimerLog unit, which finds the
// message key by reading the commit log, ours carries the key itself so that the timer
// store can match tombstones without any broker or commit-log knowledge.
import { crc32 } from 'node:zlib';
import { readLong, writeLong } from '../../common/message-bytes.js';

/** Record kinds; a timer is NORMAL, a cancel is DELETE (RocketMQ's MAGIC_DEFAULT / MAGIC_DELETE). */
export const TimerRecordKind = {
  NORMAL: 1,
  DELETE: 2,
} as const;
export type TimerRecordKind = (typeof TimerRecordKind)[keyof typeof TimerRecordKind];

/** 'TIMR': lets recovery tell a record from garbage or zero fill. */
export const TIMER_RECORD_MAGIC = 0x54494d52;

// Layout, all big-endian:
//   0  int32  totalSize      header + key bytes
//   4  int32  magic          TIMER_RECORD_MAGIC
//   8  uint32 crc            crc32 of bytes [12, totalSize)
//  12  int64  prevPos        previous record of the same wheel slot, -1 = none (the back-chain)
//  20  int8   kind           TimerRecordKind
//  21  uint8  rollTimes      how often the timer was re-appended (saturates at 255)
//  22  uint16 keyLen         length of the UTF-8 key
//  24  int64  deliverAtMs    time asked for by the caller, not aligned
//  32  int64  slotMs         wheel slot this record is chained into (differs from the
//                            deliver time's slot when parked beyond the window or past-due)
//  40  int64  originPos      position of the first append of this timer; rolls keep it, so
//                            a roll repeated after a crash can be recognised as a duplicate
//  48  int64  commitLogOffset
//  56  int32  size           size of the message in the commit log
//  60  bytes  key
export const TIMER_RECORD_HEADER_SIZE = 60;
export const TIMER_KEY_MAX_BYTES = 4096;
export const TIMER_RECORD_MAX_SIZE = TIMER_RECORD_HEADER_SIZE + TIMER_KEY_MAX_BYTES;

/** int64 fields in (buffer, offset, value) order; the arithmetic is common's writeLong/readLong. */
export function writeInt64(buf: Buffer, off: number, v: number): void {
  writeLong(buf, v, off);
}

export const readInt64 = readLong;

export interface TimerRecordFields {
  prevPos: number;
  kind: TimerRecordKind;
  rollTimes: number;
  deliverAtMs: number;
  slotMs: number;
  originPos: number;
  commitLogOffset: number;
  size: number;
}

/** A decoded record; reused by the reader, so copy what must outlive the next read. */
export interface TimerRecord extends Omit<TimerRecordFields, 'kind'> {
  totalSize: number;
  /** As read: a TimerRecordKind value unless the record is foreign. */
  kind: number;
  key: string;
}

/**
 * Encodes a record into buf at off; the caller has checked that
 * TIMER_RECORD_HEADER_SIZE + keyBytes fits. Returns the record's size.
 */
export function encodeTimerRecord(buf: Buffer, off: number, f: TimerRecordFields, key: string, keyBytes: number): number {
  const total = TIMER_RECORD_HEADER_SIZE + keyBytes;
  buf.writeInt32BE(total, off);
  buf.writeInt32BE(TIMER_RECORD_MAGIC, off + 4);
  writeInt64(buf, off + 12, f.prevPos);
  buf.writeInt8(f.kind, off + 20);
  buf.writeUInt8(Math.min(f.rollTimes, 255), off + 21);
  buf.writeUInt16BE(keyBytes, off + 22);
  writeInt64(buf, off + 24, f.deliverAtMs);
  writeInt64(buf, off + 32, f.slotMs);
  writeInt64(buf, off + 40, f.originPos);
  writeInt64(buf, off + 48, f.commitLogOffset);
  buf.writeInt32BE(f.size, off + 56);
  buf.write(key, off + TIMER_RECORD_HEADER_SIZE, keyBytes, 'utf8');
  buf.writeUInt32BE(crc32(buf.subarray(off + 12, off + total)), off + 8);
  return total;
}

/**
 * The size of a valid record starting at off, or 0 when the bytes there are not one
 * (short, bad length, bad magic, bad CRC): recovery truncates at the first 0.
 * `avail` is how many bytes from off are known to exist.
 */
export function validTimerRecordSize(buf: Buffer, off: number, avail: number): number {
  if (avail < TIMER_RECORD_HEADER_SIZE) return 0;
  const total = buf.readInt32BE(off);
  if (total < TIMER_RECORD_HEADER_SIZE || total > TIMER_RECORD_MAX_SIZE || total > avail) return 0;
  if (buf.readInt32BE(off + 4) !== TIMER_RECORD_MAGIC) return 0;
  if (buf.readUInt16BE(off + 22) !== total - TIMER_RECORD_HEADER_SIZE) return 0;
  const kind = buf.readInt8(off + 20);
  if (kind !== TimerRecordKind.NORMAL && kind !== TimerRecordKind.DELETE) return 0;
  if (buf.readUInt32BE(off + 8) !== crc32(buf.subarray(off + 12, off + total))) return 0;
  return total;
}

/** Decodes a record already known to be whole into `into` (no allocation but the key). */
export function decodeTimerRecord(buf: Buffer, off: number, into: TimerRecord): TimerRecord {
  const total = buf.readInt32BE(off);
  into.totalSize = total;
  into.prevPos = readInt64(buf, off + 12);
  into.kind = buf.readInt8(off + 20);
  into.rollTimes = buf.readUInt8(off + 21);
  into.deliverAtMs = readInt64(buf, off + 24);
  into.slotMs = readInt64(buf, off + 32);
  into.originPos = readInt64(buf, off + 40);
  into.commitLogOffset = readInt64(buf, off + 48);
  into.size = buf.readInt32BE(off + 56);
  into.key = buf.toString('utf8', off + TIMER_RECORD_HEADER_SIZE, off + total);
  return into;
}

export function emptyTimerRecord(): TimerRecord {
  return {
    totalSize: 0,
    prevPos: -1,
    kind: 0,
    rollTimes: 0,
    deliverAtMs: 0,
    slotMs: 0,
    originPos: 0,
    commitLogOffset: 0,
    size: 0,
    key: '',
  };
}
