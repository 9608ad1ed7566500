// Names RocketMQ uses for transaction bookkeeping.
export const TransactionConst = {
  /** Internal group whose offsets track the half and op queues. */
  CHECK_GROUP: 'CID_RMQ_SYS_TRANS',
  /** Tag of op records ("d" = decided). */
  REMOVE_TAG: 'd',
  /** END_TRANSACTION commitOrRollback values. */
  TRANSACTION_NOT_TYPE: 0,
  TRANSACTION_COMMIT_TYPE: 8,
  TRANSACTION_ROLLBACK_TYPE: 12,
} as const;
