// The shapes the broker exchanges with the store.
import type { MessageRecordFields } from '../common/message-codec.js';
import type { GetMessageStatus, PutMessageStatus } from './store-status.js';

/** One message as the broker hands it in: the record fields a sender supplies, plus a tag-code override. */
export interface MessageInput extends MessageRecordFields {
  /** Overrides the tag hash in the consume queue, e.g. the deliver time for SCHEDULE_TOPIC_XXXX. */
  tagsCode?: number;
}

export interface PutMessageResult {
  status: PutMessageStatus;
  /** Commit-log offset of the (first) record. */
  wroteOffset: number;
  /** Bytes of the record(s), blank padding excluded. */
  wroteBytes: number;
  /** offsetMsgId of the record; for a batch, every record's id joined with ','. */
  msgId: string;
  /** Queue offset of the (first) message; 0 for PREPARED/ROLLBACK records. */
  queueOffset: number;
  storeTimestamp: number;
  msgNum: number;
  remark?: string;
}

/** What the dispatcher saw for one record; handed to the onDispatch hook (after the write). */
export interface DispatchRequest {
  topic: string;
  queueId: number;
  queueOffset: number;
  commitLogOffset: number;
  msgSize: number;
  tagsCode: number;
  storeTimestamp: number;
  sysFlag: number;
  /** KEYS property (space-separated) or undefined. */
  keys: string | undefined;
  /** UNIQ_KEY property or undefined. */
  uniqKey: string | undefined;
  /** False for PREPARED/ROLLBACK records, which never reach a consume queue. */
  dispatchToQueue: boolean;
}

export interface GetMessageResult {
  status: GetMessageStatus;
  nextBeginOffset: number;
  minOffset: number;
  maxOffset: number;
  /** Whole stored records, as they are on disk; owned by the caller. */
  buffers: Buffer[];
  messageCount: number;
  totalSize: number;
  /** Queue offset of each returned record (same order as buffers). */
  queueOffsets: number[];
  /** The last entry read lies further behind the log end than accessMessageInMemoryMaxBytes. */
  suggestPullingFromSlave?: boolean;
}

export interface QueryMessageResult {
  buffers: Buffer[];
  indexLastUpdateTimestamp: number;
  indexLastUpdatePhyoffset: number;
}

/** Consume-queue extension data (not kept by this store; always undefined). */
export type CqExtUnit = undefined;

export type MessageFilter = (tagsCode: number, cqExt?: CqExtUnit) => boolean;

/** What replication does with a master's records before they are written (MessageStore.setReplicationStream). */
export interface ReplicationStream {
  /** The bytes at offset are about to be written; true when a reference to them was kept (the caller must not reuse the buffer). */
  issued(offset: number, bytes: Buffer): boolean;
  /** A failed write cut the log at `at`: bytes handed over past it will never be written. */
  cutAt(at: number): void;
}
