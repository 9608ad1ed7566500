// The pop use cases (5.x receive, ack, change invisible time, dead-letter), once for both
// protocols: the broker, group and topic checks POP_MESSAGE makes, the subscription's SQL92
// availability, the pop itself, stats and the `delivered` hook. Remoting POP_MESSAGE /
// ACK_MESSAGE / CHANGE_MESSAGE_INVISIBLETIME and the gRPC local backend both call it.
import type { BrokerConfig } from '../../config/index.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import type { BrokerStats } from '../broker-stats.js';
import type { SubscriptionData } from '../clients/subscription-data.js';
import type { AckResult, PoppedMessage, PopRequest, PopService } from '../pop/pop-service.js';
import type { SubscriptionGroupConfig, SubscriptionGroupManager } from '../subscription-group-manager.js';
import type { TopicConfigManager } from '../topic-config-manager.js';
import { isReadable } from '../topic-config.js';
import type { BrokerHooks, Protocol } from './broker-hooks.js';

export interface PopConsumeDeps {
  config: Pick<BrokerConfig, 'brokerPermission' | 'enablePropertyFilter'>;
  topics: TopicConfigManager;
  groups: SubscriptionGroupManager;
  pops: PopService;
  stats: BrokerStats;
  hooks: BrokerHooks;
  brokerIP(): string;
}

export class PopConsumeService {
  constructor(private readonly d: PopConsumeDeps) {}

  /** POP_MESSAGE's checks; returns the group's config (FIFO and retry defaults come from it). */
  checkPop(group: string, topic: string, sub: SubscriptionData): SubscriptionGroupConfig {
    const d = this.d;
    if (!isReadable(d.config.brokerPermission)) throw new BrokerError(ResponseCode.NO_PERMISSION, `the broker[${d.brokerIP()}] pop message is forbidden`);
    const sg = d.groups.findSubscriptionGroupConfig(group);
    if (!sg) throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group [${group}] does not exist`);
    if (!sg.consumeEnable) throw new BrokerError(ResponseCode.NO_PERMISSION, `subscription group no permission, ${group}`);
    const tc = d.topics.selectTopicConfig(topic);
    if (!tc) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist, apply first please!`);
    if (!isReadable(tc.perm)) throw new BrokerError(ResponseCode.NO_PERMISSION, `the topic[${topic}] peeking message is forbidden`);
    if (sub.sql && !d.config.enablePropertyFilter) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, 'The broker does not support consumer to filter message by SQL92');
    }
    return sg;
  }

  /** Pops after checkPop passed. */
  async pop(req: PopRequest, protocol: Protocol, client: string, signal?: AbortSignal): Promise<PoppedMessage[]> {
    const d = this.d;
    if (req.maxNums < 1) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `maxMsgNums must be positive, got ${req.maxNums}`);
    if (!req.autoRenew && req.invisibleTimeMs <= 0) {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `invisibleTime must be positive, got ${req.invisibleTimeMs}`);
    }
    const popped = await d.pops.pop(req, signal);
    if (popped.length === 0) return popped;
    d.stats.recordPull(req.topic, req.group, popped.length, 0);
    if (d.hooks.delivered.length > 0) {
      let bytes = 0;
      for (const p of popped) bytes += p.record.body.length;
      d.hooks.emit('delivered', d.hooks.delivered, {
        kind: 'pop',
        protocol,
        group: req.group,
        topic: req.topic,
        queueId: -1,
        count: popped.length,
        bytes,
        client,
        popped,
      });
    }
    return popped;
  }

  ack(group: string, topic: string, handle: string): AckResult {
    this.requireTopic(topic);
    return this.d.pops.ack(group, handle);
  }

  changeInvisibleTime(group: string, topic: string, handle: string, ms: number): { handle: string; invisibleUntil: number } | AckResult {
    this.requireTopic(topic);
    if (ms < 0) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `invisibleTime must not be negative, got ${ms}`);
    return this.d.pops.changeInvisibleTime(group, handle, ms);
  }

  forwardToDeadLetter(group: string, topic: string, handle: string): Promise<AckResult> {
    this.requireTopic(topic);
    return this.d.pops.forwardToDeadLetter(group, handle);
  }

  private requireTopic(topic: string): void {
    if (!this.d.topics.selectTopicConfig(topic)) {
      throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${topic}] not exist, apply first please!`);
    }
  }
}
