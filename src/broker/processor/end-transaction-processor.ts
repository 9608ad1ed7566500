// END_TRANSACTION: commit (8) or roll back (12) a half message; 0 (unknown) is ignored with no answer.
import { BrokerError, createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import type { BrokerController } from '../broker-controller.js';
import { TransactionConst } from '../transaction/transaction-const.js';

const END_TRANSACTION_HEADER = {
  producerGroup: { type: 'string', required: true },
  tranStateTableOffset: { type: 'long', required: true },
  commitLogOffset: { type: 'long', required: true },
  commitOrRollback: { type: 'int', required: true },
  fromTransactionCheck: { type: 'bool' },
  msgId: { type: 'string' },
  transactionId: { type: 'string' },
  topic: { type: 'string' },
} as const;

export class EndTransactionProcessor {
  constructor(private readonly broker: BrokerController) {}

  readonly process = async (req: RemotingCommand): Promise<RemotingCommand | null> => {
    const h = decodeHeader(END_TRANSACTION_HEADER, req.extFields);
    if (this.broker.config.brokerRole === 'SLAVE') {
      throw new BrokerError(ResponseCode.SLAVE_NOT_AVAILABLE, 'the broker is a slave; end transactions on the master');
    }
    switch (h.commitOrRollback) {
      case TransactionConst.TRANSACTION_NOT_TYPE:
        return null;
      case TransactionConst.TRANSACTION_COMMIT_TYPE:
      case TransactionConst.TRANSACTION_ROLLBACK_TYPE:
        break;
      default:
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `commitOrRollback must be 0, 8 or 12, got ${h.commitOrRollback}`);
    }
    await this.broker.transactionService.endTransaction({
      producerGroup: h.producerGroup,
      tranStateTableOffset: h.tranStateTableOffset,
      commitLogOffset: h.commitLogOffset,
      commitOrRollback: h.commitOrRollback,
      fromTransactionCheck: h.fromTransactionCheck ?? false,
    });
    return createResponse(ResponseCode.SUCCESS);
  };
}
