import { join } from 'node:path';
import type { Logger } from '../common/logger.js';
import { ConfigPersister } from './config-persister.js';
import { validateGroupName } from './topic-config.js';
import { DataVersion } from '../remoting/protocol/data-version.js';
import { newSubscriptionGroupConfig, type SubscriptionGroupConfig } from '../remoting/protocol/subscription-group.js';
import { replaceTable } from './replace-table.js';

export { newSubscriptionGroupConfig, type SubscriptionGroupConfig };

/** Consumer groups' settings, persisted in config/subscriptionGroup.json. */
export class SubscriptionGroupManager {
  private readonly table = new Map<string, SubscriptionGroupConfig>();
  readonly dataVersion = new DataVersion();
  private readonly persister: ConfigPersister;

  constructor(
    configDir: string,
    private readonly autoCreate: boolean,
    logger: Logger,
  ) {
    this.persister = new ConfigPersister(join(configDir, 'subscriptionGroup.json'), () => this.encode(), logger);
  }

  load(): void {
    const data = this.persister.load() as { subscriptionGroupTable?: Record<string, SubscriptionGroupConfig> } | undefined;
    for (const [name, g] of Object.entries(data?.subscriptionGroupTable ?? {})) {
      this.table.set(name, { ...newSubscriptionGroupConfig(name), ...g });
    }
  }

  /** A slave takes the master's group table as it is. Returns whether anything changed. */
  replaceFromMaster(master: Record<string, SubscriptionGroupConfig>): boolean {
    const changed = replaceTable(this.table, master, (name, g) => ({ ...newSubscriptionGroupConfig(name), ...g }));
    if (changed) this.changed();
    return changed;
  }

  /**
   * The group's config; auto-created when enabled (else undefined). A name outside RocketMQ's group
   * characters is never auto-created, as in Java: it would name retry and DLQ topics, hence
   * directories (issue 10: "a/../../x" wrote outside the store, a NUL stopped all writes).
   */
  findSubscriptionGroupConfig(group: string): SubscriptionGroupConfig | undefined {
    let g = this.table.get(group);
    if (!g && this.autoCreate && validateGroupName(group) === undefined) {
      g = newSubscriptionGroupConfig(group);
      this.table.set(group, g);
      this.changed();
    }
    return g;
  }

  get(group: string): SubscriptionGroupConfig | undefined {
    return this.table.get(group);
  }

  get groups(): IterableIterator<SubscriptionGroupConfig> {
    return this.table.values();
  }

  updateSubscriptionGroupConfig(cfg: Partial<SubscriptionGroupConfig> & { groupName: string }): SubscriptionGroupConfig {
    const merged = { ...(this.table.get(cfg.groupName) ?? newSubscriptionGroupConfig(cfg.groupName)), ...cfg };
    this.table.set(cfg.groupName, merged);
    this.changed();
    return merged;
  }

  deleteSubscriptionGroupConfig(group: string): boolean {
    if (!this.table.delete(group)) return false;
    this.changed();
    return true;
  }

  private changed(): void {
    this.dataVersion.next();
    this.persister.schedule();
  }

  encode(): { subscriptionGroupTable: Record<string, SubscriptionGroupConfig>; dataVersion: unknown } {
    return { subscriptionGroupTable: Object.fromEntries(this.table), dataVersion: this.dataVersion.toJSON() };
  }

  flush(): Promise<void> {
    return this.persister.flush();
  }
}
