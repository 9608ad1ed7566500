// A binary min-heap of timers that are loaded from the wheel and waiting to be handed
// out, ordered by deliver time then by origin position (= the order they were added).
// It holds one wheel slot's timers plus past-due arrivals, never the whole store.

/** A timer handed out by pollDue(). */
export interface DueTimer {
  readonly deliverAtMs: number;
  readonly commitLogOffset: number;
  readonly size: number;
  readonly key: string;
}

export interface ReadyTimer extends DueTimer {
  /** Position of the timer's first append: its identity across rolls and restarts. */
  readonly originPos: number;
}

function before(a: ReadyTimer, b: ReadyTimer): boolean {
  return a.deliverAtMs < b.deliverAtMs || (a.deliverAtMs === b.deliverAtMs && a.originPos < b.originPos);
}

export class ReadyHeap {
  private readonly items: ReadyTimer[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): ReadyTimer | undefined {
    return this.items[0];
  }

  push(t: ReadyTimer): void {
    const a = this.items;
    let i = a.push(t) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(t, a[parent])) break;
      a[i] = a[parent];
      i = parent;
    }
    a[i] = t;
  }

  pop(): ReadyTimer | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) this.siftDown(0, last);
    return top;
  }

  /** Removes every timer matching pred (linear: used by cancel only) and returns them. */
  removeWhere(pred: (t: ReadyTimer) => boolean): ReadyTimer[] {
    const removed: ReadyTimer[] = [];
    const kept: ReadyTimer[] = [];
    for (const t of this.items) (pred(t) ? removed : kept).push(t);
    if (removed.length === 0) return removed;
    this.items.length = 0;
    for (const t of kept) this.push(t);
    return removed;
  }

  /** Rough bytes held: object, array slot and key characters. */
  approxBytes(): number {
    let n = 0;
    for (const t of this.items) n += 80 + t.key.length * 2;
    return n;
  }

  private siftDown(start: number, t: ReadyTimer): void {
    const a = this.items;
    const n = a.length;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && before(a[child + 1], a[child])) child++;
      if (!before(a[child], t)) break;
      a[i] = a[child];
      i = child;
    }
    a[i] = t;
  }
}
