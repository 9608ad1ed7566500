// The end-transaction use case, once for both protocols: a slave refuses, an unknown decision
// (0) is ignored, anything but commit (8) or rollback (12) is refused, then the transactional
// message service commits or rolls back the half message.
import type { BrokerConfig } from '../../config/index.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import { TransactionConst } from '../transaction/transaction-const.js';
import type { EndTransactionRequest, TransactionalMessageService } from '../transaction/transactional-message-service.js';
import type { BrokerHooks } from './broker-hooks.js';

export class EndTransactionService {
  constructor(
    private readonly config: Pick<BrokerConfig, 'brokerRole'>,
    private readonly transactions: TransactionalMessageService,
    private readonly hooks?: BrokerHooks,
  ) {}

  /** Returns false when the decision was "unknown" and nothing was done (remoting sends no answer then). */
  async end(req: EndTransactionRequest): Promise<boolean> {
    if (this.config.brokerRole === 'SLAVE') {
      throw new BrokerError(ResponseCode.SLAVE_NOT_AVAILABLE, 'the broker is a slave; end transactions on the master');
    }
    switch (req.commitOrRollback) {
      case TransactionConst.TRANSACTION_NOT_TYPE:
        return false;
      case TransactionConst.TRANSACTION_COMMIT_TYPE:
      case TransactionConst.TRANSACTION_ROLLBACK_TYPE:
        break;
      default:
        throw new BrokerError(ResponseCode.INVALID_PARAMETER, `commitOrRollback must be 0, 8 or 12, got ${req.commitOrRollback}`);
    }
    await this.transactions.endTransaction(req);
    const h = this.hooks;
    if (h && h.transactionEnded.length > 0) {
      h.emit('transactionEnded', h.transactionEnded, {
        producerGroup: req.producerGroup,
        halfQueueOffset: req.tranStateTableOffset,
        commitLogOffset: req.commitLogOffset,
        commit: req.commitOrRollback === TransactionConst.TRANSACTION_COMMIT_TYPE,
        fromTransactionCheck: req.fromTransactionCheck,
      });
    }
    return true;
  }
}
