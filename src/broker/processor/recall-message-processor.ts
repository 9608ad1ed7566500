// RECALL_MESSAGE (RocketMQ 5.3): cancel a timer message before it is due, by its recall handle.
import { createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import { encodeHeader, RECALL_MESSAGE_HEADER, RECALL_MESSAGE_RESPONSE_HEADER } from '../../remoting/protocol/index.js';
import type { RecallService } from '../service/recall-service.js';

export class RecallMessageProcessor {
  constructor(private readonly recalls: RecallService) {}

  readonly process = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(RECALL_MESSAGE_HEADER, req.extFields);
    const msgId = await this.recalls.recall(h.topic, h.recallHandle);
    return createResponse(ResponseCode.SUCCESS, undefined, encodeHeader(RECALL_MESSAGE_RESPONSE_HEADER, { msgId }));
  };
}
