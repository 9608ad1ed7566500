// Consumer offsets: RemoteBrokerOffsetStore (clustering; the broker keeps them) and
// LocalOffsetStore (broadcasting; kept in this process's memory only, so a restarted
// broadcasting consumer starts again from consumeFromWhere).
import { mqKey, type MessageQueue } from './message.js';
import type { MQClientInstance } from './mq-client-instance.js';

export interface OffsetStore {
  /** Memory value, or -1 when there is none. */
  readMemory(mq: MessageQueue): number;
  /** The persisted value: -1 when none exists, throws on other errors. */
  readFromStore(mq: MessageQueue): Promise<number>;
  updateOffset(mq: MessageQueue, offset: number, increaseOnly: boolean): void;
  persist(mq: MessageQueue): Promise<void>;
  persistAll(mqs: readonly MessageQueue[]): Promise<void>;
  removeOffset(mq: MessageQueue): void;
}

interface Entry {
  mq: MessageQueue;
  offset: number;
}

// A consumer passes the same queue objects on every pull and commit: their key is made once.
const keys = new WeakMap<MessageQueue, string>();

function keyOf(mq: MessageQueue): string {
  let k = keys.get(mq);
  if (k === undefined) {
    k = mqKey(mq);
    keys.set(mq, k);
  }
  return k;
}

abstract class MemoryOffsets {
  protected readonly table = new Map<string, Entry>();

  readMemory(mq: MessageQueue): number {
    return this.table.get(keyOf(mq))?.offset ?? -1;
  }

  updateOffset(mq: MessageQueue, offset: number, increaseOnly: boolean): void {
    const key = keyOf(mq);
    const e = this.table.get(key);
    if (!e) this.table.set(key, { mq, offset });
    else if (!increaseOnly || offset > e.offset) e.offset = offset;
  }

  removeOffset(mq: MessageQueue): void {
    this.table.delete(keyOf(mq));
  }
}

export class RemoteBrokerOffsetStore extends MemoryOffsets implements OffsetStore {
  constructor(
    private readonly instance: MQClientInstance,
    private readonly group: string,
  ) {
    super();
  }

  private addrOf(mq: MessageQueue): string {
    const addr = this.instance.findBrokerAddressInSubscribe(mq.brokerName);
    if (!addr) throw new Error(`the broker[${mq.brokerName}] is not known (no route yet)`);
    return addr;
  }

  async readFromStore(mq: MessageQueue): Promise<number> {
    const off = await this.instance.api.queryConsumerOffset(this.addrOf(mq), this.group, mq);
    if (off >= 0) this.updateOffset(mq, off, false);
    return off;
  }

  async persist(mq: MessageQueue): Promise<void> {
    const e = this.table.get(keyOf(mq));
    if (e && e.offset >= 0) await this.instance.api.updateConsumerOffset(this.addrOf(mq), this.group, mq, e.offset, false);
  }

  /** Sends the offsets of the given (assigned) queues; failures are logged, not thrown. */
  async persistAll(mqs: readonly MessageQueue[]): Promise<void> {
    await Promise.all(
      mqs.map((mq) => this.persist(mq).catch((err: unknown) => this.instance.logger.warn({ err, mq }, 'persist consumer offset failed'))),
    );
  }
}

export class LocalOffsetStore extends MemoryOffsets implements OffsetStore {
  readFromStore(mq: MessageQueue): Promise<number> {
    return Promise.resolve(this.readMemory(mq));
  }

  persist(): Promise<void> {
    return Promise.resolve();
  }

  persistAll(): Promise<void> {
    return Promise.resolve();
  }
}
