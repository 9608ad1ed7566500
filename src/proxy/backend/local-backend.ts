// ProxyBackend over a BrokerController in the same process: each call goes to the broker's
// service layer, the same use cases the remoting processors call, so both protocols get the same
// checks, filters, status mapping and hooks. Refusals are BrokerErrors, mapped to gRPC codes by
// the one table in grpc-code.ts (as the remote backend's are).
import { decodeRecord, type BrokerController, type SubscriptionGroupConfig, type TopicConfig } from '../../broker/index.js';
import { buildSubscriptionData } from '../../broker/clients/subscription-data.js';
import { TransactionConst } from '../../broker/transaction/transaction-const.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import { PutMessageStatus } from '../../store/index.js';
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

export class LocalBackend implements ProxyBackend {
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
    const r = await this.broker.services.sends.send({
      protocol: 'grpc',
      // 5.x producers have no group; transaction check-backs address the topic instead.
      producerGroup: req.topic,
      topic: req.topic,
      queueId: -1,
      messageGroup: req.messageGroup,
      body: req.body,
      properties: req.properties,
      flag: 0,
      sysFlag: req.sysFlag,
      bornTimestamp: req.bornTimestamp,
      bornHost: req.bornHost,
      reconsumeTimes: 0,
      client: `${req.bornHost.address}:${req.bornHost.port}`,
    });
    const status = r.put.status;
    // Stored, but a replica did not confirm: the 5.x client hears it as an error code.
    if (status !== PutMessageStatus.PUT_OK && status !== PutMessageStatus.FLUSH_DISK_TIMEOUT) throw new BrokerError(r.mapped.code, r.mapped.remark ?? String(status));
    return {
      status: status === PutMessageStatus.FLUSH_DISK_TIMEOUT ? BackendSendStatus.FLUSH_DISK_TIMEOUT : BackendSendStatus.SEND_OK,
      queueId: r.queueId,
      queueOffset: r.put.queueOffset,
      commitLogOffset: r.put.wroteOffset,
      msgId: r.put.msgId,
      recallHandle: r.recallHandle,
      brokerName: this.brokerName,
    };
  }

  pop(req: BackendPopRequest, signal?: AbortSignal): Promise<PoppedMessage[]> {
    const sub = buildSubscriptionData(req.topic, req.filter.expression || '*', req.filter.expressionType);
    const consume = this.broker.services.popConsume;
    consume.checkPop(req.group, req.topic, sub);
    return consume.pop(
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
      'grpc',
      req.clientId,
      signal,
    );
  }

  ack(group: string, topic: string, receiptHandle: string): Promise<AckResult> {
    return Promise.resolve(this.broker.services.popConsume.ack(group, topic, receiptHandle));
  }

  changeInvisibleTime(group: string, topic: string, receiptHandle: string, ms: number): Promise<{ handle: string; invisibleUntil: number } | AckResult> {
    return Promise.resolve(this.broker.services.popConsume.changeInvisibleTime(group, topic, receiptHandle, ms));
  }

  forwardToDeadLetter(group: string, topic: string, receiptHandle: string): Promise<AckResult> {
    return this.broker.services.popConsume.forwardToDeadLetter(group, topic, receiptHandle);
  }

  async endTransaction(req: BackendEndTransactionRequest): Promise<void> {
    await this.broker.services.endTransactions.end({
      producerGroup: req.producerGroup,
      tranStateTableOffset: req.tranStateTableOffset,
      commitLogOffset: req.commitLogOffset,
      commitOrRollback: req.commitOrRollback === 'COMMIT' ? TransactionConst.TRANSACTION_COMMIT_TYPE : TransactionConst.TRANSACTION_ROLLBACK_TYPE,
      fromTransactionCheck: req.fromTransactionCheck,
    });
  }

  recallMessage(topic: string, recallHandle: string): Promise<string> {
    return this.broker.services.recalls.recall(topic, recallHandle);
  }

  queryConsumerOffset(group: string, topic: string, queueId: number): Promise<number> {
    return Promise.resolve(this.broker.services.offsets.queryStored(group, topic, queueId));
  }

  commitConsumerOffset(group: string, topic: string, queueId: number, offset: number): Promise<void> {
    this.broker.services.offsets.commitChecked(group, topic, queueId, offset);
    return Promise.resolve();
  }

  getMinOffset(topic: string, queueId: number): Promise<number> {
    return Promise.resolve(this.broker.services.offsets.minOffset(topic, queueId));
  }

  getMaxOffset(topic: string, queueId: number): Promise<number> {
    return Promise.resolve(this.broker.services.offsets.maxOffset(topic, queueId));
  }

  searchOffsetByTime(topic: string, queueId: number, timestampMs: number): Promise<number> {
    return this.broker.services.offsets.searchByTime(topic, queueId, timestampMs);
  }

  /** The same checks and filters (tag hash and SQL92) as PULL_MESSAGE (issue 11). */
  async getMessage(req: BackendPullRequest): Promise<BackendPullResult> {
    const sub = buildSubscriptionData(req.topic, req.filter.expression || '*', req.filter.expressionType);
    const r = await this.broker.services.pulls.pull({
      protocol: 'grpc',
      group: req.group,
      topic: req.topic,
      queueId: req.queueId,
      offset: req.offset,
      maxNums: req.maxNums,
      sub,
      client: 'grpc',
    });
    if (r.kind === 'ERROR') throw new BrokerError(ResponseCode.SYSTEM_ERROR, r.remark ?? 'pull failed');
    return {
      messages: r.buffers.map((buf) => {
        const record = decodeRecord(buf);
        return { record, queueOffset: record.queueOffset };
      }),
      nextBeginOffset: r.nextBeginOffset,
    };
  }

  onTransactionCheck(listener: TransactionCheckListener): void {
    this.broker.transactionCheckListeners.push((half, realTopic) => listener(half, realTopic, this.brokerName));
  }

  /** Composes with what is there already, so the broker's remoting pop processor keeps its own view. */
  setClientAlive(fn: (clientId: string) => boolean): void {
    const ps = this.broker.services.pops;
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
