// MessageStoreConfig: RocketMQ's key names, one comment per key (unit, trade-off).
import { totalmem } from 'node:os';

export type FlushDiskType = 'ASYNC_FLUSH' | 'SYNC_FLUSH';

export interface MessageStoreConfig {
  /** Root of commitlog/, consumequeue/, index/, checkpoint, abort, lock, config/. */
  storePathRootDir: string;
  /** Bytes per commit-log segment (1 GiB). A record never spans two segments. */
  mappedFileSizeCommitLog: number;
  /** Bytes per consume-queue file: entries x 20 (300,000 entries). */
  mappedFileSizeConsumeQueue: number;
  /** ASYNC_FLUSH acks once written to the page cache; SYNC_FLUSH acks after the covering fsync. */
  flushDiskType: FlushDiskType;
  /** ms between background fsyncs of the commit log under ASYNC_FLUSH. */
  flushIntervalCommitLog: number;
  /** ms between fsyncs of consume queues, index and checkpoint. */
  flushIntervalConsumeQueue: number;
  /** ms a SYNC_FLUSH put waits for its fsync before FLUSH_DISK_TIMEOUT. */
  syncFlushTimeout: number;
  /** Largest record (bytes) accepted; bigger puts get MESSAGE_ILLEGAL. */
  maxMessageSize: number;
  /** Hours a commit-log segment is kept after its last write. */
  fileReservedTime: number;
  /** Hour(s) of day ("04", or "04;05") when expired files are deleted. */
  deleteWhen: string;
  /** Percent of disk use past which expired-or-not oldest segments are deleted. */
  diskMaxUsedSpaceRatio: number;
  /** Percent of disk use past which puts are refused with DISK_FULL. */
  diskSpaceWarningLevelRatio: number;
  /** ms between retention checks. */
  cleanResourceInterval: number;
  /**
   * ms between checks of the store's filesystem (statfs, cheap): how soon puts refused for a
   * full disk are accepted again once space is freed, and how soon a consume-queue or index
   * write that failed is retried.
   */
  diskCheckInterval: number;
  /** At most this many commit-log segments are deleted per check. */
  deleteFilesBatchMax: number;
  /** Build the key/unique-id index. */
  messageIndexEnable: boolean;
  /**
   * Hash slots per index file. Java uses 5,000,000 slots and 20,000,000 entries (420 MB per file);
   * the current index file is held in memory here, so the default is a tenth: 42 MB per file.
   */
  indexHashSlotNum: number;
  /** Entries per index file before a new one is started. */
  indexNum: number;
  /** Default byte budget of one getMessage (at least one message is always returned). */
  maxTransferBytesOnMessageInMemory: number;
  /** Most consume-queue entries one getMessage looks at when a filter rejects them. */
  maxFilterMessageCount: number;
  /**
   * Bytes behind the commit log's end past which a read is reported as far behind
   * (suggestPullingFromSlave: RocketMQ's accessMessageInMemoryMaxRatio of RAM, 40 %).
   */
  accessMessageInMemoryMaxBytes: number;
  /** Bytes of one write-batch buffer; bigger batches simply use several. */
  writeBufferSize: number;
  /**
   * Write each batch with a blocking writev instead of the thread pool. Measured a few percent
   * faster in the store bench (no thread-pool round trip), but it stalls the event loop for the
   * page-cache copy, so the broker default stays async.
   */
  writeBatchSync: boolean;
}

export const DEFAULT_STORE_CONFIG: Readonly<Omit<MessageStoreConfig, 'storePathRootDir'>> = Object.freeze({
  mappedFileSizeCommitLog: 1024 * 1024 * 1024,
  mappedFileSizeConsumeQueue: 300_000 * 20,
  flushDiskType: 'ASYNC_FLUSH',
  flushIntervalCommitLog: 500,
  flushIntervalConsumeQueue: 1000,
  syncFlushTimeout: 5000,
  maxMessageSize: 4 * 1024 * 1024,
  fileReservedTime: 72,
  deleteWhen: '04',
  diskMaxUsedSpaceRatio: 75,
  diskSpaceWarningLevelRatio: 90,
  cleanResourceInterval: 10_000,
  diskCheckInterval: 1000,
  deleteFilesBatchMax: 10,
  messageIndexEnable: true,
  indexHashSlotNum: 500_000,
  indexNum: 2_000_000,
  maxTransferBytesOnMessageInMemory: 256 * 1024,
  maxFilterMessageCount: 16_000,
  accessMessageInMemoryMaxBytes: Math.floor(totalmem() * 0.4),
  writeBufferSize: 256 * 1024,
  writeBatchSync: false,
});

/** Fills defaults and rejects values that would corrupt the layout. */
export function resolveStoreConfig(partial: Partial<MessageStoreConfig> & { storePathRootDir: string }): MessageStoreConfig {
  const c: MessageStoreConfig = { ...DEFAULT_STORE_CONFIG, ...partial };
  const errors: string[] = [];
  if (c.mappedFileSizeConsumeQueue % 20 !== 0 || c.mappedFileSizeConsumeQueue <= 0) errors.push('mappedFileSizeConsumeQueue must be a positive multiple of 20');
  if (c.mappedFileSizeCommitLog < 4096) errors.push('mappedFileSizeCommitLog must be at least 4096');
  if (c.flushDiskType !== 'ASYNC_FLUSH' && c.flushDiskType !== 'SYNC_FLUSH') errors.push(`flushDiskType must be ASYNC_FLUSH or SYNC_FLUSH, not ${String(c.flushDiskType)}`);
  if (c.maxMessageSize + 8 > c.mappedFileSizeCommitLog) c.maxMessageSize = c.mappedFileSizeCommitLog - 8;
  if (c.indexHashSlotNum < 1 || c.indexNum < 2) errors.push('indexHashSlotNum must be >= 1 and indexNum >= 2');
  if (errors.length) throw new Error(`invalid store config: ${errors.join('; ')}`);
  return c;
}

/** 20-digit zero-padded decimal: the name of a segment starting at offset. */
export function offset2FileName(offset: number): string {
  return String(offset).padStart(20, '0');
}
