// Apogee's own requests for dead letters (no RocketMQ equivalent; codes in the 880xxx range, as
// GET_ALARM_LIST): RESEND_DLQ_MESSAGES copies dead letters back to the group's retry topic and
// records it, GET_DLQ_RESEND_LOG returns that record. Used by `apogee admin resendDLQ/exportDLQ`.
import { bodyOf, BrokerError, createResponse, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import { DlqResendService } from '../service/dlq-resend-service.js';

import { GET_DLQ_RESEND_LOG, MAX_RESEND_BATCH, RESEND_DLQ_MESSAGES } from '../../remoting/protocol/index.js';

export { GET_DLQ_RESEND_LOG, MAX_RESEND_BATCH, RESEND_DLQ_MESSAGES };

export class DlqResendProcessor {
  private readonly service: DlqResendService;

  constructor(broker: ConstructorParameters<typeof DlqResendService>[0]) {
    this.service = new DlqResendService(broker);
  }

  readonly resend = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const group = groupOf(req);
    let offsets: unknown;
    try {
      offsets = (JSON.parse(bodyOf(req).toString('utf8')) as { offsets?: unknown }).offsets;
    } catch (err) {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, `the body is not JSON {"offsets": [...]}: ${(err as Error).message}`);
    }
    if (!Array.isArray(offsets) || offsets.length === 0 || !offsets.every((o) => Number.isSafeInteger(o))) {
      throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'offsets must be a non-empty list of commit-log offsets (integers)');
    }
    if (offsets.length > MAX_RESEND_BATCH) throw new BrokerError(ResponseCode.INVALID_PARAMETER, `at most ${MAX_RESEND_BATCH} offsets per request, got ${offsets.length}`);
    const results = await this.service.resend(group, offsets as number[]);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify({ results })));
  };

  readonly resendLog = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const records = await this.service.history(groupOf(req));
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify({ records })));
  };
}

function groupOf(req: RemotingCommand): string {
  const group = req.extFields.consumerGroup;
  if (!group) throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'the consumerGroup field is missing');
  return group;
}
