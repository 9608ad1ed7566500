// GET_TIMER_CHECK_POINT (RocketMQ's code 60): a slave copies how far its master has delivered
// timer messages, as RocketMQ's SlaveSynchronize.syncTimerCheckPoint does. The body is our JSON
// (TimerCheckpointView plus the master's commit-log end at the answer), not Java's binary
// TimerCheckpoint: only our slaves read it.
import { createResponse, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerParts } from '../broker-parts.js';
import type { TimerCheckpointView } from './timer-message-service.js';

export interface TimerCheckpointBody extends TimerCheckpointView {
  /** The master's commit-log end when it answered (what was copied before this request lies below). */
  masterCommitLogMaxOffset: number;
}

export class TimerCheckpointProcessor {
  constructor(private readonly parts: Pick<BrokerParts, 'store' | 'timerService'>) {}

  readonly process = (): RemotingCommand => {
    const cp = this.parts.timerService?.checkpointView() ?? { lastReadTimeMs: -1, lastEnqueuedPhyOffset: 0, lastTimerQueueOffset: 0, commitLogMaxOffset: 0 };
    const body: TimerCheckpointBody = { ...cp, masterCommitLogMaxOffset: this.parts.store.getMaxPhyOffset() };
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify(body)));
  };
}
