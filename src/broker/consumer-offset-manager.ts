import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { ConfigPersister } from './config-persister.js';

const SEP = '@';

/**
 * Committed consumer offsets, "topic@group" → queueId → offset, persisted in
 * config/consumerOffset.json periodically (the broker calls flush) and at shutdown.
 */
export class ConsumerOffsetManager {
  private readonly table = new Map<string, Map<number, number>>();
  private readonly persister: ConfigPersister;
  private dirty = false;

  constructor(configDir: string, logger: Logger) {
    this.persister = new ConfigPersister(join(configDir, 'consumerOffset.json'), () => this.encode(), logger);
  }

  load(): void {
    const data = this.persister.load() as { offsetTable?: Record<string, Record<string, number>> } | undefined;
    for (const [key, queues] of Object.entries(data?.offsetTable ?? {})) {
      const m = new Map<number, number>();
      for (const [q, off] of Object.entries(queues)) m.set(Number(q), Number(off));
      this.table.set(key, m);
    }
  }

  /** A slave takes the master's offsets (the master's word wins for every queue it knows). */
  replaceFromMaster(offsetTable: Record<string, Record<string, number>>): void {
    for (const [key, queues] of Object.entries(offsetTable)) {
      let m = this.table.get(key);
      if (!m) this.table.set(key, (m = new Map()));
      for (const [q, off] of Object.entries(queues)) {
        if (m.get(Number(q)) !== Number(off)) {
          m.set(Number(q), Number(off));
          this.dirty = true;
        }
      }
    }
  }

  /** Stores the offset as given (RocketMQ does not validate, negative values included). */
  commitOffset(group: string, topic: string, queueId: number, offset: number): void {
    const key = topic + SEP + group;
    let m = this.table.get(key);
    if (!m) {
      m = new Map();
      this.table.set(key, m);
    }
    m.set(queueId, offset);
    this.dirty = true;
  }

  /** The committed offset, or -1 when none. */
  queryOffset(group: string, topic: string, queueId: number): number {
    return this.table.get(topic + SEP + group)?.get(queueId) ?? -1;
  }

  queryOffsets(group: string, topic: string): ReadonlyMap<number, number> | undefined {
    return this.table.get(topic + SEP + group);
  }

  /** Groups with an offset on the topic. */
  whichGroupByTopic(topic: string): string[] {
    const out: string[] = [];
    for (const key of this.table.keys()) {
      const at = key.indexOf(SEP);
      if (key.slice(0, at) === topic) out.push(key.slice(at + 1));
    }
    return out;
  }

  /** Topics the group has offsets on. */
  whichTopicByGroup(group: string): string[] {
    const out: string[] = [];
    for (const key of this.table.keys()) {
      const at = key.lastIndexOf(SEP);
      if (key.slice(at + 1) === group) out.push(key.slice(0, at));
    }
    return out;
  }

  removeOffset(group: string, topic?: string): void {
    for (const key of [...this.table.keys()]) {
      const at = key.lastIndexOf(SEP);
      if (key.slice(at + 1) === group && (topic === undefined || key.slice(0, at) === topic)) this.table.delete(key);
    }
    this.dirty = true;
  }

  removeTopic(topic: string): void {
    for (const key of [...this.table.keys()]) if (key.startsWith(topic + SEP)) this.table.delete(key);
    this.dirty = true;
  }

  encode(): { offsetTable: Record<string, Record<string, number>> } {
    const offsetTable: Record<string, Record<string, number>> = {};
    for (const [key, m] of this.table) offsetTable[key] = Object.fromEntries(m);
    return { offsetTable };
  }

  /** Persists if anything changed since the last call. */
  async persistIfDirty(): Promise<void> {
    if (!this.dirty) return;
    this.dirty = false;
    await this.persister.flush();
  }

  flush(): Promise<void> {
    this.dirty = false;
    return this.persister.flush();
  }
}
