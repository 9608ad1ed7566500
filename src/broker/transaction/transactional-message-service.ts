// Transaction messages: a prepared send is parked as a half message in RMQ_SYS_TRANS_HALF_TOPIC
// (queue 0); END_TRANSACTION commits it (re-put to its real topic with the COMMIT flag) or rolls it
// back; either way an op record in RMQ_SYS_TRANS_OP_HALF_TOPIC (tag "d", body "halfOffset,")
// marks it decided, so it is never committed twice nor checked again. Undecided half messages
// are checked back with a live producer of their group by TransactionCheckService.
import type { Logger } from '../../common/logger.js';
import { decodeMessage, type MessageRecord } from '../../common/message-codec.js';
import { MessageConst, TopicValidator } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { removePropertyFromString, setPropertyInString } from '../../common/property-edit.js';
import { MessageSysFlag, resetTransactionValue } from '../../common/sys-flag.js';
import { BrokerError, ResponseCode } from '../../remoting/index.js';
import { type MessageInput, type MessageStore } from '../../store/index.js';
import type { ConsumerOffsetManager } from '../consumer-offset-manager.js';
import type { RouteResult } from '../message-router.js';
import { TransactionConst } from './transaction-const.js';
import { assertStored, restoreInput } from '../restore-message.js';

const HALF = TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC;
const OP = TopicValidator.RMQ_SYS_TRANS_OP_HALF_TOPIC;

export interface EndTransactionRequest {
  producerGroup: string;
  tranStateTableOffset: number;
  commitLogOffset: number;
  commitOrRollback: number;
  fromTransactionCheck: boolean;
}

interface OpEntry {
  opQueueOffset: number;
  halfOffsets: number[];
}

export class TransactionalMessageService {
  /** Half-queue offsets with an op record (decided), above the half cursor. */
  private readonly decided = new Set<number>();
  /** Op records read since the op cursor, in order, so the cursor can advance past fully-consumed ones. */
  private opEntries: OpEntry[] = [];
  private opReadUpTo = 0;

  constructor(
    private readonly store: MessageStore,
    private readonly offsets: ConsumerOffsetManager,
    private readonly logger: Logger,
    private readonly storeHost: () => { address: string; port: number } = () => ({ address: '127.0.0.1', port: 0 }),
    /** Routes the committed message like any send, so a delay level or timer on it still applies. */
    private readonly route: (msg: MessageInput) => void = () => undefined,
  ) {}

  /** Router stage: a TRAN_MSG=true send becomes a half message (unless it is an old-style retry). */
  readonly routeStage = (msg: MessageInput): RouteResult | undefined => {
    const flag = getPropertyFromString(msg.properties, MessageConst.PROPERTY_TRANSACTION_PREPARED);
    if (flag?.toLowerCase() !== 'true') return undefined;
    const delay = Number(getPropertyFromString(msg.properties, MessageConst.PROPERTY_DELAY_TIME_LEVEL) ?? 0);
    if (msg.reconsumeTimes > 0 && delay > 0) return undefined;
    let props = setPropertyInString(msg.properties, MessageConst.PROPERTY_REAL_TOPIC, msg.topic);
    props = setPropertyInString(props, MessageConst.PROPERTY_REAL_QUEUE_ID, String(msg.queueId));
    const uniq = getPropertyFromString(props, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    if (uniq) props = setPropertyInString(props, MessageConst.PROPERTY_TRANSACTION_ID, uniq);
    msg.properties = props;
    msg.sysFlag = resetTransactionValue(msg.sysFlag, MessageSysFlag.TRANSACTION_NOT_TYPE);
    msg.topic = HALF;
    msg.queueId = 0;
    msg.tagsCode = undefined;
    return {};
  };

  get halfOffset(): number {
    return Math.max(0, this.offsets.queryOffset(TransactionConst.CHECK_GROUP, HALF, 0));
  }

  private get opOffset(): number {
    return Math.max(0, this.offsets.queryOffset(TransactionConst.CHECK_GROUP, OP, 0));
  }

  isDecided(halfQueueOffset: number): boolean {
    return halfQueueOffset < this.halfOffset ? true : this.decided.has(halfQueueOffset);
  }

  /** The half message END_TRANSACTION names, checked as Java does (group, queue offset, commit-log offset). */
  async lookupHalf(req: EndTransactionRequest): Promise<MessageRecord> {
    const rec = await this.store.lookMessageByOffset(req.commitLogOffset);
    if (!rec) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `Find prepared transaction message failed: no message at commit log offset ${req.commitLogOffset}`);
    const m = decodeMessage(rec, 0, { checkCrc: false });
    if (m.topic !== HALF) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `the message at commit log offset ${req.commitLogOffset} is not a half message`);
    const group = getPropertyFromString(m.properties, MessageConst.PROPERTY_PRODUCER_GROUP);
    if (group !== req.producerGroup) throw new BrokerError(ResponseCode.SYSTEM_ERROR, `The producer group wrong: expected ${group}, got ${req.producerGroup}`);
    if (m.queueOffset !== req.tranStateTableOffset) {
      throw new BrokerError(ResponseCode.SYSTEM_ERROR, `The transaction state table offset wrong: expected ${m.queueOffset}, got ${req.tranStateTableOffset}`);
    }
    return m;
  }

  /**
   * Commits or rolls back. Returns false when the message was already decided (a repeated
   * END_TRANSACTION is acknowledged and ignored, so a commit is delivered once).
   */
  async endTransaction(req: EndTransactionRequest): Promise<boolean> {
    const half = await this.lookupHalf(req);
    await this.catchUpOps();
    if (this.isDecided(half.queueOffset)) return false;
    if (req.commitOrRollback === TransactionConst.TRANSACTION_COMMIT_TYPE) {
      const committed = this.committedMessage(half);
      this.route(committed);
      const r = await this.store.putMessage(committed);
      assertStored(r, 'commit of transaction message');
    }
    await this.writeOp(half.queueOffset);
    return true;
  }

  /** The real message a commit writes: real topic and queue, COMMIT flag, back-pointer to the half record. */
  private committedMessage(half: MessageRecord): MessageInput {
    const topic = getPropertyFromString(half.properties, MessageConst.PROPERTY_REAL_TOPIC);
    const qid = Number(getPropertyFromString(half.properties, MessageConst.PROPERTY_REAL_QUEUE_ID) ?? 0);
    if (!topic) throw new BrokerError(ResponseCode.SYSTEM_ERROR, 'half message without REAL_TOPIC');
    let props = removePropertyFromString(half.properties, MessageConst.PROPERTY_TRANSACTION_PREPARED);
    props = removePropertyFromString(props, MessageConst.PROPERTY_REAL_TOPIC);
    props = removePropertyFromString(props, MessageConst.PROPERTY_REAL_QUEUE_ID);
    props = removePropertyFromString(props, MessageConst.PROPERTY_TRANSACTION_CHECK_TIMES);
    return restoreInput(half, {
      topic,
      queueId: qid,
      properties: props,
      sysFlag: resetTransactionValue(half.sysFlag, MessageSysFlag.TRANSACTION_COMMIT_TYPE),
      preparedTransactionOffset: half.commitLogOffset,
      retag: true,
    });
  }

  /** Appends the op record that marks a half offset decided. */
  async writeOp(halfQueueOffset: number): Promise<void> {
    const storeHost = this.storeHost();
    const r = await this.store.putMessage({
      topic: OP,
      queueId: 0,
      flag: 0,
      body: Buffer.from(`${halfQueueOffset},`),
      properties: `${MessageConst.PROPERTY_TAGS}\u0001${TransactionConst.REMOVE_TAG}\u0002`,
      sysFlag: 0,
      bornTimestamp: Date.now(),
      bornHost: storeHost,
      storeHost,
      reconsumeTimes: 0,
      preparedTransactionOffset: 0,
    });
    assertStored(r, 'op record');
    this.decided.add(halfQueueOffset);
  }

  /** Reads op records written since the last look (also after a restart) into the decided set. */
  async catchUpOps(): Promise<void> {
    let from = Math.max(this.opReadUpTo, this.opOffset);
    for (;;) {
      const r = await this.store.getMessage(OP, 0, from, 32);
      if (r.buffers.length === 0) break;
      for (let i = 0; i < r.buffers.length; i++) {
        const m = decodeMessage(r.buffers[i], 0, { checkCrc: false });
        const halfOffsets = m.body
          .toString('utf8')
          .split(',')
          .filter((s) => s.trim() !== '')
          .map(Number)
          .filter(Number.isFinite);
        for (const h of halfOffsets) this.decided.add(h);
        this.opEntries.push({ opQueueOffset: m.queueOffset, halfOffsets });
      }
      from = r.nextBeginOffset;
    }
    this.opReadUpTo = from;
  }

  /** Moves the half cursor; prunes what is now below it and advances the op cursor past fully-passed records. */
  advanceHalfOffset(to: number): void {
    this.offsets.commitOffset(TransactionConst.CHECK_GROUP, HALF, 0, to);
    for (const h of [...this.decided]) if (h < to) this.decided.delete(h);
    let opCursor = this.opOffset;
    while (this.opEntries.length > 0 && this.opEntries[0].halfOffsets.every((h) => h < to)) {
      opCursor = this.opEntries[0].opQueueOffset + 1;
      this.opEntries.shift();
    }
    this.offsets.commitOffset(TransactionConst.CHECK_GROUP, OP, 0, opCursor);
  }
}
