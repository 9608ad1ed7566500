// ProcessQueue: the messages of one queue pulled but not yet consumed. Offsets arrive in
// increasing order and finish in any order; the committable offset is the smallest one still
// in flight (or one past the largest seen when none is), as Java's ProcessQueue.removeMessage.
import type { MessageExt } from './message.js';

const COMPACT_AT = 1024;

export class ProcessQueue {
  dropped = false;
  /** Kept for orderly consumption (LOCK_BATCH_MQ) later. */
  locked = false;
  lastPullTimestamp = Date.now();
  private offsets: number[] = [];
  private done: boolean[] = [];
  private head = 0;
  private count = 0;
  private queueOffsetMax = -1;
  private spaceWaiter: (() => void) | undefined;
  private spaceThreshold = 0;

  get msgCount(): number {
    return this.count;
  }

  putMessages(msgs: readonly MessageExt[]): void {
    for (const m of msgs) {
      if (m.queueOffset <= this.queueOffsetMax) continue;
      this.offsets.push(m.queueOffset);
      this.done.push(false);
      this.queueOffsetMax = m.queueOffset;
      this.count++;
    }
  }

  /** Marks msgs consumed; returns the offset to commit, or -1 when nothing was in flight. */
  removeMessages(msgs: readonly MessageExt[]): number {
    if (this.count === 0) return -1;
    for (const m of msgs) {
      const i = this.indexOf(m.queueOffset);
      if (i >= 0 && !this.done[i]) {
        this.done[i] = true;
        this.count--;
      }
    }
    while (this.head < this.offsets.length && this.done[this.head]) this.head++;
    if (this.head >= COMPACT_AT && this.head * 2 >= this.offsets.length) {
      this.offsets = this.offsets.slice(this.head);
      this.done = this.done.slice(this.head);
      this.head = 0;
    }
    if (this.spaceWaiter && this.count < this.spaceThreshold) this.wake();
    return this.head < this.offsets.length ? this.offsets[this.head] : this.queueOffsetMax + 1;
  }

  private indexOf(offset: number): number {
    let lo = this.head;
    let hi = this.offsets.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = this.offsets[mid];
      if (v === offset) return mid;
      if (v < offset) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Resolves once fewer than threshold messages are in flight, or the queue is dropped (flow control). */
  waitForSpace(threshold: number): Promise<void> {
    if (this.count < threshold || this.dropped) return Promise.resolve();
    this.spaceThreshold = threshold;
    return new Promise((resolve) => {
      this.spaceWaiter = resolve;
    });
  }

  drop(): void {
    this.dropped = true;
    this.wake();
  }

  private wake(): void {
    const w = this.spaceWaiter;
    this.spaceWaiter = undefined;
    w?.();
  }
}
