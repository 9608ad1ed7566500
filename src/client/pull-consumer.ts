// PullConsumer (Java DefaultMQPullConsumer, simple form): the caller picks queues and offsets;
// offsets are stored in the broker on request.
import { ResponseCode } from '../remoting/index.js';
import { MQClientError } from './client-error.js';
import type { ClientOptions } from './client-options.js';
import type { MessageExt, MessageQueue } from './message.js';
import { PullSysFlag } from './mq-client-api.js';
import { MQClientInstance, type ConsumeFromWhere, type MessageModel, type MQConsumerInner } from './mq-client-instance.js';
import { decodePulled } from './push-consumer.js';
import { buildSubscriptionData, type ExpressionTypeValue, type SubscriptionData } from './subscription-data.js';
import { topicRouteData2TopicSubscribeInfo } from './topic-route.js';

export interface PullConsumerOptions extends ClientOptions {
  consumerGroup: string;
  /** Broker-side hold of an empty pull when `block` is set (Java brokerSuspendMaxTimeMillis, 20 s). */
  brokerSuspendMaxTimeMillis?: number;
}

export type PullStatus = 'FOUND' | 'NO_NEW_MSG' | 'NO_MATCHED_MSG' | 'OFFSET_ILLEGAL';

export interface PullResult {
  status: PullStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  msgs: MessageExt[];
}

export interface PullOptions {
  /** Let the broker hold an empty pull until a message arrives (pullBlockIfNotFound). */
  block?: boolean;
  expressionType?: ExpressionTypeValue;
}

const STATUS: Readonly<Record<number, PullStatus>> = {
  [ResponseCode.SUCCESS]: 'FOUND',
  [ResponseCode.PULL_NOT_FOUND]: 'NO_NEW_MSG',
  [ResponseCode.PULL_RETRY_IMMEDIATELY]: 'NO_MATCHED_MSG',
  [ResponseCode.PULL_OFFSET_MOVED]: 'OFFSET_ILLEGAL',
};

export class PullConsumer implements MQConsumerInner {
  readonly group: string;
  readonly messageModel: MessageModel = 'CLUSTERING';
  readonly consumeType = 'CONSUME_ACTIVELY' as const;
  readonly consumeFromWhere: ConsumeFromWhere = 'CONSUME_FROM_LAST_OFFSET';
  private readonly instance: MQClientInstance;
  private readonly subs = new Map<string, SubscriptionData>();
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';

  constructor(private readonly opts: PullConsumerOptions) {
    if (!opts.consumerGroup) throw new MQClientError('consumerGroup is required');
    this.group = opts.consumerGroup;
    this.instance = new MQClientInstance(opts);
  }

  get clientId(): string {
    return this.instance.clientId;
  }

  async start(): Promise<void> {
    if (this.state !== 'CREATED') throw new MQClientError(`pull consumer ${this.group} cannot start: it is ${this.state}`);
    this.instance.registerConsumer(this);
    this.state = 'RUNNING';
    this.instance.start();
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'RUNNING') {
      this.state = 'SHUTDOWN';
      return;
    }
    this.state = 'SHUTDOWN';
    await this.instance.unregisterConsumer(this.group);
    await this.instance.shutdown();
  }

  /** Readable queues of the topic, fetched from the name server. */
  async fetchSubscribeMessageQueues(topic: string): Promise<MessageQueue[]> {
    this.checkRunning();
    if (!(await this.instance.updateTopicRoute(topic))) throw new MQClientError(`no route info of this topic: ${topic}`);
    const route = this.instance.getRoute(topic);
    return route ? topicRouteData2TopicSubscribeInfo(topic, route) : [];
  }

  async pull(mq: MessageQueue, subExpression: string, offset: number, maxNums: number, opts: PullOptions = {}): Promise<PullResult> {
    this.checkRunning();
    if (offset < 0) throw new MQClientError(`offset < 0: ${offset}`);
    if (maxNums <= 0) throw new MQClientError(`maxNums <= 0: ${maxNums}`);
    const sub = buildSubscriptionData(mq.topic, subExpression, opts.expressionType ?? 'TAG');
    const addr = await this.brokerAddr(mq);
    if (!this.subs.has(mq.topic)) {
      this.subs.set(mq.topic, sub);
      await this.instance.sendHeartbeatToAllBrokers();
    }
    const suspendMs = this.opts.brokerSuspendMaxTimeMillis ?? 20_000;
    const r = await this.instance.api.pullMessage(
      addr,
      {
        consumerGroup: this.group,
        topic: mq.topic,
        queueId: mq.queueId,
        queueOffset: offset,
        maxMsgNums: maxNums,
        sysFlag: PullSysFlag.SUBSCRIPTION | (opts.block ? PullSysFlag.SUSPEND : 0),
        commitOffset: 0,
        suspendTimeoutMillis: suspendMs,
        subscription: sub.subString,
        subVersion: sub.subVersion,
        expressionType: sub.expressionType,
      },
      opts.block ? suspendMs + 10_000 : (this.opts.requestTimeoutMs ?? 10_000),
    );
    return {
      status: STATUS[r.code],
      nextBeginOffset: r.nextBeginOffset,
      minOffset: r.minOffset,
      maxOffset: r.maxOffset,
      msgs: r.code === ResponseCode.SUCCESS ? decodePulled(r, mq.brokerName, sub) : [],
    };
  }

  /** Stores the offset in the broker now (UPDATE_CONSUMER_OFFSET). */
  async updateConsumeOffset(mq: MessageQueue, offset: number): Promise<void> {
    this.checkRunning();
    await this.instance.api.updateConsumerOffset(await this.brokerAddr(mq), this.group, mq, offset, false);
  }

  /** The broker's stored offset of the group, or -1 when it has none. */
  async fetchConsumeOffset(mq: MessageQueue): Promise<number> {
    this.checkRunning();
    return this.instance.api.queryConsumerOffset(await this.brokerAddr(mq), this.group, mq);
  }

  private async brokerAddr(mq: MessageQueue): Promise<string> {
    let addr = this.instance.findBrokerAddressInSubscribe(mq.brokerName);
    if (!addr) {
      await this.instance.updateTopicRoute(mq.topic);
      addr = this.instance.findBrokerAddressInSubscribe(mq.brokerName);
    }
    if (!addr) throw new MQClientError(`the broker[${mq.brokerName}] is not known`);
    return addr;
  }

  private checkRunning(): void {
    if (this.state !== 'RUNNING') throw new MQClientError(`pull consumer ${this.group} is not running (${this.state})`);
  }

  // ---- MQConsumerInner ----

  subscriptions(): SubscriptionData[] {
    return [...this.subs.values()];
  }

  updateTopicSubscribeInfo(): void {
    // the caller chooses queues itself
  }

  doRebalance(): Promise<void> {
    return Promise.resolve();
  }

  persistConsumerOffset(): Promise<void> {
    return Promise.resolve();
  }
}
