// LOCK_BATCH_MQ / UNLOCK_BATCH_MQ bodies: {consumerGroup, clientId, onlyThisBroker, mqSet:[{topic,brokerName,queueId}]}.
import { bodyOf, BrokerError, createResponse, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerParts } from '../broker-parts.js';
import type { MessageQueueRef } from '../rebalance-lock-manager.js';

interface LockBody {
  consumerGroup?: string;
  clientId?: string;
  mqSet?: MessageQueueRef[];
}

function parseLockBody(req: RemotingCommand): Required<LockBody> {
  let body: LockBody;
  try {
    body = JSON.parse(bodyOf(req).toString('utf8')) as LockBody;
  } catch (err) {
    throw new BrokerError(ResponseCode.INVALID_PARAMETER, `lock body is not valid JSON: ${(err as Error).message}`);
  }
  if (!body?.consumerGroup || !body.clientId || !Array.isArray(body.mqSet)) {
    throw new BrokerError(ResponseCode.INVALID_PARAMETER, 'lock body needs consumerGroup, clientId and mqSet');
  }
  const mqSet = body.mqSet.map((mq) => ({ topic: String(mq.topic), brokerName: String(mq.brokerName), queueId: Number(mq.queueId) }));
  return { consumerGroup: body.consumerGroup, clientId: body.clientId, mqSet };
}

export class LockProcessor {
  constructor(private readonly broker: Pick<BrokerParts, 'lockManager'>) {}

  readonly lockBatch = (req: RemotingCommand): RemotingCommand => {
    const b = parseLockBody(req);
    const locked = this.broker.lockManager.tryLockBatch(b.consumerGroup, b.mqSet, b.clientId);
    return createResponse(ResponseCode.SUCCESS, undefined, undefined, Buffer.from(JSON.stringify({ lockOKMQSet: locked })));
  };

  readonly unlockBatch = (req: RemotingCommand): RemotingCommand => {
    const b = parseLockBody(req);
    this.broker.lockManager.unlockBatch(b.consumerGroup, b.mqSet, b.clientId);
    return createResponse(ResponseCode.SUCCESS);
  };
}
