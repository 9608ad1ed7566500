// MessageSysFlag: bits of the record's SYSFLAG field, with RocketMQ's values.

export const MessageSysFlag = {
  COMPRESSED_FLAG: 0x1,
  MULTI_TAGS_FLAG: 0x2,
  TRANSACTION_NOT_TYPE: 0,
  TRANSACTION_PREPARED_TYPE: 0x4,
  TRANSACTION_COMMIT_TYPE: 0x8,
  TRANSACTION_ROLLBACK_TYPE: 0xc,
  BORNHOST_V6_FLAG: 0x10,
  STOREHOSTADDRESS_V6_FLAG: 0x20,
  NEED_UNWRAP_FLAG: 0x40,
  INNER_BATCH_FLAG: 0x80,
  /** Bits 8-10: compression type (0 or 3 = ZLIB, 1 = LZ4, 2 = ZSTD). */
  COMPRESSION_TYPE_COMPARATOR: 0x700,
  COMPRESSION_LZ4_TYPE: 0x100,
  COMPRESSION_ZSTD_TYPE: 0x200,
  COMPRESSION_ZLIB_TYPE: 0x300,
} as const;

const TRANSACTION_MASK = 0xc;

/** The transaction type bits (0 NOT, 4 PREPARED, 8 COMMIT, 12 ROLLBACK). */
export function getTransactionValue(sysFlag: number): number {
  return sysFlag & TRANSACTION_MASK;
}

/** Returns sysFlag with its transaction bits replaced by type. */
export function resetTransactionValue(sysFlag: number, type: number): number {
  return (sysFlag & ~TRANSACTION_MASK) | (type & TRANSACTION_MASK);
}

/** PREPARED and ROLLBACK records are never dispatched to consume queues. */
export function isDispatchedToConsumeQueue(sysFlag: number): boolean {
  const t = sysFlag & TRANSACTION_MASK;
  return t === MessageSysFlag.TRANSACTION_NOT_TYPE || t === MessageSysFlag.TRANSACTION_COMMIT_TYPE;
}
