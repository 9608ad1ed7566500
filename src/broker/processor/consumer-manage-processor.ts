// GET_CONSUMER_LIST_BY_GROUP, QUERY/UPDATE_CONSUMER_OFFSET, GET_MAX/MIN_OFFSET,
// SEARCH_OFFSET_BY_TIMESTAMP, GET_EARLIEST_MSG_STORETIME.
import { BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import {
  CONSUMER_GROUP_HEADER,
  EARLIEST_MSG_STORETIME_RESPONSE_HEADER,
  encodeHeader,
  OFFSET_RESPONSE_HEADER,
  QUERY_CONSUMER_OFFSET_HEADER,
  SEARCH_OFFSET_HEADER,
  TOPIC_QUEUE_HEADER,
  UPDATE_CONSUMER_OFFSET_HEADER,
} from '../../remoting/protocol/index.js';
import type { ConsumerManager } from '../clients/consumer-manager.js';
import type { OffsetService } from '../service/offset-service.js';

export class ConsumerManageProcessor {
  constructor(
    private readonly consumers: ConsumerManager,
    private readonly offsets: OffsetService,
  ) {}

  readonly getConsumerListByGroup = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(CONSUMER_GROUP_HEADER, req.extFields);
    const info = this.consumers.getConsumerGroupInfo(h.consumerGroup);
    const ids = info?.clientIds() ?? [];
    if (ids.length === 0) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `no consumer for this group, ${h.consumerGroup}`);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify({ consumerIdList: ids })));
  };

  readonly updateConsumerOffset = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(UPDATE_CONSUMER_OFFSET_HEADER, req.extFields);
    this.offsets.commitChecked(h.consumerGroup, h.topic, h.queueId, h.commitOffset);
    return createResponse(ResponseCode.SUCCESS);
  };

  /** A stored offset ≥ 0 wins; a fresh group on a queue whose first message is still there starts at 0. */
  readonly queryConsumerOffset = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(QUERY_CONSUMER_OFFSET_HEADER, req.extFields);
    const off = this.offsets.queryForConsumer(h.consumerGroup, h.topic, h.queueId);
    if (off !== undefined) return offsetResponse(off);
    return createResponse(ResponseCode.QUERY_NOT_FOUND, 'Not found, maybe this group consumer boot first');
  };

  readonly getMaxOffset = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(TOPIC_QUEUE_HEADER, req.extFields);
    return offsetResponse(this.offsets.maxOffset(h.topic, h.queueId));
  };

  readonly getMinOffset = (req: RemotingCommand): RemotingCommand => {
    const h = decodeHeader(TOPIC_QUEUE_HEADER, req.extFields);
    return offsetResponse(this.offsets.minOffset(h.topic, h.queueId));
  };

  readonly searchOffsetByTimestamp = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(SEARCH_OFFSET_HEADER, req.extFields);
    return offsetResponse(await this.offsets.searchByTime(h.topic, h.queueId, h.timestamp));
  };

  readonly getEarliestMsgStoretime = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(TOPIC_QUEUE_HEADER, req.extFields);
    const timestamp = await this.offsets.earliestTime(h.topic, h.queueId);
    return createResponse(ResponseCode.SUCCESS, undefined, encodeHeader(EARLIEST_MSG_STORETIME_RESPONSE_HEADER, { timestamp }));
  };
}

function offsetResponse(offset: number): RemotingCommand {
  return createResponse(ResponseCode.SUCCESS, undefined, encodeHeader(OFFSET_RESPONSE_HEADER, { offset }));
}
