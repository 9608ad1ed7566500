// The compact state of every lite topic: one small object per lite topic (no file, timer or queue
// of its own), one progress pair per (group, lite topic) that consumed something, and how far each
// parent queue has been indexed. Persisted whole in one text file (config/liteState.txt).
import { readFileSync } from 'node:fs';
import { atomicWriteFile } from '../../store/index.js';

/** A lite topic: its messages sit in queue queueId of the parent, between firstOffset and lastOffset. */
export interface LiteTopic {
  readonly parent: string;
  readonly name: string;
  readonly queueId: number;
  /** Messages stored since it was created (its own offsets run 0..count-1). */
  count: number;
  /** Parent-queue offset of its first message (earlier ones belong to an expired namesake). */
  firstOffset: number;
  /** Parent-queue offset of its newest message. */
  lastOffset: number;
  lastStoreTime: number;
  /**
   * Queue offsets of its newest messages (at most TAIL_MAX), so a consumer keeping up reads them
   * directly instead of scanning the queue. Every message at or after tailFrom is in tail.
   */
  tail: number[];
  tailFrom: number;
}

/** Newest offsets kept per lite topic; a consumer further behind scans the parent queue by tag hash. */
export const TAIL_MAX = 16;

/** Where a group stands in a lite topic: every message before parent-queue offset nextQ is done, nextIdx of them. */
export interface LiteProgress {
  nextQ: number;
  nextIdx: number;
}

export function liteKey(parent: string, name: string): string {
  return `${parent}\u0001${name}`;
}

export class LiteTable {
  /** parent → name → topic, oldest store time first (a store moves a topic to the end). */
  private readonly parents = new Map<string, Map<string, LiteTopic>>();
  /** group → liteKey → progress. */
  readonly progress = new Map<string, Map<string, LiteProgress>>();
  /** `${parent}\u0001${queueId}` → next parent-queue offset not yet indexed. */
  readonly indexed = new Map<string, number>();
  dirty = false;

  get(parent: string, name: string): LiteTopic | undefined {
    return this.parents.get(parent)?.get(name);
  }

  countOf(parent: string): number {
    return this.parents.get(parent)?.size ?? 0;
  }

  get total(): number {
    let n = 0;
    for (const m of this.parents.values()) n += m.size;
    return n;
  }

  /** Records a stored lite message; returns the topic and whether this message created it. */
  recordStored(parent: string, name: string, queueId: number, queueOffset: number, storeTime: number): { topic: LiteTopic; created: boolean } {
    let m = this.parents.get(parent);
    if (!m) this.parents.set(parent, (m = new Map()));
    const ik = `${parent}\u0001${queueId}`;
    if ((this.indexed.get(ik) ?? 0) <= queueOffset) this.indexed.set(ik, queueOffset + 1);
    this.dirty = true;
    let t = m.get(name);
    if (!t || t.queueId !== queueId) {
      t = { parent, name, queueId, count: 1, firstOffset: queueOffset, lastOffset: queueOffset, lastStoreTime: storeTime, tail: [queueOffset], tailFrom: queueOffset };
      m.set(name, t);
      return { topic: t, created: true };
    }
    t.count++;
    if (queueOffset > t.lastOffset) t.lastOffset = queueOffset;
    if (queueOffset >= t.tailFrom) {
      let i = t.tail.length;
      while (i > 0 && t.tail[i - 1] > queueOffset) i--;
      t.tail.splice(i, 0, queueOffset);
      if (t.tail.length > TAIL_MAX) t.tailFrom = t.tail.shift()! + 1;
    }
    if (storeTime > t.lastStoreTime) t.lastStoreTime = storeTime;
    // Keep the map in store-time order so expiry looks only at the oldest entries.
    m.delete(name);
    m.set(name, t);
    return { topic: t, created: false };
  }

  remove(t: LiteTopic): void {
    const m = this.parents.get(t.parent);
    if (!m || m.get(t.name) !== t) return;
    m.delete(t.name);
    const k = liteKey(t.parent, t.name);
    for (const g of this.progress.values()) g.delete(k);
    this.dirty = true;
  }

  /** The topics of parent idle since before cutoff, oldest first (stops at the first one that is not). */
  *idleSince(parent: string, cutoff: number): Generator<LiteTopic> {
    const m = this.parents.get(parent);
    if (!m) return;
    for (const t of m.values()) {
      if (t.lastStoreTime >= cutoff) return;
      yield t;
    }
  }

  parentNames(): string[] {
    return [...this.parents.keys()];
  }

  topicsOf(parent: string): IterableIterator<LiteTopic> {
    return (this.parents.get(parent) ?? new Map<string, LiteTopic>()).values();
  }

  getProgress(group: string, key: string): LiteProgress | undefined {
    return this.progress.get(group)?.get(key);
  }

  setProgress(group: string, key: string, p: LiteProgress): void {
    let m = this.progress.get(group);
    if (!m) this.progress.set(group, (m = new Map()));
    m.set(key, p);
    this.dirty = true;
  }

  /** One line per entry, tab-separated: T (topic), O (group progress), I (indexed through). */
  serialize(): string {
    const out: string[] = ['# apogee lite state v1'];
    for (const m of this.parents.values()) {
      for (const t of m.values()) out.push(`T\t${t.parent}\t${t.name}\t${t.queueId}\t${t.count}\t${t.firstOffset}\t${t.lastOffset}\t${t.lastStoreTime}`);
    }
    for (const [g, m] of this.progress) {
      for (const [k, p] of m) out.push(`O\t${g}\t${k.replace('\u0001', '\t')}\t${p.nextQ}\t${p.nextIdx}`);
    }
    for (const [k, v] of this.indexed) out.push(`I\t${k.replace('\u0001', '\t')}\t${v}`);
    out.push('');
    return out.join('\n');
  }

  async save(path: string): Promise<void> {
    this.dirty = false;
    await atomicWriteFile(path, this.serialize());
  }

  /** Loads what a previous save wrote; a missing file is an empty table. Bad lines are skipped and counted. */
  load(path: string): { lines: number; bad: number } {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      return { lines: 0, bad: 0 };
    }
    let lines = 0;
    let bad = 0;
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      lines++;
      const f = line.split('\t');
      const n = (i: number): number => Number(f[i]);
      if (f[0] === 'T' && f.length === 8) {
        let m = this.parents.get(f[1]);
        if (!m) this.parents.set(f[1], (m = new Map()));
        // Offsets already stored are found by scanning; the tail tracks what comes next.
        m.set(f[2], { parent: f[1], name: f[2], queueId: n(3), count: n(4), firstOffset: n(5), lastOffset: n(6), lastStoreTime: n(7), tail: [], tailFrom: n(6) + 1 });
      } else if (f[0] === 'O' && f.length === 6) {
        this.setProgress(f[1], liteKey(f[2], f[3]), { nextQ: n(4), nextIdx: n(5) });
      } else if (f[0] === 'I' && f.length === 4) {
        this.indexed.set(`${f[1]}\u0001${f[2]}`, n(3));
      } else {
        bad++;
      }
    }
    // Loaded order is saved order, which was store-time order; re-sort in case clocks moved.
    for (const [p, m] of this.parents) this.parents.set(p, new Map([...m].sort((a, b) => a[1].lastStoreTime - b[1].lastStoreTime)));
    this.dirty = false;
    return { lines, bad };
  }
}
