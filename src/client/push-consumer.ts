// PushConsumer (Java DefaultMQPushConsumer, concurrent mode): rebalances queues across the
// group, long-polls each assigned queue, hands batches to the handler, commits offsets, and
// sends failed messages back for retry. Orderly mode would add LOCK_BATCH_MQ per queue and a
// serial consume service beside ConsumeMessageConcurrentlyService; ProcessQueue keeps `locked`.
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeMessages } from '../common/message-codec.js';
import { MessageConst, MixAll } from '../common/message-const.js';
import { ResponseCode } from '../remoting/index.js';
import { allocateMessageQueueAveragely } from './allocate-message-queue.js';
import { MQClientError } from './client-error.js';
import type { ClientOptions } from './client-options.js';
import { ConsumeMessageConcurrentlyService, type MessageHandler } from './consume-message-concurrently-service.js';
import { retryTopicOf, mqKey, toMessageExt, type MessageExt, type MessageQueue } from './message.js';
import { PullSysFlag, type RawPullResult } from './mq-client-api.js';
import { MQClientInstance, type ConsumeFromWhere, type MessageModel, type MQConsumerInner } from './mq-client-instance.js';
import { LocalOffsetStore, RemoteBrokerOffsetStore, type OffsetStore } from './offset-store.js';
import { ProcessQueue } from './process-queue.js';
import { Producer } from './producer.js';
import { buildSubscriptionData, matchesTag, type ExpressionTypeValue, type SubscriptionData } from './subscription-data.js';

export interface PushConsumerOptions extends ClientOptions {
  consumerGroup: string;
  messageModel?: MessageModel;
  /** Where a queue without a committed offset starts (default CONSUME_FROM_LAST_OFFSET). */
  consumeFromWhere?: ConsumeFromWhere;
  /** For CONSUME_FROM_TIMESTAMP, in ms (default: half an hour ago, as Java). */
  consumeTimestamp?: number;
  handler?: MessageHandler;
  /** Messages per handler call (Java consumeMessageBatchMaxSize, 1). */
  consumeMessageBatchMaxSize?: number;
  /** Messages per pull (Java pullBatchSize, 32). */
  pullBatchSize?: number;
  /** Handler calls in flight for the whole consumer (Java consumeThreadMax, 20). */
  consumeConcurrency?: number;
  /** Flow control: stop pulling a queue with this many messages in flight (1000). */
  pullThresholdForQueue?: number;
  /** Retries before the broker moves a message to %DLQ% (16). */
  maxReconsumeTimes?: number;
  /** Broker-side hold of an empty pull (15 s). */
  suspendTimeoutMillis?: number;
  /** Back-off after a failed pull (3 s). */
  pullTimeDelayMillsWhenException?: number;
  /** How long shutdown waits for running handlers (5 s). */
  awaitTerminationMillis?: number;
}

interface QueueEntry {
  mq: MessageQueue;
  pq: ProcessQueue;
}

/** Java consumerTimeoutMillisWhenSuspend: the socket timeout of a long-polling pull. */
const PULL_SOCKET_TIMEOUT_MS = 30_000;
const INNER_PRODUCER_GROUP = 'CLIENT_INNER_PRODUCER';

export class PushConsumer implements MQConsumerInner {
  readonly group: string;
  readonly messageModel: MessageModel;
  readonly consumeType = 'CONSUME_PASSIVELY' as const;
  readonly consumeFromWhere: ConsumeFromWhere;
  private readonly instance: MQClientInstance;
  private readonly subs = new Map<string, SubscriptionData>();
  private readonly subscribeInfo = new Map<string, MessageQueue[]>();
  private readonly processQueueTable = new Map<string, QueueEntry>();
  private readonly offsetStore: OffsetStore;
  private consumeService: ConsumeMessageConcurrentlyService | undefined;
  private handler: MessageHandler | undefined;
  private innerProducer: Producer | undefined;
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';
  private readonly abort = new AbortController();
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;
  private readonly maxReconsumeTimes: number;

  constructor(private readonly opts: PushConsumerOptions) {
    if (!opts.consumerGroup) throw new MQClientError('consumerGroup is required');
    this.group = opts.consumerGroup;
    this.messageModel = opts.messageModel ?? 'CLUSTERING';
    this.consumeFromWhere = opts.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET';
    this.handler = opts.handler;
    this.maxReconsumeTimes = opts.maxReconsumeTimes === undefined || opts.maxReconsumeTimes < 0 ? 16 : opts.maxReconsumeTimes;
    this.instance = new MQClientInstance(opts);
    this.offsetStore = this.messageModel === 'CLUSTERING' ? new RemoteBrokerOffsetStore(this.instance, this.group) : new LocalOffsetStore();
  }

  get clientId(): string {
    return this.instance.clientId;
  }

  get logger(): MQClientInstance['logger'] {
    return this.instance.logger;
  }

  /** Subscribes (or re-subscribes) a topic; after start() the change is announced and applied at once. */
  subscribe(topic: string, expression = '*', type: ExpressionTypeValue = 'TAG'): void {
    this.subs.set(topic, buildSubscriptionData(topic, expression, type));
    if (this.state === 'RUNNING') {
      void this.instance
        .updateTopicRoute(topic)
        .then(() => this.instance.sendHeartbeatToAllBrokers())
        .then(() => this.instance.rebalanceImmediately())
        .catch((err: unknown) => this.logger.warn({ err, topic }, 'subscribe after start failed'));
    }
  }

  registerMessageListener(handler: MessageHandler): void {
    this.handler = handler;
  }

  async start(): Promise<void> {
    if (this.state !== 'CREATED') throw new MQClientError(`consumer ${this.group} cannot start: it is ${this.state}`);
    if (!this.handler) throw new MQClientError('no message handler: pass `handler` or call registerMessageListener() first');
    if (this.subs.size === 0) throw new MQClientError('no subscription: call subscribe() first');
    if (this.messageModel === 'CLUSTERING') {
      const retry = retryTopicOf(this.group);
      if (!this.subs.has(retry)) this.subs.set(retry, buildSubscriptionData(retry, '*'));
    }
    this.consumeService = new ConsumeMessageConcurrentlyService(
      this,
      this.handler,
      this.opts.consumeConcurrency ?? 20,
      Math.max(1, this.opts.consumeMessageBatchMaxSize ?? 1),
    );
    this.instance.registerConsumer(this);
    this.state = 'RUNNING';
    this.instance.start();
    await Promise.all(
      [...this.subs.keys()].map((t) => this.instance.updateTopicRoute(t).catch((err: unknown) => this.logger.warn({ err, topic: t }, 'route lookup failed'))),
    );
    if (this.messageModel === 'CLUSTERING') {
      this.innerProducer = new Producer({ ...this.opts, producerGroup: INNER_PRODUCER_GROUP }, this.instance);
      await this.innerProducer.start();
    } else {
      await this.instance.sendHeartbeatToAllBrokers();
    }
    await this.awaitRetryTopicRoute();
    await this.doRebalance();
  }

  /**
   * The broker creates %RETRY%<group> on our first heartbeat and registers it with the name
   * server right after; a short bounded wait lets the first rebalance include it.
   */
  private async awaitRetryTopicRoute(): Promise<void> {
    if (this.messageModel !== 'CLUSTERING') return;
    const retry = retryTopicOf(this.group);
    for (let i = 0; i < 10 && !this.subscribeInfo.has(retry) && this.state === 'RUNNING'; i++) {
      if (await this.instance.updateTopicRoute(retry).catch(() => false)) return;
      await this.pause(50);
    }
  }

  async shutdown(): Promise<void> {
    if (this.state !== 'RUNNING') {
      this.state = 'SHUTDOWN';
      return;
    }
    this.state = 'SHUTDOWN';
    this.abort.abort();
    await this.consumeService?.shutdown(this.opts.awaitTerminationMillis ?? 5000);
    for (const e of this.processQueueTable.values()) e.pq.drop();
    await this.rebalancing?.catch(() => undefined);
    await this.persistConsumerOffset();
    await this.innerProducer?.shutdown();
    await this.instance.unregisterConsumer(this.group);
    await this.instance.shutdown();
  }

  /** Queues currently assigned to this consumer (all topics, or one). */
  assignedQueues(topic?: string): MessageQueue[] {
    const out: MessageQueue[] = [];
    for (const e of this.processQueueTable.values()) if (!e.pq.dropped && (topic === undefined || e.mq.topic === topic)) out.push(e.mq);
    return out;
  }

  // ---- MQConsumerInner ----

  subscriptions(): SubscriptionData[] {
    return [...this.subs.values()];
  }

  updateTopicSubscribeInfo(topic: string, mqs: MessageQueue[]): void {
    if (this.subs.has(topic)) this.subscribeInfo.set(topic, mqs);
  }

  async persistConsumerOffset(): Promise<void> {
    const mqs: MessageQueue[] = [];
    for (const e of this.processQueueTable.values()) mqs.push(e.mq);
    await this.offsetStore.persistAll(mqs);
  }

  /** One round at a time; a request made during a round runs one more round after it. */
  doRebalance(): Promise<void> {
    if (this.state !== 'RUNNING') return Promise.resolve();
    if (this.rebalancing) {
      this.rebalanceAgain = true;
      return this.rebalancing;
    }
    this.rebalancing = (async () => {
      try {
        do {
          this.rebalanceAgain = false;
          for (const topic of this.subs.keys()) {
            try {
              await this.rebalanceByTopic(topic);
            } catch (err) {
              this.logger.warn({ err, group: this.group, topic }, 'rebalance of topic failed');
            }
          }
          await this.truncateUnsubscribed();
        } while (this.rebalanceAgain && this.state === 'RUNNING');
      } finally {
        this.rebalancing = undefined;
      }
    })();
    return this.rebalancing;
  }

  private async rebalanceByTopic(topic: string): Promise<void> {
    let mqs = this.subscribeInfo.get(topic);
    if (!mqs) {
      await this.instance.updateTopicRoute(topic).catch(() => false);
      mqs = this.subscribeInfo.get(topic);
      if (!mqs) return;
    }
    if (this.messageModel === 'BROADCASTING') {
      await this.updateProcessQueueTableInRebalance(topic, mqs);
      return;
    }
    const addr = this.instance.findBrokerAddrByTopic(topic);
    if (!addr) return;
    const cids = (await this.instance.api.getConsumerIdListByGroup(addr, this.group)).sort();
    const allocated = allocateMessageQueueAveragely(this.instance.clientId, mqs, cids);
    if (allocated.length === 0 && !cids.includes(this.instance.clientId)) {
      this.logger.warn({ group: this.group, topic, clientId: this.instance.clientId }, 'this client is not in the group consumer list yet');
    }
    await this.updateProcessQueueTableInRebalance(topic, allocated);
  }

  private async truncateUnsubscribed(): Promise<void> {
    for (const [key, e] of [...this.processQueueTable]) {
      if (this.subs.has(e.mq.topic)) continue;
      e.pq.drop();
      this.processQueueTable.delete(key);
    }
  }

  private async updateProcessQueueTableInRebalance(topic: string, mqSet: readonly MessageQueue[]): Promise<void> {
    const want = new Set(mqSet.map(mqKey));
    for (const [key, e] of [...this.processQueueTable]) {
      if (e.mq.topic !== topic || want.has(key)) continue;
      e.pq.drop();
      this.processQueueTable.delete(key);
      await this.removeUnnecessaryMessageQueue(e.mq);
    }
    for (const mq of mqSet) {
      const key = mqKey(mq);
      if (this.processQueueTable.has(key) || this.state !== 'RUNNING') continue;
      this.offsetStore.removeOffset(mq);
      let next: number;
      try {
        next = await this.computePullFromWhere(mq);
      } catch (err) {
        this.logger.warn({ err, mq }, 'cannot work out where to pull from; will try at the next rebalance');
        continue;
      }
      if (this.processQueueTable.has(key) || this.state !== 'RUNNING') continue;
      const pq = new ProcessQueue();
      this.processQueueTable.set(key, { mq, pq });
      this.logger.debug({ group: this.group, mq, next }, 'queue assigned');
      void this.pullLoop(mq, pq, next);
    }
  }

  private async removeUnnecessaryMessageQueue(mq: MessageQueue): Promise<void> {
    if (this.messageModel === 'CLUSTERING') {
      await this.offsetStore.persist(mq).catch((err: unknown) => this.logger.warn({ err, mq }, 'persist offset of removed queue failed'));
    }
    this.offsetStore.removeOffset(mq);
  }

  /** Java RebalancePushImpl.computePullFromWhereWithException. */
  private async computePullFromWhere(mq: MessageQueue): Promise<number> {
    const last = await this.offsetStore.readFromStore(mq);
    if (last >= 0) return last;
    const isRetry = mq.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX);
    switch (this.consumeFromWhere) {
      case 'CONSUME_FROM_FIRST_OFFSET':
        return 0;
      case 'CONSUME_FROM_TIMESTAMP': {
        const addr = this.brokerAddr(mq);
        if (isRetry) return this.instance.api.getMaxOffset(addr, mq);
        return this.instance.api.searchOffset(addr, mq, this.opts.consumeTimestamp ?? Date.now() - 30 * 60_000);
      }
      default:
        return isRetry ? 0 : this.instance.api.getMaxOffset(this.brokerAddr(mq), mq);
    }
  }

  private brokerAddr(mq: MessageQueue): string {
    const addr = this.instance.findBrokerAddressInSubscribe(mq.brokerName);
    if (!addr) throw new MQClientError(`the broker[${mq.brokerName}] is not known`);
    return addr;
  }

  private async pause(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.abort.signal });
    } catch {
      // aborted by shutdown
    }
  }

  private async pullLoop(mq: MessageQueue, pq: ProcessQueue, startOffset: number): Promise<void> {
    const threshold = this.opts.pullThresholdForQueue ?? 1000;
    const delayOnError = this.opts.pullTimeDelayMillsWhenException ?? 3000;
    let offset = startOffset;
    while (!pq.dropped && this.state === 'RUNNING') {
      if (pq.msgCount >= threshold) {
        await pq.waitForSpace(threshold);
        continue;
      }
      const sub = this.subs.get(mq.topic);
      if (!sub) return;
      let r: RawPullResult;
      try {
        r = await this.pullOnce(mq, sub, offset);
      } catch (err) {
        if (pq.dropped || this.state !== 'RUNNING') return;
        this.logger.warn({ err, mq }, 'pull failed; retrying later');
        await this.pause(delayOnError);
        continue;
      }
      pq.lastPullTimestamp = Date.now();
      if (pq.dropped) return;
      offset = this.onPullResult(mq, pq, sub, offset, r);
    }
  }

  private pullOnce(mq: MessageQueue, sub: SubscriptionData, offset: number): Promise<RawPullResult> {
    const commitOffset = this.messageModel === 'CLUSTERING' ? this.offsetStore.readMemory(mq) : -1;
    let sysFlag = PullSysFlag.SUSPEND | PullSysFlag.SUBSCRIPTION;
    if (commitOffset > 0) sysFlag |= PullSysFlag.COMMIT_OFFSET;
    return this.instance.api.pullMessage(
      this.brokerAddr(mq),
      {
        consumerGroup: this.group,
        topic: mq.topic,
        queueId: mq.queueId,
        queueOffset: offset,
        maxMsgNums: this.opts.pullBatchSize ?? 32,
        sysFlag,
        commitOffset: Math.max(commitOffset, 0),
        suspendTimeoutMillis: this.opts.suspendTimeoutMillis ?? 15_000,
        subscription: sub.subString,
        subVersion: sub.subVersion,
        expressionType: sub.expressionType,
      },
      PULL_SOCKET_TIMEOUT_MS,
    );
  }

  /** Handles one pull answer; returns the next offset to pull from. */
  private onPullResult(mq: MessageQueue, pq: ProcessQueue, sub: SubscriptionData, offset: number, r: RawPullResult): number {
    switch (r.code) {
      case ResponseCode.SUCCESS: {
        const msgs = decodePulled(r, mq.brokerName, sub);
        if (msgs.length > 0) {
          pq.putMessages(msgs);
          this.consumeService?.submitConsumeRequest(msgs, pq, mq);
        } else this.correctTagsOffset(mq, pq, r.nextBeginOffset);
        return r.nextBeginOffset;
      }
      case ResponseCode.PULL_NOT_FOUND:
      case ResponseCode.PULL_RETRY_IMMEDIATELY:
        this.correctTagsOffset(mq, pq, r.nextBeginOffset);
        return r.nextBeginOffset;
      case ResponseCode.PULL_OFFSET_MOVED:
        this.logger.warn({ mq, offset, next: r.nextBeginOffset, remark: r.remark }, 'pull offset illegal; moving to the broker-suggested offset');
        this.offsetStore.updateOffset(mq, r.nextBeginOffset, false);
        void this.offsetStore.persist(mq).catch(() => undefined);
        return r.nextBeginOffset;
      default:
        return offset;
    }
  }

  /** With nothing in flight, everything before nextBeginOffset is done (filtered out or consumed). */
  private correctTagsOffset(mq: MessageQueue, pq: ProcessQueue, next: number): void {
    if (pq.msgCount === 0) this.offsetStore.updateOffset(mq, next, true);
  }

  // ---- ConsumeHost ----

  commitOffset(mq: MessageQueue, offset: number): void {
    this.offsetStore.updateOffset(mq, offset, true);
  }

  async sendMessageBack(msg: MessageExt): Promise<boolean> {
    const addr = this.instance.findBrokerAddressInPublish(msg.brokerName) ?? msg.storeHost;
    try {
      await this.instance.api.consumerSendMessageBack(addr, this.group, msg.commitLogOffset, 0, msg.msgId, msg.topic, this.maxReconsumeTimes);
      return true;
    } catch (err) {
      this.logger.warn({ err, msgId: msg.msgId }, 'send message back failed; resending to the retry topic instead');
    }
    return this.resendToRetryTopic(msg);
  }

  /** Java's fallback: a new message on %RETRY%<group> carrying the retry bookkeeping. */
  private async resendToRetryTopic(msg: MessageExt): Promise<boolean> {
    if (!this.innerProducer) return false;
    const props: Record<string, string> = { ...msg.properties };
    props[MessageConst.PROPERTY_ORIGIN_MESSAGE_ID] = props[MessageConst.PROPERTY_ORIGIN_MESSAGE_ID] || msg.msgId;
    props[MessageConst.PROPERTY_RETRY_TOPIC] = msg.topic;
    props[MessageConst.PROPERTY_RECONSUME_TIME] = String(msg.reconsumeTimes + 1);
    props[MessageConst.PROPERTY_MAX_RECONSUME_TIMES] = String(this.maxReconsumeTimes);
    delete props[MessageConst.PROPERTY_TRANSACTION_PREPARED];
    try {
      await this.innerProducer.send({
        topic: retryTopicOf(this.group),
        body: msg.body,
        flag: msg.flag,
        tags: msg.tags,
        keys: msg.keys,
        delayTimeLevel: 3 + msg.reconsumeTimes,
        properties: props,
      });
      return true;
    } catch (err) {
      this.logger.warn({ err, msgId: msg.msgId }, 'resend to the retry topic failed; consuming again locally later');
      return false;
    }
  }
}

/** Decodes a FOUND body, adds MIN/MAX_OFFSET as Java does, and applies the exact tag match. */
export function decodePulled(r: RawPullResult, brokerName: string, sub: SubscriptionData | undefined): MessageExt[] {
  if (!r.body || r.body.length === 0) return [];
  const out: MessageExt[] = [];
  const min = String(r.minOffset);
  const max = String(r.maxOffset);
  for (const rec of decodeMessages(r.body, { checkCrc: false })) {
    const m = toMessageExt(rec, brokerName);
    if (sub && !matchesTag(sub, m.tags)) continue;
    m.properties[MessageConst.PROPERTY_MIN_OFFSET] = min;
    m.properties[MessageConst.PROPERTY_MAX_OFFSET] = max;
    out.push(m);
  }
  return out;
}
