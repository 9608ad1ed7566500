// CONSUMER_SEND_MSG_BACK: a consumer failed a message; the retry service stores it again on
// %RETRY%<group> with a growing delay, or in %DLQ%<group> past the group's maximum.
import { createResponse, decodeHeader, ResponseCode, type RemotingChannel, type RemotingCommand } from '../../remoting/index.js';
import { CONSUMER_SEND_MSG_BACK_HEADER } from '../../remoting/protocol/index.js';
import type { RetryService } from '../service/retry-service.js';

const V3_4_9 = 121;

export class SendBackProcessor {
  constructor(private readonly retries: RetryService) {}

  readonly process = async (req: RemotingCommand, _ch: RemotingChannel): Promise<RemotingCommand> => {
    const h = decodeHeader(CONSUMER_SEND_MSG_BACK_HEADER, req.extFields);
    const max = req.version >= V3_4_9 ? h.maxReconsumeTimes : undefined;
    await this.retries.sendBack(h.group, h.offset, h.delayLevel, h.originMsgId, max);
    return createResponse(ResponseCode.SUCCESS);
  };
}
