// CommitLog: segmented append-only files named by their 20-digit start offset. Puts reserve
// space synchronously (so offsets follow call order) and encode straight into a batch buffer;
// everything reserved in one event-loop turn goes out in one positional writev, and under
// SYNC_FLUSH many batches share one fsync run off the event loop.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { bodyCrc } from '../common/crc.js';
import { readLong } from '../common/message-bytes.js';
import { SegmentPreallocator } from './segment-preallocator.js';
import { BLANK_MAGIC_CODE, MESSAGE_MAGIC_CODE_V1, MESSAGE_MAGIC_CODE_V2 } from '../common/message-codec.js';
import { MessageSysFlag } from '../common/sys-flag.js';
import type { Logger } from '../common/logger.js';
import { isNoSpaceError } from './disk-space.js';
import { fsyncFd, readFull, readFullSync, writeFull, writeFullSync } from './fs-io.js';
import { offset2FileName, type MessageStoreConfig } from './store-config.js';
import { PutMessageStatus } from './store-status.js';
import type { DispatchRequest, PutMessageResult } from './store-types.js';

/** Java reserves at least this much at a segment's end for the blank record. */
export const END_FILE_MIN_BLANK_LENGTH = 8;
/** Reads this close to the write position (one default segment) are served from the page cache synchronously. */
const HOT_READ_BYTES = 1024 * 1024 * 1024;

export interface Segment {
  start: number;
  fd: number;
  path: string;
}

/** One contiguous run of reserved bytes inside one segment, written with one call. */
export interface WriteChunk {
  seg: Segment;
  filePos: number;
  buf: Buffer;
  len: number;
  dispatch: DispatchRequest[];
  /**
   * Replicated appends only: the record boundary up to which this chunk's dispatch requests
   * cover the log (a chunk may end inside a record whose rest comes with the next frame).
   */
  replicaBoundary?: number;
  /**
   * Replicated appends only: offsets of checked records held whole in buf whose dispatch requests
   * are still to be built (after the chunk is written; they follow `dispatch` in log order).
   */
  replicaRecords?: number[];
  /** A socket may still hold the buffer's bytes (see onIssue): it is not reused for a later batch. */
  pinned?: boolean;
}

interface Waiter {
  end: number;
  time: number;
  result: PutMessageResult;
  resolve: (r: PutMessageResult) => void;
}

/** A FIFO of waiters with O(1) removal at the head. */
class WaiterQueue {
  private items: Waiter[] = [];
  private head = 0;
  get size(): number {
    return this.items.length - this.head;
  }
  push(w: Waiter): void {
    this.items.push(w);
  }
  peek(): Waiter | undefined {
    return this.items[this.head];
  }
  /** Removes and returns the waiters (all at the tail: ends only grow) whose end is past upTo. */
  takeAbove(upTo: number): Waiter[] {
    let i = this.items.length;
    while (i > this.head && this.items[i - 1].end > upTo) i--;
    return this.items.splice(i);
  }
  shift(): Waiter | undefined {
    const w = this.items[this.head];
    if (w === undefined) return undefined;
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return w;
  }
}

export interface CommitLogRecoveryResult {
  /** Offset recovery started verifying from. */
  scannedFrom: number;
  /** End of the last intact record: the new max offset. */
  validEnd: number;
  /** Bytes cut off the tail (torn or corrupt), 0 if none. */
  truncatedBytes: number;
  /** Segment files removed because they lay wholly past the valid end. */
  removedSegments: string[];
  /** Why scanning stopped where it did, when it was not a clean end. */
  reason?: string;
  records: number;
}

export type RecordVisitor = (buf: Buffer, pos: number, phyOffset: number, size: number) => void;

/**
 * Told about the chunks dropped after a write failed for want of space (the failed one and
 * every one reserved after it): returns where the log is cut (at most `at`, e.g. back to a record
 * boundary when replicated bytes ended inside a record) and the remark their puts get.
 */
export type RollbackHandler = (dropped: WriteChunk[], at: number, err: Error) => { cutAt: number; remark: string };

export class CommitLog {
  readonly dir: string;
  readonly segSize: number;
  private segs: Segment[] = [];
  /** End of reserved space (includes bytes not yet written). */
  maxOffset = 0;
  /** Everything below is in the page cache. */
  writtenOffset = 0;
  /** Everything below has been fsynced. */
  flushedOffset = 0;
  /** Set after a failed write or fsync: no more writes until restart. */
  failure: Error | null = null;
  /**
   * Set after a write failed for want of space (ENOSPC, EDQUOT): that write and everything
   * reserved after it were dropped and cut off the files, so the log ends with a whole record
   * and may take writes again once the store sees room (clearSpaceFailure).
   */
  spaceFailure: Error | null = null;
  onRolledBack: RollbackHandler | null = null;
  private queue: WriteChunk[] = [];
  private cur: WriteChunk | null = null;
  private writing = false;
  private scheduled = false;
  private readonly dirty = new Set<Segment>();
  private readonly writeWaiters = new WaiterQueue();
  private readonly flushWaiters = new WaiterQueue();
  private flushPromise: Promise<void> | null = null;
  private readonly freeBufs: Buffer[] = [];
  private drainPromise: Promise<void> | null = null;
  /**
   * Called with each chunk of this log's own records right before its write is issued (its bytes
   * are final then); sets chunk.pinned when it kept a reference to them.
   */
  onIssue: ((chunk: WriteChunk) => void) | undefined;
  /** Position inside the last reserved chunk where the caller encodes. */
  lastPos = 0;
  lastChunk: WriteChunk | null = null;
  private readonly prealloc = new SegmentPreallocator((path) => this.segs.some((s) => s.path === path));
  /** Start of the segment whose successor was last prepared (-1: none). */
  private preparedAfter = -1;

  constructor(
    private readonly config: MessageStoreConfig,
    private readonly logger: Logger,
    private readonly onWritten: (chunk: WriteChunk) => void,
    private readonly fsync: (fd: number) => Promise<void> = fsyncFd,
  ) {
    this.dir = join(config.storePathRootDir, 'commitlog');
    this.segSize = config.mappedFileSizeCommitLog;
    fs.mkdirSync(this.dir, { recursive: true });
  }

  get minOffset(): number {
    return this.segs.length ? this.segs[0].start : this.maxOffset;
  }

  segments(): readonly Segment[] {
    return this.segs;
  }

  /** Opens the existing segments (no verification yet). */
  load(): void {
    const names = fs.readdirSync(this.dir).filter((n) => /^\d{20}$/.test(n)).sort();
    // A prepared next segment (segment-preallocator.ts) the log never rolled into is empty: it
    // holds nothing, and dropping it keeps the log's end where the last written segment ends.
    while (names.length > 1 && fs.statSync(join(this.dir, names[names.length - 1])).size === 0) {
      fs.rmSync(join(this.dir, names.pop()!), { force: true });
    }
    for (const name of names) {
      const start = Number(name);
      const path = join(this.dir, name);
      if (start % this.segSize !== 0) throw new Error(`commit log segment ${name} is not aligned to mappedFileSizeCommitLog ${this.segSize}`);
      const prev = this.segs[this.segs.length - 1];
      if (prev && prev.start + this.segSize !== start) {
        throw new Error(`commit log segments are not contiguous: ${offset2FileName(prev.start)} then ${name}`);
      }
      this.segs.push({ start, fd: fs.openSync(path, 'r+'), path });
    }
    if (this.segs.length) {
      const last = this.segs[this.segs.length - 1];
      this.maxOffset = last.start + fs.fstatSync(last.fd).size;
    }
  }

  /**
   * Verifies records from the start of the segment holding `from` and cuts the tail at the first
   * bad one (magic, length, physical offset field, CRC). Records at or past visitFrom go to visit.
   */
  recover(from: number, visitFrom: number, visit: RecordVisitor, verify = true): CommitLogRecoveryResult {
    const res: CommitLogRecoveryResult = { scannedFrom: 0, validEnd: 0, truncatedBytes: 0, removedSegments: [], records: 0 };
    if (this.segs.length === 0) {
      this.maxOffset = this.writtenOffset = this.flushedOffset = Math.max(from, 0) - (Math.max(from, 0) % this.segSize);
      res.scannedFrom = res.validEnd = this.maxOffset;
      return res;
    }
    let idx = Math.floor((from - this.segs[0].start) / this.segSize);
    if (!(idx >= 0)) idx = 0;
    if (idx >= this.segs.length) idx = this.segs.length - 1;
    res.scannedFrom = this.segs[idx].start;
    let validEnd = this.segs[idx].start;
    let reason: string | undefined;
    for (; idx < this.segs.length; idx++) {
      const seg = this.segs[idx];
      const scan = this.scanSegment(seg, idx === this.segs.length - 1, visitFrom, visit, verify);
      res.records += scan.records;
      validEnd = seg.start + scan.end;
      if (scan.reason !== undefined || !scan.blankEnd) {
        reason = scan.reason;
        break;
      }
      validEnd = seg.start + this.segSize;
    }
    res.validEnd = validEnd;
    res.reason = reason;
    this.truncateTo(validEnd, res);
    // What survived a process crash may sit only in the page cache: make it durable before the
    // checkpoint says so.
    const tail = this.segs[this.segs.length - 1];
    if (tail) fs.fsyncSync(tail.fd);
    this.maxOffset = this.writtenOffset = this.flushedOffset = validEnd;
    return res;
  }

  private scanSegment(
    seg: Segment,
    isLast: boolean,
    visitFrom: number,
    visit: RecordVisitor,
    verify: boolean,
  ): { end: number; blankEnd: boolean; reason?: string; records: number } {
    const fileLen = fs.fstatSync(seg.fd).size;
    const windowSize = Math.min(8 * 1024 * 1024, this.segSize);
    let win = Buffer.allocUnsafe(windowSize);
    let winStart = 0;
    let winLen = 0;
    let pos = 0;
    let records = 0;
    const ensure = (need: number): boolean => {
      if (pos + need > fileLen) return false;
      if (pos >= winStart && pos + need <= winStart + winLen) return true;
      if (need > win.length) win = Buffer.allocUnsafe(need);
      winStart = pos;
      winLen = readFullSync(seg.fd, win, 0, Math.min(win.length, fileLen - pos), pos);
      return pos + need <= winStart + winLen;
    };
    for (;;) {
      if (pos === fileLen && isLast) return { end: pos, blankEnd: false, records };
      if (!ensure(8)) return { end: pos, blankEnd: false, records, reason: `torn header at ${seg.start + pos}` };
      const p = pos - winStart;
      const size = win.readInt32BE(p);
      const magic = win.readInt32BE(p + 4);
      if (magic === BLANK_MAGIC_CODE) {
        if (size === this.segSize - pos) return { end: pos, blankEnd: true, records };
        return { end: pos, blankEnd: false, records, reason: `bad blank record size ${size} at ${seg.start + pos}` };
      }
      if (magic !== MESSAGE_MAGIC_CODE_V1 && magic !== MESSAGE_MAGIC_CODE_V2) {
        if (size === 0 && magic === 0) return { end: pos, blankEnd: false, records, reason: `zero bytes at ${seg.start + pos}` };
        return { end: pos, blankEnd: false, records, reason: `bad magic 0x${(magic >>> 0).toString(16)} at ${seg.start + pos}` };
      }
      if (size < 91 || pos + size + END_FILE_MIN_BLANK_LENGTH > this.segSize) {
        return { end: pos, blankEnd: false, records, reason: `bad record size ${size} at ${seg.start + pos}` };
      }
      if (!ensure(size)) return { end: pos, blankEnd: false, records, reason: `torn record at ${seg.start + pos}` };
      const q = pos - winStart;
      const why = verify ? checkRecord(win, q, size, seg.start + pos) : undefined;
      if (why) return { end: pos, blankEnd: false, records, reason: `${why} at ${seg.start + pos}` };
      if (seg.start + pos >= visitFrom) visit(win, q, seg.start + pos, size);
      records++;
      pos += size;
    }
  }

  private truncateTo(validEnd: number, res: CommitLogRecoveryResult): void {
    while (this.segs.length) {
      const last = this.segs[this.segs.length - 1];
      const len = fs.fstatSync(last.fd).size;
      if (last.start > validEnd) {
        res.truncatedBytes += len;
        fs.closeSync(last.fd);
        fs.unlinkSync(last.path);
        res.removedSegments.push(offset2FileName(last.start));
        this.segs.pop();
        continue;
      }
      const keep = Math.min(validEnd - last.start, len);
      if (len > keep) {
        res.truncatedBytes += len - keep;
        fs.ftruncateSync(last.fd, keep);
        fs.fsyncSync(last.fd);
      }
      break;
    }
  }

  /**
   * Reserves size bytes and returns their commit-log offset; the caller encodes the record at
   * this.lastChunk.buf[this.lastPos]. Inserts the blank end-of-file record and rolls to a new
   * segment when the record would not fit.
   */
  reserve(size: number): number {
    let seg = this.segmentForAppend();
    const segEnd = seg.start + this.segSize;
    if (this.maxOffset + size + END_FILE_MIN_BLANK_LENGTH > segEnd) {
      const c = this.chunkFor(seg, END_FILE_MIN_BLANK_LENGTH);
      c.buf.writeInt32BE(segEnd - this.maxOffset, c.len);
      c.buf.writeInt32BE(BLANK_MAGIC_CODE, c.len + 4);
      c.len += END_FILE_MIN_BLANK_LENGTH;
      this.maxOffset = segEnd;
      seg = this.segmentForAppend();
    }
    const c = this.chunkFor(seg, size);
    this.lastChunk = c;
    this.lastPos = c.len;
    c.len += size;
    const offset = this.maxOffset;
    this.maxOffset += size;
    return offset;
  }

  /**
   * Appends bytes replicated from a master at maxOffset as they are: the master's records and its
   * end-of-segment blank records included, so segment boundaries fall where the master's do.
   * Every chunk touched records `boundary`, the record boundary its dispatch covers so far;
   * returns the last chunk the bytes went into.
   */
  appendRaw(data: Buffer, boundary: number): WriteChunk {
    let pos = 0;
    let chunk: WriteChunk | null = null;
    while (pos < data.length) {
      const seg = this.segmentForAppend();
      const room = seg.start + this.segSize - this.maxOffset;
      const n = Math.min(room, data.length - pos);
      chunk = this.chunkFor(seg, n);
      data.copy(chunk.buf, chunk.len, pos, pos + n);
      chunk.len += n;
      chunk.replicaBoundary = boundary;
      this.maxOffset += n;
      pos += n;
    }
    if (!chunk) throw new Error('appendRaw of no bytes');
    this.lastChunk = chunk;
    return chunk;
  }

  /**
   * Cuts the log at offset (everything at and above goes), after every reserved byte was
   * written. For a slave ordered to drop log its master never acknowledged.
   */
  async truncate(offset: number): Promise<void> {
    await this.waitWritten();
    await this.flushSettled();
    if (offset > this.maxOffset) throw new Error(`cannot truncate the commit log to ${offset}: it ends at ${this.maxOffset}`);
    if (offset < this.minOffset) throw new Error(`cannot truncate the commit log to ${offset}: it starts at ${this.minOffset}`);
    const res: CommitLogRecoveryResult = { scannedFrom: offset, validEnd: offset, truncatedBytes: 0, removedSegments: [], records: 0 };
    this.dropPrepared();
    this.truncateTo(offset, res);
    // Removed segments' fds are closed: a later fsync of them would fail the log (or hit a reused fd).
    for (const s of this.dirty) if (!this.segs.includes(s)) this.dirty.delete(s);
    this.cur = null;
    this.maxOffset = this.writtenOffset = offset;
    if (this.flushedOffset > offset) this.flushedOffset = offset;
  }

  /**
   * Drops every segment and makes the (empty) log start at offset, a segment start: a replica
   * too far behind its master starts again at the master's oldest segment, named as the master's.
   */
  async resetTo(offset: number): Promise<void> {
    await this.waitWritten();
    await this.flushSettled();
    if (offset % this.segSize !== 0) throw new Error(`cannot start the commit log at ${offset}: not a multiple of mappedFileSizeCommitLog ${this.segSize}`);
    this.dropPrepared();
    for (const s of this.segs) {
      fs.closeSync(s.fd);
      fs.rmSync(s.path, { force: true });
    }
    this.segs = [];
    this.dirty.clear();
    this.cur = null;
    this.lastChunk = null;
    this.maxOffset = this.writtenOffset = this.flushedOffset = offset;
  }

  private segmentForAppend(): Segment {
    const last = this.segs[this.segs.length - 1];
    if (last && this.maxOffset < last.start + this.segSize) {
      if (this.preparedAfter !== last.start) this.prepareAfter(last.start);
      return last;
    }
    const start = this.maxOffset;
    const path = join(this.dir, offset2FileName(start));
    const fd = this.prealloc.take(path) ?? fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const seg = { start, fd, path };
    this.segs.push(seg);
    this.prepareAfter(start);
    return seg;
  }

  /** Has the segment after the one starting at start created in the background. */
  private prepareAfter(start: number): void {
    this.preparedAfter = start;
    this.prealloc.prepare(join(this.dir, offset2FileName(start + this.segSize)));
  }

  /** The prepared next segment goes (its file too): the log's end is about to move back. */
  private dropPrepared(): void {
    this.prealloc.discard();
    this.preparedAfter = -1;
  }

  private chunkFor(seg: Segment, size: number): WriteChunk {
    const c = this.cur;
    if (c && c.seg === seg && c.len + size <= c.buf.length) return c;
    const bufSize = Math.max(this.config.writeBufferSize, size);
    const buf = bufSize === this.config.writeBufferSize && this.freeBufs.length ? this.freeBufs.pop()! : Buffer.allocUnsafe(bufSize);
    const chunk: WriteChunk = { seg, filePos: this.maxOffset - seg.start, buf, len: 0, dispatch: [] };
    this.queue.push(chunk);
    this.cur = chunk;
    if (!this.scheduled && !this.writing) {
      this.scheduled = true;
      setImmediate(this.kick);
    }
    return chunk;
  }

  private readonly kick = (): void => {
    this.scheduled = false;
    if (!this.writing) this.drainPromise = this.drain();
  };

  /** Registers a put to be answered once written (async) or flushed (sync). */
  addWaiter(end: number, result: PutMessageResult, resolve: (r: PutMessageResult) => void, sync: boolean): void {
    const w: Waiter = { end, time: sync ? Date.now() : 0, result, resolve };
    if (!sync) {
      this.writeWaiters.push(w);
      return;
    }
    // The timeout timer keeps the process alive only while a SYNC_FLUSH put is waiting.
    if (this.flushWaiters.size === 0) this.expiryTimer?.ref();
    this.flushWaiters.push(w);
  }

  private expiryTimer: NodeJS.Timeout | null = null;

  /** Starts answering SYNC_FLUSH puts that wait longer than timeoutMs with FLUSH_DISK_TIMEOUT. */
  startFlushTimeouts(timeoutMs: number): void {
    this.expiryTimer = setInterval(() => this.expireFlushWaiters(Date.now(), timeoutMs), Math.max(10, Math.min(1000, timeoutMs / 4)));
    this.expiryTimer.unref();
  }

  stopFlushTimeouts(): void {
    if (this.expiryTimer) clearInterval(this.expiryTimer);
    this.expiryTimer = null;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length && !this.failure && !this.spaceFailure) {
        const batch = this.queue;
        this.queue = [];
        this.cur = null;
        // One write per chunk, answering its puts right away: their producers' next puts are
        // encoded while the following chunk is being written, instead of in lock-step.
        for (let i = 0; i < batch.length; i++) {
          const c = batch[i];
          try {
            if (this.onIssue && c.replicaBoundary === undefined) this.onIssue(c);
            await this.writeChunk(c);
          } catch (err) {
            if (!isNoSpaceError(err)) throw err;
            this.rollBack(batch.slice(i), err as Error);
            return;
          }
          this.writtenOffset = c.seg.start + c.filePos + c.len;
          this.onWritten(c);
          // Keep up to 16 MiB of batch buffers for reuse: allocating them anew is GC work.
          if (c.buf.length === this.config.writeBufferSize && !c.pinned && this.freeBufs.length * c.buf.length < 16 * 1024 * 1024) this.freeBufs.push(c.buf);
          this.answer(this.writeWaiters, this.writtenOffset, PutMessageStatus.PUT_OK);
          if (this.flushWaiters.size) void this.runFlush();
        }
      }
    } catch (err) {
      this.fail(err as Error, 'write');
    } finally {
      this.writing = false;
      this.drainPromise = null;
    }
  }

  private async writeChunk(c: WriteChunk): Promise<void> {
    // A replica writes what its master sent with a blocking write: the master's SYNC_MASTER
    // acknowledgement waits for this write, and the thread pool's round trip (a wake-up on a busy
    // machine) was most of a slave's part of it. A slave's event loop has little else to do.
    if (this.config.writeBatchSync || c.replicaBoundary !== undefined) writeFullSync(c.seg.fd, c.buf, 0, c.len, c.filePos);
    else await writeFull(c.seg.fd, c.buf, 0, c.len, c.filePos);
    this.dirty.add(c.seg);
  }

  private answer(q: WaiterQueue, upTo: number, status: PutMessageStatus): void {
    for (let w = q.peek(); w !== undefined && w.end <= upTo; w = q.peek()) {
      q.shift();
      w.result.status = status;
      w.resolve(w.result);
    }
    if (q === this.flushWaiters && q.size === 0) this.expiryTimer?.unref();
  }

  private runFlush(): Promise<void> {
    if (!this.flushPromise) {
      this.flushPromise = this.flushOnce().finally(() => {
        this.flushPromise = null;
        if (this.flushWaiters.size && this.flushedOffset < this.writtenOffset && !this.failure) void this.runFlush();
      });
    }
    return this.flushPromise;
  }

  private async flushOnce(): Promise<void> {
    const target = this.writtenOffset;
    const segs = [...this.dirty];
    this.dirty.clear();
    try {
      await Promise.all(segs.map((s) => this.fsync(s.fd)));
    } catch (err) {
      this.fail(err as Error, 'fsync');
      return;
    }
    if (target > this.flushedOffset) this.flushedOffset = target;
    this.answer(this.flushWaiters, this.flushedOffset, PutMessageStatus.PUT_OK);
  }

  /**
   * Resolves once no fsync is in flight. A segment closed while the thread pool fsyncs its fd
   * fails that fsync (EBADF), which would fail the log: callers that close segments wait here,
   * then close them before yielding again.
   */
  private async flushSettled(): Promise<void> {
    while (this.flushPromise) await this.flushPromise;
  }

  /** Waits for every reserved byte to be written, then fsyncs them. */
  async flush(): Promise<void> {
    await this.waitWritten();
    const target = this.writtenOffset;
    while (this.flushedOffset < target && !this.failure) await this.runFlush();
  }

  /** Resolves once everything reserved so far has been written (or the log failed). */
  async waitWritten(): Promise<void> {
    while ((this.queue.length || this.writing || this.scheduled) && !this.failure) {
      if (this.drainPromise) await this.drainPromise;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /** Answers SYNC_FLUSH puts that waited longer than timeoutMs with FLUSH_DISK_TIMEOUT. */
  expireFlushWaiters(now: number, timeoutMs: number): void {
    for (let w = this.flushWaiters.peek(); w !== undefined && now - w.time >= timeoutMs; w = this.flushWaiters.peek()) {
      this.flushWaiters.shift();
      w.result.status = PutMessageStatus.FLUSH_DISK_TIMEOUT;
      w.result.remark = `fsync did not complete within syncFlushTimeout ${timeoutMs} ms`;
      w.resolve(w.result);
    }
    if (this.flushWaiters.size === 0) this.expiryTimer?.unref();
  }

  /**
   * A write failed for want of space: cut what it (and nothing acknowledged) put in the files,
   * forget every chunk from it on, and answer their puts DISK_FULL. Nothing of theirs was
   * dispatched, so no reader ever saw them, and the next write starts at a record boundary.
   */
  private rollBack(failed: WriteChunk[], err: Error): void {
    const dropped = failed.concat(this.queue);
    this.queue = [];
    this.cur = null;
    this.lastChunk = null;
    const first = failed[0];
    const at = first.seg.start + first.filePos;
    const { cutAt, remark } = this.onRolledBack?.(dropped, at, err) ?? { cutAt: at, remark: `commit log write at ${at} failed: ${err.message}` };
    this.dropPrepared();
    try {
      this.truncateTo(cutAt, { scannedFrom: cutAt, validEnd: cutAt, truncatedBytes: 0, removedSegments: [], records: 0 });
    } catch (cutErr) {
      this.fail(cutErr as Error, 'write');
      return;
    }
    for (const s of this.dirty) if (!this.segs.includes(s)) this.dirty.delete(s);
    this.maxOffset = cutAt;
    if (this.writtenOffset > cutAt) this.writtenOffset = cutAt;
    if (this.flushedOffset > cutAt) this.flushedOffset = cutAt;
    if (!this.spaceFailure) this.logger.error({ err, at: cutAt, dropped: dropped.length }, 'commit log write failed for want of space: writes refused until there is room again');
    this.spaceFailure = err;
    for (const q of [this.writeWaiters, this.flushWaiters]) {
      for (const w of q.takeAbove(cutAt)) {
        w.result.status = PutMessageStatus.DISK_FULL;
        w.result.remark = remark;
        w.resolve(w.result);
      }
    }
    if (this.flushWaiters.size === 0) this.expiryTimer?.unref();
  }

  /** The store saw room again: writes may be tried (a new failure rolls back the same way). */
  clearSpaceFailure(): void {
    this.spaceFailure = null;
  }

  private fail(err: Error, what: string): void {
    if (!this.failure) {
      this.failure = err;
      this.logger.error({ err }, `commit log ${what} failed; the store refuses writes until restart`);
    }
    const remark = `commit log ${what} failed: ${err.message}`;
    for (const q of [this.writeWaiters, this.flushWaiters]) {
      for (let w = q.shift(); w !== undefined; w = q.shift()) {
        w.result.status = PutMessageStatus.UNKNOWN_ERROR;
        w.result.remark = remark;
        w.resolve(w.result);
      }
    }
    this.queue = [];
    this.cur = null;
    this.expiryTimer?.unref();
  }

  private segIndex(offset: number): number {
    if (!this.segs.length) return -1;
    const i = Math.floor((offset - this.segs[0].start) / this.segSize);
    return i >= 0 && i < this.segs.length ? i : -1;
  }

  /** True when [offset, offset+size) lies inside one segment and is written. */
  readable(offset: number, size: number): boolean {
    if (offset < this.minOffset || offset + size > this.writtenOffset || size <= 0) return false;
    const i = this.segIndex(offset);
    return i >= 0 && offset + size <= this.segs[i].start + this.segSize;
  }

  /**
   * Reads written bytes by offset; null when out of range. The Buffer is the caller's.
   * Bytes within the last HOT_READ_BYTES written are read synchronously: they are in the page
   * cache, and a read from memory is cheaper than a hop through the thread pool (RocketMQ reads
   * that region from mapped memory). Older bytes may need the disk, so they are read off the
   * event loop.
   */
  async read(offset: number, size: number): Promise<Buffer | null> {
    if (!this.readable(offset, size)) return null;
    const seg = this.segs[this.segIndex(offset)];
    const buf = Buffer.allocUnsafe(size);
    const n =
      this.writtenOffset - offset <= HOT_READ_BYTES
        ? readFullSync(seg.fd, buf, 0, size, offset - seg.start)
        : await readFull(seg.fd, buf, 0, size, offset - seg.start);
    return n === size ? buf : null;
  }

  /** read() without a promise when the bytes are hot (read synchronously anyway); undefined when they are not. */
  readHot(offset: number, size: number): Buffer | null | undefined {
    if (this.writtenOffset - offset > HOT_READ_BYTES) return undefined;
    if (!this.readable(offset, size)) return null;
    const seg = this.segs[this.segIndex(offset)];
    const buf = Buffer.allocUnsafe(size);
    return readFullSync(seg.fd, buf, 0, size, offset - seg.start) === size ? buf : null;
  }

  /**
   * Up to maxBytes of the log from offset as a replica must hold it (raw bytes, records may be
   * cut anywhere), never across a segment end. The unwritten rest of a segment closed by a blank
   * record reads as zeros, so a replica's segments end where ours do. Null when offset is not held
   * or not yet written.
   */
  async readRaw(offset: number, maxBytes: number): Promise<Buffer | null> {
    const hot = this.readRawHot(offset, maxBytes);
    if (hot !== undefined) return hot;
    const r = this.rawRange(offset, maxBytes);
    if (r === null || Buffer.isBuffer(r)) return r;
    const buf = Buffer.allocUnsafe(r.size);
    const n = await readFull(r.seg.fd, buf, 0, r.size, offset - r.seg.start);
    return n === r.size ? buf : null;
  }

  /**
   * readRaw for a replica in step, which reads what was just written: synchronously, from the
   * page cache, into `into` when it is large enough (the master streams every byte it writes,
   * and a fresh buffer per frame was garbage-collection work). Undefined when offset is far
   * behind the log's end: read that with readRaw, off the event loop.
   */
  readRawHot(offset: number, maxBytes: number, into?: Buffer): Buffer | null | undefined {
    if (this.writtenOffset - offset > HOT_READ_BYTES) return undefined;
    const r = this.rawRange(offset, maxBytes);
    if (r === null || Buffer.isBuffer(r)) return r;
    const buf = into && into.length >= r.size ? into.subarray(0, r.size) : Buffer.allocUnsafe(r.size);
    return readFullSync(r.seg.fd, buf, 0, r.size, offset - r.seg.start) === r.size ? buf : null;
  }

  /** Where readRaw reads: null when not held or not written, zeros past a closed segment's file end. */
  private rawRange(offset: number, maxBytes: number): { seg: Segment; size: number } | Buffer | null {
    const i = this.segIndex(offset);
    if (i < 0 || offset >= this.writtenOffset || maxBytes <= 0) return null;
    const seg = this.segs[i];
    const segEnd = seg.start + this.segSize;
    const last = i === this.segs.length - 1;
    const fileEnd = last ? this.writtenOffset : seg.start + fs.fstatSync(seg.fd).size;
    if (offset >= fileEnd) return last ? null : Buffer.alloc(Math.min(maxBytes, segEnd - offset));
    return { seg, size: Math.min(maxBytes, fileEnd - offset, segEnd - offset) };
  }

  /**
   * Visits the records in [from, to) with synchronous reads, from at a record boundary; a blank
   * record moves on to the next segment. For a dispatch catching up after a failed write: the
   * buffer handed to visit is reused for the next window.
   */
  visitRecords(from: number, to: number, visit: RecordVisitor): void {
    let win = Buffer.allocUnsafe(Math.min(4 * 1024 * 1024, this.segSize));
    let off = from;
    while (off < to) {
      const seg = this.segs[this.segIndex(off)];
      if (!seg) throw new Error(`the commit log holds no segment for offset ${off}`);
      const segEnd = seg.start + this.segSize;
      const n = readFullSync(seg.fd, win, 0, Math.min(win.length, Math.min(to, segEnd) - off), off - seg.start);
      let p = 0;
      let blank = false;
      while (p + 8 <= n) {
        const size = win.readInt32BE(p);
        const magic = win.readInt32BE(p + 4);
        if (magic === BLANK_MAGIC_CODE) {
          blank = true;
          break;
        }
        if (size < 91 || size > this.segSize) throw new Error(`no record at commit-log offset ${off + p} (size ${size})`);
        if (p + size > n) {
          if (p === 0 && size > win.length) win = Buffer.allocUnsafe(size);
          else if (p === 0) throw new Error(`the record at commit-log offset ${off} is not all written`);
          break;
        }
        visit(win, p, off + p, size);
        p += size;
      }
      if (blank) off = segEnd;
      else if (p === 0 && n < 8) throw new Error(`nothing readable at commit-log offset ${off}`);
      else off += p;
    }
  }

  /** Synchronous read of a few bytes (binary searches by time); returns bytes read, 0 when out of range. */
  readSync(offset: number, size: number, into: Buffer): number {
    if (!this.readable(offset, size)) return 0;
    const seg = this.segs[this.segIndex(offset)];
    return readFullSync(seg.fd, into, 0, size, offset - seg.start);
  }

  /** Removes the oldest segment (retention). The caller checks it is neither current nor unflushed. */
  deleteFirstSegment(): Segment | undefined {
    const seg = this.segs.shift();
    if (!seg) return undefined;
    fs.closeSync(seg.fd);
    fs.rmSync(seg.path, { force: true });
    return seg;
  }

  close(): void {
    // Closed before the segments, so that the prepared file is removed (the log did not use it).
    this.dropPrepared();
    for (const s of this.segs) fs.closeSync(s.fd);
    this.segs = [];
  }
}

/** Structural check of one record: lengths agree, PHYSICALOFFSET matches, BODYCRC matches. */
export function checkRecord(buf: Buffer, p: number, size: number, phyOffset: number): string | undefined {
  if (readLong(buf, p + 28) !== phyOffset) return 'physical offset field mismatch';
  const sysFlag = buf.readInt32BE(p + 36);
  const bornLen = (sysFlag & MessageSysFlag.BORNHOST_V6_FLAG) === 0 ? 8 : 20;
  const storeLen = (sysFlag & MessageSysFlag.STOREHOSTADDRESS_V6_FLAG) === 0 ? 8 : 20;
  const bodyLenPos = p + 48 + bornLen + 8 + storeLen + 12;
  const end = p + size;
  if (bodyLenPos + 4 > end) return 'record too short';
  const bodyLen = buf.readInt32BE(bodyLenPos);
  let q = bodyLenPos + 4 + bodyLen;
  if (bodyLen < 0 || q > end) return `bad body length ${bodyLen}`;
  const v2 = buf.readInt32BE(p + 4) === MESSAGE_MAGIC_CODE_V2;
  if (q + (v2 ? 2 : 1) > end) return 'record too short';
  const topicLen = v2 ? buf.readInt16BE(q) : buf.readInt8(q);
  q += (v2 ? 2 : 1) + topicLen;
  if (topicLen < 0 || q + 2 > end) return `bad topic length ${topicLen}`;
  const propsLen = buf.readInt16BE(q);
  if (propsLen < 0 || q + 2 + propsLen !== end) return `bad properties length ${propsLen}`;
  if (bodyCrc(buf.subarray(bodyLenPos + 4, bodyLenPos + 4 + bodyLen)) !== buf.readInt32BE(p + 8)) return 'body CRC mismatch';
  return undefined;
}
