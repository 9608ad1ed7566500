// ProcessQueue: the messages of one queue pulled but not yet consumed. Offsets arrive in
// increasing order and finish in any order; the committable offset is the smallest one still
// in flight (or one past the largest seen when none is), as Java's ProcessQueue.removeMessage.
// An orderly queue instead keeps the messages themselves and hands them out strictly in offset
// order, one batch at a time (Java's msgTreeMap + consumingMsgOrderlyTreeMap).
import type { MessageExt } from './message.js';

const COMPACT_AT = 1024;

/** Java rocketmq.client.rebalance.lockMaxLiveTime: the client's own view of a lock's life (30 s). */
export const REBALANCE_LOCK_MAX_LIVE_TIME_MS = 30_000;

export class ProcessQueue {
  dropped = false;
  /** Orderly: the broker granted this client the queue's lock (LOCK_BATCH_MQ) and it was not lost since. */
  locked = false;
  /** Orderly: when the lock was last granted or renewed. */
  lastLockTimestamp = Date.now();
  lastPullTimestamp = Date.now();
  /** Orderly: a consume request is scheduled or running for this queue (Java's `consuming`). */
  consuming = false;
  /** Orderly: the batch handed to the handler and not yet committed or put back (settles when it is). */
  inFlight: Promise<void> | undefined;
  /** Orderly: messages pulled and waiting, in offset order, from orderlyHead on. */
  private orderlyMsgs: MessageExt[] = [];
  private orderlyHead = 0;
  /** Orderly: the batch taken by takeMessages, until commit() or makeMessageToConsumeAgain(). */
  private consumingBatch: MessageExt[] = [];
  private offsets: number[] = [];
  private done: boolean[] = [];
  private head = 0;
  private count = 0;
  private queueOffsetMax = -1;
  private spaceWaiter: (() => void) | undefined;
  private spaceThreshold = 0;

  /** `orderly` keeps the messages for takeMessages() instead of tracking offsets only. */
  constructor(readonly orderly = false) {}

  get msgCount(): number {
    return this.count;
  }

  /** Adds pulled messages; for an orderly queue, true when a consume request should be dispatched. */
  putMessages(msgs: readonly MessageExt[]): boolean {
    for (const m of msgs) {
      if (m.queueOffset <= this.queueOffsetMax) continue;
      if (this.orderly) this.orderlyMsgs.push(m);
      else {
        this.offsets.push(m.queueOffset);
        this.done.push(false);
      }
      this.queueOffsetMax = m.queueOffset;
      this.count++;
    }
    if (!this.orderly || this.consuming || this.orderlyHead >= this.orderlyMsgs.length) return false;
    this.consuming = true;
    return true;
  }

  /** Orderly: the next batch in offset order; empty (and `consuming` cleared) when nothing waits. */
  takeMessages(batchSize: number): MessageExt[] {
    const end = Math.min(this.orderlyMsgs.length, this.orderlyHead + batchSize);
    const out = this.orderlyMsgs.slice(this.orderlyHead, end);
    this.orderlyHead = end;
    if (this.orderlyHead >= COMPACT_AT && this.orderlyHead * 2 >= this.orderlyMsgs.length) {
      this.orderlyMsgs = this.orderlyMsgs.slice(this.orderlyHead);
      this.orderlyHead = 0;
    }
    for (const m of out) this.consumingBatch.push(m);
    if (out.length === 0) this.consuming = false;
    return out;
  }

  /** Orderly: the taken batch is done; returns the offset to commit (one past it), or -1 when none was taken. */
  commit(): number {
    const batch = this.consumingBatch;
    if (batch.length === 0) return -1;
    this.consumingBatch = [];
    this.count -= batch.length;
    if (this.spaceWaiter && this.count < this.spaceThreshold) this.wake();
    return batch[batch.length - 1].queueOffset + 1;
  }

  /** Orderly: puts taken messages back in front, so the next takeMessages() returns them again. */
  makeMessageToConsumeAgain(msgs: readonly MessageExt[]): void {
    const back = new Set(msgs);
    this.consumingBatch = this.consumingBatch.filter((m) => !back.has(m));
    const again = [...msgs].sort((a, b) => a.queueOffset - b.queueOffset);
    if (this.orderlyHead >= again.length) {
      this.orderlyHead -= again.length;
      for (let i = 0; i < again.length; i++) this.orderlyMsgs[this.orderlyHead + i] = again[i];
    } else {
      this.orderlyMsgs = [...again, ...this.orderlyMsgs.slice(this.orderlyHead)];
      this.orderlyHead = 0;
    }
  }

  /** Orderly: the client no longer trusts its lock (not renewed for lockMaxLiveTime). */
  isLockExpired(maxLiveMs = REBALANCE_LOCK_MAX_LIVE_TIME_MS, now = Date.now()): boolean {
    return now - this.lastLockTimestamp > maxLiveMs;
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
