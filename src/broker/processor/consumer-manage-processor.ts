// GET_CONSUMER_LIST_BY_GROUP, QUERY/UPDATE_CONSUMER_OFFSET, GET_MAX/MIN_OFFSET,
// SEARCH_OFFSET_BY_TIMESTAMP, GET_EARLIEST_MSG_STORETIME.
import { BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerController } from '../broker-controller.js';

const TOPIC_QUEUE = { topic: { type: 'string', required: true }, queueId: { type: 'int', required: true } } as const;

export class ConsumerManageProcessor {
  constructor(private readonly broker: BrokerController) {}

  readonly getConsumerListByGroup = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader({ consumerGroup: { type: 'string', required: true } }, req.extFields);
    const info = this.broker.consumerManager.getConsumerGroupInfo(h.consumerGroup);
    const ids = info?.clientIds() ?? [];
    if (ids.length === 0) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `no consumer for this group, ${h.consumerGroup}`);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify({ consumerIdList: ids })));
  };

  readonly updateConsumerOffset = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(
      {
        consumerGroup: { type: 'string', required: true },
        topic: { type: 'string', required: true },
        queueId: { type: 'int', required: true },
        commitOffset: { type: 'long', required: true },
      },
      req.extFields,
    );
    const b = this.broker;
    if (!b.subscriptionGroupManager.get(h.consumerGroup) && !b.subscriptionGroupManager.findSubscriptionGroupConfig(h.consumerGroup)) {
      throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `subscription group ${h.consumerGroup} not exist`);
    }
    if (!b.topicConfigManager.selectTopicConfig(h.topic)) {
      throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic ${h.topic} not exist`);
    }
    b.consumerOffsetManager.commitOffset(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    return createResponse(ResponseCode.SUCCESS);
  };

  /** A stored offset ≥ 0 wins; a fresh group on a queue whose first message is still there starts at 0. */
  readonly queryConsumerOffset = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(
      { consumerGroup: { type: 'string', required: true }, topic: { type: 'string', required: true }, queueId: { type: 'int', required: true } },
      req.extFields,
    );
    const b = this.broker;
    const off = b.consumerOffsetManager.queryOffset(h.consumerGroup, h.topic, h.queueId);
    if (off >= 0) return createResponse(ResponseCode.SUCCESS, undefined, { offset: off });
    if (b.store.getMinOffsetInQueue(h.topic, h.queueId) <= 0) return createResponse(ResponseCode.SUCCESS, undefined, { offset: 0 });
    return createResponse(ResponseCode.QUERY_NOT_FOUND, 'Not found, maybe this group consumer boot first');
  };

  readonly getMaxOffset = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(TOPIC_QUEUE, req.extFields);
    return createResponse(ResponseCode.SUCCESS, undefined, { offset: this.broker.store.getMaxOffsetInQueue(h.topic, h.queueId) });
  };

  readonly getMinOffset = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(TOPIC_QUEUE, req.extFields);
    return createResponse(ResponseCode.SUCCESS, undefined, { offset: this.broker.store.getMinOffsetInQueue(h.topic, h.queueId) });
  };

  readonly searchOffsetByTimestamp = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader({ ...TOPIC_QUEUE, timestamp: { type: 'long', required: true } }, req.extFields);
    const offset = await this.broker.store.getOffsetInQueueByTime(h.topic, h.queueId, h.timestamp);
    return createResponse(ResponseCode.SUCCESS, undefined, { offset });
  };

  readonly getEarliestMsgStoretime = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(TOPIC_QUEUE, req.extFields);
    const timestamp = await this.broker.store.getEarliestMessageTime(h.topic, h.queueId);
    return createResponse(ResponseCode.SUCCESS, undefined, { timestamp });
  };
}
