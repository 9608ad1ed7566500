// INVOKE_BROKER_TO_RESET_OFFSET (222), as mqadmin resetOffsetByTime sends it: the group's offsets
// on the topic go to the first message stored at or after the timestamp (-1: the end), online
// clients are told or moved (OffsetResetService). The answer lists each queue's new offset as a
// JSON list (Java writes a fastjson map keyed by MessageQueue; see DESIGN deviations).
import { BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerParts } from '../broker-parts.js';
import { OffsetResetService } from '../service/offset-reset-service.js';

import { RESET_OFFSET_HEADER } from '../../remoting/protocol/index.js';

export { RESET_OFFSET_HEADER };

export class OffsetResetProcessor {
  private readonly service: OffsetResetService;

  constructor(private readonly broker: Pick<BrokerParts, 'config' | 'store' | 'topicConfigManager' | 'consumerOffsetManager' | 'consumerManager' | 'subscriptionGroupManager'>) {
    this.service = new OffsetResetService(broker);
  }

  readonly resetOffset = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(RESET_OFFSET_HEADER, req.extFields);
    const b = this.broker;
    if (!b.topicConfigManager.selectTopicConfig(h.topic)) {
      throw new BrokerError(ResponseCode.TOPIC_NOT_EXIST, `topic ${h.topic} does not exist on broker ${b.config.brokerName}`);
    }
    const known =
      b.subscriptionGroupManager.get(h.group) !== undefined ||
      b.consumerOffsetManager.whichTopicByGroup(h.group).length > 0 ||
      b.consumerManager.getConsumerGroupInfo(h.group) !== undefined;
    if (!known) throw new BrokerError(ResponseCode.SUBSCRIPTION_GROUP_NOT_EXIST, `consumer group ${h.group} does not exist on broker ${b.config.brokerName} (no subscription group, offsets or consumers)`);
    const r = await this.service.resetByTime(h.group, h.topic, h.timestamp, h.isForce ?? true);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify({ offsetTable: r.offsets, notified: r.notified })));
  };
}
