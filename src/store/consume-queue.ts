// ConsumeQueue: per (topic, queueId) files of 20-byte entries (commit-log offset long, size int,
// tagsCode long), named by the 20-digit byte offset of their first entry. Entry n is the message
// with queue offset n. Appends gather in memory during one dispatch batch and go out with one
// positional write per file at the batch's end. The file after the one being written is created
// in the thread pool ahead of time (issue 17), as the commit log's next segment is: reaching a file
// boundary then takes an open fd instead of an O_CREAT open on the event loop. The prepared file is
// empty until entries reach it, and an empty newest file is dropped when the queue loads, so a kill
// with a prepared file on disk changes nothing.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { readLong, writeLong } from '../common/message-bytes.js';
import type { Logger } from '../common/logger.js';
import { fsyncFd, readFullSync, writeFullSync } from './fs-io.js';
import { SegmentPreallocator } from './segment-preallocator.js';
import { offset2FileName } from './store-config.js';

export const CQ_STORE_UNIT_SIZE = 20;
/** How full a queue's newest file is when its successor is created ahead. */
const PREPARE_AT = 0.75;

interface CqFile {
  start: number; // byte offset of the first entry
  fd: number;
  path: string;
}

export class ConsumeQueue {
  readonly dir: string;
  private files: CqFile[] = [];
  /** Byte offset past the last entry (maxOffset * 20), pending entries included. */
  private maxBytes = 0;
  private minBytes = 0;
  private pending: Buffer;
  private pendingLen = 0;
  private pendingStart = 0;
  private readonly dirty = new Set<CqFile>();
  /** Commit-log end (offset + size) of the newest entry. */
  maxPhyEnd = 0;
  private readonly entry = Buffer.allocUnsafe(CQ_STORE_UNIT_SIZE);
  private readonly prealloc = new SegmentPreallocator((path) => this.files.some((f) => f.path === path));
  /** Start of the file whose successor was last asked for (-1: none), so a batch's end skips the request. */
  private preparedAfter = -1;

  constructor(
    readonly topic: string,
    readonly queueId: number,
    rootDir: string,
    readonly fileSize: number,
  ) {
    this.dir = join(rootDir, 'consumequeue', topic, String(queueId));
    this.pending = Buffer.allocUnsafe(Math.min(fileSize, 64 * 1024));
  }

  get minOffset(): number {
    return this.minBytes / CQ_STORE_UNIT_SIZE;
  }
  get maxOffset(): number {
    return this.maxBytes / CQ_STORE_UNIT_SIZE;
  }

  /** Opens existing files and cuts entries the commit log does not back (offset+size > phyEnd). */
  load(phyMin: number, phyEnd: number, logger: Logger): void {
    if (!fs.existsSync(this.dir)) return;
    const names = fs.readdirSync(this.dir).filter((n) => /^\d{20}$/.test(n)).sort();
    for (const name of names) {
      const path = join(this.dir, name);
      this.files.push({ start: Number(name), fd: fs.openSync(path, 'r+'), path });
    }
    this.truncateUnbacked(phyEnd, logger);
    this.correctMinOffset(phyMin);
  }

  private truncateUnbacked(phyEnd: number, logger: Logger): void {
    this.dropPrepared();
    while (this.files.length) {
      const f = this.files[this.files.length - 1];
      const size = fs.fstatSync(f.fd).size;
      let n = Math.floor(Math.min(size, this.fileSize) / CQ_STORE_UNIT_SIZE);
      // Walk back over entries that are empty (never written) or point past the commit log.
      while (n > 0) {
        readFullSync(f.fd, this.entry, 0, CQ_STORE_UNIT_SIZE, (n - 1) * CQ_STORE_UNIT_SIZE);
        const off = readLong(this.entry, 0);
        const sz = this.entry.readInt32BE(8);
        if (sz > 0 && off >= 0 && off + sz <= phyEnd) {
          this.maxPhyEnd = off + sz;
          break;
        }
        n--;
      }
      const keep = n * CQ_STORE_UNIT_SIZE;
      if (keep < size) {
        if (size - keep >= CQ_STORE_UNIT_SIZE) logger.warn({ topic: this.topic, queueId: this.queueId, cut: (size - keep) / CQ_STORE_UNIT_SIZE }, 'consume queue entries cut during recovery');
        fs.ftruncateSync(f.fd, keep);
      }
      if (n === 0 && this.files.length > 1) {
        fs.closeSync(f.fd);
        fs.rmSync(f.path, { force: true });
        // A closed file left in the dirty set failed the next flush with EBADF (a cut across files).
        this.dirty.delete(f);
        this.files.pop();
        continue;
      }
      this.maxBytes = f.start + keep;
      break;
    }
    this.pendingStart = this.maxBytes;
    if (this.files.length) this.minBytes = this.files[0].start;
  }

  /** Drops entries whose record ends past phyEnd (the commit log was cut there). */
  truncateTo(phyEnd: number, logger: Logger): void {
    this.writePending();
    this.truncateUnbacked(phyEnd, logger);
  }

  /** Moves minOffset to the first entry still backed by the commit log (after retention). */
  correctMinOffset(phyMin: number): void {
    if (!this.files.length) {
      this.minBytes = this.maxBytes;
      return;
    }
    let lo = Math.max(this.minBytes, this.files[0].start) / CQ_STORE_UNIT_SIZE;
    let hi = this.maxOffset;
    // Entries are in commit-log order: binary search for the first with offset >= phyMin.
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = this.readEntrySync(mid);
      if (e !== null && e.offset >= phyMin) hi = mid;
      else lo = mid + 1;
    }
    this.minBytes = lo * CQ_STORE_UNIT_SIZE;
  }

  /** Appends one entry; skipped when queueOffset is already present (re-dispatch after a crash). */
  putEntry(queueOffset: number, phyOffset: number, size: number, tagsCode: number): boolean {
    const at = queueOffset * CQ_STORE_UNIT_SIZE;
    if (at < this.maxBytes) return false;
    if (at > this.maxBytes) {
      // A gap (queue offsets jumped, e.g. files removed): start afresh at the new position.
      this.writePending();
      this.maxBytes = this.pendingStart = at;
      if (this.files.length === 0 || this.minBytes > at) this.minBytes = at;
    }
    if (this.pendingLen + CQ_STORE_UNIT_SIZE > this.pending.length || this.fileStartFor(this.pendingStart) !== this.fileStartFor(at)) {
      this.writePending();
    }
    const b = this.pending;
    const p = this.pendingLen;
    writeLong(b, phyOffset, p);
    b.writeInt32BE(size, p + 8);
    writeLong(b, tagsCode, p + 12);
    this.pendingLen += CQ_STORE_UNIT_SIZE;
    this.maxBytes = at + CQ_STORE_UNIT_SIZE;
    this.maxPhyEnd = phyOffset + size;
    return true;
  }

  private fileStartFor(byteOffset: number): number {
    return byteOffset - (byteOffset % this.fileSize);
  }

  /** Writes gathered entries (page cache); called at the end of each dispatch batch. */
  writePending(): void {
    if (this.pendingLen === 0) return;
    const f = this.fileFor(this.pendingStart);
    writeFullSync(f.fd, this.pending, 0, this.pendingLen, this.pendingStart - f.start);
    this.dirty.add(f);
    this.pendingStart += this.pendingLen;
    this.pendingLen = 0;
    // Only near the boundary: a prepared file holds an fd, and a broker with many queues would
    // otherwise keep two per queue (the fd limit is often 20k or less).
    if (f.start !== this.preparedAfter && f === this.files[this.files.length - 1] && this.pendingStart - f.start >= this.fileSize * PREPARE_AT) {
      this.preparedAfter = f.start;
      this.prealloc.prepare(join(this.dir, offset2FileName(f.start + this.fileSize)));
    }
  }

  private dropPrepared(): void {
    this.prealloc.discard();
    this.preparedAfter = -1;
  }

  private fileFor(byteOffset: number): CqFile {
    const start = this.fileStartFor(byteOffset);
    const last = this.files[this.files.length - 1];
    if (last && last.start === start) return last;
    for (const f of this.files) if (f.start === start) return f;
    const path = join(this.dir, offset2FileName(start));
    let fd = this.prealloc.take(path);
    if (fd === undefined) {
      fs.mkdirSync(this.dir, { recursive: true });
      fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    }
    const f = { start, fd, path };
    this.files.push(f);
    this.files.sort((a, b) => a.start - b.start);
    return f;
  }

  async fsyncDirty(): Promise<void> {
    const files = [...this.dirty];
    this.dirty.clear();
    await Promise.all(files.map((f) => fsyncFd(f.fd)));
  }

  /**
   * Reads up to maxCount entries from queueOffset (stopping at a file end) into a Buffer of
   * n*20 bytes; empty when out of range. Pending entries must have been written first.
   */
  readEntries(queueOffset: number, maxCount: number): Buffer {
    const at = queueOffset * CQ_STORE_UNIT_SIZE;
    if (at < this.minBytes || at >= this.maxBytes) return Buffer.alloc(0);
    const start = this.fileStartFor(at);
    const f = this.findFile(start);
    if (!f) return Buffer.alloc(0);
    const end = Math.min(this.maxBytes, start + this.fileSize, at + maxCount * CQ_STORE_UNIT_SIZE);
    const buf = Buffer.allocUnsafe(end - at);
    const n = readFullSync(f.fd, buf, 0, end - at, at - f.start);
    return buf.subarray(0, n - (n % CQ_STORE_UNIT_SIZE));
  }

  private findFile(start: number): CqFile | undefined {
    const first = this.files[0];
    if (!first) return undefined;
    const i = (start - first.start) / this.fileSize;
    const f = this.files[i];
    return f && f.start === start ? f : this.files.find((x) => x.start === start);
  }

  readEntrySync(queueOffset: number): { offset: number; size: number; tagsCode: number } | null {
    const at = queueOffset * CQ_STORE_UNIT_SIZE;
    if (at >= this.maxBytes || at < 0) return null;
    const f = this.findFile(this.fileStartFor(at));
    if (!f) return null;
    if (readFullSync(f.fd, this.entry, 0, CQ_STORE_UNIT_SIZE, at - f.start) < CQ_STORE_UNIT_SIZE) return null;
    return { offset: readLong(this.entry, 0), size: this.entry.readInt32BE(8), tagsCode: readLong(this.entry, 12) };
  }

  /** Deletes files whose entries all point below phyMin, never the newest file. Returns paths removed. */
  deleteExpiredFiles(phyMin: number): string[] {
    const removed: string[] = [];
    while (this.files.length > 1) {
      const f = this.files[0];
      const next = this.files[1];
      // The file's last entry sits just before the next file's start.
      const lastOff = next.start / CQ_STORE_UNIT_SIZE - 1;
      const e = this.readEntrySync(lastOff);
      if (e !== null && e.size > 0 && e.offset >= phyMin) break;
      fs.closeSync(f.fd);
      fs.rmSync(f.path, { force: true });
      this.dirty.delete(f);
      this.files.shift();
      removed.push(f.path);
    }
    if (this.files.length && this.minBytes < this.files[0].start) this.minBytes = this.files[0].start;
    this.correctMinOffset(phyMin);
    return removed;
  }

  close(): void {
    this.dropPrepared();
    for (const f of this.files) fs.closeSync(f.fd);
    this.files = [];
  }

  destroy(): void {
    this.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
