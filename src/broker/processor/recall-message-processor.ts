// RECALL_MESSAGE (RocketMQ 5.3): cancel a timer message before it is due, by its recall handle.
import { createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { RecallService } from '../service/recall-service.js';

const RECALL_HEADER = { producerGroup: { type: 'string' }, topic: { type: 'string', required: true }, recallHandle: { type: 'string', required: true } } as const;

export class RecallMessageProcessor {
  constructor(private readonly recalls: RecallService) {}

  readonly process = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(RECALL_HEADER, req.extFields);
    const msgId = await this.recalls.recall(h.topic, h.recallHandle);
    return createResponse(ResponseCode.SUCCESS, undefined, { msgId });
  };
}
