// SEND_MESSAGE / SEND_MESSAGE_V2 / SEND_BATCH_MESSAGE: validate, stamp ids, route special
// messages (retry → DLQ, delay, timer, transaction), append, answer with ids and offsets.
import { BatchDecodeError, decodeBatchBody } from '../../common/batch-codec.js';
import { MessageConst, MixAll } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { createUniqID } from '../../common/msg-id.js';
import { setPropertyInString } from '../../common/property-edit.js';
import {
  bodyOf,
  BrokerError,
  createResponse,
  ResponseCode,
  type RemotingChannel,
  type RemotingCommand,
} from '../../remoting/index.js';
import type { MessageInput, PutMessageResult } from '../../store/index.js';
import type { BrokerController } from '../broker-controller.js';
import { hostPortOf } from '../record-view.js';
import { decodeSendHeader, type SendMessageRequestHeader } from '../send-message-header.js';
import {
  dlqTopic,
  isWriteable,
  NOT_ALLOWED_SEND_TOPICS,
  PermName,
  validateTopicName,
  type TopicConfig,
} from '../topic-config.js';
import { putStatusToResponse } from './put-status.js';

const V3_4_9 = 121;
const MAX_PROPERTIES_BYTES = 32767;

export class SendMessageProcessor {
  constructor(private readonly broker: BrokerController) {}

  readonly process = (req: RemotingCommand, ch: RemotingChannel): Promise<RemotingCommand> => {
    const h = decodeSendHeader(req);
    return h.batch ? this.sendBatch(req, ch, h) : this.sendOne(req, ch, h);
  };

  private async sendOne(req: RemotingCommand, ch: RemotingChannel, h: SendMessageRequestHeader): Promise<RemotingCommand> {
    const b = this.broker;
    const tc = this.checkTopic(h, ch);
    const body = bodyOf(req);
    this.checkSize(body.length, h.properties);
    let topic = h.topic;
    let queueId = this.pickQueue(h, tc, ch);
    let props = h.properties;
    const retry = this.handleRetry(h, req.version);
    // A dead-letter topic created here must be on disk before its first message is, or a crash
    // would leave a stored message in a topic the broker no longer knows.
    if (retry?.dlq) await b.topicConfigManager.flush();
    if (retry) {
      topic = retry.topic;
      queueId = retry.queueId;
      if (retry.dlq) props = setPropertyInString(props, MessageConst.PROPERTY_DELAY_TIME_LEVEL, '-1');
    }
    let uniqKey = getPropertyFromString(props, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    if (!uniqKey) {
      uniqKey = createUniqID();
      props += `${MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX}\u0001${uniqKey}\u0002`;
    }
    if (getPropertyFromString(props, MessageConst.PROPERTY_CLUSTER) !== b.config.brokerClusterName) {
      props = setPropertyInString(props, MessageConst.PROPERTY_CLUSTER, b.config.brokerClusterName);
    }
    const msg: MessageInput = {
      topic,
      queueId,
      flag: h.flag,
      body,
      properties: props,
      sysFlag: h.sysFlag,
      bornTimestamp: h.bornTimestamp,
      bornHost: hostPortOf(ch.remoteAddress),
      storeHost: b.storeHost,
      reconsumeTimes: h.reconsumeTimes,
      preparedTransactionOffset: 0,
    };
    const routed = b.messageRouter.route(msg, h.producerGroup);
    const r = await b.store.putMessage(msg);
    b.stats.recordPut(h.topic, r);
    return this.response(r, queueId, uniqKey, routed.recallHandle);
  }

  private async sendBatch(req: RemotingCommand, ch: RemotingChannel, h: SendMessageRequestHeader): Promise<RemotingCommand> {
    const b = this.broker;
    if (h.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) {
      throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, `batch request does not support retry group ${h.topic}`);
    }
    const tc = this.checkTopic(h, ch);
    const body = bodyOf(req);
    if (body.length > b.config.maxMessageSize) {
      throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, `the batch body size ${body.length} is over max value, MAX: ${b.config.maxMessageSize}`);
    }
    let items;
    try {
      items = decodeBatchBody(body);
    } catch (err) {
      if (err instanceof BatchDecodeError) throw new BrokerError(ResponseCode.MESSAGE_ILLEGAL, err.message);
      throw err;
    }
    const queueId = this.pickQueue(h, tc, ch);
    const bornHost = hostPortOf(ch.remoteAddress);
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
      props = setPropertyInString(props, MessageConst.PROPERTY_CLUSTER, b.config.brokerClusterName);
      return {
        topic: h.topic,
        queueId,
        flag: it.flag,
        body: it.body,
        properties: props,
        sysFlag: h.sysFlag,
        bornTimestamp: h.bornTimestamp,
        bornHost,
        storeHost: b.storeHost,
        reconsumeTimes: 0,
        preparedTransactionOffset: 0,
      };
    });
    const r = await b.store.putMessages(msgs);
    b.stats.recordPut(h.topic, r);
    return this.response(r, queueId, uniqKeys.join(','), undefined);
  }

  private response(r: PutMessageResult, queueId: number, uniqKey: string, recallHandle: string | undefined): RemotingCommand {
    const mapped = putStatusToResponse(r);
    if (!mapped.sent) return createResponse(mapped.code, mapped.remark);
    return createResponse(mapped.code, mapped.remark, {
      msgId: r.msgId,
      queueId,
      queueOffset: r.queueOffset,
      transactionId: uniqKey,
      MSG_REGION: 'DefaultRegion',
      TRACE_ON: 'true',
      recallHandle,
    });
  }

  /** RocketMQ msgCheck: broker and topic writable, name valid, not a system topic, topic exists or is auto-created. */
  private checkTopic(h: SendMessageRequestHeader, ch: RemotingChannel): TopicConfig {
    const b = this.broker;
    if (!isWriteable(b.config.brokerPermission)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `the broker[${b.brokerIP}] sending message is forbidden`);
    }
    const invalid = validateTopicName(h.topic);
    if (invalid) throw new BrokerError(ResponseCode.INVALID_PARAMETER, invalid);
    if (NOT_ALLOWED_SEND_TOPICS.has(h.topic)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `Sending message to topic[${h.topic}] is forbidden.`);
    }
    let tc = b.topicConfigManager.selectTopicConfig(h.topic);
    if (!tc) {
      if (h.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) {
        tc = b.topicConfigManager.createTopicIfAbsent(h.topic, 1);
      } else if (b.config.autoCreateTopicEnable) {
        tc = b.topicConfigManager.createTopicInSendMessageMethod(h.topic, h.defaultTopic, h.defaultTopicQueueNums, 0);
      }
    }
    if (!tc) {
      throw new BrokerError(
        ResponseCode.TOPIC_NOT_EXIST,
        `topic[${h.topic}] not exist, apply first please! (autoCreateTopicEnable is off on broker ${b.config.brokerName}; producer ${ch.remoteAddress})`,
      );
    }
    if (!isWriteable(tc.perm)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `the topic[${h.topic}] sending message is forbidden`);
    }
    return tc;
  }

  private pickQueue(h: SendMessageRequestHeader, tc: TopicConfig, ch: RemotingChannel): number {
    const max = Math.max(tc.writeQueueNums, tc.readQueueNums);
    if (h.queueId >= max) {
      throw new BrokerError(
        ResponseCode.INVALID_PARAMETER,
        `request queueId[${h.queueId}] is illegal, topic:${h.topic} topicConfig.writeQueueNums:${tc.writeQueueNums} producer:${ch.remoteAddress}`,
      );
    }
    return h.queueId >= 0 ? h.queueId : Math.floor(Math.random() * tc.writeQueueNums);
  }

  private checkSize(bodyLength: number, props: string): void {
    const max = this.broker.config.maxMessageSize;
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
  private handleRetry(h: SendMessageRequestHeader, clientVersion: number): { topic: string; queueId: number; dlq: boolean } | undefined {
    if (!h.topic.startsWith(MixAll.RETRY_GROUP_TOPIC_PREFIX)) return undefined;
    const group = h.topic.slice(MixAll.RETRY_GROUP_TOPIC_PREFIX.length);
    const sg = this.broker.subscriptionGroupManager.findSubscriptionGroupConfig(group);
    if (!sg) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
    }
    let max = sg.retryMaxTimes;
    if (clientVersion >= V3_4_9 && h.maxReconsumeTimes !== undefined) max = h.maxReconsumeTimes;
    if (h.reconsumeTimes > max || this.broker.hasOrderlyLock(group)) {
      const dlq = dlqTopic(group);
      this.broker.topicConfigManager.createTopicIfAbsent(dlq, 1, PermName.PERM_READ | PermName.PERM_WRITE);
      return { topic: dlq, queueId: 0, dlq: true };
    }
    return { topic: h.topic, queueId: h.queueId >= 0 ? h.queueId : 0, dlq: false };
  }
}
