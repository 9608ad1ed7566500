// The retry use case: a consumer failed a message, so it is stored again on %RETRY%<group> with a
// growing delay (level 3 + reconsume times), or in %DLQ%<group> past the group's maximum or when
// asked to. Remoting CONSUMER_SEND_MSG_BACK, pop revival and gRPC dead-lettering all come here,
// and so do the `retried` and `deadLettered` hooks.
import type { HostPort } from '../../common/message-host.js';
import { decodeMessage } from '../../common/message-codec.js';
import { MessageConst } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { createMessageId } from '../../common/msg-id.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import type { BrokerConfig } from '../../config/index.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import type { MessageStore } from '../../store/index.js';
import type { MessageRouter } from '../message-router.js';
import { putStatusToResponse } from '../processor/put-status.js';
import { restoreInput } from '../restore-message.js';
import type { SubscriptionGroupManager } from '../subscription-group-manager.js';
import type { TopicConfigManager } from '../topic-config-manager.js';
import { dlqTopic, isWriteable, PermName, retryTopic } from '../topic-config.js';
import type { BrokerHooks } from './broker-hooks.js';
import type { SendReplicationGate } from './send-service.js';

const RW = PermName.PERM_READ | PermName.PERM_WRITE;

export interface RetryServiceDeps {
  config: Pick<BrokerConfig, 'brokerPermission'>;
  topics: TopicConfigManager;
  groups: SubscriptionGroupManager;
  router: MessageRouter;
  store: MessageStore;
  hooks: BrokerHooks;
  storeHost(): HostPort;
  brokerIP(): string;
  /** Refuses writes where the broker must not take them (a slave). */
  replication?: Pick<SendReplicationGate, 'beforePut'>;
}

export interface SendBackResult {
  topic: string;
  toDlq: boolean;
}

export class RetryService {
  constructor(private readonly d: RetryServiceDeps) {}

  /**
   * Re-stores the record at commitLogOffset for the group. delayLevel 0 = the ladder, < 0 = straight
   * to the DLQ.
   */
  async sendBack(group: string, commitLogOffset: number, delayLevel: number, originMsgId?: string, maxReconsumeTimes?: number): Promise<SendBackResult> {
    const d = this.d;
    const sg = d.groups.findSubscriptionGroupConfig(group);
    if (!sg) throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
    if (!isWriteable(d.config.brokerPermission)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `the broker[${d.brokerIP()}] sending message is forbidden`);
    }
    d.replication?.beforePut();
    const rec = await d.store.lookMessageByOffset(commitLogOffset);
    if (!rec) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${commitLogOffset}`);
    const m = decodeMessage(rec, 0, { checkCrc: false });
    let props = m.properties;
    const originTopic = getPropertyFromString(props, MessageConst.PROPERTY_RETRY_TOPIC);
    if (originTopic === undefined) props = setPropertyInString(props, MessageConst.PROPERTY_RETRY_TOPIC, m.topic);
    let originId = getPropertyFromString(props, MessageConst.PROPERTY_ORIGIN_MESSAGE_ID);
    if (originId === undefined) {
      originId = originMsgId || createMessageId(m.storeHost, m.commitLogOffset);
      props = setPropertyInString(props, MessageConst.PROPERTY_ORIGIN_MESSAGE_ID, originId);
    }
    props = removePropertyFromString(props, MessageConst.PROPERTY_DELAY_TIME_LEVEL);
    const max = maxReconsumeTimes ?? sg.retryMaxTimes;
    let topic = retryTopic(group);
    let queueId = Math.floor(Math.random() * Math.max(1, sg.retryQueueNums));
    const toDlq = m.reconsumeTimes >= max || delayLevel < 0;
    const hadTopic = d.topics.selectTopicConfig(toDlq ? dlqTopic(group) : retryTopic(group)) !== undefined;
    let level = 0;
    if (toDlq) {
      topic = dlqTopic(group);
      queueId = 0;
      d.topics.createTopicIfAbsent(topic, 1, RW);
    } else {
      d.topics.createTopicIfAbsent(topic, Math.max(1, sg.retryQueueNums), RW);
      level = delayLevel === 0 ? 3 + m.reconsumeTimes : delayLevel;
      props = setPropertyInString(props, MessageConst.PROPERTY_DELAY_TIME_LEVEL, String(level));
    }
    const msg = restoreInput(m, { topic, queueId, properties: props, storeHost: d.storeHost(), reconsumeTimes: m.reconsumeTimes + 1 });
    // Fix (semantics suite, restart after SIGKILL): a retry or DLQ topic created here was only
    // persisted in the background, so a kill soon after lost its config and the messages stored
    // in it could not be pulled after the restart. Java persists it before storing, as here.
    if (!hadTopic) await d.topics.flush();
    d.router.route(msg, group);
    const r = await d.store.putMessage(msg);
    const mapped = putStatusToResponse(r);
    if (!mapped.sent) throw new BrokerError(mapped.code === ResponseCode.SUCCESS ? ResponseCode.SYSTEM_ERROR : mapped.code, mapped.remark ?? 'send back failed');
    const origin = originTopic ?? m.topic;
    if (toDlq) {
      if (d.hooks.deadLettered.length > 0) {
        d.hooks.emit('deadLettered', d.hooks.deadLettered, { group, originTopic: origin, dlqTopic: topic, reconsumeTimes: m.reconsumeTimes + 1, commitLogOffset, msgId: originId });
      }
    } else if (d.hooks.retried.length > 0) {
      d.hooks.emit('retried', d.hooks.retried, {
        group,
        originTopic: origin,
        retryTopic: topic,
        reconsumeTimes: m.reconsumeTimes + 1,
        delayLevel: level,
        commitLogOffset,
        msgId: originId,
      });
    }
    return { topic, toDlq };
  }
}
