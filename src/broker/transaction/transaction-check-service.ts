// Checks back undecided half messages: every transactionCheckInterval, half messages older than
// transactionTimeOut (or their CHECK_IMMUNITY_TIME_IN_SECONDS) are re-appended with
// TRANSACTION_CHECK_TIMES + 1 and a oneway CHECK_TRANSACTION_STATE goes to a live producer of
// their group; after transactionCheckMax checks they are discarded to TRANS_CHECK_MAX_TIME_TOPIC.
import type { Logger } from '../../common/logger.js';
import { decodeMessage, encodeMessage, type MessageRecord } from '../../common/message-codec.js';
import { MessageConst, TopicValidator } from '../../common/message-const.js';
import { getPropertyFromString } from '../../common/message-properties.js';
import { createMessageId } from '../../common/msg-id.js';
import { setPropertyInString } from '../../common/property-edit.js';
import { createRequest, RequestCode } from '../../remoting/index.js';
import { CHECK_TRANSACTION_STATE_HEADER, encodeHeader } from '../../remoting/protocol/index.js';
import { GetMessageStatus, type MessageStore } from '../../store/index.js';
import type { ProducerManager } from '../clients/producer-manager.js';
import type { TopicConfigManager } from '../topic-config-manager.js';
import type { TransactionalMessageService } from './transactional-message-service.js';
import { assertStored, restoreInput } from '../restore-message.js';

const HALF = TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC;
const MAX_SCAN_MS = 60_000;

export interface TransactionCheckConfig {
  transactionTimeOut: number;
  transactionCheckInterval: number;
  transactionCheckMax: number;
}

export interface TransactionCheckDeps {
  brokerName: string;
  store: MessageStore;
  topics: TopicConfigManager;
  producers: ProducerManager;
  /** Told of every check-back (the gRPC proxy forwards them over Telemetry). */
  listeners: readonly ((half: MessageRecord, realTopic: string) => void)[];
  /** False while this broker must not write (deposed, or losing its master lease): the scan stops. */
  mayWrite?(): boolean;
}

export class TransactionCheckService {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | null = null;

  constructor(
    private readonly d: TransactionCheckDeps,
    private readonly tms: TransactionalMessageService,
    private readonly cfg: TransactionCheckConfig,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.checkNow(), this.cfg.transactionCheckInterval);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One scan (a scan already under way is joined, not doubled). */
  checkNow(): Promise<void> {
    this.running ??= this.scan()
      .catch((err: unknown) => this.logger.error({ err }, 'transaction check failed'))
      .finally(() => (this.running = null));
    return this.running;
  }

  private async scan(): Promise<void> {
    const store = this.d.store;
    await this.tms.catchUpOps();
    let offset = this.tms.halfOffset;
    const end = store.getMaxOffsetInQueue(HALF, 0);
    const deadline = Date.now() + MAX_SCAN_MS;
    scan: while (offset < end && Date.now() < deadline) {
      const r = await store.getMessage(HALF, 0, offset, 32);
      if (r.status === GetMessageStatus.OFFSET_TOO_SMALL || r.status === GetMessageStatus.OFFSET_OVERFLOW_BADLY) {
        offset = r.nextBeginOffset;
        continue;
      }
      if (r.buffers.length === 0) break;
      for (const rec of r.buffers) {
        const m = decodeMessage(rec, 0, { checkCrc: false });
        if (m.queueOffset >= end) break scan; // copies re-appended by this scan wait for the next one
        if (!this.tms.isDecided(m.queueOffset)) {
          if (!this.isOldEnough(m)) break scan;
          // A scan already running when the master is deposed stops before its next write.
          if (!(this.d.mayWrite?.() ?? true)) break scan;
          await this.checkOne(m);
        }
        offset = m.queueOffset + 1;
      }
    }
    this.tms.advanceHalfOffset(offset);
  }

  private isOldEnough(m: MessageRecord): boolean {
    const immunity = Number(getPropertyFromString(m.properties, MessageConst.PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS) ?? 0) * 1000;
    return Date.now() - m.bornTimestamp >= Math.max(this.cfg.transactionTimeOut, immunity);
  }

  private async checkOne(m: MessageRecord): Promise<void> {
    const times = Number(getPropertyFromString(m.properties, MessageConst.PROPERTY_TRANSACTION_CHECK_TIMES) ?? 0);
    if (times >= this.cfg.transactionCheckMax) {
      await this.discard(m);
      return;
    }
    const copy = await this.putBack(m, times + 1);
    if (copy) this.sendCheck(copy);
  }

  /** Re-appends the half message so the cursor can move on; returns the copy as stored. */
  private async putBack(m: MessageRecord, times: number): Promise<MessageRecord | undefined> {
    const msg = restoreInput(m, { topic: HALF, queueId: 0, properties: setPropertyInString(m.properties, MessageConst.PROPERTY_TRANSACTION_CHECK_TIMES, String(times)) });
    const r = assertStored(await this.d.store.putMessage(msg), 're-append of half message');
    return { ...m, properties: msg.properties, queueOffset: r.queueOffset, commitLogOffset: r.wroteOffset };
  }

  private async discard(m: MessageRecord): Promise<void> {
    const topic = TopicValidator.RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC;
    this.d.topics.createTopicIfAbsent(topic, 1);
    assertStored(await this.d.store.putMessage(restoreInput(m, { topic, queueId: 0, properties: m.properties })), 'discard of half message');
    this.logger.warn({ halfOffset: m.queueOffset }, 'half message checked transactionCheckMax times; discarded');
  }

  /** Oneway CHECK_TRANSACTION_STATE to a live producer of the message's group, body = the message as its real topic. */
  private sendCheck(m: MessageRecord): void {
    const group = getPropertyFromString(m.properties, MessageConst.PROPERTY_PRODUCER_GROUP) ?? '';
    const ch = this.d.producers.getAvailableChannel(group);
    const realTopic = getPropertyFromString(m.properties, MessageConst.PROPERTY_REAL_TOPIC) ?? m.topic;
    const realQid = Number(getPropertyFromString(m.properties, MessageConst.PROPERTY_REAL_QUEUE_ID) ?? 0);
    for (const l of this.d.listeners) l(m, realTopic);
    if (!ch) {
      this.logger.debug({ group }, 'no live producer to check back a transaction');
      return;
    }
    const uniq = getPropertyFromString(m.properties, MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX) ?? '';
    const offsetMsgId = createMessageId(m.storeHost, m.commitLogOffset);
    const body = encodeMessage({ ...m, topic: realTopic, queueId: realQid });
    ch.oneway(
      createRequest(
        RequestCode.CHECK_TRANSACTION_STATE,
        encodeHeader(CHECK_TRANSACTION_STATE_HEADER, {
          topic: realTopic,
          tranStateTableOffset: m.queueOffset,
          commitLogOffset: m.commitLogOffset,
          msgId: uniq,
          transactionId: uniq,
          offsetMsgId,
          bname: this.d.brokerName,
        }),
        body,
      ),
    );
  }
}
