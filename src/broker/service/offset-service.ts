// The consumer-offset use cases, once for both protocols: commit (checked, with the `acked`
// hook: an offset commit passes every message before it), query, and the queue's bounds and
// time search.
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import type { MessageStore } from '../../store/index.js';
import type { ConsumerOffsetManager } from '../consumer-offset-manager.js';
import type { SubscriptionGroupManager } from '../subscription-group-manager.js';
import type { TopicConfigManager } from '../topic-config-manager.js';
import type { BrokerHooks } from './broker-hooks.js';

export interface OffsetServiceDeps {
  offsets: ConsumerOffsetManager;
  groups: SubscriptionGroupManager;
  topics: TopicConfigManager;
  store: MessageStore;
  hooks: BrokerHooks;
}

export class OffsetService {
  constructor(private readonly d: OffsetServiceDeps) {}

  /** UPDATE_CONSUMER_OFFSET and gRPC UpdateOffset: the group and topic must exist. */
  commitChecked(group: string, topic: string, queueId: number, offset: number): void {
    const d = this.d;
    if (!d.groups.get(group) && !d.groups.findSubscriptionGroupConfig(group)) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group ${group} not exist`);
    }
    if (!d.topics.selectTopicConfig(topic)) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic ${topic} not exist`);
    this.commit(group, topic, queueId, offset);
  }

  /** A commit whose group and topic were checked already (the offset a pull carries). */
  commit(group: string, topic: string, queueId: number, offset: number): void {
    const d = this.d;
    d.offsets.commitOffset(group, topic, queueId, offset);
    if (d.hooks.acked.length > 0) d.hooks.emit('acked', d.hooks.acked, { kind: 'offset', group, topic, queueId, queueOffset: offset });
  }

  /** The stored offset, or -1 when the group has none for the queue. */
  queryStored(group: string, topic: string, queueId: number): number {
    return this.d.offsets.queryOffset(group, topic, queueId);
  }

  /**
   * Where a consumer starts: a stored offset ≥ 0 wins; a fresh group on a queue whose first
   * message is still there starts at 0; otherwise undefined (QUERY_NOT_FOUND: the client decides).
   */
  queryForConsumer(group: string, topic: string, queueId: number): number | undefined {
    const off = this.queryStored(group, topic, queueId);
    if (off >= 0) return off;
    return this.d.store.getMinOffsetInQueue(topic, queueId) <= 0 ? 0 : undefined;
  }

  minOffset(topic: string, queueId: number): number {
    return this.d.store.getMinOffsetInQueue(topic, queueId);
  }

  maxOffset(topic: string, queueId: number): number {
    return this.d.store.getMaxOffsetInQueue(topic, queueId);
  }

  searchByTime(topic: string, queueId: number, timestampMs: number): Promise<number> {
    return this.d.store.getOffsetInQueueByTime(topic, queueId, timestampMs);
  }

  earliestTime(topic: string, queueId: number): Promise<number> {
    return this.d.store.getEarliestMessageTime(topic, queueId);
  }
}
