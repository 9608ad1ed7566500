// EndTransaction: the gRPC request names the message by id; the proxy's cache gives the offsets.
import { Code, OK_STATUS, ProxyError } from './grpc-code.js';
import type { ProxyContext } from './proxy-context.js';

const Resolution = { COMMIT: 1, ROLLBACK: 2 } as const;
const TransactionSource = { SERVER_CHECK: 2 } as const;

export async function endTransaction(
  ctx: ProxyContext,
  req: { topic?: { name?: string }; messageId?: string; transactionId?: string; resolution?: number; source?: number },
): Promise<unknown> {
  const txId = req.transactionId ?? '';
  if (!txId.trim()) throw new ProxyError(Code.INVALID_TRANSACTION_ID, 'transaction_id is empty');
  const h = ctx.transactions.get(txId) ?? (req.messageId ? ctx.transactions.get(req.messageId) : undefined);
  if (!h) throw new ProxyError(Code.INVALID_TRANSACTION_ID, `transaction ${txId} is unknown or already ended`);
  if (req.topic?.name && req.topic.name !== h.topic) {
    throw new ProxyError(Code.BAD_REQUEST, `transaction ${txId} belongs to topic ${h.topic}, not ${req.topic.name}`);
  }
  let commitOrRollback: 'COMMIT' | 'ROLLBACK';
  if (req.resolution === Resolution.COMMIT) commitOrRollback = 'COMMIT';
  else if (req.resolution === Resolution.ROLLBACK) commitOrRollback = 'ROLLBACK';
  else throw new ProxyError(Code.BAD_REQUEST, `transaction resolution must be COMMIT or ROLLBACK, got ${req.resolution ?? 'none'}`);
  await ctx.backend.endTransaction({
    topic: h.topic,
    producerGroup: h.producerGroup,
    tranStateTableOffset: h.tranStateTableOffset,
    commitLogOffset: h.commitLogOffset,
    commitOrRollback,
    fromTransactionCheck: req.source === TransactionSource.SERVER_CHECK,
    transactionId: txId,
    brokerName: h.brokerName,
  });
  ctx.transactions.delete(txId);
  return { status: OK_STATUS };
}
