// Queue locks for orderly consumption (LOCK_BATCH_MQ / UNLOCK_BATCH_MQ): per group and queue,
// one client at a time; a lock lapses 60 s after its last lock or renewal.
export interface MessageQueueRef {
  topic: string;
  brokerName: string;
  queueId: number;
}

interface LockEntry {
  clientId: string;
  lastUpdate: number;
}

export class RebalanceLockManager {
  private readonly table = new Map<string, Map<string, LockEntry>>();

  constructor(
    private readonly lockMaxLiveTime = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Locks what it can for the client; returns the queues the client holds afterwards. */
  tryLockBatch(group: string, mqs: MessageQueueRef[], clientId: string): MessageQueueRef[] {
    let g = this.table.get(group);
    if (!g) {
      g = new Map();
      this.table.set(group, g);
    }
    const now = this.now();
    const locked: MessageQueueRef[] = [];
    for (const mq of mqs) {
      const key = keyOf(mq);
      const e = g.get(key);
      if (!e || e.clientId === clientId || now - e.lastUpdate > this.lockMaxLiveTime) {
        g.set(key, { clientId, lastUpdate: now });
        locked.push(mq);
      }
    }
    return locked;
  }

  unlockBatch(group: string, mqs: MessageQueueRef[], clientId: string): void {
    const g = this.table.get(group);
    if (!g) return;
    for (const mq of mqs) {
      const key = keyOf(mq);
      if (g.get(key)?.clientId === clientId) g.delete(key);
    }
    if (g.size === 0) this.table.delete(group);
  }

  isLockedBy(group: string, mq: MessageQueueRef, clientId: string): boolean {
    const e = this.table.get(group)?.get(keyOf(mq));
    return !!e && e.clientId === clientId && this.now() - e.lastUpdate <= this.lockMaxLiveTime;
  }

  /** True when any queue of the group has an unexpired lock (orderly consumers are present). */
  hasLiveLock(group: string): boolean {
    const g = this.table.get(group);
    if (!g) return false;
    const now = this.now();
    for (const e of g.values()) if (now - e.lastUpdate <= this.lockMaxLiveTime) return true;
    return false;
  }
}

function keyOf(mq: MessageQueueRef): string {
  return `${mq.topic}\u0001${mq.brokerName}\u0001${mq.queueId}`;
}
