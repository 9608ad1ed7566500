// RECALL_MESSAGE (RocketMQ 5.3): cancel a timer message before it is due, by its recall handle.
import { createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerController } from '../broker-controller.js';

export class RecallMessageProcessor {
  constructor(private readonly broker: BrokerController) {}

  readonly process = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(
      { producerGroup: { type: 'string' }, topic: { type: 'string', required: true }, recallHandle: { type: 'string', required: true } },
      req.extFields,
    );
    const msgId = await this.broker.recallMessage(h.topic, h.recallHandle);
    return createResponse(ResponseCode.SUCCESS, undefined, { msgId });
  };
}
