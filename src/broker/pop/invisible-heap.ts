// Min-heap of (deadline, ref) for in-flight messages; stale refs are skipped by the caller (lazy delete).
export interface Deadline<T> {
  at: number;
  ref: T;
}

export class DeadlineHeap<T> {
  private readonly a: Deadline<T>[] = [];

  get size(): number {
    return this.a.length;
  }

  push(at: number, ref: T): void {
    const a = this.a;
    a.push({ at, ref });
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p].at <= a[i].at) break;
      [a[p], a[i]] = [a[i], a[p]];
      i = p;
    }
  }

  /** Removes and returns the earliest entry if it is due at `now`. */
  popDue(now: number): Deadline<T> | undefined {
    const a = this.a;
    if (a.length === 0 || a[0].at > now) return undefined;
    const top = a[0];
    const last = a.pop() as Deadline<T>;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l].at < a[m].at) m = l;
        if (r < a.length && a[r].at < a[m].at) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i], a[m]];
        i = m;
      }
    }
    return top;
  }
}
