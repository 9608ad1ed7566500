// ProxyBackend over a BrokerController in the same process: thin delegation, the behaviour the
// activities had when they called the broker directly.
import { javaStringHashCode } from '../../common/tag-hash.js';
import { decodeRecord, type BrokerController, type SubscriptionGroupConfig, type TopicConfig } from '../../broker/index.js';
import { buildSubscriptionData, isMatchedByTagsCode } from '../../broker/clients/subscription-data.js';
import { TransactionConst } from '../../broker/transaction/transaction-const.js';
import { PutMessageStatus, type MessageInput } from '../../store/index.js';
import { Code, ProxyError } from '../grpc-code.js';
import {
  BackendSendStatus,
  type AckResult,
  type BackendEndTransactionRequest,
  type BackendPopRequest,
  type BackendPullRequest,
  type BackendPullResult,
  type BackendSendRequest,
  type BackendSendResult,
  type PoppedMessage,
  type ProxyBackend,
  type TopicBroker,
  type TransactionCheckListener,
} from './proxy-backend.js';

const MAX_PULL_BATCH = 32;

export class LocalBackend implements ProxyBackend {
  private roundRobin = 0;

  constructor(readonly broker: BrokerController) {}

  get brokerName(): string {
    return this.broker.config.brokerName;
  }
  get maxMessageSize(): number {
    return this.broker.config.maxMessageSize;
  }
  get enablePropertyFilter(): boolean {
    return this.broker.config.enablePropertyFilter;
  }
  get timerMaxDelaySec(): number {
    return this.broker.config.timerMaxDelaySec;
  }
  get delayLevelsMs(): readonly number[] {
    return this.broker.delayLevelsMs;
  }

  getTopicConfig(topic: string): Promise<TopicConfig | undefined> {
    return Promise.resolve(this.broker.topicConfigManager.selectTopicConfig(topic));
  }

  brokersOf(topic: string): Promise<TopicBroker[]> {
    const tc = this.broker.topicConfigManager.selectTopicConfig(topic);
    return Promise.resolve(tc ? [{ name: this.brokerName, readQueueNums: tc.readQueueNums, writeQueueNums: tc.writeQueueNums, perm: tc.perm }] : []);
  }

  getGroupConfig(group: string): Promise<SubscriptionGroupConfig | undefined> {
    return Promise.resolve(this.broker.subscriptionGroupManager.findSubscriptionGroupConfig(group));
  }

  async sendMessage(req: BackendSendRequest): Promise<BackendSendResult> {
    const b = this.broker;
    const tc = b.topicConfigManager.selectTopicConfig(req.topic);
    if (!tc) throw new ProxyError(Code.TOPIC_NOT_FOUND, `topic ${req.topic} not found`);
    const writeQueues = Math.max(1, tc.writeQueueNums);
    const queueId = req.messageGroup ? Math.abs(javaStringHashCode(req.messageGroup)) % writeQueues : this.roundRobin++ % writeQueues;
    const msg: MessageInput = {
      topic: req.topic,
      queueId,
      flag: 0,
      body: req.body,
      properties: req.properties + `CLUSTER\u0001${b.config.brokerClusterName}\u0002`,
      sysFlag: req.sysFlag,
      bornTimestamp: req.bornTimestamp,
      bornHost: req.bornHost,
      storeHost: b.storeHost,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
    };
    const routed = b.messageRouter.route(msg, req.topic);
    const r = await b.store.putMessage(msg);
    b.stats.recordPut(req.topic, r);
    if (r.status !== PutMessageStatus.PUT_OK && r.status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) {
      const code = r.status === PutMessageStatus.FLUSH_SLAVE_TIMEOUT ? Code.SLAVE_PERSISTENCE_TIMEOUT : Code.INTERNAL_SERVER_ERROR;
      throw new ProxyError(code, `store refused the message: ${String(r.status)} ${r.remark ?? ''}`.trim());
    }
    return {
      status: r.status === PutMessageStatus.FLUSH_DISK_TIMEOUT ? BackendSendStatus.FLUSH_DISK_TIMEOUT : BackendSendStatus.SEND_OK,
      queueId,
      queueOffset: r.queueOffset,
      commitLogOffset: r.wroteOffset,
      msgId: r.msgId,
      recallHandle: routed.recallHandle,
      brokerName: b.config.brokerName,
    };
  }

  async pop(req: BackendPopRequest, signal?: AbortSignal): Promise<PoppedMessage[]> {
    const sub = buildSubscriptionData(req.topic, req.filter.expression || '*', req.filter.expressionType);
    const popped = await this.broker.popService.pop(
      {
        group: req.group,
        topic: req.topic,
        maxNums: req.maxNums,
        invisibleTimeMs: req.invisibleTimeMs,
        autoRenew: req.autoRenew,
        clientId: req.clientId,
        sub,
        fifo: req.fifo,
        pollTimeMs: req.pollTimeMs,
        maxDeliveryAttempts: req.maxDeliveryAttempts,
      },
      signal,
    );
    if (popped.length > 0) this.broker.stats.recordPull(req.topic, req.group, popped.length, 0);
    return popped;
  }

  ack(group: string, _topic: string, receiptHandle: string): Promise<AckResult> {
    return Promise.resolve(this.broker.popService.ack(group, receiptHandle));
  }

  changeInvisibleTime(group: string, _topic: string, receiptHandle: string, ms: number): Promise<{ handle: string; invisibleUntil: number } | AckResult> {
    return Promise.resolve(this.broker.popService.changeInvisibleTime(group, receiptHandle, ms));
  }

  forwardToDeadLetter(group: string, _topic: string, receiptHandle: string): Promise<AckResult> {
    return this.broker.popService.forwardToDeadLetter(group, receiptHandle);
  }

  async endTransaction(req: BackendEndTransactionRequest): Promise<void> {
    await this.broker.transactionService.endTransaction({
      producerGroup: req.producerGroup,
      tranStateTableOffset: req.tranStateTableOffset,
      commitLogOffset: req.commitLogOffset,
      commitOrRollback: req.commitOrRollback === 'COMMIT' ? TransactionConst.TRANSACTION_COMMIT_TYPE : TransactionConst.TRANSACTION_ROLLBACK_TYPE,
      fromTransactionCheck: req.fromTransactionCheck,
    });
  }

  recallMessage(topic: string, recallHandle: string): Promise<string> {
    return this.broker.recallMessage(topic, recallHandle);
  }

  queryConsumerOffset(group: string, topic: string, queueId: number): Promise<number> {
    return Promise.resolve(this.broker.consumerOffsetManager.queryOffset(group, topic, queueId));
  }

  commitConsumerOffset(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    this.broker.consumerOffsetManager.commitOffset(group, topic, queueId, offset);
    return Promise.resolve();
  }

  getMinOffset(topic: string, queueId: number): Promise<number> {
    return Promise.resolve(this.broker.store.getMinOffsetInQueue(topic, queueId));
  }

  getMaxOffset(topic: string, queueId: number): Promise<number> {
    return Promise.resolve(this.broker.store.getMaxOffsetInQueue(topic, queueId));
  }

  searchOffsetByTime(topic: string, queueId: number, timestampMs: number): Promise<number> {
    return this.broker.store.getOffsetInQueueByTime(topic, queueId, timestampMs);
  }

  async getMessage(req: BackendPullRequest): Promise<BackendPullResult> {
    const sub = buildSubscriptionData(req.topic, req.filter.expression || '*', req.filter.expressionType);
    const n = Math.min(Math.max(1, req.maxNums), MAX_PULL_BATCH);
    const r = await this.broker.store.getMessage(req.topic, req.queueId, req.offset, n, undefined, (c) => isMatchedByTagsCode(sub, c));
    return {
      messages: r.buffers.map((buf, i) => ({ record: decodeRecord(buf), queueOffset: r.queueOffsets[i] })),
      nextBeginOffset: r.nextBeginOffset,
    };
  }

  onTransactionCheck(listener: TransactionCheckListener): void {
    this.broker.transactionCheckListeners.push((half, realTopic) => listener(half, realTopic, this.brokerName));
  }

  /** Composes with what is there already, so the broker's remoting pop processor keeps its own view. */
  setClientAlive(fn: (clientId: string) => boolean): void {
    const ps = this.broker.popService;
    const prev = ps.clientAlive;
    ps.clientAlive = (id) => fn(id) || prev(id);
  }

  registerProducerTopic(_topic: string): Promise<void> {
    return Promise.resolve();
  }

  /** The broker belongs to its own role handle; the backend holds nothing. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
