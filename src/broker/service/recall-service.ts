// The recall use case (RECALL_MESSAGE, gRPC RecallMessage): cancel a timer message before it is
// due, by its recall handle. Refusals name why the message cannot be recalled.
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import { decodeRecallHandle } from '../../remoting/protocol/recall.js';
import type { TimerMessageService } from '../timer/timer-message-service.js';
import type { BrokerHooks } from './broker-hooks.js';

export class RecallService {
  constructor(
    private readonly brokerName: string,
    /** Absent when timerWheelEnable is false. */
    private readonly timers: TimerMessageService | undefined,
    private readonly hooks?: BrokerHooks,
    private readonly now: () => number = Date.now,
  ) {}

  /** Returns the recalled message's unique key. */
  async recall(topic: string, handle: string): Promise<string> {
    const rh = decodeRecallHandle(handle);
    if (rh.topic !== topic) throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall handle is for topic ${rh.topic}, not ${topic}`);
    if (rh.brokerName !== this.brokerName) {
      throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall handle belongs to broker ${rh.brokerName}, not ${this.brokerName}`);
    }
    if (!this.timers) throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, 'timer messages are disabled on this broker (timerWheelEnable=false)');
    if (rh.deliverMs <= this.now()) {
      throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall failed: the message was due at ${new Date(rh.deliverMs).toISOString()} and is delivered already`);
    }
    if (!(await this.timers.recall(rh.uniqKey, rh.deliverMs))) {
      throw new BrokerError(ResponseCode.ILLEGAL_OPERATION, `recall failed: message ${rh.uniqKey} is not pending (delivered or recalled already)`);
    }
    const h = this.hooks;
    if (h && h.recalled.length > 0) h.emit('recalled', h.recalled, { topic, uniqKey: rh.uniqKey });
    return rh.uniqKey;
  }
}
