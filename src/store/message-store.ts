// MessageStore (Java DefaultMessageStore): the commit log plus the consume queues and index it
// dispatches to, recovery at open, periodic flush/checkpoint, and retention.
// Ordering: append → write (page cache) → dispatch (consume queue, index, onDispatch hook) →
// ack (ASYNC_FLUSH) | fsync → ack (SYNC_FLUSH).
import * as fs from 'node:fs';
import { join } from 'node:path';
import { silentLogger, type Logger } from '../common/logger.js';
import { MAX_PROPERTIES_LENGTH, decodeMessage, encodeMessageInto, measureRecord, storeTimestampPos, type RecordSizes } from '../common/message-codec.js';
import { readLong } from '../common/message-bytes.js';
import { MessageConst } from '../common/message-const.js';
import { getPropertyFromString } from '../common/message-properties.js';
import { createMessageId } from '../common/msg-id.js';
import { isDispatchedToConsumeQueue, getTransactionValue, MessageSysFlag } from '../common/sys-flag.js';
import { tagsString2tagsCode } from '../common/tag-hash.js';
import { BLANK_MAGIC_CODE, MESSAGE_MAGIC_CODE_V1, MESSAGE_MAGIC_CODE_V2 } from '../common/message-codec.js';
import { checkRecord, CommitLog, type CommitLogRecoveryResult, type WriteChunk } from './commit-log.js';
import { CQ_STORE_UNIT_SIZE, ConsumeQueue } from './consume-queue.js';
import { dispatchRequestOf } from './dispatch-request.js';
import { dispatchBlock, isNoSpaceError, noSpaceBlock, ratioBlock, resumeFreeBytes, statfsProbe, type WriteBlock } from './disk-space.js';
import { IndexService } from './index-service.js';
import { resolveStoreConfig, type MessageStoreConfig } from './store-config.js';
import { StoreCheckpoint } from './store-checkpoint.js';
import { acquireStoreLock } from './store-lock.js';
import { GetMessageStatus, PutMessageStatus } from './store-status.js';
import type { DispatchRequest, GetMessageResult, MessageFilter, MessageInput, PutMessageResult, QueryMessageResult, ReplicationStream } from './store-types.js';
import { cleanExpiredFiles, type CleanResult } from './store-retention.js';

/** What a topic may be made of to name its consume-queue directory (RocketMQ's topic characters). */
const QUEUE_DIR_NAME = /^[%|a-zA-Z0-9_-]+$/;

export interface MessageStoreOptions {
  logger?: Logger;
  /** Called after a record reaches its consume queue (PREPARED/ROLLBACK records are not). */
  onDispatch?: (d: DispatchRequest) => void;
  /** Clock for store timestamps and retention (ms). */
  now?: () => number;
  /** Disk use of the store's filesystem, 0..1. */
  diskUsageRatio?: () => number;
  /** Bytes still free on the store's filesystem. */
  diskFreeBytes?: () => number;
  /**
   * tagsCode for a record re-dispatched during recovery when put had overridden it (e.g. the
   * deliver time of SCHEDULE_TOPIC_XXXX); return undefined to use the TAGS hash.
   */
  recoverTagsCode?: (topic: string, queueId: number, properties: string, storeTimestamp: number) => number | undefined;
  /** Test hook: replaces fsync of commit-log segments. */
  fsync?: (fd: number) => Promise<void>;
}

export interface RecoverySummary {
  /** True when the abort marker showed the last run did not shut down cleanly. */
  abnormal: boolean;
  commitLog: CommitLogRecoveryResult;
  /** Records re-dispatched to consume queues / index from the commit log. */
  redispatched: number;
  redispatchFrom: number;
  durationMs: number;
}

/** Largest gap between two records still read in one call, and the largest single read. */
const MAX_READ_GAP = 64 * 1024;
const MAX_READ_SPAN = 4 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);

export class MessageStore {
  readonly config: MessageStoreConfig;
  readonly dataDir: string;
  readonly paths: { commitLog: string; consumeQueue: string; index: string; checkpoint: string; abort: string; lock: string; config: string };
  readonly commitLog: CommitLog;
  readonly indexService: IndexService;
  recovery!: RecoverySummary;
  private readonly logger: Logger;
  private readonly onDispatchHook: ((d: DispatchRequest) => void) | undefined;
  private readonly recoverTagsCode: MessageStoreOptions['recoverTagsCode'];
  readonly now: () => number;
  readonly diskUsageRatio: () => number;
  readonly diskFreeBytes: () => number;
  private readonly queues = new Map<string, Map<number, ConsumeQueue>>();
  private readonly dirtyQueues = new Set<ConsumeQueue>();
  private readonly checkpoint: StoreCheckpoint;
  private releaseLock: () => void = () => undefined;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;
  /** Consume queues and index hold every record below this commit-log offset (written to their files). */
  private dispatchedOffset = 0;
  /** End of the last whole record written to the commit log: where a catching-up dispatch stops. */
  private logWholeEnd = 0;
  /** Set while disk use is over diskSpaceWarningLevelRatio. */
  private ratioBlock: WriteBlock | null = null;
  /** Set while the commit log's last write failed for want of space (commitLog.spaceFailure). */
  private spaceBlock: WriteBlock | null = null;
  /** Set after a consume-queue or index write failed: dispatch resumes from dispatchedOffset. */
  private dispatchBlock: WriteBlock | null = null;
  /** onDispatch calls owed for queue entries whose file write failed (made once it succeeds). */
  private deferredHooks: DispatchRequest[] = [];
  private readonly freshScratch: DispatchRequest[] = [];
  private lastFlushError = '';
  /** Set by replication (see getConfirmedOffset); -1 while it never was. */
  private confirmedOffset = -1;
  /** Queue entries dispatched past the confirmed offset: their onDispatch waits for it (FIFO). */
  private unconfirmedHooks: DispatchRequest[] = [];
  private unconfirmedHead = 0;
  private readonly writeListeners: (() => void)[] = [];
  private periodicFlush: Promise<void> | null = null;
  private lastStoreTimestamp = 0;
  private putCount = 0;

  private constructor(config: MessageStoreConfig, opts: MessageStoreOptions) {
    this.config = config;
    this.dataDir = config.storePathRootDir;
    this.logger = opts.logger ?? silentLogger;
    this.onDispatchHook = opts.onDispatch;
    this.recoverTagsCode = opts.recoverTagsCode;
    this.now = opts.now ?? Date.now;
    const root = config.storePathRootDir;
    fs.mkdirSync(root, { recursive: true });
    const probe = statfsProbe(root);
    this.diskUsageRatio = opts.diskUsageRatio ?? probe.usage;
    this.diskFreeBytes = opts.diskFreeBytes ?? probe.freeBytes;
    this.paths = {
      commitLog: join(root, 'commitlog'),
      consumeQueue: join(root, 'consumequeue'),
      index: join(root, 'index'),
      checkpoint: join(root, 'checkpoint'),
      abort: join(root, 'abort'),
      lock: join(root, 'lock'),
      config: join(root, 'config'),
    };
    this.releaseLock = acquireStoreLock(this.paths.lock);
    this.commitLog = new CommitLog(config, this.logger, (chunks) => this.dispatchChunks(chunks), opts.fsync);
    this.commitLog.onRolledBack = (dropped, at, err) => this.rolledBack(dropped, at, err);
    this.indexService = new IndexService(root, config.indexHashSlotNum, config.indexNum, this.now);
    this.checkpoint = new StoreCheckpoint(this.paths.checkpoint);
  }

  static async open(config: Partial<MessageStoreConfig> & { storePathRootDir: string }, opts: MessageStoreOptions = {}): Promise<MessageStore> {
    const store = new MessageStore(resolveStoreConfig(config), opts);
    try {
      store.load();
    } catch (err) {
      store.releaseLock();
      throw err;
    }
    // Record the recovered state at once, so a crash soon after does not redo the same work. On a
    // full disk this may fail: the store still opens (reads go on) and the next flush tries again.
    await store.flushAll().catch((err: unknown) => store.logger.warn({ err }, 'recording the recovered state failed; the periodic flush tries again'));
    store.start();
    return store;
  }

  private load(): void {
    const started = Date.now();
    const abnormal = fs.existsSync(this.paths.abort);
    fs.writeFileSync(this.paths.abort, '');
    const cp = this.checkpoint.values;
    this.commitLog.load();
    this.indexService.load();
    // Verify from the segment holding the last fsynced offset; consume queues and index are
    // rebuilt from the last offset the checkpoint says they fully covered.
    const scanFrom = this.checkpoint.existed && !abnormal ? cp.flushedPhyOffset : Math.min(cp.flushedPhyOffset, cp.dispatchedPhyOffset);
    let firstRedispatch = -1;
    let redispatched = 0;
    const redispatchFrom = this.checkpoint.existed ? cp.dispatchedPhyOffset : 0;
    // Consume queues are cut to what the commit log backs, so the commit log's valid end must be
    // known first: verify, then load queues, then re-dispatch the stretch they may lack.
    const commitLogResult = this.commitLog.recover(scanFrom, Number.MAX_SAFE_INTEGER, () => undefined);
    this.loadConsumeQueues();
    const from = Math.max(Math.min(redispatchFrom, this.commitLog.maxOffset), this.commitLog.minOffset);
    if (from < this.commitLog.maxOffset) {
      firstRedispatch = from;
      redispatched = this.redispatch(from);
    }
    if (!this.dispatchBlock) this.dispatchedOffset = this.commitLog.maxOffset;
    this.logWholeEnd = this.commitLog.maxOffset;
    if (cp.confirmPhyOffsetSet === 1) this.confirmedOffset = cp.confirmPhyOffset;
    this.recovery = {
      abnormal,
      commitLog: commitLogResult,
      redispatched,
      redispatchFrom: firstRedispatch,
      durationMs: Date.now() - started,
    };
    const summary = { abnormal, ...commitLogResult, redispatched, redispatchFrom: firstRedispatch };
    if (commitLogResult.truncatedBytes > 0 || commitLogResult.removedSegments.length) {
      this.logger.warn(summary, `store recovery cut ${commitLogResult.truncatedBytes} bytes off the commit log at ${commitLogResult.validEnd}: ${commitLogResult.reason ?? 'torn tail'}`);
    } else {
      this.logger.info(summary, 'store recovered');
    }
  }

  private loadConsumeQueues(): void {
    const dir = this.paths.consumeQueue;
    if (!fs.existsSync(dir)) return;
    for (const topic of fs.readdirSync(dir)) {
      for (const q of fs.readdirSync(join(dir, topic))) {
        if (!/^\d+$/.test(q)) continue;
        const cq = this.findOrCreateConsumeQueue(topic, Number(q));
        cq.load(this.commitLog.minOffset, this.commitLog.maxOffset, this.logger);
        cq.nextQueueOffset = cq.maxOffset;
      }
    }
  }

  /**
   * Re-reads records from `from` to the end (verified just before) and dispatches them
   * idempotently. A queue or index write that fails (a full disk) leaves the rest to the
   * catching-up dispatch, so the store still opens.
   */
  private redispatch(from: number): number {
    let n = 0;
    this.dispatchedOffset = from;
    this.commitLog.recover(from, from, (buf, pos, phy) => {
      if (this.dispatchBlock) return;
      try {
        this.dispatchOne(dispatchRequestOf(buf, pos, phy, this.recoverTagsCode));
        n++;
      } catch (err) {
        this.blockDispatch(phy, err as Error);
      }
    }, false);
    const err = this.writeDirtyQueues();
    if (err) this.blockDispatch(from, err);
    return n;
  }

  private start(): void {
    const flushEvery = this.config.flushDiskType === 'ASYNC_FLUSH' ? this.config.flushIntervalCommitLog : this.config.flushIntervalConsumeQueue;
    this.timers.push(setInterval(() => this.tickFlush(), Math.min(flushEvery, this.config.flushIntervalConsumeQueue)));
    this.timers.push(setInterval(() => void this.cleanExpiredFiles().catch((err: unknown) => this.logger.error({ err }, 'retention check failed')), this.config.cleanResourceInterval));
    this.timers.push(setInterval(() => this.checkDisk(), this.config.diskCheckInterval));
    for (const t of this.timers) t.unref();
    if (this.config.flushDiskType === 'SYNC_FLUSH') this.commitLog.startFlushTimeouts(this.config.syncFlushTimeout);
    this.checkDiskFull();
  }

  private tickFlush(): void {
    if (this.periodicFlush || this.closed) return;
    this.periodicFlush = this.flushAll()
      .then(() => {
        this.lastFlushError = '';
      })
      .catch((err: unknown) => {
        // Once per distinct error: a full disk fails every flush until space is freed.
        const text = (err as Error).message;
        if (text !== this.lastFlushError) this.logger.error({ err }, 'periodic flush failed; retrying every flush interval');
        this.lastFlushError = text;
      })
      .finally(() => (this.periodicFlush = null));
  }

  /** @internal Checks disk use against diskSpaceWarningLevelRatio; returns true when full. */
  checkDiskFull(): boolean {
    const ratio = this.diskUsageRatio();
    const full = ratio * 100 > this.config.diskSpaceWarningLevelRatio;
    if (full !== (this.ratioBlock !== null)) {
      if (full) this.logger.error({ ratio }, 'disk is full: the store refuses writes');
      else this.logger.info({ ratio }, 'disk usage back under the warning level: writes accepted again');
    }
    this.ratioBlock = full ? ratioBlock(ratio, this.config.diskSpaceWarningLevelRatio) : null;
    return full;
  }

  /**
   * The periodic disk check (every diskCheckInterval): the ratio, then what a write that failed
   * for want of space left to retry. Nothing here needs an operator or a restart.
   */
  private checkDisk(): void {
    if (this.closed) return;
    const full = this.checkDiskFull();
    if (!full && this.commitLog.spaceFailure && this.diskFreeBytes() >= resumeFreeBytes(this.config.writeBufferSize)) {
      this.commitLog.clearSpaceFailure();
      this.spaceBlock = null;
      this.logger.info({ free: this.diskFreeBytes() }, 'space is free again: the commit log takes writes');
    }
    // Queue entries are small: catching up is worth trying even above the warning level, so
    // consumers see every acknowledged message while sends are still refused.
    if (this.dispatchBlock) this.catchUpDispatch();
  }

  /** Why puts are refused right now, or null. */
  private writeBlock(): WriteBlock | null {
    return this.ratioBlock ?? this.spaceBlock ?? this.dispatchBlock;
  }

  // ---------------------------------------------------------------- writes

  private refuse(status: PutMessageStatus, remark: string): Promise<PutMessageResult> {
    return Promise.resolve({ status, wroteOffset: -1, wroteBytes: 0, msgId: '', queueOffset: -1, storeTimestamp: 0, msgNum: 0, remark });
  }

  private precheck(): PutMessageResult | null {
    if (this.closed) return this.failResult(PutMessageStatus.SERVICE_NOT_AVAILABLE, 'message store is shut down');
    const f = this.commitLog.failure;
    if (f) return this.failResult(PutMessageStatus.SERVICE_NOT_AVAILABLE, `message store refuses writes after a failed write (${f.message}); restart to recover`);
    const b = this.writeBlock();
    if (b) return this.failResult(b.noSpace ? PutMessageStatus.DISK_FULL : PutMessageStatus.SERVICE_NOT_AVAILABLE, b.remark);
    return null;
  }

  /**
   * A reservation that threw (a new segment file could not be created): a put of a batch may
   * leave its earlier messages reserved; they are written and dispatched like any other.
   */
  private appendFailed(err: Error): PutMessageResult {
    if (isNoSpaceError(err)) return this.failResult(PutMessageStatus.DISK_FULL, noSpaceBlock(this.diskUsageRatio(), err, this.commitLog.maxOffset).remark);
    return this.failResult(PutMessageStatus.CREATE_MAPPED_FILE_FAILED, `commit log append failed: ${err.message}`);
  }

  private failResult(status: PutMessageStatus, remark: string): PutMessageResult {
    return { status, wroteOffset: -1, wroteBytes: 0, msgId: '', queueOffset: -1, storeTimestamp: 0, msgNum: 0, remark };
  }

  private measure(msg: MessageInput): RecordSizes | PutMessageResult {
    let sizes: RecordSizes;
    try {
      sizes = measureRecord(msg);
    } catch (err) {
      return this.failResult(PutMessageStatus.MESSAGE_ILLEGAL, (err as Error).message);
    }
    if (sizes.propertiesBytes > MAX_PROPERTIES_LENGTH) {
      return this.failResult(PutMessageStatus.PROPERTIES_SIZE_EXCEEDED, `properties are ${sizes.propertiesBytes} bytes, over ${MAX_PROPERTIES_LENGTH}`);
    }
    if (sizes.totalSize > this.config.maxMessageSize) {
      return this.failResult(PutMessageStatus.MESSAGE_ILLEGAL, `message is ${sizes.totalSize} bytes, over maxMessageSize ${this.config.maxMessageSize}`);
    }
    if (!(msg.queueId >= 0) || !Number.isInteger(msg.queueId)) return this.failResult(PutMessageStatus.MESSAGE_ILLEGAL, `bad queueId ${msg.queueId}`);
    // The topic names a directory under consumequeue/: a name that could leave it ("a/../..") or that
    // the file system refuses (NUL, too long) would fail the dispatch, which stops all writes (issue 10).
    if (msg.topic.length > 255 || !QUEUE_DIR_NAME.test(msg.topic)) {
      return this.failResult(PutMessageStatus.MESSAGE_ILLEGAL, `topic ${JSON.stringify(msg.topic.slice(0, 80))} cannot name a consume queue: 1..255 of [%|a-zA-Z0-9_-]`);
    }
    return sizes;
  }

  private storeTimestamp(): number {
    const t = this.now();
    if (t > this.lastStoreTimestamp) this.lastStoreTimestamp = t;
    return t;
  }

  /** Encodes and reserves one record; returns its dispatch request. */
  private append(msg: MessageInput, sizes: RecordSizes, storeTs: number): DispatchRequest {
    const toQueue = isDispatchedToConsumeQueue(msg.sysFlag);
    // Reserve first: a reservation that throws must not have taken a queue offset.
    const phy = this.commitLog.reserve(sizes.totalSize);
    const chunk = this.commitLog.lastChunk!;
    const cq = this.findOrCreateConsumeQueue(msg.topic, msg.queueId);
    const queueOffset = toQueue ? cq.nextQueueOffset++ : 0;
    encodeMessageInto(chunk.buf, this.commitLog.lastPos, msg, sizes, queueOffset, phy, storeTs);
    const props = msg.properties;
    const req: DispatchRequest = {
      topic: msg.topic,
      queueId: msg.queueId,
      queueOffset,
      commitLogOffset: phy,
      msgSize: sizes.totalSize,
      tagsCode: msg.tagsCode ?? tagsString2tagsCode(getPropertyFromString(props, MessageConst.PROPERTY_TAGS)),
      storeTimestamp: storeTs,
      sysFlag: sizes.sysFlag,
      keys: getPropertyFromString(props, MessageConst.PROPERTY_KEYS),
      uniqKey: getPropertyFromString(props, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX),
      dispatchToQueue: toQueue,
    };
    chunk.dispatch.push(req);
    return req;
  }

  private waitsForFlush(msg: MessageInput): boolean {
    return this.config.flushDiskType === 'SYNC_FLUSH' && getPropertyFromString(msg.properties, MessageConst.PROPERTY_WAIT_STORE_MSG_OK) !== 'false';
  }

  /** Appends one message. Resolves with PUT_OK once written (ASYNC_FLUSH) or fsynced (SYNC_FLUSH). */
  putMessage(msg: MessageInput): Promise<PutMessageResult> {
    const bad = this.precheck();
    if (bad) return Promise.resolve(bad);
    const sizes = this.measure(msg);
    if ('status' in sizes) return Promise.resolve(sizes);
    const storeTs = this.storeTimestamp();
    let req: DispatchRequest;
    try {
      req = this.append(msg, sizes, storeTs);
    } catch (err) {
      return Promise.resolve(this.appendFailed(err as Error));
    }
    this.putCount++;
    const result: PutMessageResult = {
      status: PutMessageStatus.PUT_OK,
      wroteOffset: req.commitLogOffset,
      wroteBytes: sizes.totalSize,
      msgId: createMessageId(msg.storeHost, req.commitLogOffset),
      queueOffset: req.queueOffset,
      storeTimestamp: storeTs,
      msgNum: 1,
    };
    const sync = this.waitsForFlush(msg);
    return new Promise((resolve) => this.commitLog.addWaiter(req.commitLogOffset + sizes.totalSize, result, resolve, sync));
  }

  /** Appends a batch (one topic and queue): consecutive queue offsets, one result for all. */
  putMessages(msgs: MessageInput[]): Promise<PutMessageResult> {
    const bad = this.precheck();
    if (bad) return Promise.resolve(bad);
    if (msgs.length === 0) return this.refuse(PutMessageStatus.MESSAGE_ILLEGAL, 'empty batch');
    const first = msgs[0];
    const all: RecordSizes[] = [];
    for (const m of msgs) {
      if (m.topic !== first.topic || m.queueId !== first.queueId) return this.refuse(PutMessageStatus.MESSAGE_ILLEGAL, 'a batch must go to one topic and queue');
      const s = this.measure(m);
      if ('status' in s) return Promise.resolve(s);
      all.push(s);
    }
    const storeTs = this.storeTimestamp();
    const ids: string[] = [];
    let firstReq: DispatchRequest | undefined;
    let end = 0;
    let bytes = 0;
    for (let i = 0; i < msgs.length; i++) {
      let req: DispatchRequest;
      try {
        req = this.append(msgs[i], all[i], storeTs);
      } catch (err) {
        return Promise.resolve(this.appendFailed(err as Error));
      }
      firstReq ??= req;
      ids.push(createMessageId(msgs[i].storeHost, req.commitLogOffset));
      end = req.commitLogOffset + req.msgSize;
      bytes += req.msgSize;
    }
    this.putCount += msgs.length;
    const result: PutMessageResult = {
      status: PutMessageStatus.PUT_OK,
      wroteOffset: firstReq!.commitLogOffset,
      wroteBytes: bytes,
      msgId: ids.join(','),
      queueOffset: firstReq!.queueOffset,
      storeTimestamp: storeTs,
      msgNum: msgs.length,
    };
    const sync = this.waitsForFlush(first);
    return new Promise((resolve) => this.commitLog.addWaiter(end, result, resolve, sync));
  }

  // ---------------------------------------------------------------- dispatch

  private issueListener: ReplicationStream | undefined;

  /**
   * Replication: sees each batch of this store's own records as its write is issued, so slaves
   * receive it while the master writes it (a SYNC_MASTER round trip then costs the slowest of the
   * two writes, not their sum), and hears when a failed write cut what it saw.
   */
  setReplicationStream(l: ReplicationStream | undefined): void {
    this.issueListener = l;
    this.commitLog.onIssue = l
      ? (c) => {
          if (l.issued(c.seg.start + c.filePos, c.buf.subarray(0, c.len))) c.pinned = true;
        }
      : undefined;
  }

  /** Called after every write to the commit log (replication sends it on at once). */
  addWriteListener(listener: () => void): void {
    this.writeListeners.push(listener);
  }

  removeWriteListener(listener: () => void): void {
    const i = this.writeListeners.indexOf(listener);
    if (i >= 0) this.writeListeners.splice(i, 1);
  }

  private dispatchChunks(c: WriteChunk): void {
    // A replicated chunk may end inside a record: the checkpoint must never claim that record.
    this.logWholeEnd = c.replicaBoundary ?? c.seg.start + c.filePos + c.len;
    for (const l of this.writeListeners) l();
    if (c.replicaRecords) this.buildReplicaDispatch(c);
    // While blocked, the catching-up dispatch reads these records back from the commit log.
    if (this.dispatchBlock) return;
    this.dispatchRun(c.dispatch, this.logWholeEnd);
  }

  /**
   * Dispatches records (in log order, the run ending at `end`) to consume queues and index,
   * writes the queues, then calls onDispatch for each new queue entry. A failed write stops the
   * run and blocks puts; checkDisk retries it and catches up from the commit log.
   */
  private dispatchRun(reqs: readonly DispatchRequest[], end: number): void {
    const fresh = this.freshScratch;
    fresh.length = 0;
    let stopAt = -1;
    let stopErr: Error | undefined;
    for (const d of reqs) {
      try {
        if (this.dispatchOne(d)) fresh.push(d);
      } catch (err) {
        stopAt = d.commitLogOffset;
        stopErr = err as Error;
        break;
      }
    }
    const writeErr = this.writeDirtyQueues();
    if (writeErr) {
      // The entries are in memory but not in their files: readers cannot see them yet.
      for (const d of fresh) this.deferredHooks.push(d);
      this.blockDispatch(this.dispatchedOffset, writeErr);
      return;
    }
    this.fireHooks(fresh);
    if (stopErr) this.blockDispatch(stopAt, stopErr);
    else this.dispatchedOffset = end;
  }

  private fireHooks(reqs: readonly DispatchRequest[]): void {
    const hook = this.onDispatchHook;
    if (!hook) return;
    if (this.confirmedOffset >= 0) {
      // Readers cannot see records the in-sync replicas do not hold yet (see readQueue): their
      // arrival is announced once setConfirmedOffset covers them.
      const limit = this.getConfirmedOffset();
      let i = 0;
      if (this.unconfirmedHooks.length === this.unconfirmedHead) while (i < reqs.length && reqs[i].commitLogOffset + reqs[i].msgSize <= limit) i++;
      if (i < reqs.length) {
        for (let k = i; k < reqs.length; k++) this.unconfirmedHooks.push(reqs[k]);
        reqs = reqs.slice(0, i);
      }
    }
    this.callHooks(reqs);
  }

  private callHooks(reqs: readonly DispatchRequest[]): void {
    const hook = this.onDispatchHook;
    if (!hook) return;
    for (const d of reqs) {
      try {
        hook(d);
      } catch (err) {
        this.logger.error({ err }, 'onDispatch hook threw');
      }
    }
  }

  private blockDispatch(at: number, err: Error): void {
    this.dispatchedOffset = at;
    if (!this.dispatchBlock) this.logger.error({ err, at }, 'a consume-queue or index write failed: puts are refused until it succeeds');
    this.dispatchBlock = dispatchBlock(this.diskUsageRatio(), err, at);
  }

  /** Retries the queue writes that failed, then dispatches what the commit log holds past them. */
  private catchUpDispatch(): void {
    const writeErr = this.writeDirtyQueues();
    if (writeErr) {
      this.blockDispatch(this.dispatchedOffset, writeErr);
      return;
    }
    const owed = this.deferredHooks;
    this.deferredHooks = [];
    this.fireHooks(owed);
    const from = this.dispatchedOffset;
    const to = this.logWholeEnd;
    this.dispatchBlock = null;
    const batch: DispatchRequest[] = [];
    const stop = new Error('dispatch blocked again');
    try {
      this.commitLog.visitRecords(from, to, (buf, pos, phy, size) => {
        batch.push(dispatchRequestOf(buf, pos, phy, this.recoverTagsCode));
        if (batch.length < 1024) return;
        this.dispatchRun(batch, phy + size);
        batch.length = 0;
        if (this.dispatchBlock) throw stop;
      });
      this.dispatchRun(batch, to);
    } catch (err) {
      if (err !== stop) this.blockDispatch(this.dispatchedOffset, err as Error);
    }
    if (!this.dispatchBlock) this.logger.info({ from, to }, 'consume queues and index caught up: puts accepted again');
  }

  /**
   * The commit log cut the chunks a failed write dropped: their queue offsets go back to their
   * queues, and replicated bytes are cut back to their last whole record (parsed again from there).
   */
  private rolledBack(dropped: WriteChunk[], at: number, err: Error): { cutAt: number; remark: string } {
    this.issueListener?.cutAt(at);
    for (const c of dropped) {
      for (const d of c.dispatch) {
        const cq = d.dispatchToQueue ? this.findConsumeQueue(d.topic, d.queueId) : undefined;
        if (cq && cq.nextQueueOffset > d.queueOffset) cq.nextQueueOffset = d.queueOffset;
      }
    }
    let cutAt = at;
    if (dropped.some((c) => c.replicaBoundary !== undefined)) {
      // Past `at` inside a blank record's padding the parser just skips on; else cut to the record.
      cutAt = Math.min(at, this.logWholeEnd);
      this.replicaParse = this.logWholeEnd;
      this.replicaTail = Buffer.alloc(0);
    }
    this.spaceBlock = noSpaceBlock(this.diskUsageRatio(), err, cutAt);
    return { cutAt, remark: this.spaceBlock.remark };
  }

  // ---------------------------------------------------------------- replication

  /** The record boundary up to which replicated bytes were parsed, and the partial record after it. */
  private replicaParse = -1;
  private replicaTail: Buffer = Buffer.alloc(0);

  /**
   * Appends bytes replicated from a master at expectedOffset, which must be this store's end (a
   * gap or an overlap is refused). The bytes may start or end inside a record: complete records
   * are dispatched to consume queues and the index after the write, as local puts are, and the
   * rest waits for the next call. Resolves once written (ASYNC_FLUSH) or fsynced (SYNC_FLUSH).
   */
  appendReplicated(expectedOffset: number, data: Buffer): Promise<void> {
    const pre = this.precheck();
    if (pre) return Promise.reject(new Error(pre.remark));
    const end = this.commitLog.maxOffset;
    if (expectedOffset !== end) {
      return Promise.reject(new Error(`replicated bytes at ${expectedOffset} do not continue this log, which ends at ${end} (${expectedOffset > end ? 'gap' : 'overlap'})`));
    }
    if (data.length === 0) return Promise.resolve();
    const p = this.replicaParse;
    const consistent = p >= 0 && (p <= expectedOffset ? p + this.replicaTail.length === expectedOffset : this.replicaTail.length === 0);
    // After an open (recovery ends at a record boundary) or a truncation: parse from here.
    if (!consistent) {
      this.replicaParse = expectedOffset;
      this.replicaTail = Buffer.alloc(0);
    }
    const before = this.replicaParse;
    let parsed: (DispatchRequest | number)[];
    try {
      parsed = this.parseReplicated(data);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const chunk = this.commitLog.appendRaw(data, before);
    chunk.replicaBoundary = this.replicaParse;
    // Records wholly in the chunk's buffer are turned into dispatch requests once written, after
    // the write listeners (a slave's report to its master): building them is a third of what a
    // slave spends per record, and the master's SYNC_MASTER acknowledgement waits for the report.
    // Requests stay in log order: deferred ones always come after the chunk's built ones.
    const chunkPhy = chunk.seg.start + chunk.filePos;
    for (const d of parsed) {
      if (typeof d === 'number' && d >= chunkPhy) {
        (chunk.replicaRecords ??= []).push(d);
        continue;
      }
      if (chunk.replicaRecords) this.buildReplicaDispatch(chunk);
      chunk.dispatch.push(typeof d === 'number' ? this.replicaDispatch(data, d - expectedOffset, d) : d);
    }
    const result: PutMessageResult = { status: PutMessageStatus.PUT_OK, wroteOffset: expectedOffset, wroteBytes: data.length, msgId: '', queueOffset: -1, storeTimestamp: 0, msgNum: parsed.length };
    return new Promise((resolve, reject) =>
      this.commitLog.addWaiter(expectedOffset + data.length, result, (r) => (r.status === PutMessageStatus.PUT_OK ? resolve() : reject(new Error(`replicated write failed: ${String(r.status)} ${r.remark ?? ''}`))), this.config.flushDiskType === 'SYNC_FLUSH'),
    );
  }

  /** Dispatch requests for the chunk's deferred records, read from its buffer (written, not yet reused). */
  private buildReplicaDispatch(c: WriteChunk): void {
    const recs = c.replicaRecords!;
    c.replicaRecords = undefined;
    const base = c.seg.start + c.filePos;
    for (const phy of recs) c.dispatch.push(this.replicaDispatch(c.buf, phy - base, phy));
  }

  /**
   * Finds the records data completes (after the held partial one) and checks each: the one that
   * completes the held partial record comes back as its dispatch request, the others as their
   * offsets (records within data, whose requests are built later). The held partial record is
   * completed with just the bytes it lacks: joining it to the whole frame would copy every
   * replicated byte once more (GC work on every slave).
   */
  private parseReplicated(data: Buffer): (DispatchRequest | number)[] {
    const end = this.commitLog.maxOffset;
    const out: (DispatchRequest | number)[] = [];
    if (this.replicaParse < end) {
      const tail = this.replicaTail;
      const phy = this.replicaParse;
      const headBytes = Math.max(0, 8 - tail.length);
      if (data.length < headBytes) {
        this.replicaTail = Buffer.concat([tail, data]);
        return out;
      }
      const head = headBytes > 0 ? Buffer.concat([tail, data.subarray(0, headBytes)]) : tail;
      const size = head.readInt32BE(0);
      const magic = head.readInt32BE(4);
      if (magic === BLANK_MAGIC_CODE) {
        this.checkReplicatedBlank(phy, size);
      } else {
        this.checkReplicatedHead(phy, size, magic);
        const take = size - tail.length;
        if (data.length < take) {
          this.replicaTail = Buffer.concat([tail, data]);
          return out;
        }
        const rec = Buffer.concat([tail, data.subarray(0, take)], size);
        const why = checkRecord(rec, 0, size, phy);
        if (why) throw new Error(`replicated record at ${phy}: ${why}`);
        out.push(this.replicaDispatch(rec, 0, phy));
      }
      this.replicaParse = phy + size;
      this.replicaTail = EMPTY;
    }
    // Past data's end while the rest of a segment's blank padding is still to come.
    let pos = this.replicaParse - end;
    while (pos + 8 <= data.length) {
      const phy = end + pos;
      const size = data.readInt32BE(pos);
      const magic = data.readInt32BE(pos + 4);
      if (magic === BLANK_MAGIC_CODE) {
        this.checkReplicatedBlank(phy, size);
        pos += size;
        continue;
      }
      this.checkReplicatedHead(phy, size, magic);
      if (pos + size > data.length) break;
      const why = checkRecord(data, pos, size, phy);
      if (why) throw new Error(`replicated record at ${phy}: ${why}`);
      out.push(phy);
      pos += size;
    }
    this.replicaParse = end + pos;
    // A copy: a view would keep the whole frame's buffer alive.
    this.replicaTail = pos < data.length ? Buffer.from(data.subarray(pos)) : EMPTY;
    return out;
  }

  private checkReplicatedBlank(phy: number, size: number): void {
    const toSegEnd = this.commitLog.segSize - (phy % this.commitLog.segSize);
    if (size !== toSegEnd) throw new Error(`replicated blank record at ${phy} has size ${size}, the segment ends ${toSegEnd} bytes later`);
  }

  private checkReplicatedHead(phy: number, size: number, magic: number): void {
    if (magic !== MESSAGE_MAGIC_CODE_V1 && magic !== MESSAGE_MAGIC_CODE_V2) throw new Error(`replicated bytes at ${phy} are not a record (magic 0x${(magic >>> 0).toString(16)})`);
    if (size < 91 || size > this.config.maxMessageSize + 64 * 1024) throw new Error(`replicated record at ${phy} has size ${size}`);
  }

  /**
   * The dispatch of a record checkRecord passed, reading only the fields a dispatch needs: a full
   * decode formats both host addresses and copies the body view for every replicated record.
   */
  private replicaDispatch(buf: Buffer, pos: number, phy: number): DispatchRequest {
    const sysFlag = buf.readInt32BE(pos + 36);
    const bornLen = (sysFlag & MessageSysFlag.BORNHOST_V6_FLAG) === 0 ? 8 : 20;
    const storeLen = (sysFlag & MessageSysFlag.STOREHOSTADDRESS_V6_FLAG) === 0 ? 8 : 20;
    const storeTimestamp = readLong(buf, pos + 48 + bornLen);
    const bodyLenPos = pos + 48 + bornLen + 8 + storeLen + 12;
    let q = bodyLenPos + 4 + buf.readInt32BE(bodyLenPos);
    const v2 = buf.readInt32BE(pos + 4) === MESSAGE_MAGIC_CODE_V2;
    const topicLen = v2 ? buf.readInt16BE(q) : buf.readInt8(q);
    q += v2 ? 2 : 1;
    const topic = buf.toString('utf8', q, q + topicLen);
    q += topicLen;
    const propsLen = buf.readInt16BE(q);
    const props = propsLen > 0 ? buf.toString('utf8', q + 2, q + 2 + propsLen) : '';
    const queueId = buf.readInt32BE(pos + 12);
    const queueOffset = readLong(buf, pos + 20);
    const toQueue = isDispatchedToConsumeQueue(sysFlag);
    if (toQueue) {
      // A promoted slave numbers its next puts after what it replicated.
      const cq = this.findOrCreateConsumeQueue(topic, queueId);
      if (cq.nextQueueOffset <= queueOffset) cq.nextQueueOffset = queueOffset + 1;
    }
    if (storeTimestamp > this.lastStoreTimestamp) this.lastStoreTimestamp = storeTimestamp;
    return {
      topic,
      queueId,
      queueOffset,
      commitLogOffset: phy,
      msgSize: buf.readInt32BE(pos),
      tagsCode: this.recoverTagsCode?.(topic, queueId, props, storeTimestamp) ?? tagsString2tagsCode(getPropertyFromString(props, MessageConst.PROPERTY_TAGS)),
      storeTimestamp,
      sysFlag,
      keys: getPropertyFromString(props, MessageConst.PROPERTY_KEYS),
      uniqKey: getPropertyFromString(props, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX),
      dispatchToQueue: toQueue,
    };
  }

  /**
   * Before a replica starts writing its own records (it was elected master): a record the old
   * master sent only part of is cut, and a segment whose blank padding was only partly received
   * is padded to its end, so the next append starts at a record boundary in the right segment.
   */
  async endReplication(): Promise<void> {
    await this.commitLog.waitWritten();
    const end = this.commitLog.maxOffset;
    if (this.replicaParse >= 0 && this.replicaParse < end) {
      this.logger.warn({ from: end, to: this.replicaParse }, 'cutting a partly replicated record before writing as master');
      await this.truncateTo(this.replicaParse);
    } else if (this.replicaParse > end) {
      this.commitLog.appendRaw(Buffer.alloc(this.replicaParse - end), this.replicaParse);
      await this.commitLog.flush();
    }
    this.replicaParse = -1;
    this.replicaTail = Buffer.alloc(0);
  }

  /** Raw commit-log bytes from offset for a replica (see CommitLog.readRaw). */
  readRawCommitLog(offset: number, maxBytes: number): Promise<Buffer | null> {
    return this.commitLog.readRaw(offset, maxBytes);
  }

  /** readRawCommitLog near the log's end, synchronously, into `into` if it fits; undefined when far behind. */
  readRawCommitLogHot(offset: number, maxBytes: number, into?: Buffer): Buffer | null | undefined {
    return this.commitLog.readRawHot(offset, maxBytes, into);
  }

  /** Everything below is written (replication streams up to here). */
  getWrittenPhyOffset(): number {
    return this.commitLog.writtenOffset;
  }

  /**
   * Cuts the log at offset with every consume-queue entry and index entry it no longer backs: a
   * slave drops what its old master wrote and no one acknowledged, a demoted master its
   * unconfirmed tail. offset must start a record (or end the whole records held, or lie in the
   * partial replicated record after them): a cut inside a record is refused with an error naming
   * it, since the next append would then continue garbage. Cutting at the end changes nothing.
   */
  async truncateTo(offset: number): Promise<void> {
    await this.commitLog.waitWritten();
    const end = this.commitLog.maxOffset;
    if (offset === end) return;
    const whole = this.logWholeEnd;
    const inPartial = offset > whole && offset < end;
    if (offset < end && !inPartial && !this.isRecordStart(offset)) {
      throw new Error(`cannot truncate the commit log to ${offset}: no record starts there (the log ends at ${end})`);
    }
    this.writeDirtyQueues();
    await this.commitLog.truncate(offset);
    for (const cq of this.consumeQueues()) {
      cq.truncateTo(offset, this.logger);
      (cq as ConsumeQueue & { nextQueueOffset: number }).nextQueueOffset = cq.maxOffset;
    }
    this.indexService.truncateFrom(offset);
    if (inPartial && this.replicaParse >= 0 && this.replicaParse < offset) {
      // Keep the front of the partial record held: the master sends its rest from offset.
      this.replicaTail = Buffer.from(this.replicaTail.subarray(0, offset - this.replicaParse));
    } else if (!inPartial) {
      this.replicaParse = offset;
      this.replicaTail = Buffer.alloc(0);
      this.logWholeEnd = offset;
    }
    if (this.dispatchedOffset > offset) this.dispatchedOffset = offset;
    if (this.confirmedOffset > offset) this.confirmedOffset = offset;
    this.unconfirmedHooks = this.unconfirmedHooks.slice(this.unconfirmedHead).filter((d) => d.commitLogOffset + d.msgSize <= offset);
    this.unconfirmedHead = 0;
    await this.flushAll();
  }

  /**
   * A replica whose log ends before its master's oldest segment (new, cleared, or away while the
   * master deleted what it lacked) cannot continue its own log: everything goes (commit log,
   * consume queues, index) and the log starts again, empty, at offset, the master's oldest
   * segment. Queues then start at the queue offsets the replicated records carry, so their min
   * offsets are where the master's retention left them. Refused when this log reaches offset:
   * it would throw away log the master could simply continue.
   */
  async resetReplica(offset: number): Promise<void> {
    await this.commitLog.waitWritten();
    const end = this.commitLog.maxOffset;
    if (offset <= end) throw new Error(`cannot restart the log at ${offset}: it already holds up to ${end}, which the master can continue`);
    if (offset % this.commitLog.segSize !== 0) throw new Error(`cannot restart the log at ${offset}: not a multiple of mappedFileSizeCommitLog ${this.commitLog.segSize} (is the master's segment size the same?)`);
    this.logger.warn({ from: end, to: offset }, 'this replica is behind its master\'s oldest segment: clearing the store and starting at that segment');
    for (const cq of this.consumeQueues()) cq.destroy();
    this.queues.clear();
    this.dirtyQueues.clear();
    fs.rmSync(this.paths.consumeQueue, { recursive: true, force: true });
    this.indexService.clear();
    await this.commitLog.resetTo(offset);
    this.replicaParse = offset;
    this.replicaTail = Buffer.alloc(0);
    this.logWholeEnd = offset;
    this.dispatchedOffset = offset;
    this.deferredHooks = [];
    this.dispatchBlock = null;
    this.confirmedOffset = -1;
    this.unconfirmedHooks = [];
    this.unconfirmedHead = 0;
    // The checkpoint names the new start: a restart before the first segment is written opens
    // an empty log there, not at 0.
    await this.flushAll();
  }

  /** True when a record, or a segment's closing blank record, starts at offset. */
  private isRecordStart(offset: number): boolean {
    const segSize = this.commitLog.segSize;
    if (offset % segSize === 0) return offset >= this.commitLog.minOffset;
    const head = Buffer.allocUnsafe(36);
    if (this.commitLog.readSync(offset, 8, head) < 8) return false;
    const size = head.readInt32BE(0);
    const magic = head.readInt32BE(4);
    if (magic === BLANK_MAGIC_CODE) return size === segSize - (offset % segSize);
    if (magic !== MESSAGE_MAGIC_CODE_V1 && magic !== MESSAGE_MAGIC_CODE_V2) return false;
    // A record stores its own commit-log offset: bytes inside another record almost never do.
    return this.commitLog.readSync(offset, 36, head) === 36 && readLong(head, 28) === offset;
  }

  /**
   * The commit-log offset up to which every in-sync replica holds the log (RocketMQ's
   * confirmOffset), never past this store's last whole record. Until replication sets one it is
   * the end of the whole records held: with no replicas, everything written is confirmed.
   */
  getConfirmedOffset(): number {
    const whole = Math.min(this.logWholeEnd, this.commitLog.writtenOffset);
    return this.confirmedOffset < 0 ? whole : Math.min(this.confirmedOffset, whole);
  }

  /**
   * Replication moves it: a master as its in-sync replicas confirm, a slave as its master tells
   * it. Kept in the checkpoint (confirmPhyOffset) across restarts; truncateTo lowers it.
   */
  setConfirmedOffset(offset: number): void {
    if (!Number.isSafeInteger(offset) || offset < 0) throw new RangeError(`confirmed offset ${offset} is not a commit-log offset`);
    this.confirmedOffset = offset;
    this.releaseConfirmed(this.getConfirmedOffset());
  }

  /**
   * Replication stops confirming (an ASYNC_MASTER, a slave): everything written is visible again,
   * as with no replicas, and so it stays after a restart.
   */
  clearConfirmedOffset(): void {
    this.confirmedOffset = -1;
    this.releaseConfirmed(Number.MAX_SAFE_INTEGER);
  }

  /** Announces the queue entries now confirmed: held pulls and pops wake as on a dispatch. */
  private releaseConfirmed(limit: number): void {
    const list = this.unconfirmedHooks;
    let i = this.unconfirmedHead;
    if (i === list.length) return;
    while (i < list.length && list[i].commitLogOffset + list[i].msgSize <= limit) i++;
    const ready = list.slice(this.unconfirmedHead, i);
    this.unconfirmedHead = i;
    if (i === list.length) {
      this.unconfirmedHooks = [];
      this.unconfirmedHead = 0;
    } else if (i > 1024 && i * 2 > list.length) {
      this.unconfirmedHooks = list.slice(i);
      this.unconfirmedHead = 0;
    }
    if (ready.length) this.callHooks(ready);
  }

  /**
   * Adds the record to the index, then its queue entry (idempotent: a re-dispatch skips what is
   * there). Index first: if the queue entry then throws, a retry still adds it. Returns true
   * when the queue entry is new (its onDispatch is due).
   */
  private dispatchOne(d: DispatchRequest): boolean {
    if (this.config.messageIndexEnable && getTransactionValue(d.sysFlag) !== MessageSysFlag.TRANSACTION_ROLLBACK_TYPE) {
      this.indexService.buildIndex(d.topic, d.keys, d.uniqKey, d.commitLogOffset, d.storeTimestamp);
    }
    if (!d.dispatchToQueue) return false;
    const cq = this.findOrCreateConsumeQueue(d.topic, d.queueId);
    const added = cq.putEntry(d.queueOffset, d.commitLogOffset, d.msgSize, d.tagsCode);
    if (added) this.dirtyQueues.add(cq);
    if (cq.nextQueueOffset < cq.maxOffset) cq.nextQueueOffset = cq.maxOffset;
    return added;
  }

  /** Writes the entries gathered in memory; a queue whose write fails stays dirty for the next try. */
  private writeDirtyQueues(): Error | undefined {
    let failed: Error | undefined;
    for (const cq of this.dirtyQueues) {
      try {
        cq.writePending();
        this.dirtyQueues.delete(cq);
      } catch (err) {
        failed ??= err as Error;
      }
    }
    return failed;
  }

  private findOrCreateConsumeQueue(topic: string, queueId: number): ConsumeQueue & { nextQueueOffset: number } {
    let byId = this.queues.get(topic);
    if (!byId) {
      byId = new Map();
      this.queues.set(topic, byId);
    }
    let cq = byId.get(queueId) as (ConsumeQueue & { nextQueueOffset: number }) | undefined;
    if (!cq) {
      cq = Object.assign(new ConsumeQueue(topic, queueId, this.dataDir, this.config.mappedFileSizeConsumeQueue), { nextQueueOffset: 0 });
      byId.set(queueId, cq);
    }
    return cq;
  }

  private findConsumeQueue(topic: string, queueId: number): (ConsumeQueue & { nextQueueOffset: number }) | undefined {
    return this.queues.get(topic)?.get(queueId) as (ConsumeQueue & { nextQueueOffset: number }) | undefined;
  }

  // ---------------------------------------------------------------- reads

  getMaxOffsetInQueue(topic: string, queueId: number): number {
    return this.findConsumeQueue(topic, queueId)?.maxOffset ?? 0;
  }

  getMinOffsetInQueue(topic: string, queueId: number): number {
    return this.findConsumeQueue(topic, queueId)?.minOffset ?? 0;
  }

  getMaxPhyOffset(): number {
    return this.commitLog.writtenOffset;
  }

  getMinPhyOffset(): number {
    return this.commitLog.minOffset;
  }

  getTopics(): string[] {
    return [...this.queues.keys()];
  }

  getQueueIds(topic: string): number[] {
    return [...(this.queues.get(topic)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /**
   * Reads up to maxMsgNums records of a queue from offset. Statuses follow Java: OFFSET_TOO_SMALL,
   * OFFSET_OVERFLOW_ONE (offset == max), OFFSET_OVERFLOW_BADLY, NO_MESSAGE_IN_QUEUE, FOUND, ...
   */
  getMessage(
    topic: string,
    queueId: number,
    offset: number,
    maxMsgNums: number,
    maxTotalBytes = this.config.maxTransferBytesOnMessageInMemory,
    filter?: MessageFilter,
  ): Promise<GetMessageResult> {
    const res: GetMessageResult = { status: GetMessageStatus.NO_MATCHED_LOGIC_QUEUE, nextBeginOffset: 0, minOffset: 0, maxOffset: 0, buffers: [], messageCount: 0, totalSize: 0, queueOffsets: [] };
    const cq = this.findConsumeQueue(topic, queueId);
    if (!cq) {
      return Promise.resolve(res);
    }
    const min = cq.minOffset;
    const max = cq.maxOffset;
    res.minOffset = min;
    res.maxOffset = max;
    if (max === 0) {
      res.status = GetMessageStatus.NO_MESSAGE_IN_QUEUE;
      return Promise.resolve(res);
    }
    if (offset < min) {
      res.status = GetMessageStatus.OFFSET_TOO_SMALL;
      res.nextBeginOffset = min;
      return Promise.resolve(res);
    }
    if (offset === max) {
      res.status = GetMessageStatus.OFFSET_OVERFLOW_ONE;
      res.nextBeginOffset = offset;
      return Promise.resolve(res);
    }
    if (offset > max) {
      res.status = GetMessageStatus.OFFSET_OVERFLOW_BADLY;
      res.nextBeginOffset = min === 0 ? min : max;
      return Promise.resolve(res);
    }
    // Not async functions: a pull of recent records reads them synchronously, and an async chain
    // (three functions and their awaits) was garbage per pull (issue 17). A read that throws rejects.
    try {
      const pending = this.readQueue(cq, offset, maxMsgNums, maxTotalBytes, filter, res);
      return pending === undefined ? Promise.resolve(res) : pending.then(() => res);
    } catch (err) {
      return Promise.reject(err as Error);
    }
  }

  /** Fills res; a promise when some records must be read off the loop, else undefined (done). */
  private readQueue(cq: ConsumeQueue, offset: number, maxMsgNums: number, maxTotalBytes: number, filter: MessageFilter | undefined, res: GetMessageResult): Promise<void> | undefined {
    const minPhy = this.commitLog.minOffset;
    let next = offset;
    let status: GetMessageStatus = GetMessageStatus.NO_MATCHED_MESSAGE;
    const want: { q: number; off: number; size: number }[] = [];
    let bytes = 0;
    let scanned = 0;
    const scanLimit = Math.max(maxMsgNums, this.config.maxFilterMessageCount);
    // A master whose replicas confirm (SYNC_MASTER, controller mode) shows only what its in-sync
    // set holds, so no consumer sees a record a failover could lose.
    const confirmed = this.confirmedOffset < 0 ? Number.MAX_SAFE_INTEGER : this.getConfirmedOffset();
    let unconfirmed = false;
    outer: while (want.length < maxMsgNums && next < cq.maxOffset && scanned < scanLimit) {
      const entries = cq.readEntries(next, Math.min(scanLimit - scanned, Math.max(maxMsgNums - want.length, 32)));
      if (entries.length === 0) break;
      for (let p = 0; p < entries.length; p += CQ_STORE_UNIT_SIZE) {
        const off = readLong(entries, p);
        const size = entries.readInt32BE(p + 8);
        if (want.length >= maxMsgNums || (want.length > 0 && bytes + size > maxTotalBytes)) break outer;
        if (off + size > confirmed) {
          unconfirmed = true;
          break outer;
        }
        next++;
        scanned++;
        if (size <= 0) continue;
        if (off < minPhy) {
          status = GetMessageStatus.MESSAGE_WAS_REMOVING;
          continue;
        }
        if (filter && !filter(readLong(entries, p + 12))) continue;
        want.push({ q: next - 1, off, size });
        bytes += size;
      }
    }
    res.nextBeginOffset = next;
    // RocketMQ's check: what lies this far behind is no longer in memory, a slave should serve it.
    if (want.length > 0) res.suggestPullingFromSlave = this.commitLog.maxOffset - want[want.length - 1].off > this.config.accessMessageInMemoryMaxBytes;
    if (want.length === 0) {
      // Nothing confirmed yet at the requested offset: as at the queue's end (a pull is held).
      res.status = unconfirmed && next === offset ? GetMessageStatus.OFFSET_OVERFLOW_ONE : status;
      return undefined;
    }
    const cold = this.readRecords(want, res, 0);
    if (cold === undefined) {
      res.status = res.messageCount > 0 ? GetMessageStatus.FOUND : GetMessageStatus.MESSAGE_WAS_REMOVING;
      return undefined;
    }
    return cold.then(() => {
      res.status = res.messageCount > 0 ? GetMessageStatus.FOUND : GetMessageStatus.MESSAGE_WAS_REMOVING;
    });
  }

  /**
   * Reads records with one read per run of nearby records in one segment, then slices them.
   * Records of one queue interleave with other queues' records, so a run may span gaps: reading
   * a few extra KiB from the page cache is far cheaper than one more read call.
   */
  private readRecords(want: { q: number; off: number; size: number }[], res: GetMessageResult, from: number): Promise<void> | undefined {
    for (let i = from; i < want.length; ) {
      const j = this.runEnd(want, i);
      const start = want[i].off;
      const buf = this.commitLog.readHot(start, want[j - 1].off + want[j - 1].size - start);
      // Older bytes may need the disk: this run and the rest are read off the loop.
      if (buf === undefined) return this.readRecordsCold(want, res, i);
      if (buf) this.addRecords(want, i, j, buf, res);
      i = j;
    }
    return undefined;
  }

  private async readRecordsCold(want: { q: number; off: number; size: number }[], res: GetMessageResult, from: number): Promise<void> {
    for (let i = from; i < want.length; ) {
      const j = this.runEnd(want, i);
      const start = want[i].off;
      const buf = await this.commitLog.read(start, want[j - 1].off + want[j - 1].size - start);
      if (buf) this.addRecords(want, i, j, buf, res);
      i = j;
    }
  }

  /** The end (exclusive) of the run of records from i that one read covers. */
  private runEnd(want: readonly { off: number; size: number }[], i: number): number {
    const start = want[i].off;
    let end = start + want[i].size;
    let j = i + 1;
    while (j < want.length) {
      const next = want[j];
      const newEnd = next.off + next.size;
      if (next.off < end || next.off - end > MAX_READ_GAP || newEnd - start > MAX_READ_SPAN || !this.commitLog.readable(start, newEnd - start)) break;
      end = newEnd;
      j++;
    }
    return j;
  }

  private addRecords(want: readonly { q: number; off: number; size: number }[], i: number, j: number, buf: Buffer, res: GetMessageResult): void {
    const start = want[i].off;
    for (let k = i; k < j; k++) {
      const p = want[k].off - start;
      res.buffers.push(buf.subarray(p, p + want[k].size));
      res.queueOffsets.push(want[k].q);
      res.messageCount++;
      res.totalSize += want[k].size;
    }
  }

  /** One whole record by commit-log offset, or null when there is none there. */
  async lookMessageByOffset(commitLogOffset: number, size?: number): Promise<Buffer | null> {
    let n = size;
    if (n === undefined) {
      const head = Buffer.allocUnsafe(8);
      if (this.commitLog.readSync(commitLogOffset, 8, head) < 8) return null;
      n = head.readInt32BE(0);
      if (n < 91 || n > this.config.mappedFileSizeCommitLog) return null;
    }
    const buf = await this.commitLog.read(commitLogOffset, n);
    if (!buf) return null;
    const magic = buf.readInt32BE(4);
    if (buf.readInt32BE(0) !== n || (magic !== (0xdaa320a7 | 0) && magic !== (0xdaa320ab | 0))) return null;
    return buf;
  }

  private storeTimeAt(phy: number, scratch: Buffer): number {
    if (this.commitLog.readSync(phy, 76, scratch) < 76) return -1;
    return readLong(scratch, storeTimestampPos(scratch.readInt32BE(36)));
  }

  /** Smallest queue offset whose store time is >= timestamp; maxOffset when none is. */
  getOffsetInQueueByTime(topic: string, queueId: number, timestamp: number): Promise<number> {
    const cq = this.findConsumeQueue(topic, queueId);
    if (!cq) return Promise.resolve(0);
    const scratch = Buffer.allocUnsafe(76);
    let lo = cq.minOffset;
    let hi = cq.maxOffset;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const e = cq.readEntrySync(mid);
      const t = e ? this.storeTimeAt(e.offset, scratch) : -1;
      if (t >= timestamp) hi = mid;
      else lo = mid + 1;
    }
    return Promise.resolve(lo);
  }

  /** Store time of the oldest message still in the queue, -1 when empty. */
  getEarliestMessageTime(topic: string, queueId: number): Promise<number> {
    const cq = this.findConsumeQueue(topic, queueId);
    if (!cq || cq.minOffset >= cq.maxOffset) return Promise.resolve(-1);
    const e = cq.readEntrySync(cq.minOffset);
    return Promise.resolve(e ? this.storeTimeAt(e.offset, Buffer.allocUnsafe(76)) : -1);
  }

  /** Records of topic whose KEYS or UNIQ_KEY include key, store time in [begin, end], newest first. */
  async queryMessage(topic: string, key: string, maxNum: number, begin: number, end: number): Promise<QueryMessageResult> {
    const offsets = this.indexService.queryOffsets(topic, key, maxNum * 2 + 8, begin, end);
    const buffers: Buffer[] = [];
    const seen = new Set<number>();
    for (const off of offsets) {
      if (buffers.length >= maxNum || seen.has(off)) continue;
      seen.add(off);
      const buf = await this.lookMessageByOffset(off);
      if (!buf) continue;
      // The index stores hashes only: confirm the record really carries topic and key.
      let m;
      try {
        m = decodeMessage(buf, 0, { checkCrc: false });
      } catch {
        continue;
      }
      if (m.topic !== topic || m.storeTimestamp < begin || m.storeTimestamp > end) continue;
      const uk = getPropertyFromString(m.properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
      const keys = getPropertyFromString(m.properties, MessageConst.PROPERTY_KEYS);
      if (uk !== key && !(keys !== undefined && keys.split(' ').includes(key))) continue;
      buffers.push(buf);
    }
    return { buffers, indexLastUpdateTimestamp: this.indexService.lastUpdateTimestamp, indexLastUpdatePhyoffset: Math.max(0, this.indexService.endPhyOffset) };
  }

  // ---------------------------------------------------------------- maintenance

  async deleteTopics(topics: string[]): Promise<void> {
    await this.commitLog.waitWritten();
    for (const t of topics) {
      const byId = this.queues.get(t);
      if (byId) for (const cq of byId.values()) {
        this.dirtyQueues.delete(cq);
        cq.destroy();
      }
      this.queues.delete(t);
      fs.rmSync(join(this.paths.consumeQueue, t), { recursive: true, force: true });
    }
  }

  /** Deletes expired files (see store-retention). force ignores the deleteWhen hour. */
  async cleanExpiredFiles(force = false): Promise<CleanResult> {
    await this.commitLog.waitWritten();
    const result = cleanExpiredFiles(this, force, this.logger);
    this.checkDiskFull();
    return Promise.resolve(result);
  }

  /** @internal Used by retention. */
  consumeQueues(): ConsumeQueue[] {
    const out: ConsumeQueue[] = [];
    for (const byId of this.queues.values()) out.push(...byId.values());
    return out;
  }

  runtimeInfo(): Record<string, string> {
    return {
      commitLogMinOffset: String(this.commitLog.minOffset),
      commitLogMaxOffset: String(this.commitLog.writtenOffset),
      commitLogFlushedOffset: String(this.commitLog.flushedOffset),
      commitLogSegments: String(this.commitLog.segments().length),
      dispatchedOffset: String(this.dispatchedOffset),
      putMessageTimesTotal: String(this.putCount),
      topics: String(this.queues.size),
      flushDiskType: this.config.flushDiskType,
      diskFull: String(this.ratioBlock !== null || this.spaceBlock !== null),
      writeBlocked: this.writeBlock()?.remark ?? '',
      dispatchBlocked: this.dispatchBlock?.remark ?? '',
      writeFailure: this.commitLog.failure ? this.commitLog.failure.message : '',
      lastStoreTimestamp: String(this.lastStoreTimestamp),
    };
  }

  /** Writes and fsyncs everything: commit log, consume queues, index, then the checkpoint. */
  async flush(): Promise<void> {
    await this.flushAll();
  }

  private async flushAll(): Promise<void> {
    await this.commitLog.flush();
    const dispatched = this.dispatchedOffset;
    this.indexService.writeDirty();
    await Promise.all([...this.consumeQueues().map((q) => q.fsyncDirty()), this.indexService.fsync()]);
    const cp = this.checkpoint.values;
    cp.flushedPhyOffset = this.commitLog.flushedOffset;
    cp.dispatchedPhyOffset = Math.min(dispatched, this.commitLog.flushedOffset);
    cp.physicMsgTimestamp = this.lastStoreTimestamp;
    cp.logicsMsgTimestamp = this.lastStoreTimestamp;
    cp.indexMsgTimestamp = this.indexService.lastUpdateTimestamp;
    cp.confirmPhyOffset = Math.max(this.confirmedOffset, 0);
    cp.confirmPhyOffsetSet = this.confirmedOffset >= 0 ? 1 : 0;
    await this.checkpoint.flush();
  }

  /** Clean shutdown: finish writes, flush everything, remove the abort marker, release the lock. */
  async shutdown(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.commitLog.stopFlushTimeouts();
    await this.commitLog.waitWritten();
    if (this.periodicFlush) await this.periodicFlush;
    let flushed = false;
    if (this.commitLog.failure === null) {
      try {
        await this.flushAll();
        flushed = true;
      } catch (err) {
        // A full disk: the abort marker stays, so the next open re-checks the log and re-dispatches.
        this.logger.warn({ err }, 'the final flush failed; the next open recovers from the commit log');
      }
    }
    this.closed = true;
    try {
      this.indexService.close();
    } catch (err) {
      this.logger.warn({ err }, 'writing the index at shutdown failed; the next open rebuilds it from the commit log');
    }
    for (const cq of this.consumeQueues()) cq.close();
    this.commitLog.close();
    this.checkpoint.close();
    if (flushed) fs.rmSync(this.paths.abort, { force: true });
    this.releaseLock();
  }

  /** Test hook: drop the store without flushing or removing the abort marker (like a crash). */
  async crashForTest(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.commitLog.stopFlushTimeouts();
    await this.commitLog.waitWritten();
    if (this.periodicFlush) await this.periodicFlush;
    this.closed = true;
    for (const cq of this.consumeQueues()) cq.close();
    this.commitLog.close();
    this.checkpoint.close();
    this.releaseLock();
  }
}
