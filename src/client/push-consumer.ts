// PushConsumer (Java DefaultMQPushConsumer): rebalances queues across the group, long-polls
// each assigned queue, hands batches to the handler, commits offsets, and sends failed messages
// back for retry. In orderly mode (clustering) each queue is locked at the broker with
// LOCK_BATCH_MQ before it is pulled, the locks are renewed every 20 s and released on removal
// and shutdown, and ConsumeMessageOrderlyService consumes every queue serially in offset order.
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeMessages } from '../common/message-codec.js';
import { MessageConst, MixAll } from '../common/message-const.js';
import { ResponseCode } from '../remoting/index.js';
import { allocateMessageQueueAveragely } from './allocate-message-queue.js';
import { MQClientError } from './client-error.js';
import type { ClientOptions } from './client-options.js';
import { ConsumeMessageConcurrentlyService, type MessageHandler } from './consume-message-concurrently-service.js';
import { ConsumeMessageOrderlyService, type MessageListenerOrderly } from './consume-message-orderly-service.js';
import { retryTopicOf, mqKey, toMessageExt, type MessageExt, type MessageQueue } from './message.js';
import { PullSysFlag, type RawPullResult } from './mq-client-api.js';
import { MQClientInstance, type ConsumeFromWhere, type MessageModel, type MQConsumerInner } from './mq-client-instance.js';
import { LocalOffsetStore, RemoteBrokerOffsetStore, type OffsetStore } from './offset-store.js';
import { ProcessQueue, REBALANCE_LOCK_MAX_LIVE_TIME_MS } from './process-queue.js';
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
  /**
   * Retries before a message goes to %DLQ%: 16 by default when consuming concurrently; when
   * consuming orderly, local retries with no limit by default (Java's Integer.MAX_VALUE).
   */
  maxReconsumeTimes?: number;
  /** Orderly consumption (Java MessageListenerOrderly); `handler`'s 'RETRY' then means suspend. */
  orderly?: boolean;
  /** Orderly listener; setting it implies `orderly`. */
  messageListenerOrderly?: MessageListenerOrderly;
  /** Orderly: pause before a suspended batch is consumed again (1000 ms). */
  suspendCurrentQueueTimeMillis?: number;
  /** Orderly: lock renewal period (Java rocketmq.client.rebalance.lockInterval, 20 s). */
  rebalanceLockIntervalMs?: number;
  /** Orderly: a lock not renewed for this long is no longer trusted locally (Java lockMaxLiveTime, 30 s). */
  rebalanceLockMaxLiveTimeMs?: number;
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
/** Java's default maxReconsumeTimes of an orderly consumer. */
const ORDERLY_MAX_RECONSUME_TIMES = 2_147_483_647;
/** Java RebalancePushImpl UNLOCK_DELAY_TIME_MILLS: past this a busy queue is unlocked anyway. */
const UNLOCK_DELAY_TIME_MILLS = 20_000;
/** How long rebalance waits for a removed orderly queue's running batch (Java tryLock 500 ms). */
const REMOVE_WAIT_MS = 500;

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
  private orderlyService: ConsumeMessageOrderlyService | undefined;
  private handler: MessageHandler | undefined;
  private orderlyListener: MessageListenerOrderly | undefined;
  private orderly: boolean;
  private lockTimer: NodeJS.Timeout | undefined;
  private innerProducer: Producer | undefined;
  private state: 'CREATED' | 'RUNNING' | 'SHUTDOWN' = 'CREATED';
  private readonly abort = new AbortController();
  private rebalancing: Promise<void> | undefined;
  private rebalanceAgain = false;
  private maxReconsumeTimes: number;

  constructor(private readonly opts: PushConsumerOptions) {
    if (!opts.consumerGroup) throw new MQClientError('consumerGroup is required');
    this.group = opts.consumerGroup;
    this.messageModel = opts.messageModel ?? 'CLUSTERING';
    this.consumeFromWhere = opts.consumeFromWhere ?? 'CONSUME_FROM_LAST_OFFSET';
    this.handler = opts.handler;
    this.orderlyListener = opts.messageListenerOrderly;
    this.orderly = opts.orderly === true || opts.messageListenerOrderly !== undefined;
    this.maxReconsumeTimes = this.resolveMaxReconsumeTimes();
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

  /** Switches to orderly consumption with this listener (before start()). */
  registerMessageListenerOrderly(listener: MessageListenerOrderly): void {
    if (this.state !== 'CREATED') throw new MQClientError('registerMessageListenerOrderly must be called before start()');
    this.orderlyListener = listener;
    this.orderly = true;
    this.maxReconsumeTimes = this.resolveMaxReconsumeTimes();
  }

  /** True when consuming orderly (queue locks, serial consumption per queue). */
  get consumeOrderly(): boolean {
    return this.orderly;
  }

  private resolveMaxReconsumeTimes(): number {
    const v = this.opts.maxReconsumeTimes;
    if (v === undefined || v < 0) return this.orderly ? ORDERLY_MAX_RECONSUME_TIMES : 16;
    return v;
  }

  /** Orderly clustering consumers hold broker locks; broadcasting ones consume without. */
  private get lockingOrderly(): boolean {
    return this.orderly && this.messageModel === 'CLUSTERING';
  }

  private orderlyListenerOrAdapter(): MessageListenerOrderly | undefined {
    if (this.orderlyListener) return this.orderlyListener;
    const h = this.handler;
    if (!h) return undefined;
    return async (msgs) => ((await h(msgs)) === 'SUCCESS' ? 'SUCCESS' : 'SUSPEND_CURRENT_QUEUE_A_MOMENT');
  }

  async start(): Promise<void> {
    if (this.state !== 'CREATED') throw new MQClientError(`consumer ${this.group} cannot start: it is ${this.state}`);
    const orderlyListener = this.orderly ? this.orderlyListenerOrAdapter() : undefined;
    if (this.orderly ? !orderlyListener : !this.handler) {
      throw new MQClientError('no message handler: pass `handler` or call registerMessageListener() / registerMessageListenerOrderly() first');
    }
    if (this.subs.size === 0) throw new MQClientError('no subscription: call subscribe() first');
    if (this.messageModel === 'CLUSTERING') {
      const retry = retryTopicOf(this.group);
      if (!this.subs.has(retry)) this.subs.set(retry, buildSubscriptionData(retry, '*'));
    }
    const batchSize = Math.max(1, this.opts.consumeMessageBatchMaxSize ?? 1);
    if (orderlyListener) {
      this.orderlyService = new ConsumeMessageOrderlyService(this, orderlyListener, {
        maxConcurrency: this.opts.consumeConcurrency ?? 20,
        batchSize,
        suspendCurrentQueueTimeMillis: this.opts.suspendCurrentQueueTimeMillis ?? 1000,
        maxReconsumeTimes: this.maxReconsumeTimes,
        lockMaxLiveTimeMs: this.lockMaxLiveTimeMs,
      });
    } else if (this.handler) {
      this.consumeService = new ConsumeMessageConcurrentlyService(this, this.handler, this.opts.consumeConcurrency ?? 20, batchSize);
    }
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
    if (this.lockingOrderly) {
      this.lockTimer = setInterval(() => {
        this.lockAll().catch((err: unknown) => this.logger.warn({ err }, 'lock renewal failed'));
      }, this.opts.rebalanceLockIntervalMs ?? 20_000);
      this.lockTimer.unref();
    }
    await this.doRebalance();
  }

  private get lockMaxLiveTimeMs(): number {
    return this.opts.rebalanceLockMaxLiveTimeMs ?? REBALANCE_LOCK_MAX_LIVE_TIME_MS;
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
    if (this.lockTimer) clearInterval(this.lockTimer);
    await this.consumeService?.shutdown(this.opts.awaitTerminationMillis ?? 5000);
    await this.orderlyService?.shutdown(this.opts.awaitTerminationMillis ?? 5000);
    for (const e of this.processQueueTable.values()) e.pq.drop();
    await this.rebalancing?.catch(() => undefined);
    // Java unlocks just before persisting; unlocking after it means whoever locks next reads the final offsets.
    if (this.lockingOrderly) {
      await Promise.all([...this.processQueueTable.values()].map((e) => this.persistBeforeUnlock(e.mq)));
      await this.unlockAll(false);
    } else await this.persistConsumerOffset();
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
      if (this.lockingOrderly) await this.unlock(e.mq, true);
    }
  }

  private async updateProcessQueueTableInRebalance(topic: string, mqSet: readonly MessageQueue[]): Promise<void> {
    const want = new Set(mqSet.map(mqKey));
    let again = false;
    for (const [key, e] of [...this.processQueueTable]) {
      // A dropped entry still here is an orderly queue whose removal must be retried first.
      if (e.mq.topic !== topic || (want.has(key) && !e.pq.dropped)) continue;
      e.pq.drop();
      if (this.lockingOrderly) {
        if (await this.tryRemoveOrderMessageQueue(e)) this.processQueueTable.delete(key);
        else again = true;
        continue;
      }
      this.processQueueTable.delete(key);
      await this.removeUnnecessaryMessageQueue(e.mq);
    }
    for (const mq of mqSet) {
      const key = mqKey(mq);
      if (this.processQueueTable.has(key) || this.state !== 'RUNNING') continue;
      if (this.lockingOrderly && !(await this.lock(mq))) {
        this.logger.debug({ group: this.group, mq }, 'queue assigned but its lock is held elsewhere; trying again soon');
        again = true;
        continue;
      }
      this.offsetStore.removeOffset(mq);
      let next: number;
      try {
        next = await this.computePullFromWhere(mq);
      } catch (err) {
        this.logger.warn({ err, mq }, 'cannot work out where to pull from; will try at the next rebalance');
        if (this.lockingOrderly) await this.unlock(mq, true);
        continue;
      }
      if (this.processQueueTable.has(key) || this.state !== 'RUNNING') continue;
      const pq = new ProcessQueue(this.orderly);
      pq.locked = true;
      pq.lastLockTimestamp = Date.now();
      this.processQueueTable.set(key, { mq, pq });
      this.logger.debug({ group: this.group, mq, next }, 'queue assigned');
      void this.pullLoop(mq, pq, next);
    }
    if (again && this.state === 'RUNNING') this.instance.rebalanceLater(500);
  }

  /**
   * Java RebalancePushImpl.tryRemoveOrderMessageQueue: waits briefly for the batch being consumed
   * (its offset must be committed before another client may lock the queue), persists the
   * offset, then unlocks oneway. False when the batch is still running: removal is retried.
   */
  private async tryRemoveOrderMessageQueue(e: QueueEntry): Promise<boolean> {
    const { mq, pq } = e;
    const force = Date.now() > pq.lastLockTimestamp + UNLOCK_DELAY_TIME_MILLS;
    if (pq.inFlight && !force && !(await settlesWithin(pq.inFlight, REMOVE_WAIT_MS))) return false;
    await this.persistBeforeUnlock(mq);
    this.offsetStore.removeOffset(mq);
    pq.locked = false;
    await this.unlock(mq, true);
    return true;
  }

  /**
   * The last offset write before a queue's lock is released, read back and written again if a
   * pull sent earlier carried an older commit offset that the broker applied after this write
   * (it stores a pull's commit offset only once its store read returns); otherwise the next
   * owner would start before messages already consumed here.
   */
  private async persistBeforeUnlock(mq: MessageQueue): Promise<void> {
    const want = this.offsetStore.readMemory(mq);
    try {
      for (let i = 0; i < 3; i++) {
        await this.offsetStore.persist(mq);
        if (want < 0 || this.messageModel !== 'CLUSTERING') return;
        if ((await this.instance.api.queryConsumerOffset(this.brokerAddr(mq), this.group, mq)) >= want) return;
      }
      this.logger.warn({ mq, offset: want }, 'the broker kept an older offset than the one persisted');
    } catch (err) {
      this.logger.warn({ err, mq }, 'persist offset of an orderly queue before unlocking failed');
    }
  }

  // ---- queue locks (Java RebalanceImpl lock / lockAll / unlock / unlockAll) ----

  private lockBody(mqSet: readonly MessageQueue[]): { consumerGroup: string; clientId: string; mqSet: readonly MessageQueue[] } {
    return { consumerGroup: this.group, clientId: this.instance.clientId, mqSet };
  }

  /** LOCK_BATCH_MQ for one queue at its master; true when this client holds it. */
  async lockOneMQ(mq: MessageQueue): Promise<boolean> {
    if (this.state !== 'RUNNING') return false;
    return this.lock(mq);
  }

  private async lock(mq: MessageQueue): Promise<boolean> {
    const addr = this.instance.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) return false;
    try {
      const locked = await this.instance.api.lockBatchMQ(addr, this.lockBody([mq]));
      const now = Date.now();
      let ok = false;
      for (const q of locked) {
        const e = this.processQueueTable.get(mqKey(q));
        if (e) {
          e.pq.locked = true;
          e.pq.lastLockTimestamp = now;
        }
        if (mqKey(q) === mqKey(mq)) ok = true;
      }
      return ok;
    } catch (err) {
      this.logger.warn({ err, mq }, 'lockBatchMQ failed');
      return false;
    }
  }

  private queuesByBroker(): Map<string, QueueEntry[]> {
    const out = new Map<string, QueueEntry[]>();
    for (const e of this.processQueueTable.values()) {
      const list = out.get(e.mq.brokerName);
      if (list) list.push(e);
      else out.set(e.mq.brokerName, [e]);
    }
    return out;
  }

  /**
   * Renews every held queue's lock. A queue the broker now gives to another client is dropped
   * at once (its pulled messages are discarded, nothing more is committed) and the next
   * rebalance asks for it again.
   */
  async lockAll(): Promise<void> {
    if (this.state !== 'RUNNING') return;
    let lost = false;
    for (const [brokerName, entries] of this.queuesByBroker()) {
      const live = entries.filter((e) => !e.pq.dropped);
      const addr = this.instance.findBrokerAddressInPublish(brokerName);
      if (!addr || live.length === 0) continue;
      let locked: MessageQueue[];
      try {
        locked = await this.instance.api.lockBatchMQ(addr, this.lockBody(live.map((e) => e.mq)));
      } catch (err) {
        this.logger.warn({ err, brokerName }, 'lockBatchMQ renewal failed; the locks age locally');
        continue;
      }
      const ok = new Set(locked.map(mqKey));
      const now = Date.now();
      for (const e of live) {
        if (ok.has(mqKey(e.mq))) {
          e.pq.locked = true;
          e.pq.lastLockTimestamp = now;
        } else if (this.processQueueTable.get(mqKey(e.mq)) === e) {
          this.logger.warn({ group: this.group, mq: e.mq }, 'queue lock lost to another client; dropping the queue');
          e.pq.locked = false;
          e.pq.drop();
          this.processQueueTable.delete(mqKey(e.mq));
          this.offsetStore.removeOffset(e.mq);
          lost = true;
        }
      }
    }
    if (lost) this.instance.rebalanceImmediately();
  }

  private async unlock(mq: MessageQueue, oneway: boolean): Promise<void> {
    const addr = this.instance.findBrokerAddressInPublish(mq.brokerName);
    if (!addr) return;
    await this.instance.api
      .unlockBatchMQ(addr, this.lockBody([mq]), 1000, oneway)
      .catch((err: unknown) => this.logger.warn({ err, mq }, 'unlockBatchMQ failed'));
  }

  private async unlockAll(oneway: boolean): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const [brokerName, entries] of this.queuesByBroker()) {
      const addr = this.instance.findBrokerAddressInPublish(brokerName);
      if (!addr) continue;
      jobs.push(
        this.instance.api.unlockBatchMQ(addr, this.lockBody(entries.map((e) => e.mq)), 1000, oneway).then(
          () => {
            for (const e of entries) e.pq.locked = false;
          },
          (err: unknown) => this.logger.warn({ err, brokerName }, 'unlockBatchMQ failed'),
        ),
      );
    }
    await Promise.all(jobs);
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
      if (this.lockingOrderly && !pq.locked) {
        // Java: "pull message later because not locked in broker".
        await this.pause(delayOnError);
        continue;
      }
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
          const dispatch = pq.putMessages(msgs);
          if (this.orderlyService) this.orderlyService.submitConsumeRequest(pq, mq, dispatch);
          else this.consumeService?.submitConsumeRequest(msgs, pq, mq);
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

  /**
   * Orderly send-back (Java ConsumeMessageOrderlyService.sendMessageBack): no CONSUMER_SEND_MSG_BACK,
   * a direct send to %RETRY%<group> with RECONSUME_TIME and MAX_RECONSUME_TIMES; the broker puts
   * it in %DLQ%<group> because the group holds queue locks (or the count is past the maximum).
   */
  sendMessageBackOrderly(msg: MessageExt): Promise<boolean> {
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

/** Resolves true if p settles within ms (the timer is cleared either way). */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    t = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(t);
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
