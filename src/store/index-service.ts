// IndexService: the list of index files under <root>/index, named by creation time
// (yyyyMMddHHmmssSSS, local time, as Java names them). Keys are `topic#key` for each KEYS token
// and for UNIQ_KEY.
import * as fs from 'node:fs';
import { join } from 'node:path';
import { IndexFile, topicKeyHash } from './index-file.js';

function timeName(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}${p(d.getMilliseconds(), 3)}`;
}

export class IndexService {
  readonly dir: string;
  private files: IndexFile[] = [];

  constructor(
    rootDir: string,
    private readonly slotNum: number,
    private readonly indexNum: number,
    private readonly now: () => number,
  ) {
    this.dir = join(rootDir, 'index');
    fs.mkdirSync(this.dir, { recursive: true });
  }

  load(): void {
    const names = fs.readdirSync(this.dir).filter((n) => /^\d{17}$/.test(n)).sort();
    names.forEach((name, i) => this.files.push(new IndexFile(join(this.dir, name), this.slotNum, this.indexNum, i === names.length - 1)));
  }

  /** Commit-log offset of the newest indexed record, -1 when nothing is indexed. */
  get endPhyOffset(): number {
    const last = this.files[this.files.length - 1];
    return last && last.indexCount > 1 ? last.endPhyOffset : -1;
  }

  get lastUpdateTimestamp(): number {
    const last = this.files[this.files.length - 1];
    return last ? last.endTimestamp : 0;
  }

  private current(): IndexFile {
    let last = this.files[this.files.length - 1];
    if (!last || last.isFull()) {
      last?.seal();
      let name = timeName(this.now());
      // Names are 17 digits (beyond 2^53), so bump them as BigInt when two files share a millisecond.
      while (this.files.some((f) => f.path.endsWith(name))) name = String(BigInt(name) + 1n);
      last = new IndexFile(join(this.dir, name), this.slotNum, this.indexNum, true);
      this.files.push(last);
    }
    return last;
  }

  /** Indexes one record's keys; skips records already indexed (re-dispatch after a crash). */
  buildIndex(topic: string, keys: string | undefined, uniqKey: string | undefined, phyOffset: number, storeTimestamp: number): void {
    if (phyOffset <= this.endPhyOffset) return;
    if (uniqKey) this.put(topicKeyHash(topic, uniqKey, 0, uniqKey.length), phyOffset, storeTimestamp);
    if (!keys) return;
    // The space-separated keys are hashed in place: no array, no "topic#key" strings per message.
    for (let from = 0; from <= keys.length; ) {
      let to = keys.indexOf(' ', from);
      if (to < 0) to = keys.length;
      if (to > from) this.put(topicKeyHash(topic, keys, from, to), phyOffset, storeTimestamp);
      from = to + 1;
    }
  }

  private put(hash: number, phyOffset: number, storeTimestamp: number): void {
    if (!this.current().putHash(hash, phyOffset, storeTimestamp)) this.current().putHash(hash, phyOffset, storeTimestamp);
  }

  /** Offsets newest first across files overlapping [begin, end]. */
  queryOffsets(topic: string, key: string, maxNum: number, begin: number, end: number): number[] {
    const out: number[] = [];
    const full = `${topic}#${key}`;
    for (let i = this.files.length - 1; i >= 0 && out.length < maxNum; i--) {
      const f = this.files[i];
      if (f.indexCount <= 1) continue;
      if (f.endTimestamp + 1000 < begin || f.beginTimestamp > end) continue;
      f.selectPhyOffsets(out, full, maxNum, begin, end);
    }
    return out;
  }

  /** Drops index entries at or past phyOffset (the commit log was cut there): newer files whole, then the tail of the last. */
  truncateFrom(phyOffset: number): void {
    for (;;) {
      const last = this.files[this.files.length - 1];
      if (!last) return;
      const prev = this.files[this.files.length - 2];
      // An empty newest file goes too when the one before it holds entries past the cut.
      const drop = last.indexCount > 1 ? last.beginPhyOffset >= phyOffset : prev !== undefined && prev.endPhyOffset >= phyOffset;
      if (!drop) break;
      this.files.pop();
      last.close();
      fs.rmSync(last.path, { force: true });
    }
    this.files[this.files.length - 1].truncateFrom(phyOffset);
  }

  writeDirty(): void {
    this.files[this.files.length - 1]?.writeDirty();
  }

  async fsync(): Promise<void> {
    const last = this.files[this.files.length - 1];
    if (last) await last.fsync();
  }

  /** Deletes files whose newest entry points below phyMin, never the newest file. */
  deleteExpiredFiles(phyMin: number): string[] {
    const removed: string[] = [];
    while (this.files.length > 1 && this.files[0].endPhyOffset < phyMin) {
      const f = this.files.shift()!;
      f.close();
      fs.rmSync(f.path, { force: true });
      removed.push(f.path);
    }
    return removed;
  }

  /** Removes every index file (a replica restarting its log at the master's oldest offset). */
  clear(): void {
    for (const f of this.files) {
      f.close();
      fs.rmSync(f.path, { force: true });
    }
    this.files = [];
  }

  /** Writes what is dirty and closes the files; a write that fails (a full disk) still closes them. */
  close(): void {
    try {
      this.writeDirty();
    } finally {
      for (const f of this.files) f.close();
      this.files = [];
    }
  }
}
