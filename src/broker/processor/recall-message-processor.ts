// RECALL_MESSAGE (RocketMQ 5.3): cancel a timer message before it is due, by its recall handle.
import { BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerController } from '../broker-controller.js';
import { decodeRecallHandle } from '../timer/recall-handle.js';

export class RecallMessageProcessor {
  constructor(private readonly broker: BrokerController) {}

  readonly process = async (req: RemotingCommand): Promise<RemotingCommand> => {
    const h = decodeHeader(
      { producerGroup: { type: 'string' }, topic: { type: 'string', required: true }, recallHandle: { type: 'string', required: true } },
      req.extFields,
    );
    const msgId = await this.recall(h.topic, h.recallHandle);
    return createResponse(ResponseCode.SUCCESS, undefined, { msgId });
  };

  /** Returns the recalled message's unique key; errors name why it could not be recalled. */
  async recall(topic: string, handle: string): Promise<string> {
    const b = this.broker;
    const rh = decodeRecallHandle(handle);
    if (rh.topic !== topic) throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall handle is for topic ${rh.topic}, not ${topic}`);
    if (rh.brokerName !== b.config.brokerName) {
      throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall handle belongs to broker ${rh.brokerName}, not ${b.config.brokerName}`);
    }
    if (!b.timerService) throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, 'timer messages are disabled on this broker (timerWheelEnable=false)');
    if (rh.deliverMs <= Date.now()) {
      throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall failed: the message was due at ${new Date(rh.deliverMs).toISOString()} and is delivered already`);
    }
    if (!(await b.timerService.recall(rh.uniqKey, rh.deliverMs))) {
      throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall failed: message ${rh.uniqKey} is not pending (delivered or recalled already)`);
    }
    return rh.uniqKey;
  }
}
