// CONSUMER_SEND_MSG_BACK: a consumer failed a message; store it again on %RETRY%<group> with a
// growing delay (level 3 + reconsume times), or in %DLQ%<group> past the group's maximum.
import { decodeMessage } from '../../common/message-codec.js';
import { MessageConst } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { createMessageId } from '../../common/msg-id.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import { BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingChannel, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerController } from '../broker-controller.js';
import { dlqTopic, isWriteable, PermName, retryTopic } from '../topic-config.js';
import { putStatusToResponse } from './put-status.js';
import { restoreInput } from '../restore-message.js';

const V3_4_9 = 121;
const RW = PermName.PERM_READ | PermName.PERM_WRITE;

const SEND_BACK_HEADER = {
  offset: { type: 'long', required: true },
  group: { type: 'string', required: true },
  delayLevel: { type: 'int', required: true },
  originMsgId: { type: 'string' },
  originTopic: { type: 'string' },
  unitMode: { type: 'bool' },
  maxReconsumeTimes: { type: 'int' },
} as const;

export interface SendBackResult {
  topic: string;
  toDlq: boolean;
}

export class SendBackProcessor {
  constructor(private readonly broker: BrokerController) {}

  readonly process = async (req: RemotingCommand, _ch: RemotingChannel): Promise<RemotingCommand> => {
    const h = decodeHeader(SEND_BACK_HEADER, req.extFields);
    const max = req.version >= V3_4_9 ? h.maxReconsumeTimes : undefined;
    await this.sendBack(h.group, h.offset, h.delayLevel, h.originMsgId, max);
    return createResponse(ResponseCode.SUCCESS);
  };

  /**
   * Re-stores the record at commitLogOffset for the group. delayLevel 0 = the ladder, < 0 = straight
   * to the DLQ. Used by remoting send-back and by pop/gRPC nack and DLQ forwarding.
   */
  async sendBack(group: string, commitLogOffset: number, delayLevel: number, originMsgId?: string, maxReconsumeTimes?: number): Promise<SendBackResult> {
    const b = this.broker;
    const sg = b.subscriptionGroupManager.findSubscriptionGroupConfig(group);
    if (!sg) throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group not exist, ${group}`);
    if (!isWriteable(b.config.brokerPermission)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `the broker[${b.brokerIP}] sending message is forbidden`);
    }
    const rec = await b.store.lookMessageByOffset(commitLogOffset);
    if (!rec) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `look message by offset failed, ${commitLogOffset}`);
    const m = decodeMessage(rec, 0, { checkCrc: false });
    let props = m.properties;
    if (getPropertyFromString(props, MessageConst.PROPERTY_RETRY_TOPIC) === undefined) {
      props = setPropertyInString(props, MessageConst.PROPERTY_RETRY_TOPIC, m.topic);
    }
    if (getPropertyFromString(props, MessageConst.PROPERTY_ORIGIN_MESSAGE_ID) === undefined) {
      props = setPropertyInString(props, MessageConst.PROPERTY_ORIGIN_MESSAGE_ID, originMsgId || createMessageId(m.storeHost, m.commitLogOffset));
    }
    props = removePropertyFromString(props, MessageConst.PROPERTY_DELAY_TIME_LEVEL);
    const max = maxReconsumeTimes ?? sg.retryMaxTimes;
    let topic = retryTopic(group);
    let queueId = Math.floor(Math.random() * Math.max(1, sg.retryQueueNums));
    const toDlq = m.reconsumeTimes >= max || delayLevel < 0;
    const hadTopic = b.topicConfigManager.selectTopicConfig(toDlq ? dlqTopic(group) : retryTopic(group)) !== undefined;
    if (toDlq) {
      topic = dlqTopic(group);
      queueId = 0;
      b.topicConfigManager.createTopicIfAbsent(topic, 1, RW);
    } else {
      b.topicConfigManager.createTopicIfAbsent(topic, Math.max(1, sg.retryQueueNums), RW);
      const level = delayLevel === 0 ? 3 + m.reconsumeTimes : delayLevel;
      props = setPropertyInString(props, MessageConst.PROPERTY_DELAY_TIME_LEVEL, String(level));
    }
    const msg = restoreInput(m, { topic, queueId, properties: props, storeHost: b.storeHost, reconsumeTimes: m.reconsumeTimes + 1 });
    // Fix (semantics suite, restart after SIGKILL): a retry or DLQ topic created here was only
    // persisted in the background, so a kill soon after lost its config and the messages stored
    // in it could not be pulled after the restart. Java persists it before storing, as here.
    if (!hadTopic) await b.topicConfigManager.flush();
    b.messageRouter.route(msg, group);
    const r = await b.store.putMessage(msg);
    const mapped = putStatusToResponse(r);
    if (!mapped.sent) throw new BrokerError(mapped.code === ResponseCode.SUCCESS ? ResponseCode.SYSTEM_ERROR : mapped.code, mapped.remark ?? 'send back failed');
    return { topic, toDlq };
  }
}
