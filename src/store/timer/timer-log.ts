// The timer log: append-only segments named by their 20-digit start position, like the
// commit log. A record never spans two segments; when one does not fit, the next segment
// starts at the previous start + segmentSize and the old one simply ends short (no blank
// filler: a segment's file length is its end). Appends gather in one write buffer that
// goes to the file with one write per flush.
import {
  closeSync,
  existsSync,
  fstatSync,
  fsync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  readdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../../common/logger.js';
import {
  TIMER_KEY_MAX_BYTES,
  TIMER_RECORD_HEADER_SIZE,
  TIMER_RECORD_MAX_SIZE,
  decodeTimerRecord,
  encodeTimerRecord,
  validTimerRecordSize,
  type TimerRecord,
  type TimerRecordFields,
} from './timer-record.js';

interface Segment {
  start: number;
  fd: number;
  /** Bytes on disk (the buffered tail is not counted). */
  size: number;
  /** Highest slot any record in it is chained into; Infinity while unknown. */
  maxSlotMs: number;
}

export interface TimerLogScanResult {
  endPos: number;
  truncatedBytes: number;
}

const READ_AHEAD = 256;
const SCAN_CHUNK = 1 << 20;

export function segmentName(start: number): string {
  return String(start).padStart(20, '0');
}

export class TimerLog {
  private readonly segments: Segment[] = [];
  private readonly writeBuf: Buffer;
  /** Log position of writeBuf[0]; always inside the active segment. */
  private bufStart = 0;
  private bufLen = 0;
  private readonly readBuf = Buffer.allocUnsafe(TIMER_RECORD_MAX_SIZE);
  private failed: Error | null = null;

  private constructor(
    private readonly dir: string,
    readonly segmentSize: number,
    writeBufferSize: number,
    private readonly logger: Logger,
  ) {
    this.writeBuf = Buffer.allocUnsafe(Math.max(writeBufferSize, TIMER_RECORD_MAX_SIZE));
  }

  /** Opens (creating if needed) the segments in dir; call scan() before appending. */
  static open(dir: string, segmentSize: number, writeBufferSize: number, logger: Logger): TimerLog {
    if (segmentSize < TIMER_RECORD_MAX_SIZE) throw new Error(`timer log segment size ${segmentSize} is too small`);
    mkdirSync(dir, { recursive: true });
    const log = new TimerLog(dir, segmentSize, writeBufferSize, logger);
    const names = readdirSync(dir)
      .filter((n) => /^\d{20}$/.test(n))
      .sort();
    for (const name of names) {
      const fd = openSync(join(dir, name), 'r+');
      log.segments.push({ start: Number(name), fd, size: fstatSync(fd).size, maxSlotMs: Infinity });
    }
    if (log.segments.length === 0) log.addSegment(0);
    const last = log.segments[log.segments.length - 1];
    log.bufStart = last.start + last.size;
    return log;
  }

  get firstPos(): number {
    return this.segments[0].start;
  }

  /** Position the next record will get (if it fits in the active segment). */
  get endPos(): number {
    return this.bufStart + this.bufLen;
  }

  /** Bytes held by live segments, buffered tail included. */
  get sizeBytes(): number {
    let n = this.bufLen;
    for (const s of this.segments) n += s.size;
    return n;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  get bufferBytes(): number {
    return this.writeBuf.length + this.readBuf.length;
  }

  segmentTable(): Array<{ start: number; maxSlotMs: number }> {
    return this.segments.map((s) => ({ start: s.start, maxSlotMs: s.maxSlotMs }));
  }

  /** Restores what the wheel file remembers about segments before its replay point. */
  setSegmentMaxSlot(start: number, maxSlotMs: number): void {
    const seg = this.segments.find((s) => s.start === start);
    if (seg) seg.maxSlotMs = maxSlotMs;
  }

  /**
   * Appends a record and returns its position. originPos < 0 means "this record is the
   * origin". Visible to read() at once; on disk after flush(). Throws once a write failed.
   */
  append(f: TimerRecordFields, key: string): number {
    if (this.failed) throw new Error('timer log refuses writes after a failed write', { cause: this.failed });
    const keyBytes = Buffer.byteLength(key, 'utf8');
    if (keyBytes > TIMER_KEY_MAX_BYTES) throw new RangeError(`timer key longer than ${TIMER_KEY_MAX_BYTES} bytes`);
    const total = TIMER_RECORD_HEADER_SIZE + keyBytes;
    const active = this.activeSegment();
    if (this.endPos - active.start + total > this.segmentSize) this.roll(active);
    else if (this.bufLen + total > this.writeBuf.length) this.flush();
    const pos = this.endPos;
    if (f.originPos < 0) f.originPos = pos;
    encodeTimerRecord(this.writeBuf, this.bufLen, f, key, keyBytes);
    this.bufLen += total;
    const seg = this.activeSegment();
    // Infinity (unknown) stays: such a segment is kept rather than deleted too early.
    if (f.slotMs > seg.maxSlotMs) seg.maxSlotMs = f.slotMs;
    return pos;
  }

  /** Reads the record at pos into `into`. Positions come from the log itself, so a bad one is a bug. */
  read(pos: number, into: TimerRecord): TimerRecord {
    if (pos >= this.bufStart) return decodeTimerRecord(this.writeBuf, pos - this.bufStart, into);
    const seg = this.segmentOf(pos);
    const rel = pos - seg.start;
    let n = readSync(seg.fd, this.readBuf, 0, Math.min(READ_AHEAD, seg.size - rel), rel);
    const total = this.readBuf.readInt32BE(0);
    if (total > n) n = readSync(seg.fd, this.readBuf, 0, total, rel);
    if (validTimerRecordSize(this.readBuf, 0, n) === 0) throw new Error(`bad timer log record at ${pos}`);
    return decodeTimerRecord(this.readBuf, 0, into);
  }

  /** Writes the buffered tail to the file (page cache): survives a process kill from here on. */
  flush(): void {
    if (this.bufLen === 0) return;
    const seg = this.activeSegment();
    try {
      let done = 0;
      while (done < this.bufLen) {
        done += writeSync(seg.fd, this.writeBuf, done, this.bufLen - done, this.bufStart - seg.start + done);
      }
    } catch (err) {
      this.failed = err as Error;
      throw err;
    }
    seg.size += this.bufLen;
    this.bufStart += this.bufLen;
    this.bufLen = 0;
  }

  /** flush() then fsync of the active segment, off the event loop. */
  async sync(): Promise<void> {
    this.flush();
    const fd = this.activeSegment().fd;
    await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Validates records from fromPos to the end, calling onRecord for each valid one, and
   * cuts the log at the first bad one (torn tail). Must run before the first append.
   */
  scan(fromPos: number, onRecord: (pos: number, rec: TimerRecord) => void): TimerLogScanResult {
    const chunk = Buffer.allocUnsafe(SCAN_CHUNK);
    const rec = { key: '' } as TimerRecord;
    let i = this.segments.findIndex((s) => fromPos < s.start + Math.max(s.size, 1));
    if (i < 0) return { endPos: this.endPos, truncatedBytes: 0 };
    let rel = Math.max(0, fromPos - this.segments[i].start);
    for (; i < this.segments.length; i++, rel = 0) {
      const seg = this.segments[i];
      if (rel === 0 && seg.maxSlotMs === Infinity) seg.maxSlotMs = -Infinity;
      const good = this.scanSegment(seg, rel, chunk, rec, onRecord);
      if (good < seg.size) return { endPos: seg.start + good, truncatedBytes: this.truncate(i, good) };
    }
    return { endPos: this.endPos, truncatedBytes: 0 };
  }

  /** Closes and deletes leading segments (never the active one) whose records all sit in slots before slotMs. */
  deleteSegmentsBefore(slotMs: number): number {
    let removed = 0;
    while (this.segments.length > 1 && this.segments[0].maxSlotMs < slotMs) {
      const seg = this.segments.shift()!;
      closeSync(seg.fd);
      unlinkSync(join(this.dir, segmentName(seg.start)));
      removed++;
    }
    return removed;
  }

  /** Flushes (unless a write already failed) and closes every segment either way. */
  close(): void {
    try {
      if (!this.failed) this.flush();
    } finally {
      for (const s of this.segments) closeSync(s.fd);
      this.segments.length = 0;
    }
  }

  private scanSegment(
    seg: Segment,
    startRel: number,
    chunk: Buffer,
    rec: TimerRecord,
    onRecord: (pos: number, rec: TimerRecord) => void,
  ): number {
    let rel = startRel;
    while (rel < seg.size) {
      const n = readSync(seg.fd, chunk, 0, Math.min(chunk.length, seg.size - rel), rel);
      let off = 0;
      for (;;) {
        const total = validTimerRecordSize(chunk, off, n - off);
        if (total === 0) break;
        decodeTimerRecord(chunk, off, rec);
        onRecord(seg.start + rel + off, rec);
        if (rec.slotMs > seg.maxSlotMs) seg.maxSlotMs = rec.slotMs;
        off += total;
      }
      // A record cut by the chunk end is re-read from its start; one that fails with a
      // whole record's worth of bytes (or the rest of the file) in hand is bad.
      if (rel + n === seg.size || n - off >= TIMER_RECORD_MAX_SIZE) return rel + off;
      rel += off;
    }
    return rel;
  }

  private truncate(segIndex: number, goodBytes: number): number {
    const seg = this.segments[segIndex];
    let cut = seg.size - goodBytes;
    ftruncateSync(seg.fd, goodBytes);
    seg.size = goodBytes;
    while (this.segments.length > segIndex + 1) {
      const later = this.segments.pop()!;
      cut += later.size;
      closeSync(later.fd);
      unlinkSync(join(this.dir, segmentName(later.start)));
    }
    this.bufStart = seg.start + seg.size;
    this.bufLen = 0;
    this.logger.warn({ segment: segmentName(seg.start), at: goodBytes, cutBytes: cut }, 'timer log: cut torn tail');
    return cut;
  }

  private roll(active: Segment): void {
    this.flush();
    const fd = active.fd;
    // The old segment is complete: have it on disk before records land in the next one.
    fsync(fd, (err) => {
      if (err) this.logger.error({ err }, 'timer log: fsync of a full segment failed');
    });
    this.addSegment(active.start + this.segmentSize);
    this.bufStart = this.activeSegment().start;
  }

  private addSegment(start: number): void {
    const path = join(this.dir, segmentName(start));
    if (existsSync(path)) throw new Error(`timer log segment ${path} already exists`);
    const fd = openSync(path, 'w+');
    this.segments.push({ start, fd, size: 0, maxSlotMs: -Infinity });
  }

  private activeSegment(): Segment {
    return this.segments[this.segments.length - 1];
  }

  private segmentOf(pos: number): Segment {
    for (let i = this.segments.length - 1; i >= 0; i--) {
      if (pos >= this.segments[i].start) return this.segments[i];
    }
    throw new Error(`timer log position ${pos} precedes the first segment`);
  }
}
