// END_TRANSACTION (producer → broker: commit or roll back a half message) and
// CHECK_TRANSACTION_STATE (broker → producer: what became of this one?).
import type { HeaderSchema, HeaderValues } from './header-codec.js';

/** commitOrRollback values (MessageSysFlag's transaction bits). */
export const TransactionType = { NOT_TYPE: 0, COMMIT: 8, ROLLBACK: 12 } as const;

/** `bname` is RpcRequestHeader's broker name: the group that holds the half message. */
export const END_TRANSACTION_HEADER = {
  producerGroup: { type: 'string', required: true },
  /** The half message's queue offset in RMQ_SYS_TRANS_HALF_TOPIC (the send response's queueOffset). */
  tranStateTableOffset: { type: 'long', required: true },
  /** The half message's commit-log offset (from its offsetMsgId). */
  commitLogOffset: { type: 'long', required: true },
  /** TransactionType: 8 commit, 12 rollback, 0 unknown. */
  commitOrRollback: { type: 'int', required: true },
  fromTransactionCheck: { type: 'bool' },
  msgId: { type: 'string' },
  transactionId: { type: 'string' },
  topic: { type: 'string' },
  bname: { type: 'string' },
} as const satisfies HeaderSchema;

export type EndTransactionRequestHeader = HeaderValues<typeof END_TRANSACTION_HEADER>;

/** Sent oneway with the half message (as its real topic) as the body; `bname`: the checking broker's group. */
export const CHECK_TRANSACTION_STATE_HEADER = {
  topic: { type: 'string' },
  tranStateTableOffset: { type: 'long', required: true },
  commitLogOffset: { type: 'long', required: true },
  msgId: { type: 'string' },
  transactionId: { type: 'string' },
  offsetMsgId: { type: 'string' },
  bname: { type: 'string' },
} as const satisfies HeaderSchema;

export type CheckTransactionStateRequestHeader = HeaderValues<typeof CHECK_TRANSACTION_STATE_HEADER>;
