// Retention: commit-log segments older than fileReservedTime hours go at the deleteWhen hour,
// or at once (oldest first, expired or not) while disk use is over diskMaxUsedSpaceRatio. The
// newest segment and any segment not yet fully fsynced are never deleted. Consume-queue and
// index files whose entries all point into deleted segments follow.
import * as fs from 'node:fs';
import type { Logger } from '../common/logger.js';
import type { CommitLog } from './commit-log.js';
import type { ConsumeQueue } from './consume-queue.js';
import type { IndexService } from './index-service.js';
import type { MessageStoreConfig } from './store-config.js';

export interface CleanResult {
  deletedCommitLogFiles: string[];
  deletedConsumeQueueFiles: number;
  deletedIndexFiles: number;
  /** Why the pass ran: 'time', 'disk', 'manual', or 'none' when nothing was due. */
  reason: 'time' | 'disk' | 'manual' | 'none';
}

export interface RetentionTarget {
  readonly config: MessageStoreConfig;
  readonly commitLog: CommitLog;
  readonly indexService: IndexService;
  now(): number;
  diskUsageRatio(): number;
  consumeQueues(): ConsumeQueue[];
}

/** True when the local hour of now is one of deleteWhen's ("04" or "04;05"). */
export function isDeleteHour(deleteWhen: string, now: number): boolean {
  const hour = new Date(now).getHours();
  return deleteWhen.split(';').some((h) => h.trim() !== '' && Number(h) === hour);
}

export function cleanExpiredFiles(store: RetentionTarget, force: boolean, logger: Logger): CleanResult {
  const cfg = store.config;
  const now = store.now();
  const overDisk = (): boolean => store.diskUsageRatio() * 100 > cfg.diskMaxUsedSpaceRatio;
  const disk = overDisk();
  const due = isDeleteHour(cfg.deleteWhen, now);
  const result: CleanResult = { deletedCommitLogFiles: [], deletedConsumeQueueFiles: 0, deletedIndexFiles: 0, reason: disk ? 'disk' : force ? 'manual' : due ? 'time' : 'none' };
  if (!disk && !force && !due) return result;
  const cl = store.commitLog;
  const reservedMs = cfg.fileReservedTime * 3600 * 1000;
  while (result.deletedCommitLogFiles.length < cfg.deleteFilesBatchMax) {
    const segs = cl.segments();
    if (segs.length <= 1) break;
    const first = segs[0];
    if (first.start + cl.segSize > cl.flushedOffset) break;
    const expired = now - fs.fstatSync(first.fd).mtimeMs >= reservedMs;
    if (!expired && !(disk && overDisk())) break;
    cl.deleteFirstSegment();
    result.deletedCommitLogFiles.push(first.path);
  }
  if (result.deletedCommitLogFiles.length) {
    const minPhy = cl.minOffset;
    for (const cq of store.consumeQueues()) result.deletedConsumeQueueFiles += cq.deleteExpiredFiles(minPhy).length;
    result.deletedIndexFiles = store.indexService.deleteExpiredFiles(minPhy).length;
    logger.info({ ...result, minPhy }, 'retention deleted expired files');
  }
  return result;
}
