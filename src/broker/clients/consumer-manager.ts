// Live consumers per group, from heartbeats: their channels, subscriptions and message model.
import type { Logger } from '../../common/logger.js';
import type { RemotingChannel } from '../../remoting/index.js';
import type { ClientChannelInfo } from './client-channel-info.js';
import type { SubscriptionData } from './subscription-data.js';

export class ConsumerGroupInfo {
  readonly channels = new Map<RemotingChannel, ClientChannelInfo>();
  readonly subscriptions = new Map<string, SubscriptionData>();
  consumeType = 'CONSUME_PASSIVELY';
  messageModel = 'CLUSTERING';
  consumeFromWhere = 'CONSUME_FROM_LAST_OFFSET';
  lastUpdateTimestamp = Date.now();

  constructor(readonly groupName: string) {}

  clientIds(): string[] {
    const ids = new Set<string>();
    for (const info of this.channels.values()) ids.add(info.clientId);
    return [...ids];
  }

  findSubscriptionData(topic: string): SubscriptionData | undefined {
    return this.subscriptions.get(topic);
  }

  /** Replaces the subscriptions; returns true if the set of topics or expressions changed. */
  updateSubscriptions(subs: SubscriptionData[]): boolean {
    let changed = subs.length !== this.subscriptions.size;
    for (const s of subs) {
      const old = this.subscriptions.get(s.topic);
      if (!old || old.subString !== s.subString || old.expressionType !== s.expressionType) changed = true;
      // Keep the older version when nothing changed so pulls with SUBSCRIPTION_NOT_LATEST checks stay stable.
      if (!old || old.subVersion < s.subVersion) this.subscriptions.set(s.topic, s);
    }
    const topics = new Set(subs.map((s) => s.topic));
    for (const t of [...this.subscriptions.keys()]) if (!topics.has(t)) this.subscriptions.delete(t);
    return changed;
  }
}

export type ConsumerIdsChangeListener = (group: string, channels: RemotingChannel[]) => void;

export class ConsumerManager {
  private readonly table = new Map<string, ConsumerGroupInfo>();

  constructor(
    private readonly channelExpiredTimeout: number,
    private readonly logger: Logger,
    private readonly onIdsChanged: ConsumerIdsChangeListener,
  ) {}

  getConsumerGroupInfo(group: string): ConsumerGroupInfo | undefined {
    return this.table.get(group);
  }

  get groups(): IterableIterator<ConsumerGroupInfo> {
    return this.table.values();
  }

  /** Registers or refreshes a consumer; notifies the group when its membership changed. */
  registerConsumer(
    group: string,
    info: ClientChannelInfo,
    consumeType: string,
    messageModel: string,
    consumeFromWhere: string,
    subs: SubscriptionData[],
  ): boolean {
    let g = this.table.get(group);
    if (!g) {
      g = new ConsumerGroupInfo(group);
      this.table.set(group, g);
    }
    g.consumeType = consumeType;
    g.messageModel = messageModel;
    g.consumeFromWhere = consumeFromWhere;
    g.lastUpdateTimestamp = info.lastUpdateTimestamp;
    const old = g.channels.get(info.channel);
    const newMember = !old || old.clientId !== info.clientId;
    g.channels.set(info.channel, info);
    const subChanged = g.updateSubscriptions(subs);
    if (newMember) this.notify(g);
    return newMember || subChanged;
  }

  unregisterConsumer(group: string, channel: RemotingChannel): void {
    const g = this.table.get(group);
    if (!g || !g.channels.delete(channel)) return;
    if (g.channels.size === 0) this.table.delete(group);
    else this.notify(g);
  }

  /** A closed connection leaves every group it was in. */
  doChannelCloseEvent(channel: RemotingChannel): void {
    for (const g of [...this.table.values()]) this.unregisterConsumer(g.groupName, channel);
  }

  scanNotActiveChannel(now = Date.now()): void {
    for (const g of [...this.table.values()]) {
      for (const [ch, info] of [...g.channels]) {
        if (now - info.lastUpdateTimestamp > this.channelExpiredTimeout) {
          this.logger.warn({ group: g.groupName, clientId: info.clientId }, 'consumer channel expired');
          ch.close();
          this.unregisterConsumer(g.groupName, ch);
        }
      }
    }
  }

  /** Groups whose consumers subscribe to the topic. */
  queryTopicConsumeByWho(topic: string): string[] {
    const out: string[] = [];
    for (const g of this.table.values()) if (g.subscriptions.has(topic)) out.push(g.groupName);
    return out;
  }

  private notify(g: ConsumerGroupInfo): void {
    this.onIdsChanged(g.groupName, [...g.channels.keys()]);
  }
}
