// The send use case, once for both protocols: broker and topic checks (RocketMQ's msgCheck),
// queue choice, size limits, direct sends to %RETRY% past the group's maximum going to the DLQ,
// unique-key and cluster stamping, routing (delay, timer, transaction), the append, stats, the
// status mapping and the `stored` hook. Remoting decodes its header into a SendRequest; the gRPC
// backend builds one from the converted message.
import { BatchDecodeError, decodeBatchBody } from '../../common/batch-codec.js';
import type { HostPort } from '../../common/message-host.js';
import { MessageConst, MixAll } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { createUniqID } from '../../common/msg-id.js';
import { setPropertyInString } from '../../common/property-edit.js';
import { javaStringHashCode } from '../../common/tag-hash.js';
import type { BrokerConfig } from '../../config/index.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import type { MessageInput, MessageStore, PutMessageResult } from '../../store/index.js';
import type { BrokerStats } from '../broker-stats.js';
import type { MessageRouter } from '../message-router.js';
import { putStatusToResponse, type MappedPut } from '../processor/put-status.js';
import type { SubscriptionGroupManager } from '../subscription-group-manager.js';
import type { TopicConfigManager } from '../topic-config-manager.js';
import { dlqTopic, isWriteable, NOT_ALLOWED_SEND_TOPICS, PermName, validateTopicName, type TopicConfig } from '../topic-config.js';
import type { BrokerHooks, Protocol } from './broker-hooks.js';
import { sendStamp, stampBatchProperties, stampSendProperties, type SendStamp } from './send-stamp.js';

const MAX_PROPERTIES_BYTES = 32767;

export interface SendServiceDeps {
  config: Pick<BrokerConfig, 'brokerPermission' | 'brokerClusterName' | 'brokerName' | 'autoCreateTopicEnable' | 'maxMessageSize' | 'regionId' | 'traceOn'>;
  topics: TopicConfigManager;
  groups: SubscriptionGroupManager;
  router: MessageRouter;
  store: MessageStore;
  stats: BrokerStats;
  hooks: BrokerHooks;
  storeHost(): HostPort;
  brokerIP(): string;
  /** True while an orderly consumer of the group holds queue locks (its retries go to the DLQ). */
  hasOrderlyLock(group: string): boolean;
  /** The broker group's replication: may refuse before the append, and holds SYNC_MASTER answers until replicated. */
  replication?: SendReplicationGate;
}

export interface SendReplicationGate {
  /** Throws a BrokerError when this broker must not take writes now (a slave, too few in-sync replicas). */
  beforePut(): void;
  /** A promise to await before answering (SYNC_MASTER), which may downgrade put.status; undefined when there is nothing to wait for. */
  afterPut(put: PutMessageResult): Promise<void> | undefined;
}

export interface SendRequest {
  protocol: Protocol;
  producerGroup: string;
  topic: string;
  /** A queue of the topic, or -1: by message group hash when one is given, else round robin. */
  queueId: number;
  messageGroup?: string;
  body: Buffer;
  properties: string;
  flag: number;
  sysFlag: number;
  bornTimestamp: number;
  bornHost: HostPort;
  reconsumeTimes: number;
  /** A retry-topic send's own maximum (remoting clients from 3.4.9 on). */
  maxReconsumeTimes?: number;
  /** The peer, named in refusals. */
  client: string;
  /** Remoting only: create a missing topic from this template when autoCreateTopicEnable is on. */
  autoCreate?: { defaultTopic: string; defaultTopicQueueNums: number };
}

export interface SendResult {
  put: PutMessageResult;
  /** Stored (perhaps with a flush or replication timeout, which `mapped` names). */
  mapped: MappedPut;
  queueId: number;
  /** Unique key(s), comma separated for a batch. */
  uniqKey: string;
  recallHandle?: string;
  /** MSG_REGION and TRACE_ON as answered to 4.x producers (their trace hooks read them). */
  regionId?: string;
  traceOn?: string;
}

export class SendService {
  private roundRobin = 0;

  /** TRACE_ON as text, and the stamped entries: built once, not per message. */
  private readonly traceOnText: string;
  private readonly stamp: SendStamp;

  constructor(private readonly d: SendServiceDeps) {
    this.traceOnText = String(d.config.traceOn);
    this.stamp = sendStamp(d.config.brokerClusterName, d.config.regionId, this.traceOnText);
  }

  /**
   * Throws a refusal (BrokerError) before anything is stored; the promise settles once stored.
   * A plain promise chain, not an async function: its saved frame and each await's promise and
   * reactions were garbage per message (issue 17).
   */
  send(req: SendRequest): Promise<SendResult> {
    const tc = this.checkTopic(req);
    this.checkSize(req.body.length, req.properties);
    const queueId = this.pickQueue(req, tc);
    const retry = this.handleRetry(req);
    if (!retry) return this.putOne(req, req.topic, queueId, req.properties);
    const props = retry.dlq ? setPropertyInString(req.properties, MessageConst.PROPERTY_DELAY_TIME_LEVEL, '-1') : req.properties;
    // A dead-letter topic created here must be on disk before its first message is, or a crash
    // would leave a stored message in a topic the broker no longer knows.
    if (retry.dlq) return this.d.topics.flush().then(() => this.putOne(req, retry.topic, retry.queueId, props));
    return this.putOne(req, retry.topic, retry.queueId, props);
  }

  /** queueId: the queue the answer names (routing may store the message in another: delay, timer). */
  private putOne(req: SendRequest, topic: string, queueId: number, props: string): Promise<SendResult> {
    const d = this.d;
    let uniqKey = getPropertyFromString(props, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    if (!uniqKey) {
      uniqKey = createUniqID();
      props += `${MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX}\u0001${uniqKey}\u0002`;
    }
    const msg: MessageInput = {
      topic,
      queueId,
      flag: req.flag,
      body: req.body,
      properties: stampSendProperties(props, this.stamp),
      sysFlag: req.sysFlag,
      bornTimestamp: req.bornTimestamp,
      bornHost: req.bornHost,
      storeHost: d.storeHost(),
      reconsumeTimes: req.reconsumeTimes,
      preparedTransactionOffset: 0,
    };
    d.replication?.beforePut();
    const recallHandle = d.router.route(msg, req.producerGroup).recallHandle;
    const key = uniqKey;
    return d.store.putMessage(msg).then((put) => {
      const replicated = d.replication?.afterPut(put);
      if (replicated) return replicated.then(() => this.finish(req, msg.topic, msg.queueId, put, queueId, key, recallHandle));
      return this.finish(req, msg.topic, msg.queueId, put, queueId, key, recallHandle);
    });
  }

  /** SEND_BATCH_MESSAGE: the body holds the messages in RocketMQ's batch encoding. */
  async sendBatch(req: SendRequest): Promise<SendResult> {
    const d = this.d;
    if (req.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) {
      throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, `batch request does not support retry group ${req.topic}`);
    }
    const tc = this.checkTopic(req);
    if (req.body.length > d.config.maxMessageSize) {
      throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, `the batch body size ${req.body.length} is over max value, MAX: ${d.config.maxMessageSize}`);
    }
    let items;
    try {
      items = decodeBatchBody(req.body);
    } catch (err) {
      if (err instanceof BatchDecodeError) throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, err.message);
      throw err;
    }
    const queueId = this.pickQueue(req, tc);
    const storeHost = d.storeHost();
    const uniqKeys: string[] = [];
    const msgs: MessageInput[] = items.map((it) => {
      this.checkSize(it.body.length, it.properties);
      let props = it.properties;
      let uniq = getPropertyFromString(props, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
      if (!uniq) {
        uniq = createUniqID();
        props += `${MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX}\u0001${uniq}\u0002`;
      }
      if (getPropertyFromString(props, MessageConst.PROPERTY_DELAY_TIME_LEVEL) !== undefined) {
        throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, 'batch messages cannot be delayed (DELAY property set)');
      }
      uniqKeys.push(uniq);
      return {
        topic: req.topic,
        queueId,
        flag: it.flag,
        body: it.body,
        properties: stampBatchProperties(props, this.stamp),
        sysFlag: req.sysFlag,
        bornTimestamp: req.bornTimestamp,
        bornHost: req.bornHost,
        storeHost,
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
      };
    });
    d.replication?.beforePut();
    const put = await d.store.putMessages(msgs);
    const replicated = d.replication?.afterPut(put);
    if (replicated) await replicated;
    return this.finish(req, req.topic, queueId, put, queueId, uniqKeys.join(','), undefined);
  }

  /** storedQueueId: the queue the offsets belong to (a delay or timer routes to another topic's queue). */
  private finish(req: SendRequest, storedTopic: string, storedQueueId: number, put: PutMessageResult, queueId: number, uniqKey: string, recallHandle: string | undefined): SendResult {
    const d = this.d;
    d.stats.recordPut(req.topic, put);
    const mapped = putStatusToResponse(put);
    if (!mapped.sent) throw new BrokerError(mapped.code, mapped.remark ?? `put message failed: ${String(put.status)}`);
    if (d.hooks.stored.length > 0) {
      d.hooks.emit('stored', d.hooks.stored, {
        protocol: req.protocol,
        producerGroup: req.producerGroup,
        topic: req.topic,
        storedTopic,
        queueId: storedQueueId,
        queueOffset: put.queueOffset,
        msgNum: put.msgNum,
        commitLogOffset: put.wroteOffset,
        msgId: put.msgId,
        uniqKey,
        wroteBytes: put.wroteBytes,
        client: req.client,
      });
    }
    return { put, mapped, queueId, uniqKey, recallHandle, regionId: d.config.regionId, traceOn: this.traceOnText };
  }

  /** RocketMQ msgCheck: broker and topic writable, name valid, not a system topic, topic exists or is auto-created. */
  private checkTopic(req: SendRequest): TopicConfig {
    const d = this.d;
    if (!isWriteable(d.config.brokerPermission)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `the broker[${d.brokerIP()}] sending message is forbidden`);
    }
    const invalid = validateTopicName(req.topic);
    if (invalid) throw new BrokerError(ResponseCode.INVALID_PARAMETER, invalid);
    if (NOT_ALLOWED_SEND_TOPICS.has(req.topic)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `Sending message to topic[${req.topic}] is forbidden.`);
    }
    let tc = d.topics.selectTopicConfig(req.topic);
    if (!tc && req.autoCreate) {
      if (req.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) {
        tc = d.topics.createTopicIfAbsent(req.topic, 1);
      } else if (d.config.autoCreateTopicEnable) {
        tc = d.topics.createTopicInSendMessageMethod(req.topic, req.autoCreate.defaultTopic, req.autoCreate.defaultTopicQueueNums, 0);
      }
    }
    if (!tc) {
      const why = req.autoCreate ? `autoCreateTopicEnable is off on broker ${d.config.brokerName}` : `broker ${d.config.brokerName}`;
      throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${req.topic}] not exist, apply first please! (${why}; producer ${req.client})`);
    }
    if (!isWriteable(tc.perm)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `the topic[${req.topic}] sending message is forbidden`);
    }
    return tc;
  }

  private pickQueue(req: SendRequest, tc: TopicConfig): number {
    const max = Math.max(tc.writeQueueNums, tc.readQueueNums);
    if (req.queueId >= max) {
      throw new BrokerError(
        ResponseCode.INVALID_PARAMETER,
        `request queueId[${req.queueId}] is illegal, topic:${req.topic} topicConfig.writeQueueNums:${tc.writeQueueNums} producer:${req.client}`,
      );
    }
    if (req.queueId >= 0) return req.queueId;
    const writeQueues = Math.max(1, tc.writeQueueNums);
    if (req.messageGroup) return Math.abs(javaStringHashCode(req.messageGroup)) % writeQueues;
    return this.roundRobin++ % writeQueues;
  }

  private checkSize(bodyLength: number, props: string): void {
    const max = this.d.config.maxMessageSize;
    if (bodyLength > max) {
      throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, `the message body size over max value, MAX: ${max}, got ${bodyLength}`);
    }
    if (props.length > MAX_PROPERTIES_BYTES / 3 && Buffer.byteLength(props) > MAX_PROPERTIES_BYTES) {
      throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, `the message properties length ${Buffer.byteLength(props)} is over max value, MAX: ${MAX_PROPERTIES_BYTES}`);
    }
  }

  /**
   * Direct sends to %RETRY%<group> (ali-ons' fallback when send-back fails): past the group's
   * maximum they go to the dead-letter queue instead.
   */
  private handleRetry(req: SendRequest): { topic: string; queueId: number; dlq: boolean } | undefined {
    if (!req.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) return undefined;
    const d = this.d;
    const group = req.topic.slice(MixAll.RETRY_GROUP_TOPIC_PREFIX.length);
    const sg = d.groups.findSubscriptionGroupConfig(group);
    if (!sg) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
    }
    const max = req.maxReconsumeTimes ?? sg.retryMaxTimes;
    if (req.reconsumeTimes > max || d.hasOrderlyLock(group)) {
      const dlq = dlqTopic(group);
      d.topics.createTopicIfAbsent(dlq, 1, PermName.PERM_READ | PermName.PERM_WRITE);
      return { topic: dlq, queueId: 0, dlq: true };
    }
    return { topic: req.topic, queueId: req.queueId >= 0 ? req.queueId : 0, dlq: false };
  }
}
