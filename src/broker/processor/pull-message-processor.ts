// PULL_MESSAGE: read by queue offset, filter by tag hash (and SQL92 on properties), hold empty
// pulls for long polling, commit the consumer's offset when asked.
import { getPropertyFromString } from '../../common/message-properties.js';
import {
  BrokerError,
  createResponse,
  decodeHeader,
  ResponseCode,
  type RemotingChannel,
  type RemotingCommand,
} from '../../remoting/index.js';
import { GetMessageStatus } from '../../store/index.js';
import type { BrokerController } from '../broker-controller.js';
import { buildSubscriptionData, isMatchedByTagsCode, type SubscriptionData } from '../clients/subscription-data.js';
import type { HeldPull } from '../longpolling/pull-request-hold-service.js';
import { isReadable } from '../topic-config.js';
import { readRecordProperties } from '../record-view.js';

export const PullSysFlag = { COMMIT_OFFSET: 1, SUSPEND: 2, SUBSCRIPTION: 4, CLASS_FILTER: 8, LITE_PULL: 16 } as const;

const PULL_HEADER = {
  consumerGroup: { type: 'string', required: true },
  topic: { type: 'string', required: true },
  queueId: { type: 'int', required: true },
  queueOffset: { type: 'long', required: true },
  maxMsgNums: { type: 'int', required: true },
  sysFlag: { type: 'int', required: true },
  commitOffset: { type: 'long', required: true },
  suspendTimeoutMillis: { type: 'long', required: true },
  subscription: { type: 'string' },
  subVersion: { type: 'long', required: true },
  expressionType: { type: 'string' },
  maxMsgBytes: { type: 'int' },
} as const;

/** Pull caps (RocketMQ: 32 messages / 256 KiB from memory; a client may ask for fewer). */
const MAX_PULL_MSGS = 32;
const MAX_PULL_BYTES = 256 * 1024;

export class PullMessageProcessor {
  constructor(private readonly broker: BrokerController) {}

  readonly process = (req: RemotingCommand, ch: RemotingChannel): Promise<RemotingCommand | null> =>
    this.processRequest(req, ch, true);

  /** Re-runs a held pull after a message arrived or its hold timed out, and answers it. */
  readonly wake = (p: HeldPull): void => {
    this.processRequest(p.request, p.channel, false).then(
      (resp) => {
        if (resp) p.channel.respond(p.request, resp);
      },
      (err: unknown) => {
        const e = err instanceof BrokerError ? err : new BrokerError(ResponseCode.SYSTEM_ERROR, String((err as Error)?.message ?? err));
        p.channel.respond(p.request, createResponse(e.code, e.remark));
      },
    );
  };

  async processRequest(req: RemotingCommand, ch: RemotingChannel, allowSuspend: boolean): Promise<RemotingCommand | null> {
    const b = this.broker;
    const h = decodeHeader(PULL_HEADER, req.extFields);
    if (!isReadable(b.config.brokerPermission)) {
      throw new BrokerError(ResponseCode.NO_PERMISSION, `the broker[${b.brokerIP}] pulling message is forbidden`);
    }
    const group = b.subscriptionGroupManager.findSubscriptionGroupConfig(h.consumerGroup);
    if (!group) {
      throw new BrokerError(
        ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST,
        `subscription group [${h.consumerGroup}] does not exist, create it first (autoCreateSubscriptionGroup is off)`,
      );
    }
    if (!group.consumeEnable) throw new BrokerError(ResponseCode.NO_PERMISSION, `subscription group no permission, ${h.consumerGroup}`);
    const tc = b.topicConfigManager.selectTopicConfig(h.topic);
    if (!tc) throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic[${h.topic}] not exist, apply first please!`);
    if (!isReadable(tc.perm)) throw new BrokerError(ResponseCode.NO_PERMISSION, `the topic[${h.topic}] pulling message is forbidden`);
    if (h.queueId < 0 || h.queueId >= tc.readQueueNums) {
      throw new BrokerError(
        ResponseCode.INVALID_PARAMETER,
        `queueId[${h.queueId}] is illegal, topic:[${h.topic}] topicConfig.readQueueNums:[${tc.readQueueNums}] consumer:[${ch.remoteAddress}]`,
      );
    }
    const sub = this.subscriptionOf(h, ch);
    if (sub.sql && !b.config.enablePropertyFilter) {
      throw new BrokerError(ResponseCode.SYSTEM_ERROR, 'The broker does not support consumer to filter message by SQL92');
    }

    // The commit offset is stored before the read: after the await, a newer UPDATE_CONSUMER_OFFSET
    // from the same client may already have arrived and must not be overwritten by this older one.
    this.commitIfAsked(h, allowSuspend);
    const hasSuspend = (h.sysFlag & PullSysFlag.SUSPEND) !== 0;
    const maxNums = Math.max(1, Math.min(h.maxMsgNums, MAX_PULL_MSGS));
    const filter = sub.subAll && !sub.sql ? undefined : (tagsCode: number) => isMatchedByTagsCode(sub, tagsCode);
    const r = await b.store.getMessage(h.topic, h.queueId, h.queueOffset, maxNums, MAX_PULL_BYTES, filter);

    let buffers = r.buffers;
    if (sub.sql && buffers.length > 0) buffers = buffers.filter((rec) => sub.sql!.matches(propertyReader(rec)));

    let code: number;
    let remark: string | undefined;
    let next = r.nextBeginOffset;
    switch (r.status) {
      case GetMessageStatus.FOUND:
        code = buffers.length > 0 ? ResponseCode.SUCCESS : ResponseCode.PULL_RETRY_IMMEDIATELY;
        break;
      case GetMessageStatus.NO_MATCHED_MESSAGE:
      case GetMessageStatus.MESSAGE_WAS_REMOVING:
        code = ResponseCode.PULL_RETRY_IMMEDIATELY;
        break;
      case GetMessageStatus.NO_MATCHED_LOGIC_QUEUE:
      case GetMessageStatus.NO_MESSAGE_IN_QUEUE:
        code = h.queueOffset !== 0 ? ResponseCode.PULL_OFFSET_MOVED : ResponseCode.PULL_NOT_FOUND;
        next = 0;
        break;
      case GetMessageStatus.OFFSET_OVERFLOW_ONE:
      case GetMessageStatus.OFFSET_FOUND_NULL:
        code = ResponseCode.PULL_NOT_FOUND;
        break;
      case GetMessageStatus.OFFSET_OVERFLOW_BADLY:
      case GetMessageStatus.OFFSET_TOO_SMALL:
        code = ResponseCode.PULL_OFFSET_MOVED;
        remark = `the request offset ${h.queueOffset} is out of [${r.minOffset}, ${r.maxOffset}]`;
        break;
      default:
        code = ResponseCode.SYSTEM_ERROR;
        remark = `store getMessage returned ${String(r.status)}`;
    }

    if (code === ResponseCode.PULL_NOT_FOUND && allowSuspend && hasSuspend) {
      const timeout = b.config.longPollingEnable ? h.suspendTimeoutMillis : b.config.shortPollingTimeMills;
      b.pullRequestHoldService.hold({
        request: req,
        channel: ch,
        topic: h.topic,
        queueId: h.queueId,
        offset: h.queueOffset,
        deadline: Date.now() + Math.min(timeout, 25_000),
        sub,
      });
      return null;
    }
    const resp = createResponse(code, remark, {
      nextBeginOffset: next,
      minOffset: r.minOffset,
      maxOffset: r.maxOffset,
      suggestWhichBrokerId: 0,
      topicSysFlag: tc.topicSysFlag,
      groupSysFlag: 0,
    });
    if (code === ResponseCode.SUCCESS) resp.body = buffers;
    b.stats.recordPull(h.topic, h.consumerGroup, buffers.length, r.totalSize);
    return resp;
  }

  /** Java stores the pull's commit offset only on the first pass (not on a re-run after waking). */
  private commitIfAsked(h: { sysFlag: number; consumerGroup: string; topic: string; queueId: number; commitOffset: number }, first: boolean): void {
    if (first && (h.sysFlag & PullSysFlag.COMMIT_OFFSET) !== 0) {
      this.broker.consumerOffsetManager.commitOffset(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    }
  }

  private subscriptionOf(
    h: { sysFlag: number; topic: string; consumerGroup: string; subscription?: string; expressionType?: string; subVersion: number },
    ch: RemotingChannel,
  ): SubscriptionData {
    if ((h.sysFlag & PullSysFlag.SUBSCRIPTION) !== 0) {
      return buildSubscriptionData(h.topic, h.subscription, h.expressionType, h.subVersion);
    }
    const info = this.broker.consumerManager.getConsumerGroupInfo(h.consumerGroup);
    if (!info) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's group info not exist, group: ${h.consumerGroup} client: ${ch.remoteAddress}`);
    }
    const sub = info.findSubscriptionData(h.topic);
    if (!sub) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_NOT_EXIST, `the consumer's subscription not exist, group: ${h.consumerGroup} topic: ${h.topic}`);
    }
    if (sub.subVersion < h.subVersion) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_NOT_LATEST, `the consumer's subscription not latest, group: ${h.consumerGroup} topic: ${h.topic}`);
    }
    return sub;
  }
}

function propertyReader(record: Buffer): (name: string) => string | undefined {
  const props = readRecordProperties(record);
  return (name) => getPropertyFromString(props, name);
}
