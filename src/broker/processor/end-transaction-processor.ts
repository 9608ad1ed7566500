// END_TRANSACTION: commit (8) or roll back (12) a half message; 0 (unknown) is ignored with no answer.
import { createResponse, decodeHeader, ResponseCode, type RemotingCommand } from '../../remoting/index.js';
import { END_TRANSACTION_HEADER } from '../../remoting/protocol/index.js';
import type { EndTransactionService } from '../service/end-transaction-service.js';

export class EndTransactionProcessor {
  constructor(private readonly transactions: EndTransactionService) {}

  readonly process = async (req: RemotingCommand): Promise<RemotingCommand | null> => {
    const h = decodeHeader(END_TRANSACTION_HEADER, req.extFields);
    const done = await this.transactions.end({
      producerGroup: h.producerGroup,
      tranStateTableOffset: h.tranStateTableOffset,
      commitLogOffset: h.commitLogOffset,
      commitOrRollback: h.commitOrRollback,
      fromTransactionCheck: h.fromTransactionCheck ?? false,
    });
    return done ? createResponse(ResponseCode.SUCCESS) : null;
  };
}
