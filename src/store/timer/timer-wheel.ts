// The time wheel: a fixed ring of slots, each naming the newest log record chained into
// one time bucket (RocketMQ's TimerWheel). Held in memory as the very bytes of the
// `timerwheel` file, so saving is one write; the file is only a shortcut, since the log
// can rebuild it. A slot whose stored time differs from the asked time belongs to another
// turn of the ring and reads as empty.
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { readInt64, writeInt64 } from './timer-record.js';

const WHEEL_MAGIC = 0x5457484c; // 'TWHL'
const WHEEL_VERSION = 1;

// File header, big-endian:
//   0 int32 magic, 4 int32 version, 8 int32 precisionMs, 12 int32 slotCount,
//  16 int64 logOffset (the log is reflected up to here), 24 int32 segmentCount, 28 int32 reserved
const HEADER_SIZE = 32;
// Slot: 0 int64 timeMs, 8 int64 lastPos (-1 = none), 16 int32 flags (SLOT_EARLY), 20 int32 timers
// (NORMAL records)
export const SLOT_SIZE = 24;
// Trailer after the slots: segmentCount × (int64 start, int64 maxSlotMs), then uint32 crc of all before.
const SEGMENT_ENTRY_SIZE = 16;
/** Bytes of image checksummed per turn of the event loop in a background save. */
const CRC_CHUNK = 1 << 20;
/** The slot holds a timer due before the slot's own time (past-due, kept in the then frontier). */
export const SLOT_EARLY = 1;
/** Time of a slot never used: not a multiple of any precision a caller can pick. */
const NEVER = Number.MIN_SAFE_INTEGER;

export interface WheelSnapshot {
  wheel: TimerWheel;
  logOffset: number;
  segments: Array<{ start: number; maxSlotMs: number }>;
}

function encodeMaybeInfinite(v: number): number {
  if (v === Infinity) return Number.MAX_SAFE_INTEGER;
  if (v === -Infinity) return Number.MIN_SAFE_INTEGER;
  return v;
}

function decodeMaybeInfinite(v: number): number {
  if (v === Number.MAX_SAFE_INTEGER) return Infinity;
  if (v === Number.MIN_SAFE_INTEGER) return -Infinity;
  return v;
}

export class TimerWheel {
  /** Header + slots; the trailer is built at save time. */
  readonly image: Buffer;

  constructor(
    readonly precisionMs: number,
    readonly slotCount: number,
    image?: Buffer,
  ) {
    this.image = image ?? Buffer.alloc(HEADER_SIZE + slotCount * SLOT_SIZE);
    if (!image) {
      this.image.writeInt32BE(WHEEL_MAGIC, 0);
      this.image.writeInt32BE(WHEEL_VERSION, 4);
      this.image.writeInt32BE(precisionMs, 8);
      this.image.writeInt32BE(slotCount, 12);
      for (let i = 0; i < slotCount; i++) this.clearSlot(HEADER_SIZE + i * SLOT_SIZE, NEVER);
    }
  }

  get bytes(): number {
    return this.image.length;
  }

  /** Newest record position chained into slotMs, or -1. */
  lastPos(slotMs: number): number {
    const off = this.offsetOf(slotMs);
    return readInt64(this.image, off) === slotMs ? readInt64(this.image, off + 8) : -1;
  }

  /** Number of NORMAL records chained into slotMs. */
  timers(slotMs: number): number {
    const off = this.offsetOf(slotMs);
    return readInt64(this.image, off) === slotMs ? this.image.readInt32BE(off + 20) : 0;
  }

  /** Whether slotMs holds a timer due before slotMs (it was a frontier then). */
  hasEarly(slotMs: number): boolean {
    const off = this.offsetOf(slotMs);
    return readInt64(this.image, off) === slotMs && (this.image.readInt32BE(off + 16) & SLOT_EARLY) !== 0;
  }

  /** Makes pos the newest record of slotMs and returns the previous one (the back-chain link), or -1. */
  /** Links made so far: the store saves the image only when this moved since its last save. */
  changes = 0;

  link(slotMs: number, pos: number, isTimer: boolean, early: boolean): number {
    this.changes++;
    const off = this.offsetOf(slotMs);
    let prev = -1;
    if (readInt64(this.image, off) === slotMs) prev = readInt64(this.image, off + 8);
    else this.clearSlot(off, slotMs);
    writeInt64(this.image, off + 8, pos);
    if (early) this.image.writeInt32BE(this.image.readInt32BE(off + 16) | SLOT_EARLY, off + 16);
    if (isTimer) this.image.writeInt32BE(this.image.readInt32BE(off + 20) + 1, off + 20);
    return prev;
  }

  /** Sum of timers over slots in [fromMs, fromMs + slotCount × precision): the pending estimate at open. */
  timersFrom(fromMs: number): number {
    let n = 0;
    for (let i = 0; i < this.slotCount; i++) n += this.timers(fromMs + i * this.precisionMs);
    return n;
  }

  /** Writes the wheel to path via temp file + fsync + rename, on the calling thread (open and close). */
  save(path: string, logOffset: number, segments: Array<{ start: number; maxSlotMs: number }>): void {
    const image = this.stampedImage(logOffset, segments.length);
    const trailer = this.trailer(segments, crc32(image));
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, image);
      writeAll(fd, trailer);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }

  /**
   * The periodic save while the broker runs: a copy of the image taken now (about a millisecond
   * for the default 8 MB), its checksum in chunks between other work, and the write, fsync and
   * rename in the thread pool, so the event loop is not held for the tens of milliseconds a
   * synchronous save takes. Links made meanwhile go to the live image and the next save.
   */
  async saveInBackground(path: string, logOffset: number, segments: Array<{ start: number; maxSlotMs: number }>): Promise<void> {
    const image = Buffer.from(this.stampedImage(logOffset, segments.length));
    let crc = 0;
    for (let at = 0; at < image.length; at += CRC_CHUNK) {
      crc = crc32(image.subarray(at, Math.min(image.length, at + CRC_CHUNK)), crc);
      await new Promise<void>((r) => setImmediate(r));
    }
    const trailer = this.trailer(segments, crc);
    const tmp = `${path}.tmp`;
    const fh = await open(tmp, 'w');
    try {
      await fh.writev([image, trailer]);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  }

  /** The live image with the save's header fields set (logOffset, segment count). */
  private stampedImage(logOffset: number, segmentCount: number): Buffer {
    writeInt64(this.image, 16, logOffset);
    this.image.writeInt32BE(segmentCount, 24);
    return this.image;
  }

  /** Segment table + the crc of image and table. */
  private trailer(segments: Array<{ start: number; maxSlotMs: number }>, imageCrc: number): Buffer {
    const trailer = Buffer.allocUnsafe(segments.length * SEGMENT_ENTRY_SIZE + 4);
    segments.forEach((s, i) => {
      writeInt64(trailer, i * SEGMENT_ENTRY_SIZE, s.start);
      writeInt64(trailer, i * SEGMENT_ENTRY_SIZE + 8, encodeMaybeInfinite(s.maxSlotMs));
    });
    const crc = crc32(trailer.subarray(0, trailer.length - 4), imageCrc);
    trailer.writeUInt32BE(crc, trailer.length - 4);
    return trailer;
  }

  /** Loads a saved wheel, or null when missing, damaged or made with other dimensions. */
  static load(path: string, precisionMs: number, slotCount: number): WheelSnapshot | null {
    if (!existsSync(path)) return null;
    const file = readFileSync(path);
    const slotsEnd = HEADER_SIZE + slotCount * SLOT_SIZE;
    if (file.length < slotsEnd + 4) return null;
    if (file.readInt32BE(0) !== WHEEL_MAGIC || file.readInt32BE(4) !== WHEEL_VERSION) return null;
    if (file.readInt32BE(8) !== precisionMs || file.readInt32BE(12) !== slotCount) return null;
    const segCount = file.readInt32BE(24);
    if (file.length !== slotsEnd + segCount * SEGMENT_ENTRY_SIZE + 4) return null;
    if (crc32(file.subarray(0, file.length - 4)) !== file.readUInt32BE(file.length - 4)) return null;
    const segments: Array<{ start: number; maxSlotMs: number }> = [];
    for (let i = 0; i < segCount; i++) {
      const off = slotsEnd + i * SEGMENT_ENTRY_SIZE;
      segments.push({ start: readInt64(file, off), maxSlotMs: decodeMaybeInfinite(readInt64(file, off + 8)) });
    }
    const image = Buffer.from(file.subarray(0, slotsEnd));
    return { wheel: new TimerWheel(precisionMs, slotCount, image), logOffset: readInt64(file, 16), segments };
  }

  private offsetOf(slotMs: number): number {
    const turn = Math.floor(slotMs / this.precisionMs) % this.slotCount;
    return HEADER_SIZE + (turn < 0 ? turn + this.slotCount : turn) * SLOT_SIZE;
  }

  private clearSlot(off: number, slotMs: number): void {
    writeInt64(this.image, off, slotMs);
    writeInt64(this.image, off + 8, -1);
    this.image.writeInt32BE(0, off + 16);
    this.image.writeInt32BE(0, off + 20);
  }
}

function writeAll(fd: number, buf: Buffer): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done);
}
