import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { TopicValidator } from '../common/message-const.js';
import { ConfigJournal } from './config-journal.js';
import { DataVersion } from '../remoting/protocol/data-version.js';
import { newTopicConfig, PermName, type TopicConfig } from './topic-config.js';
import { replaceTable } from './replace-table.js';

export interface TopicConfigManagerOptions {
  configDir: string;
  brokerName: string;
  clusterName: string;
  autoCreateTopicEnable: boolean;
  defaultTopicQueueNums: number;
  /** Queues of SCHEDULE_TOPIC_XXXX: one per delay level. */
  delayLevelCount: number;
  logger: Logger;
  /**
   * Called after any change, so the broker can re-register with the name servers: with the names
   * of the topics created or updated (none for a deletion), or 'all' when the whole table changed.
   */
  onChange?: (changed: readonly string[] | 'all') => void;
}

interface JournalEntry {
  put?: TopicConfig;
  delete?: string;
}

const RW = PermName.PERM_READ | PermName.PERM_WRITE;

/**
 * The broker's topic table, persisted in config/topics.json plus a journal of changes beside it
 * (config-journal.ts): a creation costs one appended line, not a rewrite of every topic.
 */
export class TopicConfigManager {
  private readonly table = new Map<string, TopicConfig>();
  readonly dataVersion = new DataVersion();
  private readonly journal: ConfigJournal;

  constructor(private readonly opts: TopicConfigManagerOptions) {
    this.journal = new ConfigJournal(join(opts.configDir, 'topics.json'), () => this.encode(), opts.logger);
  }

  load(): void {
    const { snapshot, entries } = this.journal.load();
    const data = snapshot as { topicConfigTable?: Record<string, TopicConfig>; dataVersion?: DataVersion } | undefined;
    if (data?.topicConfigTable) {
      for (const [name, tc] of Object.entries(data.topicConfigTable)) this.table.set(name, { ...newTopicConfig(name, 1), ...tc });
    }
    for (const e of entries as JournalEntry[]) {
      if (e.put?.topicName) this.table.set(e.put.topicName, { ...newTopicConfig(e.put.topicName, 1), ...e.put });
      else if (typeof e.delete === 'string') this.table.delete(e.delete);
    }
    // Each replayed change counted once, so a name server sees a newer version than before the restart.
    this.dataVersion.counter = (data?.dataVersion?.counter ?? 0) + entries.length;
    this.createSystemTopics();
  }

  /** Resolves once every change made so far is on file (it then survives a process kill). */
  written(): Promise<void> {
    return this.journal.written();
  }

  private createSystemTopics(): void {
    const o = this.opts;
    const sys = (name: string, queues: number, perm: number = RW): void => {
      if (!this.table.has(name)) this.table.set(name, newTopicConfig(name, queues, perm));
    };
    if (o.autoCreateTopicEnable) {
      sys(TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC, o.defaultTopicQueueNums, RW | PermName.PERM_INHERIT);
    }
    sys(TopicValidator.RMQ_SYS_SELF_TEST_TOPIC, 1);
    sys(o.clusterName, 16, RW | PermName.PERM_INHERIT);
    sys(o.brokerName, 1, RW | PermName.PERM_INHERIT);
    sys(TopicValidator.RMQ_SYS_OFFSET_MOVED_EVENT, 1);
    sys(TopicValidator.RMQ_SYS_SCHEDULE_TOPIC, o.delayLevelCount);
    sys(TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC, 1);
    sys(TopicValidator.RMQ_SYS_TRANS_OP_HALF_TOPIC, 1);
    sys(TopicValidator.RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC, 1);
    sys(TopicValidator.RMQ_SYS_WHEEL_TIMER, 1);
    sys(TopicValidator.RMQ_SYS_TRACE_TOPIC, 1);
  }

  selectTopicConfig(topic: string): TopicConfig | undefined {
    return this.table.get(topic);
  }

  get topics(): IterableIterator<TopicConfig> {
    return this.table.values();
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * Auto-creation on send (Java createTopicInSendMessageMethod): only when the default topic
   * exists and may be inherited; queue count = min(client's default, default topic's).
   */
  createTopicInSendMessageMethod(topic: string, defaultTopic: string, clientDefaultQueueNums: number, sysFlag: number): TopicConfig | undefined {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const def = this.table.get(defaultTopic);
    if (!def || !(def.perm & PermName.PERM_INHERIT)) return undefined;
    const queues = Math.max(1, Math.min(clientDefaultQueueNums > 0 ? clientDefaultQueueNums : def.writeQueueNums, def.writeQueueNums));
    const tc = newTopicConfig(topic, queues, def.perm & ~PermName.PERM_INHERIT);
    tc.topicSysFlag = sysFlag;
    return this.put(tc);
  }

  /** Creates internal topics (retry, DLQ, ...) when missing. */
  createTopicIfAbsent(topic: string, queueNums: number, perm: number = RW, sysFlag = 0): TopicConfig {
    const existing = this.table.get(topic);
    if (existing) return existing;
    const tc = newTopicConfig(topic, queueNums, perm);
    tc.topicSysFlag = sysFlag;
    return this.put(tc);
  }

  updateTopicConfig(tc: TopicConfig): TopicConfig {
    return this.put({ ...newTopicConfig(tc.topicName, 1), ...tc });
  }

  /**
   * A slave takes the master's topic table as it is (RocketMQ's SlaveSynchronize): every topic the
   * master has, none it lacks. Returns whether anything changed.
   */
  replaceFromMaster(master: Record<string, TopicConfig>): boolean {
    const changed = replaceTable(this.table, master, (name, tc) => ({ ...newTopicConfig(name, 1), ...tc }));
    if (changed) {
      this.dataVersion.next();
      this.journal.snapshot();
      this.opts.onChange?.('all');
    }
    return changed;
  }

  deleteTopicConfig(topic: string): boolean {
    if (!this.table.delete(topic)) return false;
    this.journal.record({ delete: topic });
    this.changed([]);
    return true;
  }

  private put(tc: TopicConfig): TopicConfig {
    this.table.set(tc.topicName, tc);
    this.journal.record({ put: tc });
    this.changed([tc.topicName]);
    return tc;
  }

  private changed(topics: readonly string[]): void {
    this.dataVersion.next();
    this.opts.onChange?.(topics);
  }

  /** A wrapper holding only these topics (those still present) at the current data version: an incremental registration. */
  encodeSome(topics: Iterable<string>): { topicConfigTable: Record<string, TopicConfig>; dataVersion: ReturnType<DataVersion['toJSON']> } {
    const table: Record<string, TopicConfig> = {};
    for (const name of topics) {
      const tc = this.table.get(name);
      if (tc) table[name] = tc;
    }
    return { topicConfigTable: table, dataVersion: this.dataVersion.toJSON() };
  }

  /** TopicConfigSerializeWrapper, as REGISTER_BROKER and GET_ALL_TOPIC_CONFIG carry it. */
  encode(): { topicConfigTable: Record<string, TopicConfig>; dataVersion: ReturnType<DataVersion['toJSON']> } {
    return { topicConfigTable: Object.fromEntries(this.table), dataVersion: this.dataVersion.toJSON() };
  }

  flush(): Promise<void> {
    return this.journal.flush();
  }
}
