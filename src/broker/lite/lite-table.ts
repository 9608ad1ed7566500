// The compact state of every lite topic. A million lite topics must not mean a million objects,
// so a lite topic is a slot: its numbers sit in typed arrays indexed by slot, its name in one
// array of strings shared with the parent's Map<name, slot> (the only per-lite-topic object is
// the name string itself). A parent threads its slots in a list kept in store-time order (a
// store moves the slot to the end), so expiry looks at the oldest only. Recent stores are also
// kept in one fixed ring (queue offset, commit-log offset, previous store of the same lite topic),
// so a consumer that keeps up finds a lite topic's next messages and their records without
// scanning the parent queue. Persistence is lite-journal.ts's; this module only tracks what changed.

/** A lite topic's numbers at the time of the call (a copy: later stores do not change it). */
export interface LiteTopic {
  readonly parent: string;
  readonly name: string;
  readonly slot: number;
  readonly queueId: number;
  /** Messages stored since it was created (its own offsets run 0..count-1). */
  readonly count: number;
  /** Parent-queue offset of its first message (earlier ones belong to an expired namesake). */
  readonly firstOffset: number;
  /** Parent-queue offset of its newest message. */
  readonly lastOffset: number;
  readonly lastStoreTime: number;
}

/** Where a group stands in a lite topic: every message before parent-queue offset nextQ is done, nextIdx of them. */
export interface LiteProgress {
  nextQ: number;
  nextIdx: number;
}

export function liteKey(parent: string, name: string): string {
  return `${parent}\u0001${name}`;
}

/** Recent stores remembered (36 bytes each, 18 MiB); a consumer further behind scans the parent queue by tag hash. */
const RING_SIZE = 1 << 19;
const RING_MASK = RING_SIZE - 1;
/** Longest walk back through a lite topic's recent stores before scanning instead. */
const MAX_WALK = 4096;

interface ParentList {
  readonly name: string;
  readonly id: number;
  readonly slots: Map<string, number>;
  /** Keys of `indexed` by queue id, made once. */
  readonly markKeys: string[];
  /** Oldest and newest slot by last store time; -1 when empty. */
  head: number;
  tail: number;
}

export class LiteTable {
  private cap = 0;
  private used = 0;
  private readonly free: number[] = [];
  private names: (string | undefined)[] = [];
  private parentId = new Uint16Array(0);
  private queueId = new Int32Array(0);
  private count = new Float64Array(0);
  private first = new Float64Array(0);
  private last = new Float64Array(0);
  private time = new Float64Array(0);
  /** Ring sequence of the slot's newest store; -1 when it has none in the ring. */
  private lastSeq = new Float64Array(0);
  /** Every message of the slot at or after this queue offset is chained in the ring (while the ring still holds it). */
  private chainFrom = new Float64Array(0);
  private prev = new Int32Array(0);
  private next = new Int32Array(0);
  private readonly parents = new Map<string, ParentList>();
  private readonly parentById: ParentList[] = [];

  private readonly ringSeq = new Float64Array(RING_SIZE).fill(-1);
  private readonly ringPrev = new Float64Array(RING_SIZE);
  private readonly ringQ = new Float64Array(RING_SIZE);
  private readonly ringPhy = new Float64Array(RING_SIZE);
  private seq = 0;

  /** group → liteKey → progress (only groups that consumed). */
  readonly progress = new Map<string, Map<string, LiteProgress>>();
  /** `${parent}\u0001${queueId}` → next parent-queue offset not yet indexed. */
  readonly indexed = new Map<string, number>();

  // What changed since the journal last took it (see takeChanges).
  /**
   * Slots stored to since the last take, in first-store order (as a Set would keep them, without
   * hashing on every lite send): the list, and per slot its position in it + 1 (0: not listed).
   * A deleted slot's entry becomes -1.
   */
  private dirtyPos = new Int32Array(0);
  private dirtyList: number[] = [];
  private deleted: [string, string][] = [];
  private dirtyProgress = new Set<string>();
  private dirtyIndexed = new Set<string>();

  get dirty(): boolean {
    return this.dirtyList.length > 0 || this.deleted.length > 0 || this.dirtyProgress.size > 0 || this.dirtyIndexed.size > 0;
  }

  get total(): number {
    return this.used;
  }

  countOf(parent: string): number {
    return this.parents.get(parent)?.slots.size ?? 0;
  }

  has(parent: string, name: string): boolean {
    return this.parents.get(parent)?.slots.has(name) ?? false;
  }

  /** The lite topic's slot, or -1: a hint for recordStored, valid until the next deletion. */
  slotOf(parent: string, name: string): number {
    return this.parents.get(parent)?.slots.get(name) ?? -1;
  }

  /** The slot the last recordStored stored to (its lite topic's, created or not). */
  lastSlot = -1;

  get(parent: string, name: string): LiteTopic | undefined {
    const s = this.parents.get(parent)?.slots.get(name);
    return s === undefined ? undefined : this.view(s);
  }

  private view(s: number): LiteTopic {
    return {
      parent: this.parentById[this.parentId[s]].name,
      name: this.names[s]!,
      slot: s,
      queueId: this.queueId[s],
      count: this.count[s],
      firstOffset: this.first[s],
      lastOffset: this.last[s],
      lastStoreTime: this.time[s],
    };
  }

  private parentList(parent: string): ParentList {
    let p = this.parents.get(parent);
    if (!p) {
      if (this.parentById.length >= 0xffff) throw new Error('more than 65535 LITE parent topics');
      p = { name: parent, id: this.parentById.length, slots: new Map(), markKeys: [], head: -1, tail: -1 };
      this.parents.set(parent, p);
      this.parentById.push(p);
    }
    return p;
  }

  private grow(): void {
    const cap = Math.max(1024, this.cap * 2);
    const g = <T extends Float64Array | Int32Array | Uint16Array>(a: T, make: (n: number) => T): T => {
      const b = make(cap);
      b.set(a);
      return b;
    };
    this.parentId = g(this.parentId, (n) => new Uint16Array(n));
    this.queueId = g(this.queueId, (n) => new Int32Array(n));
    this.count = g(this.count, (n) => new Float64Array(n));
    this.first = g(this.first, (n) => new Float64Array(n));
    this.last = g(this.last, (n) => new Float64Array(n));
    this.time = g(this.time, (n) => new Float64Array(n));
    this.lastSeq = g(this.lastSeq, (n) => new Float64Array(n));
    this.chainFrom = g(this.chainFrom, (n) => new Float64Array(n));
    this.prev = g(this.prev, (n) => new Int32Array(n));
    this.next = g(this.next, (n) => new Int32Array(n));
    this.dirtyPos = g(this.dirtyPos, (n) => new Int32Array(n));
    this.cap = cap;
  }

  private unlink(p: ParentList, s: number): void {
    const a = this.prev[s];
    const b = this.next[s];
    if (a >= 0) this.next[a] = b;
    else p.head = b;
    if (b >= 0) this.prev[b] = a;
    else p.tail = a;
  }

  private append(p: ParentList, s: number): void {
    this.prev[s] = p.tail;
    this.next[s] = -1;
    if (p.tail >= 0) this.next[p.tail] = s;
    else p.head = s;
    p.tail = s;
  }

  private create(p: ParentList, name: string, queueId: number, queueOffset: number): number {
    let s = this.free.pop();
    if (s === undefined) {
      if (this.names.length >= this.cap) this.grow();
      s = this.names.length;
      this.names.push(name);
    } else {
      this.names[s] = name;
    }
    this.parentId[s] = p.id;
    this.queueId[s] = queueId;
    this.count[s] = 0;
    this.first[s] = queueOffset;
    this.last[s] = queueOffset - 1;
    this.time[s] = 0;
    this.lastSeq[s] = -1;
    this.chainFrom[s] = queueOffset;
    p.slots.set(name, s);
    this.append(p, s);
    this.used++;
    return s;
  }

  /**
   * Records a stored lite message; returns whether it created the lite topic. A message at or
   * before the lite topic's newest offset was counted already (recovery re-reads from a mark).
   * phy, the record's commit-log offset, puts it in the recent ring. hint, the slot slotOf gave
   * before the store, spares a second lookup when it still holds this lite topic.
   */
  recordStored(parent: string, name: string, queueId: number, queueOffset: number, storeTime: number, phy?: number, hint = -1): boolean {
    const p = this.parentList(parent);
    const ik = (p.markKeys[queueId] ??= `${parent}\u0001${queueId}`);
    if ((this.indexed.get(ik) ?? 0) <= queueOffset) {
      this.indexed.set(ik, queueOffset + 1);
      this.dirtyIndexed.add(ik);
    }
    let s = hint >= 0 && this.parentId[hint] === p.id && this.names[hint] === name ? hint : p.slots.get(name);
    let created = false;
    if (s !== undefined && this.queueId[s] !== queueId) {
      // The parent's queue count changed: the name now hashes elsewhere, a new lite topic.
      this.removeSlot(p, s);
      s = undefined;
    }
    if (s === undefined) {
      s = this.create(p, name, queueId, queueOffset);
      created = true;
    } else if (queueOffset <= this.last[s]) {
      this.lastSlot = s;
      return false;
    }
    this.lastSlot = s;
    this.count[s]++;
    this.last[s] = queueOffset;
    if (storeTime > this.time[s]) this.time[s] = storeTime;
    if (phy !== undefined) {
      const e = this.seq++;
      const k = e & RING_MASK;
      this.ringSeq[k] = e;
      this.ringPrev[k] = this.lastSeq[s];
      this.ringQ[k] = queueOffset;
      this.ringPhy[k] = phy;
      this.lastSeq[s] = e;
    } else {
      this.chainFrom[s] = queueOffset + 1;
      this.lastSeq[s] = -1;
    }
    if (p.tail !== s) {
      this.unlink(p, s);
      this.append(p, s);
    }
    if (this.dirtyPos[s] === 0) this.dirtyPos[s] = this.dirtyList.push(s);
    return created;
  }

  /**
   * The lite topic's first max messages at or after queue offset from, as [queue offset,
   * commit-log offset] pairs in order, when the ring still holds all of them; undefined when it
   * does not (the caller scans the queue instead).
   */
  recent(t: LiteTopic, from: number, max: number): { q: number[]; phy: number[] } | undefined {
    const s = t.slot;
    if (this.names[s] !== t.name || from < this.chainFrom[s]) return undefined;
    const ks: number[] = [];
    let e = this.lastSeq[s];
    while (e >= 0) {
      const k = e & RING_MASK;
      if (this.ringSeq[k] !== e || ks.length >= MAX_WALK) return undefined;
      if (this.ringQ[k] < from) break;
      ks.push(k);
      e = this.ringPrev[k];
    }
    const q: number[] = [];
    const phy: number[] = [];
    for (let i = ks.length - 1; i >= 0 && q.length < max; i--) {
      q.push(this.ringQ[ks[i]]);
      phy.push(this.ringPhy[ks[i]]);
    }
    return { q, phy };
  }

  remove(t: LiteTopic): void {
    const p = this.parents.get(t.parent);
    if (!p || p.slots.get(t.name) !== t.slot) return;
    this.removeSlot(p, t.slot);
  }

  private removeSlot(p: ParentList, s: number): void {
    const name = this.names[s]!;
    p.slots.delete(name);
    this.unlink(p, s);
    this.names[s] = undefined;
    this.free.push(s);
    this.used--;
    if (this.dirtyPos[s] > 0) this.dirtyList[this.dirtyPos[s] - 1] = -1;
    this.dirtyPos[s] = 0;
    this.deleted.push([p.name, name]);
    const k = liteKey(p.name, name);
    for (const g of this.progress.values()) g.delete(k);
  }

  /** The topics of parent idle since before cutoff, oldest first (stops at the first one that is not). */
  *idleSince(parent: string, cutoff: number): Generator<LiteTopic> {
    const p = this.parents.get(parent);
    if (!p) return;
    for (let s = p.head; s >= 0 && this.time[s] < cutoff; s = this.next[s]) yield this.view(s);
  }

  parentNames(): string[] {
    return [...this.parents.keys()];
  }

  *topicsOf(parent: string): Generator<LiteTopic> {
    const p = this.parents.get(parent);
    if (!p) return;
    for (const s of p.slots.values()) yield this.view(s);
  }

  getProgress(group: string, key: string): LiteProgress | undefined {
    return this.progress.get(group)?.get(key);
  }

  setProgress(group: string, key: string, p: LiteProgress): void {
    let m = this.progress.get(group);
    if (!m) this.progress.set(group, (m = new Map()));
    m.set(key, p);
    this.dirtyProgress.add(`${group}\u0001${key}`);
  }

  // ---- persistence (lines of lite-journal.ts) ----

  private topicLine(s: number): string {
    return `T\t${this.parentById[this.parentId[s]].name}\t${this.names[s]}\t${this.queueId[s]}\t${this.count[s]}\t${this.first[s]}\t${this.last[s]}\t${this.time[s]}`;
  }

  /** Every entry as lines (T topic, O group progress, I indexed-through), oldest topic first. */
  *lines(): Generator<string> {
    for (const p of this.parentById) for (let s = p.head; s >= 0; s = this.next[s]) yield this.topicLine(s);
    for (const [g, m] of this.progress) for (const [k, p] of m) yield `O\t${g}\t${k.replace('\u0001', '\t')}\t${p.nextQ}\t${p.nextIdx}`;
    for (const [k, v] of this.indexed) yield `I\t${k.replace('\u0001', '\t')}\t${v}`;
  }

  /** The lines that bring a saved state up to this one (D deletes a lite topic and its progress), and forgets them. */
  /**
   * withTopics false leaves the T and I lines (stores and indexed-through marks) for a later take,
   * unless a deletion is pending: a D line must never be written while the marks lag behind it, or
   * recovery would re-index the deleted lite topic's older messages from the lagging mark.
   */
  takeChanges(withTopics = true): string[] {
    const topics = withTopics || this.deleted.length > 0;
    const out: string[] = [];
    for (const [p, n] of this.deleted) out.push(`D\t${p}\t${n}`);
    if (topics) for (const s of this.dirtyList) if (s >= 0 && this.names[s] !== undefined) out.push(this.topicLine(s));
    for (const gk of this.dirtyProgress) {
      const [g, parent, name] = gk.split('\u0001');
      const p = this.getProgress(g, liteKey(parent, name));
      if (p) out.push(`O\t${g}\t${parent}\t${name}\t${p.nextQ}\t${p.nextIdx}`);
    }
    if (topics) for (const k of this.dirtyIndexed) out.push(`I\t${k.replace('\u0001', '\t')}\t${this.indexed.get(k)}`);
    if (topics) {
      this.forgetChanges();
    } else {
      this.dirtyProgress = new Set();
    }
    return out;
  }

  forgetChanges(): void {
    this.deleted = [];
    for (const s of this.dirtyList) if (s >= 0) this.dirtyPos[s] = 0;
    this.dirtyList = [];
    this.dirtyProgress = new Set();
    this.dirtyIndexed = new Set();
  }

  /** Applies one saved line; false when it is not one (torn or foreign). A T line moves its lite topic to the newest end (lines come in store order). */
  applyLine(line: string): boolean {
    const f = line.split('\t');
    switch (f[0]) {
      case 'T': {
        if (f.length !== 8) return false;
        const queueId = Number(f[3]);
        const count = Number(f[4]);
        const first = Number(f[5]);
        const last = Number(f[6]);
        const time = Number(f[7]);
        if (!Number.isFinite(queueId + count + first + last + time)) return false;
        const p = this.parentList(f[1]);
        let s = p.slots.get(f[2]);
        if (s === undefined) s = this.create(p, f[2], queueId, first);
        else if (p.tail !== s) {
          this.unlink(p, s);
          this.append(p, s);
        }
        this.queueId[s] = queueId;
        this.count[s] = count;
        this.first[s] = first;
        this.last[s] = last;
        this.time[s] = time;
        // Offsets already stored are found by scanning; the ring chains what comes next.
        this.chainFrom[s] = last + 1;
        this.lastSeq[s] = -1;
        return true;
      }
      case 'D': {
        if (f.length !== 3) return false;
        const p = this.parents.get(f[1]);
        const s = p?.slots.get(f[2]);
        if (p && s !== undefined) this.removeSlot(p, s);
        return true;
      }
      case 'O': {
        const nextQ = Number(f[4]);
        const nextIdx = Number(f[5]);
        if (f.length !== 6 || !Number.isFinite(nextQ + nextIdx)) return false;
        this.setProgress(f[1], liteKey(f[2], f[3]), { nextQ, nextIdx });
        return true;
      }
      case 'I': {
        const v = Number(f[3]);
        if (f.length !== 4 || !Number.isFinite(v)) return false;
        this.indexed.set(`${f[1]}\u0001${f[2]}`, v);
        return true;
      }
      default:
        return false;
    }
  }

  /** After loading: each parent's list in store-time order (lines came in save order; clocks may have moved). */
  finishLoad(): void {
    for (const p of this.parentById) {
      let ordered = true;
      for (let s = p.head; s >= 0 && ordered; s = this.next[s]) ordered = this.next[s] < 0 || this.time[s] <= this.time[this.next[s]];
      if (ordered) continue;
      const slots = [...p.slots.values()].sort((a, b) => this.time[a] - this.time[b]);
      p.head = p.tail = -1;
      for (const s of slots) this.append(p, s);
    }
    this.forgetChanges();
  }
}
