// IndexFile: RocketMQ's hash index layout. Header (40 B): beginTimestamp long, endTimestamp long,
// beginPhyOffset long, endPhyOffset long, hashSlotCount int, indexCount int (starts at 1).
// Then hashSlotNum int slots (newest entry number per slot, 0 = empty), then indexNum entries of
// 20 B: keyHash int, phyOffset long, timeDiff int (seconds since beginTimestamp), prevIndex int.
// The newest file lives in memory and is written out (entries, then slots, then header) by
// flush(); older files are read with positional reads.
import * as fs from 'node:fs';
import { readLong, writeLong } from '../common/message-bytes.js';
import { javaStringHashCode } from '../common/tag-hash.js';
import { fsyncFd, readFullSync, writeFullSync } from './fs-io.js';

export const INDEX_HEADER_SIZE = 40;
const SLOT_SIZE = 4;
const ENTRY_SIZE = 20;
const PAGE = 4096;

/** Java IndexService: abs(hashCode), with Integer.MIN_VALUE mapped to 0. */
export function indexKeyHash(key: string): number {
  return absHash(javaStringHashCode(key));
}

/**
 * indexKeyHash(`${topic}#${key.slice(start, end)}`) without building that string: the hash runs
 * over the topic, '#' and the key's range in turn (a key per message made two strings, issue 17).
 */
export function topicKeyHash(topic: string, key: string, start: number, end: number): number {
  let h = 0;
  for (let i = 0; i < topic.length; i++) h = (Math.imul(31, h) + topic.charCodeAt(i)) | 0;
  h = (Math.imul(31, h) + 35) | 0;
  for (let i = start; i < end; i++) h = (Math.imul(31, h) + key.charCodeAt(i)) | 0;
  return absHash(h);
}

function absHash(h: number): number {
  const a = Math.abs(h);
  return a > 0x7fffffff ? 0 : a;
}

export class IndexFile {
  readonly fd: number;
  private mem: Buffer | null;
  beginTimestamp = 0;
  endTimestamp = 0;
  beginPhyOffset = 0;
  endPhyOffset = 0;
  hashSlotCount = 0;
  indexCount = 1;
  private writtenCount = 1;
  private readonly dirtySlotPages = new Set<number>();
  private readonly small = Buffer.allocUnsafe(ENTRY_SIZE);

  constructor(
    readonly path: string,
    readonly slotNum: number,
    readonly indexNum: number,
    inMemory: boolean,
  ) {
    const exists = fs.existsSync(path);
    this.fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644);
    const header = Buffer.alloc(INDEX_HEADER_SIZE);
    if (exists) readFullSync(this.fd, header, 0, INDEX_HEADER_SIZE, 0);
    this.beginTimestamp = readLong(header, 0);
    this.endTimestamp = readLong(header, 8);
    this.beginPhyOffset = readLong(header, 16);
    this.endPhyOffset = readLong(header, 24);
    this.hashSlotCount = header.readInt32BE(32);
    this.indexCount = Math.max(1, header.readInt32BE(36));
    this.writtenCount = this.indexCount;
    this.mem = null;
    // A new file is all zeros: reading its 40+ MB back (and walking its slots) held the event loop
    // for tens of ms at every index roll (issue 17); a zero-filled buffer is the same content.
    if (inMemory) {
      if (exists) this.loadIntoMemory();
      else this.mem = Buffer.alloc(this.size);
    }
  }

  get size(): number {
    return INDEX_HEADER_SIZE + this.slotNum * SLOT_SIZE + this.indexNum * ENTRY_SIZE;
  }

  isFull(): boolean {
    return this.indexCount >= this.indexNum;
  }

  private loadIntoMemory(): void {
    const mem = Buffer.alloc(this.size);
    readFullSync(this.fd, mem, 0, this.size, 0);
    // A crash can leave slots written for entries the header does not count yet; follow each such
    // slot's chain back to an entry the header covers.
    const slotsEnd = INDEX_HEADER_SIZE + this.slotNum * SLOT_SIZE;
    for (let p = INDEX_HEADER_SIZE; p < slotsEnd; p += SLOT_SIZE) {
      let v = mem.readInt32BE(p);
      let guard = 0;
      while (v >= this.indexCount && guard++ < 64) v = mem.readInt32BE(slotsEnd + v * ENTRY_SIZE + 16);
      if (v >= this.indexCount || v < 0) v = 0;
      mem.writeInt32BE(v, p);
    }
    this.mem = mem;
  }

  /** Adds key → phyOffset. Returns false when the file is full. */
  putKey(key: string, phyOffset: number, storeTimestamp: number): boolean {
    return this.putHash(indexKeyHash(key), phyOffset, storeTimestamp);
  }

  /** putKey with the key's indexKeyHash. */
  putHash(hash: number, phyOffset: number, storeTimestamp: number): boolean {
    const mem = this.mem;
    if (!mem) throw new Error('index file is read-only');
    if (this.isFull()) return false;
    const slotPos = INDEX_HEADER_SIZE + (hash % this.slotNum) * SLOT_SIZE;
    let slotValue = mem.readInt32BE(slotPos);
    if (slotValue <= 0 || slotValue > this.indexCount) slotValue = 0;
    let timeDiff = this.beginTimestamp <= 0 ? 0 : Math.floor((storeTimestamp - this.beginTimestamp) / 1000);
    if (timeDiff < 0) timeDiff = 0;
    if (timeDiff > 0x7fffffff) timeDiff = 0x7fffffff;
    const e = INDEX_HEADER_SIZE + this.slotNum * SLOT_SIZE + this.indexCount * ENTRY_SIZE;
    mem.writeInt32BE(hash, e);
    writeLong(mem, phyOffset, e + 4);
    mem.writeInt32BE(timeDiff, e + 12);
    mem.writeInt32BE(slotValue, e + 16);
    mem.writeInt32BE(this.indexCount, slotPos);
    this.dirtySlotPages.add(Math.floor(slotPos / PAGE));
    if (this.indexCount <= 1) {
      this.beginPhyOffset = phyOffset;
      this.beginTimestamp = storeTimestamp;
    }
    if (slotValue === 0) this.hashSlotCount++;
    this.indexCount++;
    this.endPhyOffset = phyOffset;
    this.endTimestamp = storeTimestamp;
    return true;
  }

  /**
   * Drops the newest entries whose commit-log offset is at or past phyOffset (the log was cut
   * there). Entries go newest first, each slot back to the entry it held before, so the file is
   * as it was before they were added. A sealed file is loaded into memory: it is the newest again.
   */
  truncateFrom(phyOffset: number): void {
    if (this.indexCount <= 1 || this.endPhyOffset < phyOffset) return;
    if (!this.mem) this.loadIntoMemory();
    const mem = this.mem!;
    const entriesStart = INDEX_HEADER_SIZE + this.slotNum * SLOT_SIZE;
    let n = this.indexCount - 1;
    for (; n >= 1; n--) {
      const e = entriesStart + n * ENTRY_SIZE;
      if (readLong(mem, e + 4) < phyOffset) break;
      const slotPos = INDEX_HEADER_SIZE + (mem.readInt32BE(e) % this.slotNum) * SLOT_SIZE;
      const prev = mem.readInt32BE(e + 16);
      mem.writeInt32BE(prev, slotPos);
      if (prev === 0) this.hashSlotCount--;
      this.dirtySlotPages.add(Math.floor(slotPos / PAGE));
    }
    this.indexCount = n + 1;
    if (this.writtenCount > this.indexCount) this.writtenCount = this.indexCount;
    if (n >= 1) {
      const e = entriesStart + n * ENTRY_SIZE;
      this.endPhyOffset = readLong(mem, e + 4);
      // Seconds are what the entry keeps; queries widen their time check by a second for it.
      this.endTimestamp = this.beginTimestamp + mem.readInt32BE(e + 12) * 1000;
    } else {
      this.beginTimestamp = this.endTimestamp = this.beginPhyOffset = this.endPhyOffset = 0;
      this.hashSlotCount = 0;
    }
  }

  private readInt(pos: number): number {
    if (this.mem) return this.mem.readInt32BE(pos);
    readFullSync(this.fd, this.small, 0, 4, pos);
    return this.small.readInt32BE(0);
  }

  private readEntry(n: number): Buffer {
    const pos = INDEX_HEADER_SIZE + this.slotNum * SLOT_SIZE + n * ENTRY_SIZE;
    if (this.mem) return this.mem.subarray(pos, pos + ENTRY_SIZE);
    readFullSync(this.fd, this.small, 0, ENTRY_SIZE, pos);
    return this.small;
  }

  /** Commit-log offsets for key whose store time is in [begin, end], newest first, at most maxNum. */
  selectPhyOffsets(out: number[], key: string, maxNum: number, begin: number, end: number): void {
    const hash = indexKeyHash(key);
    let n = this.readInt(INDEX_HEADER_SIZE + (hash % this.slotNum) * SLOT_SIZE);
    let steps = 0;
    while (n > 0 && n < this.indexCount && out.length < maxNum && steps++ < this.indexNum) {
      const e = this.readEntry(n);
      const keyHash = e.readInt32BE(0);
      const phy = readLong(e, 4);
      const time = this.beginTimestamp + e.readInt32BE(12) * 1000;
      const prev = e.readInt32BE(16);
      // Seconds granularity: widen the check by the truncated part so boundaries are not lost.
      if (keyHash === hash && time <= end && time + 999 >= begin) out.push(phy);
      if (prev >= n) break;
      n = prev;
    }
  }

  /** Writes what changed since the last flush: entries, then slot pages, then the header. */
  writeDirty(): void {
    const mem = this.mem;
    if (!mem) return;
    const entriesStart = INDEX_HEADER_SIZE + this.slotNum * SLOT_SIZE;
    if (this.indexCount > this.writtenCount) {
      const from = entriesStart + this.writtenCount * ENTRY_SIZE;
      const to = entriesStart + this.indexCount * ENTRY_SIZE;
      writeFullSync(this.fd, mem, from, to - from, from);
    }
    // Pages leave the dirty set only after they were written: a write that fails (a full disk)
    // is retried whole by the next flush instead of leaving stale slots on disk.
    const pages = [...this.dirtySlotPages].sort((a, b) => a - b);
    for (let i = 0; i < pages.length; ) {
      let j = i;
      while (j + 1 < pages.length && pages[j + 1] === pages[j] + 1) j++;
      const from = Math.max(pages[i] * PAGE, INDEX_HEADER_SIZE);
      const to = Math.min((pages[j] + 1) * PAGE, entriesStart);
      writeFullSync(this.fd, mem, from, to - from, from);
      i = j + 1;
    }
    if (this.indexCount !== this.writtenCount || pages.length) {
      writeLong(mem, this.beginTimestamp, 0);
      writeLong(mem, this.endTimestamp, 8);
      writeLong(mem, this.beginPhyOffset, 16);
      writeLong(mem, this.endPhyOffset, 24);
      mem.writeInt32BE(this.hashSlotCount, 32);
      mem.writeInt32BE(this.indexCount, 36);
      writeFullSync(this.fd, mem, 0, INDEX_HEADER_SIZE, 0);
    }
    this.dirtySlotPages.clear();
    this.writtenCount = this.indexCount;
  }

  fsync(): Promise<void> {
    return fsyncFd(this.fd);
  }

  /** Drops the in-memory copy once the file is no longer the newest. */
  seal(): void {
    this.writeDirty();
    this.mem = null;
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
